#include <boost/test/unit_test.hpp>
#include <memory>
#include <string>

#include "lib/src/net/send_queue.hpp"

using namespace blindrouter;

namespace {
struct Header {
    const char* data() const { return "h"; }
    std::size_t size() const { return 1; }
};
codec::EncodedFrame frame(std::size_t size) { return codec::EncodedFrame(std::make_shared<const std::string>(size, 'x')); }
}  // namespace

BOOST_AUTO_TEST_SUITE(send_queue)

BOOST_AUTO_TEST_CASE(refuses_a_frame_past_the_limit) {
    net::SendQueue<Header> queue(100);
    BOOST_TEST(queue.push(Header{}, frame(60)));
    BOOST_TEST(queue.push(Header{}, frame(40)));
    BOOST_TEST(!queue.push(Header{}, frame(1)));
    BOOST_TEST(queue.bytes() == 100u);
}

// A stalled receiver's batch keeps its frames until the socket takes them: they
// count against the limit until the batch is released, not only while waiting.
BOOST_AUTO_TEST_CASE(the_batch_being_written_counts_until_released) {
    net::SendQueue<Header> queue(100);
    BOOST_TEST(queue.push(Header{}, frame(60)));
    BOOST_TEST(queue.push(Header{}, frame(30)));
    auto& buffers = queue.take_batch(1);
    BOOST_TEST(buffers.size() == 2u);  // header, frame
    BOOST_TEST(queue.bytes() == 90u);
    BOOST_TEST(!queue.push(Header{}, frame(20)));
    BOOST_TEST(queue.push(Header{}, frame(10)));
    queue.clear();  // the waiting frames; the batch is still in its write
    BOOST_TEST(queue.bytes() == 60u);
    BOOST_TEST(!queue.push(Header{}, frame(41)));
    queue.release_batch();
    BOOST_TEST(queue.bytes() == 0u);
    BOOST_TEST(queue.push(Header{}, frame(100)));
    queue.take_batch(256);
    BOOST_TEST(queue.empty());
    BOOST_TEST(queue.bytes() == 100u);
    queue.take_batch(256);  // the next batch releases the former one
    BOOST_TEST(queue.bytes() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
