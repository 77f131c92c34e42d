#include <boost/test/unit_test.hpp>
#include <string>

#include "blindrouter/codec/cbor_codec.hpp"
#include "blindrouter/wamp/messages.hpp"
#include "codec/codec_test_support.hpp"

using namespace blindrouter;
using testing::from_hex;

namespace {
codec::DecodeResult decode(const std::string& frame) { return testing::decode_with(codec::decode_cbor, frame); }
void expect_violation(const std::string& frame, const std::string& reason_part) {
    testing::expect_violation(codec::decode_cbor, frame, reason_part);
}
}  // namespace

BOOST_AUTO_TEST_SUITE(cbor_codec)

BOOST_AUTO_TEST_CASE(indefinite_lengths_chunked_strings_and_tags) {
    // self-described CBOR tag, then [_ 16, tag 1 (7), {_ "f": half 1.5, "u": undefined},
    // (_ "com", ".t"), [_ 1, 2], {"k": 1}]
    auto frame = from_hex("d9d9f7 9f 10 c107 bf6166f93e006175f7ff 7f63636f6d622e74ff 9f0102ff a1616b01 ff");
    auto result = decode(frame);
    BOOST_REQUIRE_MESSAGE(result, result.error());
    auto& m = result.message();
    BOOST_TEST(wamp::Publish(m).request() == 7u);
    BOOST_TEST((*wamp::find(wamp::Publish(m).options(), "f") == wamp::Value{1.5}));
    BOOST_TEST(!wamp::find(wamp::Publish(m).options(), "u"));  // undefined: absent (test_client_encodings.cpp)
    BOOST_TEST(wamp::Publish(m).topic() == "com.t");
    BOOST_TEST(testing::bytes_of(*m.arguments) == from_hex("9f0102ff"));
    BOOST_TEST(testing::bytes_of(*m.arguments_kw) == from_hex("a1616b01"));
}

BOOST_AUTO_TEST_CASE(chunked_binary_payload_in_place_of_arguments) {
    auto chunked = decode(from_hex("851001a06174 5f4100420102ff"));
    BOOST_REQUIRE_MESSAGE(chunked, chunked.error());
    BOOST_TEST((chunked.message().arguments->kind() == wamp::ElementKind::binary));
    BOOST_TEST(testing::bytes_of(*chunked.message().arguments) == from_hex("5f4100420102ff"));
}

BOOST_AUTO_TEST_CASE(floats_of_every_width_in_routing_fields) {
    // [16, 1, {"h": half 1.5, "s": single 1.5, "d": double 1.5}, "t"]
    auto result = decode(from_hex("841001a36168f93e006173fa3fc00000 6164fb3ff8000000000000 6174"));
    BOOST_REQUIRE_MESSAGE(result, result.error());
    for (const auto* key : {"h", "s", "d"}) BOOST_TEST((*wamp::find(wamp::Publish(result.message()).options(), key) == wamp::Value{1.5}));
}

BOOST_AUTO_TEST_CASE(deep_indefinite_nesting_in_arguments_is_not_parsed_into_a_dom) {
    std::string indefinite = from_hex("851001a06174") + std::string(100000, '\x9f') + std::string(100000, '\xff');
    BOOST_TEST(static_cast<bool>(decode(indefinite)));
}

BOOST_AUTO_TEST_CASE(integers_below_int64_in_arguments_are_kept_opaque) {
    auto result = decode(from_hex("851001a06174 813bffffffffffffffff"));  // [..., [-2^64]]
    BOOST_REQUIRE_MESSAGE(result, result.error());
    BOOST_TEST(testing::bytes_of(*result.message().arguments) == from_hex("813bffffffffffffffff"));
}

BOOST_AUTO_TEST_CASE(not_an_array) { expect_violation(from_hex("a1616101"), "message is not a CBOR array"); }
BOOST_AUTO_TEST_CASE(only_tags) { expect_violation(from_hex("d9d9f7"), "message is not a CBOR array"); }
BOOST_AUTO_TEST_CASE(empty_indefinite_array) { expect_violation(from_hex("9fff"), "empty message"); }
BOOST_AUTO_TEST_CASE(indefinite_array_without_break) {
    expect_violation(from_hex("9f01667265616c6d31a0"), "invalid CBOR: truncated data");
}
BOOST_AUTO_TEST_CASE(malformed_items) {
    expect_violation(from_hex("8301667265616c6d31e0"), "invalid CBOR: malformed data");    // unassigned simple value
    expect_violation(from_hex("8301667265616c6d31f820"), "invalid CBOR: malformed data");  // one-byte simple value
    expect_violation(from_hex("8301667265616c6d311c"), "invalid CBOR: malformed data");    // reserved additional info
    expect_violation(from_hex("8301667265616c6d31ff"), "invalid CBOR: break outside an indefinite item");
    expect_violation(from_hex("841001a0 81ff"), "invalid CBOR: break inside a definite-length item");
    expect_violation(from_hex("851001a06174 9fc1ffff"), "invalid CBOR: tag without an item");
    expect_violation(from_hex("83017f4161ffa0"), "invalid CBOR: chunk of the wrong string type");
    expect_violation(from_hex("83017f01ffa0"), "invalid CBOR: chunked string holds a non-string");
    expect_violation(from_hex("83017f7f6161ffffa0"), "invalid CBOR: chunked string holds a non-string");
    expect_violation(from_hex("83017fc16161ffa0"), "invalid CBOR: tag inside a chunked string");
    expect_violation(from_hex("841001bf6161ff6174"), "invalid CBOR: map key without a value");
}
BOOST_AUTO_TEST_CASE(integer_below_int64_in_routing_field) {
    expect_violation(from_hex("841001a1616e3bffffffffffffffff6174"), "'Options' in PUBLISH: negative integer below -2^63");
}

BOOST_AUTO_TEST_SUITE_END()
