// Reading an element addressed to the router (codec/element_value.hpp): the
// routing fields' rules, and its bounds.
#include "blindrouter/codec/element_value.hpp"

#include <boost/test/unit_test.hpp>

#include "codec/codec_test_support.hpp"

using namespace blindrouter;
using namespace blindrouter::testing;
using wamp::ElementKind;
using wamp::Serializer;
using wamp::Value;

namespace {
std::string refusal(Serializer serializer, ElementKind kind, const std::string& bytes, codec::ElementLimits limits = {}) {
    auto result = codec::decode_element(element_of(serializer, kind, bytes), limits);
    BOOST_REQUIRE(!result);
    return result.error();
}
}  // namespace

BOOST_AUTO_TEST_SUITE(element_value)

BOOST_AUTO_TEST_CASE(reads_each_serializer) {
    const Value expected{wamp::List{Value{"user"}, Value{wamp::Dict{{"n", Value{-1}}}}, Value{wamp::Binary{"\x01"}}}};
    auto json = codec::decode_element(element_of(Serializer::json, ElementKind::list,
                                                 R"(["user", {"n": -1}, "\u0000AQ=="])"));
    BOOST_REQUIRE(json);
    BOOST_TEST((json.value() == expected));
    // ["user", {"n": -1}, bin 01]
    auto msgpack = codec::decode_element(
        element_of(Serializer::msgpack, ElementKind::list, from_hex("93 a4 75736572 81 a1 6e ff c4 01 01")));
    BOOST_REQUIRE(msgpack);
    BOOST_TEST((msgpack.value() == expected));
    auto cbor = codec::decode_element(
        element_of(Serializer::cbor, ElementKind::list, from_hex("83 64 75736572 a1 61 6e 20 41 01")));
    BOOST_REQUIRE(cbor);
    BOOST_TEST((cbor.value() == expected));
}

BOOST_AUTO_TEST_CASE(refuses_beyond_its_limits) {
    codec::ElementLimits limits;
    limits.max_bytes = 8;
    BOOST_TEST(refusal(Serializer::json, ElementKind::list, R"(["123456789"])", limits) == "larger than 8 bytes");
    limits = {};
    limits.max_depth = 3;
    BOOST_TEST(refusal(Serializer::json, ElementKind::list, "[[[[]]]]", limits) == "nesting deeper than 3");
    BOOST_TEST(static_cast<bool>(codec::decode_element(element_of(Serializer::json, ElementKind::list, "[[[]]]"), limits)));
}

BOOST_AUTO_TEST_CASE(refuses_what_a_value_cannot_hold_unambiguously) {
    BOOST_TEST(refusal(Serializer::json, ElementKind::dict, R"({"a": 1, "a": 2})") == "duplicate key in dict");
    // {1: 2} in MsgPack
    BOOST_TEST(refusal(Serializer::msgpack, ElementKind::dict, from_hex("81 01 02")) == "map key is not a string");
}

BOOST_AUTO_TEST_SUITE_END()
