#include <boost/test/unit_test.hpp>
#include <string>
#include <thread>
#include <vector>

#include "blindrouter/net/websocket_framing.hpp"
#include "lib/src/net/frame_buffers.hpp"

using namespace blindrouter::net;

BOOST_AUTO_TEST_SUITE(frame_buffers)

BOOST_AUTO_TEST_CASE(a_websocket_message_is_put_together_in_a_pooled_buffer) {
    std::string dropped(1100, 'a');
    auto frame = pooled_frame(dropped.data(), dropped.size());
    const char* bytes = frame->data();
    frame.reset();
    auto kept = pooled_frame_buffers();
    // One masked text frame of 200 bytes (mask 0: the payload as it is).
    std::string payload(200, 'm');
    std::string wire = std::string("\x81\xFE\x00\xC8", 4) + std::string(4, '\0') + payload;
    websocket_framing::ClientFrameReader reader(1 << 20);
    std::shared_ptr<std::string> message;
    reader.feed(wire.data(), wire.size(), [&](websocket_framing::Event&& e) { message = std::move(e.payload); });
    BOOST_REQUIRE(message);
    BOOST_TEST(*message == payload);
    BOOST_TEST(static_cast<const void*>(message->data()) == static_cast<const void*>(bytes));
    BOOST_TEST(pooled_frame_buffers() == kept - 1);
    message.reset();
    BOOST_TEST(pooled_frame_buffers() == kept);
}

BOOST_AUTO_TEST_CASE(a_dropped_frame_buffer_is_reused_for_the_next_frame) {
    std::string first(1100, 'a'), second(900, 'b');
    auto frame = pooled_frame(first.data(), first.size());
    BOOST_TEST(*frame == first);
    const char* bytes = frame->data();
    auto kept = pooled_frame_buffers();
    frame.reset();
    BOOST_TEST(pooled_frame_buffers() == kept + 1);
    auto next = pooled_frame(second.data(), second.size());
    BOOST_TEST(*next == second);
    BOOST_TEST(static_cast<const void*>(next->data()) == static_cast<const void*>(bytes));
    BOOST_TEST(pooled_frame_buffers() == kept);
}

BOOST_AUTO_TEST_CASE(the_pool_is_bounded_in_buffers_and_in_capacity) {
    std::string big(frame_pool_max_capacity + 1, 'x');
    auto kept = pooled_frame_buffers();
    pooled_frame(big.data(), big.size()).reset();
    // The big frame took a pooled buffer (grown past the bound) and did not give it back.
    BOOST_TEST(pooled_frame_buffers() == (kept == 0 ? 0 : kept - 1));

    std::vector<std::shared_ptr<std::string>> frames;
    for (std::size_t i = 0; i < frame_pool_buffers + 10; ++i) frames.push_back(pooled_frame("abc", 3));
    frames.clear();
    BOOST_TEST(pooled_frame_buffers() == frame_pool_buffers);

    // Buffers of 60 KiB: the capacity bound stops the pool well before the count does.
    std::string large(60 * 1024, 'y');
    for (std::size_t i = 0; i < frame_pool_bytes / large.size() + 10; ++i)
        frames.push_back(pooled_frame(large.data(), large.size()));
    frames.clear();
    BOOST_TEST(pooled_frame_bytes() <= frame_pool_bytes);
    BOOST_TEST(pooled_frame_bytes() > frame_pool_bytes - frame_pool_max_capacity);
    BOOST_TEST(pooled_frame_buffers() < frame_pool_buffers);
}

// A burst of small frames larger than the old bound of 64 buffers comes back whole:
// the next burst takes no new buffer.
BOOST_AUTO_TEST_CASE(a_burst_of_hundreds_of_frames_is_pooled_whole) {
    std::string frame(1100, 'b');
    std::vector<std::shared_ptr<std::string>> burst;
    for (int i = 0; i < 300; ++i) burst.push_back(pooled_frame(frame.data(), frame.size()));
    burst.clear();
    BOOST_TEST(pooled_frame_buffers() >= 300u);
}

// The last reference dropped on another thread: the buffer goes to that thread's
// pool (freed when it ends), and this thread's pool is left alone.
BOOST_AUTO_TEST_CASE(a_frame_dropped_on_another_thread_stays_there) {
    auto frame = pooled_frame("abc", 3);
    auto kept = pooled_frame_buffers();
    std::size_t there = 0;
    std::thread other([&frame, &there] {
        frame.reset();
        there = pooled_frame_buffers();
    });
    other.join();
    BOOST_TEST(there == 1u);
    BOOST_TEST(pooled_frame_buffers() == kept);
}

BOOST_AUTO_TEST_SUITE_END()
