#include <boost/test/unit_test.hpp>
#include <string>

#include "blindrouter/codec/cbor_codec.hpp"
#include "blindrouter/codec/msgpack_codec.hpp"
#include "blindrouter/wamp/messages.hpp"
#include "codec/codec_test_support.hpp"

// What the MsgPack and CBOR codecs must do alike, each scenario written in both.
// Serializer-specific encodings and errors are in test_msgpack_codec.cpp and
// test_cbor_codec.cpp; the JSON forms in test_json_codec.cpp.
using namespace blindrouter;
using testing::from_hex;

namespace {

struct Form {
    const char* name;
    wamp::Serializer serializer;
    testing::Decoder decode;
    std::optional<std::string> (*encode)(const wamp::Message&);
    std::string label;  // in frame-level errors
    // [16, 7, {"acknowledge": True}, "com.t", publish_args, publish_kwargs]
    std::string publish;
    std::string publish_args;    // [1, "two", {"3": [4]}]
    std::string publish_kwargs;  // {"k": "ü", "n": None}
    std::string event_head;      // [36, 11, 12, {}, ... with room for the two arguments
    std::string yield_kwargs_only;   // [70, 3, {}, [], {"x": 1}]
    std::string result_kwargs_only;  // [50, 3, {}, [], {"x": 1}]
    std::string router_error;        // testing::router_error()
    std::string payload_publish;     // [16, 1, {"enc_algo": "cryptobox"}, "com.t", b"\x00\x01\x02"]
    std::string payload;             // b"\x00\x01\x02"
    // [16, 1, {"x": option_x, "t"]: the frame around an option's value
    std::string option_x;
    std::string topic_t;
    std::string binary_0102;
    std::string hello;               // [1, "realm1", {}]
    std::string empty_array;
    std::string nested_list_head;    // a list of one element, repeated for nesting
    std::string empty_list;
};

const Form forms[] = {
    {"msgpack", wamp::Serializer::msgpack, codec::decode_msgpack, codec::encode_msgpack, "MsgPack",
     from_hex("96100781ab61636b6e6f776c65646765c3a5636f6d2e749301a374776f81a133910482a16ba2c3bca16ec0"),
     from_hex("9301a374776f81a1339104"), from_hex("82a16ba2c3bca16ec0"), from_hex("96240b0c80"),
     from_hex("954603809081a17801"), from_hex("953203809081a17801"),
     from_hex("97083002 80 ac77616d702e6572726f722e79 91a3776879 82a16eff a162c4020102"),
     from_hex("95100181a8656e635f616c676fa963727970746f626f78a5636f6d2e74c403000102"), from_hex("c403000102"),
     from_hex("94100181a178"), from_hex("a174"), from_hex("c4020102"), from_hex("9301a67265616c6d3180"), from_hex("90"), from_hex("91"),
     from_hex("90")},
    {"cbor", wamp::Serializer::cbor, codec::decode_cbor, codec::encode_cbor, "CBOR",
     from_hex("861007a16b61636b6e6f776c65646765f565636f6d2e7483016374776fa161338104a2616b62c3bc616ef6"),
     from_hex("83016374776fa161338104"), from_hex("a2616b62c3bc616ef6"), from_hex("8618240b0ca0"),
     from_hex("85184603a080a1617801"), from_hex("85183203a080a1617801"),
     from_hex("8708183002a06c77616d702e6572726f722e798163776879a2616e206162420102"),
     from_hex("851001a168656e635f616c676f6963727970746f626f7865636f6d2e7443000102"), from_hex("43000102"),
     from_hex("841001a16178"), from_hex("6174"), from_hex("420102"), from_hex("8301667265616c6d31a0"), from_hex("80"), from_hex("81"),
     from_hex("80")},
};

struct Violation {
    const char* reason;
    const char* msgpack;
    const char* cbor;
};

const Violation violations[] = {
    {"message type is not an integer", "94a231360180a174", "8462313601a06174"},  // ["16", 1, {}, "t"]
    {"unknown message type 999", "91cd03e7", "811903e7"},
    {"invalid message length 3 for PUBLISH", "93100180", "831001a0"},
    {"invalid message length 7 for PUBLISH", "97100180a174908005", "871001a0617480a005"},
    {"invalid message length 5 for SUBSCRIBE", "95200180a17490", "85182001a0617480"},
    {"invalid message length 15 for PUBLISH", "9f100101010101010101010101010101", "8f100101010101010101010101010101"},
    {"'Request' in PUBLISH: invalid type for ID", "9410a13180a174", "84106131a06174"},
    {"'Request' in PUBLISH: ID 0 out of range", "94100080a174", "841000a06174"},
    {"'Request' in PUBLISH: ID 9007199254740993 out of range", "9410cf002000000000000180a174",
     "84101b0020000000000001a06174"},
    {"'Request' in PUBLISH: invalid type for ID", "9410fb80a174", "841024a06174"},  // -5
    {"'Options' in PUBLISH: invalid type for dict", "94100190a174", "841001806174"},
    {"'Realm' in HELLO: invalid type for URI", "93017b80", "8301187ba0"},
    // Null is "not given" in HELLO.Realm alone: [16, 1, {}, None], [3, {}, None], [32, 1, {}, None]
    {"'Topic' in PUBLISH: invalid type for URI", "94100180c0", "841001a0f6"},
    {"'Reason' in ABORT: invalid type for URI", "930380c0", "8303a0f6"},
    {"'Topic' in SUBSCRIBE: invalid type for URI", "94200180c0", "84182001a0f6"},
    {"'Realm' in HELLO: string is not valid UTF-8", "9301a2c32880", "830162c328a0"},
    {"'Options' in PUBLISH: map key is not a string", "9410018101c3a174", "841001a101f56174"},
    {"'Arguments' in PUBLISH: invalid type, expected list or binary payload", "95100180a174a5706c61696e",
     "851001a0617465706c61696e"},
    {"'ArgumentsKw' in PUBLISH: invalid type, expected dict", "96100180a174909101", "861001a06174808101"},
    {"'Arguments' in PUBLISH: invalid type", "96100180a174c4010080", "861001a061744100a0"},  // binary, then kwargs
    // [16, 1, {"enc_algo": "cryptobox", "enc_algo": 5}, "t"]
    {"'Options' in PUBLISH: duplicate key in dict",
     "94100182a8656e635f616c676fa963727970746f626f78a8656e635f616c676f05a174",
     "841001a268656e635f616c676f6963727970746f626f7868656e635f616c676f056174"},
    // [1, "realm1", {"roles": {"caller": {"features": {"x": true, "x": false}}}}]
    {"'Details' in HELLO: duplicate key in dict",
     "9301a67265616c6d3181a5726f6c657381a663616c6c657281a8666561747572657382a178c3a178c2",
     "8301667265616c6d31a165726f6c6573a16663616c6c6572a1686665617475726573a26178f56178f4"},
    // [16, 1, {"a": 1, "a": 2}, "t"], the second "a" written differently (MsgPack str8,
    // CBOR a chunked text string): keys are compared as decoded strings.
    {"'Options' in PUBLISH: duplicate key in dict", "94100182a16101d9016102a174", "841001a2616101" "7f6161ff" "026174"},
    // The same in a MsgPack map16 and an indefinite-length CBOR map.
    {"'Options' in PUBLISH: duplicate key in dict", "941001de0002a16101a16102a174", "841001bf616101616102ff6174"},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(msgpack_and_cbor)

BOOST_AUTO_TEST_CASE(decodes_routing_fields_and_keeps_arguments_as_exact_byte_ranges) {
    for (const auto& f : forms)
        BOOST_TEST_CONTEXT(f.name) {
            auto result = testing::decode_with(f.decode, f.publish);
            BOOST_REQUIRE_MESSAGE(result, result.error());
            auto& m = result.message();
            BOOST_TEST(static_cast<int>(m.type) == 16);
            BOOST_TEST(wamp::Publish(m).request() == 7u);
            BOOST_TEST(*wamp::find(wamp::Publish(m).options(), "acknowledge")->as_bool());
            BOOST_TEST(wamp::Publish(m).topic() == "com.t");
            BOOST_REQUIRE(m.arguments);
            BOOST_TEST((m.arguments->serializer() == f.serializer));
            BOOST_TEST((m.arguments->kind() == wamp::ElementKind::list));
            BOOST_TEST(testing::bytes_of(*m.arguments) == f.publish_args);
            BOOST_REQUIRE(m.arguments_kw);
            BOOST_TEST((m.arguments_kw->kind() == wamp::ElementKind::dict));
            BOOST_TEST(testing::bytes_of(*m.arguments_kw) == f.publish_kwargs);
        }
}

BOOST_AUTO_TEST_CASE(re_encoding_splices_the_received_argument_bytes) {
    for (const auto& f : forms)
        BOOST_TEST_CONTEXT(f.name) {
            auto result = testing::decode_with(f.decode, f.publish);
            BOOST_REQUIRE(result);
            BOOST_TEST(f.encode(testing::event_carrying(result.message())).value() ==
                       f.event_head + f.publish_args + f.publish_kwargs);
        }
}

BOOST_AUTO_TEST_CASE(kwargs_without_args_gets_an_empty_list) {
    for (const auto& f : forms)
        BOOST_TEST_CONTEXT(f.name) {
            auto result = testing::decode_with(f.decode, f.yield_kwargs_only);
            BOOST_REQUIRE(result);
            BOOST_TEST(f.encode(testing::result_carrying_kwargs(result.message())).value() == f.result_kwargs_only);
        }
}

BOOST_AUTO_TEST_CASE(router_messages_encode) {
    for (const auto& f : forms)
        BOOST_TEST_CONTEXT(f.name) { BOOST_TEST(f.encode(testing::router_error()).value() == f.router_error); }
}

BOOST_AUTO_TEST_CASE(legacy_binary_payload_in_place_of_arguments) {
    for (const auto& f : forms)
        BOOST_TEST_CONTEXT(f.name) {
            auto result = testing::decode_with(f.decode, f.payload_publish);
            BOOST_REQUIRE_MESSAGE(result, result.error());
            BOOST_TEST((result.message().arguments->kind() == wamp::ElementKind::binary));
            BOOST_TEST(testing::bytes_of(*result.message().arguments) == f.payload);
            BOOST_TEST(!result.message().arguments_kw);
        }
}

BOOST_AUTO_TEST_CASE(binary_in_routing_fields_becomes_binary) {
    for (const auto& f : forms)
        BOOST_TEST_CONTEXT(f.name) {
            auto result = testing::decode_with(f.decode, f.option_x + f.binary_0102 + f.topic_t);
            BOOST_REQUIRE(result);
            BOOST_TEST((*wamp::find(wamp::Publish(result.message()).options(), "x") == wamp::Value{wamp::Binary{"\x01\x02"}}));
        }
}

BOOST_AUTO_TEST_CASE(deep_nesting_in_arguments_is_not_parsed_into_a_dom) {
    for (const auto& f : forms)
        BOOST_TEST_CONTEXT(f.name) {
            std::string nested;
            for (int i = 0; i < 100000; ++i) nested += f.nested_list_head;
            auto frame = f.payload_publish.substr(0, f.payload_publish.size() - f.payload.size()) + nested + f.empty_list;
            auto result = testing::decode_with(f.decode, frame);
            BOOST_TEST(static_cast<bool>(result), result.error());
        }
}

BOOST_AUTO_TEST_CASE(every_truncation_and_trailing_bytes_are_refused) {
    for (const auto& f : forms)
        BOOST_TEST_CONTEXT(f.name) {
            testing::expect_violation(f.decode, "", "is not a " + f.label + " array");
            for (std::size_t cut = 1; cut < f.publish.size(); ++cut)
                testing::expect_violation(f.decode, f.publish.substr(0, cut), "invalid " + f.label + ": ");
            testing::expect_violation(f.decode, f.publish.substr(0, f.publish.size() - 1),
                                      "invalid " + f.label + ": truncated data");
            testing::expect_violation(f.decode, f.hello + from_hex("00"),
                                      "invalid " + f.label + ": trailing bytes after the message array");
            testing::expect_violation(f.decode, f.empty_array, "empty message");
        }
}

// Autobahn sends realm=None as null; Crossbar lets authentication assign the realm.
BOOST_AUTO_TEST_CASE(hello_with_a_null_realm_decodes_as_no_realm) {
    using Frame = std::pair<testing::Decoder, std::string>;
    for (const auto& [decode, frame] : {Frame{codec::decode_msgpack, from_hex("9301c080")},  // [1, None, {}]
                                        Frame{codec::decode_cbor, from_hex("8301f6a0")}}) {
        auto result = testing::decode_with(decode, frame);
        BOOST_REQUIRE_MESSAGE(result, result.error());
        BOOST_TEST(!wamp::Hello(result.message()).realm().has_value());
    }
    for (const auto& f : forms)
        BOOST_TEST_CONTEXT(f.name) {
            auto result = testing::decode_with(f.decode, f.hello);
            BOOST_REQUIRE(result);
            BOOST_TEST(wamp::Hello(result.message()).realm().value() == "realm1");
        }
}

BOOST_AUTO_TEST_CASE(each_schema_violation_is_reported_alike) {
    for (const auto& v : violations) {
        testing::expect_violation(codec::decode_msgpack, from_hex(v.msgpack), v.reason);
        testing::expect_violation(codec::decode_cbor, from_hex(v.cbor), v.reason);
    }
    for (const auto& f : forms)  // [16, 1, {"x": [[[...200 deep...]]]}, "t"]
        BOOST_TEST_CONTEXT(f.name) {
            std::string nested;
            for (int i = 0; i < 200; ++i) nested += f.nested_list_head;
            testing::expect_violation(f.decode, f.option_x + nested + f.empty_list + f.topic_t,
                                      "'Options' in PUBLISH: nesting deeper than 32");
        }
}

// The router never reads Arguments and ArgumentsKw, so a repeated key there is the
// receivers' business: [16, 1, {}, "t", [{"a": 1, "a": 2}], {"b": 1, "b": 2}]
BOOST_AUTO_TEST_CASE(duplicate_keys_in_arguments_are_not_checked) {
    for (auto [decode, hex] : {std::pair<testing::Decoder, const char*>{codec::decode_msgpack, "96100180a1749182a16101a16102" "82a16201a16202"},
                               std::pair<testing::Decoder, const char*>{codec::decode_cbor, "861001a0617481a2616101616102" "a2616201616202"}}) {
        auto result = testing::decode_with(decode, from_hex(hex));
        BOOST_TEST(static_cast<bool>(result), (result ? "" : result.error()));
    }
}

// A few bytes may declare billions of elements or bytes: refused before anything is
// allocated by the declared length (msgpack::unpack and cbor_load would allocate by it).
BOOST_AUTO_TEST_CASE(huge_declared_lengths_fail_fast_without_allocating) {
    const struct {
        testing::Decoder decode;
        const char* hex;
        const char* reason;
    } cases[] = {
        {codec::decode_msgpack, "91ddffffffff", "invalid MsgPack: declared length beyond the data"},  // [array32]
        {codec::decode_msgpack, "ddffffffff", "invalid MsgPack: declared length beyond the data"},    // top level
        {codec::decode_msgpack, "931001dfffffffff", "invalid MsgPack: declared length beyond the data"},  // map32
        {codec::decode_msgpack, "94100180dbffffffff", "invalid MsgPack: truncated data"},             // str32 topic
        {codec::decode_msgpack, "95100180a174c6ffffffff", "invalid MsgPack: truncated data"},         // bin32 payload
        {codec::decode_msgpack, "95100180a174c9ffffffff05", "invalid MsgPack: truncated data"},       // ext32 in args
        {codec::decode_cbor, "819bffffffffffffffff", "invalid CBOR: declared length beyond the data"},  // [array]
        {codec::decode_cbor, "9bffffffffffffffff", "invalid CBOR: declared length beyond the data"},    // top level
        {codec::decode_cbor, "831001bbffffffffffffffff", "invalid CBOR: declared length beyond the data"},  // map
        {codec::decode_cbor, "841001a07bffffffffffffffff00", "invalid CBOR: truncated data"},  // 14 bytes, topic
        {codec::decode_cbor, "851001a061745bffffffffffffffff", "invalid CBOR: truncated data"},  // payload bytes
        {codec::decode_cbor, "851001a061749f5f5affffffffffff", "invalid CBOR: truncated data"},  // chunk in args
    };
    for (const auto& c : cases) testing::expect_violation_in_small_allocations(c.decode, from_hex(c.hex), c.reason);
}

BOOST_AUTO_TEST_SUITE_END()
