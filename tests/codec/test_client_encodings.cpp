#include <boost/test/unit_test.hpp>
#include <string>

#include "blindrouter/codec/cbor_codec.hpp"
#include "blindrouter/codec/element_translation.hpp"
#include "blindrouter/codec/json_codec.hpp"
#include "blindrouter/codec/msgpack_codec.hpp"
#include "blindrouter/wamp/messages.hpp"
#include "codec/codec_test_support.hpp"

// How JavaScript clients encode what they send: wampy 8 through msgpackr and
// cbor-x writes integers beyond 32 bits as float64 and writes the undefined
// values of its option objects (msgpackr as fixext 1 type 0 "d4 00 00", cbor-x
// as simple value 23 "f7"; both checked by running the encoders under node).
using namespace blindrouter;
using testing::from_hex;

namespace {

struct Form {
    const char* name;
    testing::Decoder decode;
    // [16, 7.0, {"exclude": [2.0**40], "eligible": [3.0], "u": undefined, "acknowledge": True}, "com.t"]
    std::string float_ids_and_undefined_option;
    std::string fractional_id;        // [16, 7.5, {}, "t"]
    std::string float_id_beyond_2_53;  // [16, 2.0**53 + 2, {}, "t"]
    std::string undefined_options;     // [16, 1, undefined, "t"]
    std::string undefined_request;     // [16, undefined, {}, "t"]
    // [16, 1, {"exclude": [undefined], "x": {"y": undefined}}, "t"]
    std::string undefined_in_nested_option;
};

const Form forms[] = {
    {"msgpack", codec::decode_msgpack,
     from_hex("9410cb401c00000000000084a76578636c75646591cb4270000000000000a8656c696769626c6591cb4008000000000000"
              "a175d40000ab61636b6e6f776c65646765c3a5636f6d2e74"),
     from_hex("9410cb401e00000000000080a174"), from_hex("9410cb434000000000000180a174"), from_hex("941001d40000a174"),
     from_hex("9410d4000080a174"), from_hex("94100182a76578636c75646591d40000a17881a179d40000a174")},
    {"cbor", codec::decode_cbor,
     from_hex("8410fb401c000000000000a4676578636c75646581fb427000000000000068656c696769626c6581fb4008000000000000"
              "6175f76b61636b6e6f776c65646765f565636f6d2e74"),
     from_hex("8410fb401e000000000000a06174"), from_hex("8410fb4340000000000001a06174"), from_hex("841001f76174"),
     from_hex("8410f7a06174"), from_hex("841001a2676578636c75646581f76178a16179f76174")},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(client_encodings)

BOOST_AUTO_TEST_CASE(integral_floats_are_ids_and_undefined_options_are_absent) {
    for (const auto& f : forms)
        BOOST_TEST_CONTEXT(f.name) {
            auto result = testing::decode_with(f.decode, f.float_ids_and_undefined_option);
            BOOST_REQUIRE_MESSAGE(result, result.error());
            wamp::Publish publish(result.message());
            BOOST_TEST(publish.request() == 7u);
            const auto& options = publish.options();
            BOOST_TEST(options.size() == 3u);
            BOOST_TEST(!wamp::find(options, "u"));
            BOOST_TEST(*wamp::find(options, "acknowledge")->as_bool());
            BOOST_TEST(wamp::find(options, "exclude")->as_list()->at(0).as_unsigned().value() == 1099511627776u);
            BOOST_TEST(wamp::find(options, "eligible")->as_list()->at(0).as_unsigned().value() == 3u);
        }
}

BOOST_AUTO_TEST_CASE(a_float_with_a_fraction_is_no_id) {
    for (const auto& f : forms)
        BOOST_TEST_CONTEXT(f.name) {
            testing::expect_violation(f.decode, f.fractional_id, "'Request' in PUBLISH: invalid type for ID");
        }
}

BOOST_AUTO_TEST_CASE(an_integral_float_id_is_range_checked_as_an_integer) {
    for (const auto& f : forms)
        BOOST_TEST_CONTEXT(f.name) {
            testing::expect_violation(f.decode, f.float_id_beyond_2_53,
                                      "'Request' in PUBLISH: ID 9007199254740994 out of range [1, 2^53]");
        }
}

BOOST_AUTO_TEST_CASE(undefined_outside_a_dict_is_null) {
    for (const auto& f : forms)
        BOOST_TEST_CONTEXT(f.name) {
            testing::expect_violation(f.decode, f.undefined_options, "'Options' in PUBLISH: invalid type for dict");
            testing::expect_violation(f.decode, f.undefined_request, "'Request' in PUBLISH: invalid type for ID");
            auto result = testing::decode_with(f.decode, f.undefined_in_nested_option);
            BOOST_REQUIRE_MESSAGE(result, result.error());
            const auto& options = wamp::Publish(result.message()).options();
            BOOST_TEST(wamp::find(options, "exclude")->as_list()->at(0).is_null());
            BOOST_TEST(wamp::find(options, "x")->as_dict()->empty());
        }
}

BOOST_AUTO_TEST_CASE(undefined_in_arguments_is_kept_and_translates_to_null) {
    // [undefined, 2.0]: the bytes are spliced unchanged for the same serializer;
    // other serializers have no undefined (MsgPack's is msgpackr's own extension).
    auto msgpack = testing::element_of(wamp::Serializer::msgpack, wamp::ElementKind::list, from_hex("92d40000cb4000000000000000"));
    auto cbor = testing::element_of(wamp::Serializer::cbor, wamp::ElementKind::list, from_hex("82f7fb4000000000000000"));
    BOOST_TEST(codec::translate_element(msgpack, wamp::Serializer::json).value() == "[null,2.0]");
    BOOST_TEST(codec::translate_element(cbor, wamp::Serializer::json).value() == "[null,2.0]");
    BOOST_TEST(codec::translate_element(msgpack, wamp::Serializer::cbor).value() == from_hex("82f6fb4000000000000000"));
    BOOST_TEST(codec::translate_element(cbor, wamp::Serializer::msgpack).value() == from_hex("92c0cb4000000000000000"));
}

BOOST_AUTO_TEST_CASE(json_integral_floats_are_ids_and_fractions_are_not) {
    auto result = testing::decode_with(codec::decode_json, R"([16, 7.0, {"exclude": [1099511627776.0, 2e0]}, "t"])");
    BOOST_REQUIRE_MESSAGE(result, result.error());
    BOOST_TEST(wamp::Publish(result.message()).request() == 7u);
    const auto& exclude = *wamp::find(wamp::Publish(result.message()).options(), "exclude")->as_list();
    BOOST_TEST(exclude.at(0).as_unsigned().value() == 1099511627776u);
    BOOST_TEST(exclude.at(1).as_unsigned().value() == 2u);
    testing::expect_violation(codec::decode_json, R"([16, 7.5, {}, "t"])", "'Request' in PUBLISH: invalid type for ID");
    testing::expect_violation(codec::decode_json, R"([16, 1e300, {}, "t"])", "'Request' in PUBLISH: invalid type for ID");
}

BOOST_AUTO_TEST_SUITE_END()
