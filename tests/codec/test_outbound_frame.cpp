#include <boost/test/unit_test.hpp>
#include <string>

#include "blindrouter/codec/element_access.hpp"
#include "blindrouter/codec/json_codec.hpp"
#include "blindrouter/codec/msgpack_codec.hpp"
#include "blindrouter/codec/outbound_message.hpp"
#include "codec/codec_test_support.hpp"

using namespace blindrouter;
using testing::allocations_during;
using testing::decode_with;
using testing::event_carrying;
using testing::from_hex;
using wamp::Serializer;

namespace {

// PUBLISH [16, 1, {}, "com.t", Arguments, ArgumentsKw] with a binary payload of `size` bytes.
std::string json_publish(std::size_t size, bool kwargs) {
    return "[16,1,{},\"com.t\",[\"\\u0000" + std::string(size, 'Q') + "\"]" + (kwargs ? ",{\"k\":1}" : "") + "]";
}

std::string msgpack_publish(std::size_t size) {
    // fixarray 5, 16, 1, {}, "com.t", [bin16]
    std::string frame = from_hex("95 10 01 80 a5") + "com.t" + from_hex("91 c5");
    frame += static_cast<char>(size >> 8);
    frame += static_cast<char>(size & 0xff);
    return frame + std::string(size, '\x07');
}

}  // namespace

BOOST_AUTO_TEST_SUITE(outbound_frame)

// What a spliced EVENT keeps alive is the whole received PUBLISH frame (its header,
// options and spare capacity, not only the payload slice) and its written bytes by
// their capacity: kept_bytes() is at least both, while size() stays what is written.
BOOST_AUTO_TEST_CASE(kept_bytes_count_the_whole_received_frame_and_the_written_capacity) {
    auto received = std::make_shared<std::string>(msgpack_publish(1024));
    received->reserve(64 * 1024);  // a pooled buffer that once held a larger frame
    auto publish = codec::decode_msgpack(std::shared_ptr<const std::string>(received));
    BOOST_REQUIRE(publish);
    auto outbound = codec::make_outbound(event_carrying(publish.message()));
    const auto& spliced = outbound->encoded(Serializer::msgpack);
    BOOST_REQUIRE(spliced);
    BOOST_TEST(spliced.size() < 1100u);
    BOOST_TEST(spliced.kept_bytes() >= received->capacity() + spliced.pieces()[0].size());

    auto written = std::make_shared<std::string>("abc");
    written->reserve(8192);
    codec::EncodedFrame whole{std::shared_ptr<const std::string>(written)};
    BOOST_TEST(whole.size() == 3u);
    BOOST_TEST(whole.kept_bytes() > 8192u);
    BOOST_TEST(whole.kept_bytes() < 8192u + 256u);
}


// A large element in the receiver's serializer is held by reference: the frame's
// middle piece is the received bytes themselves, and the pieces joined are exactly
// what encode_* writes.
BOOST_AUTO_TEST_CASE(large_arguments_are_spliced_from_the_received_frame) {
    for (bool kwargs : {false, true}) {
        auto publish = decode_with(codec::decode_json, json_publish(1024, kwargs));
        BOOST_REQUIRE(publish);
        auto event = event_carrying(publish.message());
        auto whole = codec::encode_json(event);
        BOOST_REQUIRE(whole);
        auto outbound = codec::make_outbound(event);
        const auto& frame = outbound->encoded(Serializer::json);
        BOOST_REQUIRE(frame);
        auto pieces = frame.pieces();
        BOOST_TEST(pieces[1].data() == codec::ElementAccess::bytes(*publish.message().arguments).data());
        BOOST_TEST(pieces[1].size() == publish.message().arguments->size());
        BOOST_TEST(frame.bytes() == *whole);
        BOOST_TEST(frame.size() == whole->size());
    }
    auto publish = decode_with(codec::decode_msgpack, msgpack_publish(1024));
    BOOST_REQUIRE(publish);
    auto event = event_carrying(publish.message());
    auto outbound = codec::make_outbound(event);
    const auto& frame = outbound->encoded(Serializer::msgpack);
    BOOST_TEST(frame.pieces()[1].data() == codec::ElementAccess::bytes(*publish.message().arguments).data());
    BOOST_TEST(frame.pieces()[2].empty());
    BOOST_TEST(frame.bytes() == *codec::encode_msgpack(event));
}

