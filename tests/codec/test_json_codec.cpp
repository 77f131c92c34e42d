#include <boost/test/unit_test.hpp>
#include <string>

#include "blindrouter/codec/json_codec.hpp"
#include "codec/codec_test_support.hpp"

using namespace blindrouter;
using wamp::MessageType;

namespace {
codec::DecodeResult decode(const std::string& text) {
    return codec::decode_json(std::make_shared<const std::string>(text));
}
std::string bytes(const wamp::EncodedElement& e) { return std::string(e.bytes().data(), e.bytes().size()); }
void expect_violation(const std::string& text, const std::string& reason_part) {
    auto result = decode(text);
    BOOST_TEST_CONTEXT(text) {
        BOOST_TEST(!result);
        BOOST_TEST(result.error().find(reason_part) != std::string::npos, "reason: " << result.error());
    }
}
}  // namespace

BOOST_AUTO_TEST_SUITE(json_codec)

BOOST_AUTO_TEST_CASE(decodes_routing_fields_and_keeps_arguments_as_bytes) {
    std::string text = R"([16, 7, {"acknowledge": true}, "com.t", [1, "two", {"3": [4]}] , {"k": "\u00fc", "n": null}])";
    auto result = decode(text);
    BOOST_REQUIRE(result);
    auto& m = result.message();
    BOOST_TEST(static_cast<int>(m.type) == 16);
    BOOST_TEST(m.id_at(0) == 7u);
    BOOST_TEST(m.string_at(2) == "com.t");
    BOOST_TEST(*wamp::find(m.dict_at(1), "acknowledge")->as_bool());
    BOOST_REQUIRE(m.arguments);
    BOOST_TEST(bytes(*m.arguments) == R"([1, "two", {"3": [4]}])");
    BOOST_REQUIRE(m.arguments_kw);
    BOOST_TEST(bytes(*m.arguments_kw) == R"({"k": "\u00fc", "n": null})");
}

BOOST_AUTO_TEST_CASE(strings_with_brackets_and_escapes_do_not_confuse_element_ranges) {
    std::string text = R"([16,1,{"x":"]}\"["},"com.t",["a]\\\"",{"b":"}"}],{"c":"[["}])";
    auto result = decode(text);
    BOOST_REQUIRE(result);
    BOOST_TEST(bytes(*result.message().arguments) == R"(["a]\\\"",{"b":"}"}])");
    BOOST_TEST(bytes(*result.message().arguments_kw) == R"({"c":"[["})");
}

BOOST_AUTO_TEST_CASE(re_encoding_splices_the_received_argument_bytes) {
    auto result = decode(R"([16, 7, {}, "com.t", [1.5, 9007199254740993, "\ud83d\ude00"], {"a": []}])");
    BOOST_REQUIRE(result);
    BOOST_TEST(codec::encode_json(testing::event_carrying(result.message())).value() ==
               R"([36,11,12,{},[1.5, 9007199254740993, "\ud83d\ude00"],{"a": []}])");
}

BOOST_AUTO_TEST_CASE(kwargs_without_args_gets_an_empty_list) {
    auto result = decode(R"([70, 3, {}, [], {"x": 1}])");
    BOOST_REQUIRE(result);
    BOOST_TEST(codec::encode_json(testing::result_carrying_kwargs(result.message())).value() ==
               R"([50,3,{},[],{"x": 1}])");
}

BOOST_AUTO_TEST_CASE(legacy_binary_payload_in_place_of_arguments) {
    auto result = decode(R"([16, 1, {"enc_algo": "cryptobox"}, "com.t", "\u0000AAEC"])");
    BOOST_REQUIRE(result);
    BOOST_TEST((result.message().arguments->kind() == wamp::ElementKind::binary));
    BOOST_TEST(!result.message().arguments_kw);
}

BOOST_AUTO_TEST_CASE(binary_strings_in_routing_fields_become_binary) {
    auto result = decode(R"([16, 1, {"x": "\u0000AQI=", "y": ["\u0000"]}, "com.t"])");
    BOOST_REQUIRE_MESSAGE(result, result.error());
    const auto& options = result.message().dict_at(1);
    BOOST_TEST((*wamp::find(options, "x") == wamp::Value{wamp::Binary{"\x01\x02"}}));
    BOOST_TEST((*wamp::find(options, "y") == wamp::Value{wamp::List{wamp::Value{wamp::Binary{}}}}));
}

BOOST_AUTO_TEST_CASE(router_messages_encode) {
    wamp::Message m;
    m.type = MessageType::abort;
    m.fields = {wamp::Value{wamp::Dict{{"message", wamp::Value{"a \"b\""}}}}, wamp::Value{"wamp.error.x"}};
    BOOST_TEST(codec::encode_json(m).value() == R"([3,{"message":"a \"b\""},"wamp.error.x"])");
    BOOST_TEST(codec::encode_json(testing::router_error()).value() == R"([8,48,2,{},"wamp.error.y",["why"],{"n":-1,"b":"\u0000AQI="}])");
}

