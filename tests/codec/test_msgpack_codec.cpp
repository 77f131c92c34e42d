#include <boost/test/unit_test.hpp>
#include <memory>
#include <optional>
#include <string>

#include "blindrouter/codec/msgpack_codec.hpp"
#include "blindrouter/wamp/messages.hpp"
#include "codec/codec_test_support.hpp"

using namespace blindrouter;
using testing::from_hex;

namespace {
codec::DecodeResult decode(const std::string& frame) { return testing::decode_with(codec::decode_msgpack, frame); }
void expect_violation(const std::string& frame, const std::string& reason_part) {
    testing::expect_violation(codec::decode_msgpack, frame, reason_part);
}
}  // namespace

BOOST_AUTO_TEST_SUITE(msgpack_codec)

BOOST_AUTO_TEST_CASE(signed_encodings_of_ids_and_float32_options_decode) {
    // [16, int8 7, {"f": float32 1.5, "n": int64 -2}, "t"]
    auto result = decode(from_hex("9410d00782a166ca3fc00000a16ed3fffffffffffffffe a174"));
    BOOST_REQUIRE_MESSAGE(result, result.error());
    BOOST_TEST(wamp::Publish(result.message()).request() == 7u);
    BOOST_TEST((*wamp::find(wamp::Publish(result.message()).options(), "f") == wamp::Value{1.5}));
    BOOST_TEST((*wamp::find(wamp::Publish(result.message()).options(), "n") == wamp::Value{std::int64_t{-2}}));
}

// The fast path (issue 16): a PUBLISH's routing fields are read without a heap stack
// per element, into inline storage; what remains is the options dict's one block.
BOOST_AUTO_TEST_CASE(publish_decodes_with_one_allocation_for_its_routing_fields) {
    // [16, 7, {"ppt_scheme": "x_cryptobox", "ppt_serializer": "msgpack", "ppt_cipher": "none"}, "t", [bin 300]]
    auto frame = std::make_shared<const std::string>(
        from_hex("951007 83 aa7070745f736368656d65 ab785f63727970746f626f78 ae7070745f73657269616c697a6572 "
                 "a76d73677061636b aa7070745f636970686572 a46e6f6e65 a174 91c5012c") +
        std::string(300, 'x'));
    std::optional<codec::DecodeResult> result;
    auto allocations = testing::allocations_during([&] { result.emplace(codec::decode_msgpack(frame)); });
    BOOST_REQUIRE_MESSAGE(*result, result->error());
    BOOST_TEST(wamp::Publish(result->message()).options().size() == 3u);
    BOOST_TEST(allocations == 1u);
}

BOOST_AUTO_TEST_CASE(array16_and_array32_heads) {
    BOOST_TEST(static_cast<bool>(decode(from_hex("dc0003 01a67265616c6d3180"))));
    BOOST_TEST(static_cast<bool>(decode(from_hex("dd00000003 01a67265616c6d3180"))));
}

BOOST_AUTO_TEST_CASE(ext_types_in_arguments_are_kept_opaque) {
    // [16, 1, {}, "t", [fixext1(type 5, 0x2a)]]
    auto result = decode(from_hex("95100180a174 91d4052a"));
    BOOST_REQUIRE_MESSAGE(result, result.error());
    BOOST_TEST(testing::bytes_of(*result.message().arguments) == from_hex("91d4052a"));
}

BOOST_AUTO_TEST_CASE(not_an_array) { expect_violation(from_hex("81a16101"), "message is not a MsgPack array"); }
BOOST_AUTO_TEST_CASE(bare_scalar) { expect_violation(from_hex("2a"), "message is not a MsgPack array"); }
BOOST_AUTO_TEST_CASE(truncated_array_heads) {
    expect_violation(from_hex("dc00"), "invalid MsgPack: truncated data");
    expect_violation(from_hex("dd000000"), "invalid MsgPack: truncated data");
}
BOOST_AUTO_TEST_CASE(reserved_byte) { expect_violation(from_hex("9301a67265616c6d31c1"), "invalid MsgPack: malformed data"); }
BOOST_AUTO_TEST_CASE(ext_type_in_routing_field) {
    expect_violation(from_hex("94100181a178d4052a a174"), "'Options' in PUBLISH: MsgPack extension type");
}

BOOST_AUTO_TEST_SUITE_END()