// Small elements are copied (one piece), and an element translated to another
// serializer is written, not spliced.
BOOST_AUTO_TEST_CASE(small_or_translated_arguments_are_written) {
    auto small = decode_with(codec::decode_json, json_publish(16, true));
    BOOST_REQUIRE(small);
    auto event = event_carrying(small.message());
    auto small_outbound = codec::make_outbound(event);
    const auto& frame = small_outbound->encoded(Serializer::json);
    BOOST_TEST(frame.pieces()[1].empty());
    BOOST_TEST(frame.pieces()[2].empty());
    BOOST_TEST(frame.bytes() == *codec::encode_json(event));

    auto large = decode_with(codec::decode_json, json_publish(1024, false));
    BOOST_REQUIRE(large);
    auto translated_event = event_carrying(large.message());
    auto outbound = codec::make_outbound(translated_event);
    const auto& translated = outbound->encoded(Serializer::msgpack);
    BOOST_REQUIRE(translated);
    BOOST_TEST(translated.pieces()[1].empty());
    BOOST_TEST(translated.bytes() == *codec::encode_msgpack(translated_event));
}

// Control frames and other whole buffers are frames of one piece.
BOOST_AUTO_TEST_CASE(a_whole_buffer_is_one_piece) {
    codec::EncodedFrame frame(std::make_shared<const std::string>("ping"));
    BOOST_TEST(frame.size() == 4u);
    BOOST_TEST(frame.pieces()[0] == "ping");
    BOOST_TEST(frame.bytes() == "ping");
    BOOST_TEST(!codec::EncodedFrame());
}

// The written bytes and their shared owner are one block, and the writer is the
// thread's own: an EVENT costs one allocation per serializer (bench/README.md,
// "Issue 16: round 5").
BOOST_AUTO_TEST_CASE(an_encoded_event_is_one_allocation) {
    auto msgpack = decode_with(codec::decode_msgpack, msgpack_publish(1024));
    auto json = decode_with(codec::decode_json, json_publish(1024, true));
    BOOST_REQUIRE(msgpack);
    BOOST_REQUIRE(json);
    for (const auto& [publish, serializer] :
         {std::pair{&msgpack.message(), Serializer::msgpack}, std::pair{&json.message(), Serializer::json}}) {
        auto event = event_carrying(*publish);
        codec::make_outbound(event)->encoded(serializer);  // the thread's writer exists from here
        auto outbound = codec::make_outbound(event);
        bool encoded = false;
        BOOST_TEST(allocations_during([&] { encoded = static_cast<bool>(outbound->encoded(serializer)); }) == 1u);
        BOOST_TEST(encoded);
    }
}

// A frame keeps its bytes and the received frame it splices from after the message
// it was encoded from, and the PUBLISH it was built from, are gone (a receiver's
// queue holds frames only).
BOOST_AUTO_TEST_CASE(a_frame_outlives_its_message) {
    codec::EncodedFrame frame;
    std::string expected;
    {
        auto publish = decode_with(codec::decode_msgpack, msgpack_publish(1024));
        BOOST_REQUIRE(publish);
        auto event = event_carrying(publish.message());
        expected = *codec::encode_msgpack(event);
        frame = codec::make_outbound(event)->encoded(Serializer::msgpack);
    }
    BOOST_TEST(frame.bytes() == expected);
    BOOST_TEST(frame.size() == expected.size());
}

// The thread's writer is emptied after a message it could not write: the next one
// is written whole, without the refused one's bytes or open containers.
BOOST_AUTO_TEST_CASE(a_refused_encoding_leaves_nothing_for_the_next) {
    auto small = decode_with(codec::decode_json, json_publish(16, true));
    BOOST_REQUIRE(small);
    auto event = event_carrying(small.message());
    auto expected = codec::make_outbound(event)->encoded(Serializer::json).bytes();
    // [16, 1, {}, "com.t", [{1: 2}]]: a map key JSON cannot express.
    auto int_key = decode_with(codec::decode_msgpack, from_hex("95 10 01 80 a5") + "com.t" + from_hex("91 81 01 02"));
    BOOST_REQUIRE(int_key);
    BOOST_TEST(!codec::make_outbound(event_carrying(int_key.message()))->encoded(Serializer::json));
    BOOST_TEST(codec::make_outbound(event)->encoded(Serializer::json).bytes() == expected);
    BOOST_TEST(*codec::encode_json(event) == expected);
}

BOOST_AUTO_TEST_SUITE_END()