BOOST_AUTO_TEST_CASE(malformed_json) { expect_violation(R"([16, 1, {}, "com.t")", "invalid JSON"); }
BOOST_AUTO_TEST_CASE(trailing_garbage) { expect_violation(R"([1, "realm1", {}] x)", "invalid JSON"); }
BOOST_AUTO_TEST_CASE(raw_nul_byte) { expect_violation(std::string("[1, \"realm1\", {}]\0[", 19), "NUL"); }
BOOST_AUTO_TEST_CASE(invalid_utf8) { expect_violation("[1, \"re\xff\", {}]", "invalid JSON"); }
// Found by fuzz_json_decode: a frame that ends inside a UTF-8 sequence made the
// validation read past the frame's end.
BOOST_AUTO_TEST_CASE(frame_ending_inside_a_utf8_sequence) {
    expect_violation("[1, \"realm1\", {\xe0", "invalid JSON");
    expect_violation("[1, \"realm1\", {\"\xf0", "invalid JSON");
}
BOOST_AUTO_TEST_CASE(not_an_array) { expect_violation(R"({"a": 1})", "not a JSON array"); }
BOOST_AUTO_TEST_CASE(bare_scalar) { expect_violation("42", "not a JSON array"); }
BOOST_AUTO_TEST_CASE(empty_array) { expect_violation("[]", "empty message"); }
BOOST_AUTO_TEST_CASE(type_not_integer) { expect_violation(R"(["16", 1, {}, "t"])", "not an integer"); }
BOOST_AUTO_TEST_CASE(unknown_type) { expect_violation("[999]", "unknown message type 999"); }
BOOST_AUTO_TEST_CASE(too_few_elements) { expect_violation("[16, 1, {}]", "invalid message length 3 for PUBLISH"); }
BOOST_AUTO_TEST_CASE(too_many_elements) {
    expect_violation(R"([16, 1, {}, "t", [], {}, 5])", "invalid message length 7 for PUBLISH");
    expect_violation(R"([32, 1, {}, "t", []])", "invalid message length 5 for SUBSCRIBE");
}
BOOST_AUTO_TEST_CASE(string_where_id_belongs) {
    expect_violation(R"([16, "1", {}, "t"])", "'Request' in PUBLISH: invalid type for ID");
}
BOOST_AUTO_TEST_CASE(id_zero) { expect_violation(R"([16, 0, {}, "t"])", "out of range"); }
BOOST_AUTO_TEST_CASE(id_above_2_pow_53) { expect_violation(R"([16, 9007199254740993, {}, "t"])", "out of range"); }
BOOST_AUTO_TEST_CASE(negative_id) { expect_violation(R"([16, -5, {}, "t"])", "invalid type for ID"); }
BOOST_AUTO_TEST_CASE(options_not_a_dict) { expect_violation(R"([16, 1, [], "t"])", "'Options' in PUBLISH: invalid type for dict"); }
BOOST_AUTO_TEST_CASE(uri_not_a_string) { expect_violation(R"([1, 123, {}])", "'Realm' in HELLO: invalid type for URI"); }
BOOST_AUTO_TEST_CASE(arguments_not_a_list) { expect_violation(R"([16, 1, {}, "t", "plain"])", "'Arguments' in PUBLISH"); }
BOOST_AUTO_TEST_CASE(kwargs_not_a_dict) { expect_violation(R"([16, 1, {}, "t", [], [1]])", "'ArgumentsKw' in PUBLISH"); }
BOOST_AUTO_TEST_CASE(binary_payload_followed_by_kwargs) {
    expect_violation(R"([16, 1, {}, "t", "\u0000AA==", {}])", "'Arguments' in PUBLISH");
}
BOOST_AUTO_TEST_CASE(invalid_base64_in_a_routing_field) {
    expect_violation(R"([16, 1, {"x": "\u0000A!=="}, "t"])", "'Options' in PUBLISH: invalid base64 in binary string");
}
BOOST_AUTO_TEST_CASE(deeply_nested_options) {
    std::string options(200, '[');
    options += std::string(200, ']');
    expect_violation("[16, 1, {\"x\": " + options + "}, \"t\"]", "nesting deeper");
}
BOOST_AUTO_TEST_CASE(deep_nesting_in_arguments_is_not_parsed_into_a_dom) {
    std::string args(100000, '[');
    args += std::string(100000, ']');
    auto result = decode("[16, 1, {}, \"t\", " + args + "]");
    BOOST_TEST(static_cast<bool>(result));
}

BOOST_AUTO_TEST_SUITE_END()
