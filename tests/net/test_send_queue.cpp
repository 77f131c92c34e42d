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
using Queue = net::SendQueue<Header>;
codec::EncodedFrame frame(std::size_t size) { return codec::EncodedFrame(std::make_shared<const std::string>(size, 'x')); }
// An EVENT of `written` bytes around a 10-byte payload spliced from a received frame of `received` bytes.
codec::EncodedFrame spliced(std::size_t written, std::size_t received) {
    auto frame = std::make_shared<const std::string>(received, 'p');
    wamp::EncodedElement element(wamp::Serializer::msgpack, wamp::ElementKind::list, frame, received - 10, 10);
    auto bytes = std::make_shared<const std::string>(written, 'e');
    return codec::EncodedFrame(std::shared_ptr<const char>(bytes, bytes->data()), written, written / 2, element);
}
}  // namespace

BOOST_AUTO_TEST_SUITE(send_queue)

BOOST_AUTO_TEST_CASE(refuses_a_frame_past_the_limit) {
    auto limit = Queue::entry_bytes(frame(60)) + Queue::entry_bytes(frame(40));
    Queue queue(limit);
    BOOST_TEST(queue.push(Header{}, frame(60)));
    BOOST_TEST(queue.push(Header{}, frame(40)));
    BOOST_TEST(!queue.push(Header{}, frame(1)));
    BOOST_TEST(queue.bytes() == limit);
}

// The EVENT writes 30 bytes, but holding it keeps the whole 1 MiB PUBLISH frame its
// payload is a slice of: a 64 KiB queue that holds anything else has no room for it.
BOOST_AUTO_TEST_CASE(a_spliced_frame_is_charged_the_received_frame_it_keeps) {
    auto event = spliced(20, 1 << 20);
    BOOST_TEST(event.size() == 30u);
    BOOST_TEST(Queue::entry_bytes(event) > std::size_t{1} << 20);
    Queue queue(64 * 1024);
    BOOST_TEST(queue.push(Header{}, frame(100)));
    BOOST_TEST(!queue.push(Header{}, std::move(event)));
    BOOST_TEST(queue.push(Header{}, spliced(20, 1000)));
}

// 10-byte frames each keep an entry, a control block and two chunks: the queue is
// full long before 10,000 of them (100,000 written bytes) wait.
BOOST_AUTO_TEST_CASE(small_frames_reach_the_limit_before_their_written_bytes_do) {
    const std::size_t limit = 100000;
    Queue queue(limit);
    std::size_t queued = 0;
    while (queue.push(Header{}, frame(10))) ++queued;
    BOOST_TEST(queued < limit / 10 / 4);
    BOOST_TEST(queued > limit / 512);  // about 250 bytes each, not an arbitrary overcharge
    BOOST_TEST(queue.bytes() <= limit);
    BOOST_TEST(queue.bytes() + Queue::entry_bytes(frame(10)) > limit);
}

// The limit is at least max_message_size (config): a message that size must get
// through an empty queue even though its buffers keep more than its bytes; a frame
// whose written bytes alone pass the limit never does.
BOOST_AUTO_TEST_CASE(an_empty_queue_takes_a_frame_whose_written_bytes_fit) {
    Queue queue(1000);
    BOOST_TEST(queue.push(Header{}, spliced(20, 5000)));
    BOOST_TEST(!queue.push(Header{}, frame(1)));
    Queue other(1000);
    BOOST_TEST(!other.push(Header{}, frame(1001)));
    BOOST_TEST(other.bytes() == 0u);
}

// A stalled receiver's batch keeps its frames until the socket takes them: they
// are charged, as when they waited, until the batch is released.
BOOST_AUTO_TEST_CASE(the_batch_being_written_counts_until_released) {
    auto c60 = Queue::entry_bytes(frame(60)), c30 = Queue::entry_bytes(frame(30)),
         c10 = Queue::entry_bytes(frame(10));
    Queue queue(c60 + c30 + c10);
    BOOST_TEST(queue.push(Header{}, frame(60)));
    BOOST_TEST(queue.push(Header{}, frame(30)));
    auto& buffers = queue.take_batch(1);
    BOOST_TEST(buffers.size() == 2u);  // header, frame
    BOOST_TEST(queue.bytes() == c60 + c30);
    BOOST_TEST(!queue.push(Header{}, frame(600)));
    BOOST_TEST(queue.push(Header{}, frame(10)));
    queue.clear();  // the waiting frames; the batch is still in its write
    BOOST_TEST(queue.bytes() == c60);
    BOOST_TEST(!queue.push(Header{}, spliced(20, 1000)));
    queue.release_batch();
    BOOST_TEST(queue.bytes() == 0u);
    BOOST_TEST(queue.push(Header{}, frame(100)));
    queue.take_batch(256);
    BOOST_TEST(queue.empty());
    BOOST_TEST(queue.bytes() == Queue::entry_bytes(frame(100)));
    queue.take_batch(256);  // the next batch releases the former one
    BOOST_TEST(queue.bytes() == 0u);
}

// A spliced frame in the batch is charged its received frame there too.
BOOST_AUTO_TEST_CASE(the_batch_is_charged_what_its_frames_keep) {
    Queue queue(64 * 1024);
    auto charge = Queue::entry_bytes(spliced(20, 40000));
    BOOST_TEST(queue.push(Header{}, spliced(20, 40000)));
    queue.take_batch(256);
    BOOST_TEST(queue.bytes() == charge);
    BOOST_TEST(!queue.push(Header{}, spliced(20, 40000)));
    queue.release_batch();
    BOOST_TEST(queue.push(Header{}, spliced(20, 40000)));
}

BOOST_AUTO_TEST_SUITE_END()
