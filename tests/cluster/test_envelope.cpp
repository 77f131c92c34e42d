// The NATS headers beside a forwarded frame (SCALE-OUT.md §2.4).
#include <boost/test/unit_test.hpp>
#include <map>

#include "blindrouter/cluster/envelope.hpp"
#include "blindrouter/codec/decode_result.hpp"
#include "blindrouter/codec/outbound_message.hpp"
#include "blindrouter/wamp/messages.hpp"

using namespace blindrouter;
using namespace blindrouter::cluster;

namespace {
HeaderLookup lookup_in(const std::map<std::string, std::string, std::less<>>& headers) {
    return [&headers](std::string_view name) -> std::optional<std::string_view> {
        auto it = headers.find(name);
        if (it == headers.end()) return std::nullopt;
        return std::string_view(it->second);
    };
}

std::map<std::string, std::string, std::less<>> as_map(const Headers& headers) {
    std::map<std::string, std::string, std::less<>> out;
    for (const auto& [k, v] : headers) out[k] = v;
    return out;
}

Envelope sample() {
    Envelope e;
    e.serializer = wamp::Serializer::msgpack;
    e.node = 0x00ab00cd00ef0012;
    e.sequence = 42;
    e.session = 9007199254740991;
    e.authid = "alice\r\nBr-Sess: 1";
    e.authrole = "user role";
    e.disclose = true;
    e.publication = 9007199254740992;
    return e;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(cluster_envelope)

BOOST_AUTO_TEST_CASE(headers_name_the_serializer_origin_and_publisher) {
    auto headers = as_map(envelope_headers(sample()));
    BOOST_TEST(headers["Br-V"] == "1");
    BOOST_TEST(headers["Br-Ser"] == "msgpack");
    BOOST_TEST(headers["Br-Node"] == "00ab00cd00ef0012");
    BOOST_TEST(headers["Br-Seq"] == "42");
    BOOST_TEST(headers["Br-Sess"] == "9007199254740991");
    // A client string cannot break out of its header value.
    BOOST_TEST(headers["Br-Authid"] == "=alice%0D%0ABr-Sess%3A%201");
    BOOST_TEST(headers["Br-Authrole"] == "=user%20role");
    BOOST_TEST(headers["Br-Disclose"] == "1");
    BOOST_TEST(headers["Br-Pub"] == "9007199254740992");
}

BOOST_AUTO_TEST_CASE(headers_read_back_to_the_same_envelope) {
    auto headers = as_map(envelope_headers(sample()));
    std::string fault;
    auto read = read_envelope(lookup_in(headers), fault);
    BOOST_REQUIRE_MESSAGE(read.has_value(), fault);
    auto want = sample();
    BOOST_TEST((read->serializer == want.serializer));
    BOOST_TEST(read->node == want.node);
    BOOST_TEST(read->sequence == want.sequence);
    BOOST_TEST(read->session == want.session);
    BOOST_TEST(read->authid == want.authid);
    BOOST_TEST(read->authrole == want.authrole);
    BOOST_TEST(read->disclose);
    BOOST_TEST(read->publication == want.publication);
}

BOOST_AUTO_TEST_CASE(an_envelope_without_a_publication_id_sends_and_reads_none) {
    auto envelope = sample();
    envelope.publication = 0;
    auto headers = as_map(envelope_headers(envelope));
    BOOST_TEST(!headers.contains("Br-Pub"));
    std::string fault;
    auto read = read_envelope(lookup_in(headers), fault);
    BOOST_REQUIRE_MESSAGE(read.has_value(), fault);
    BOOST_TEST(read->publication == 0u);
}

BOOST_AUTO_TEST_CASE(an_empty_authid_and_authrole_cross_as_a_mark_and_read_back_empty) {
    auto envelope = sample();
    envelope.authid.clear();
    envelope.authrole.clear();
    auto headers = as_map(envelope_headers(envelope));
    BOOST_TEST(headers["Br-Authid"] == "=");
    BOOST_TEST(headers["Br-Authrole"] == "=");
    std::string fault;
    auto read = read_envelope(lookup_in(headers), fault);
    BOOST_REQUIRE_MESSAGE(read.has_value(), fault);
    BOOST_TEST(read->authid.empty());
    BOOST_TEST(read->authrole.empty());
}

BOOST_AUTO_TEST_CASE(a_missing_or_malformed_header_is_refused_by_name) {
    auto check = [](const std::string& key, const std::optional<std::string>& value, const std::string& expected) {
        auto headers = as_map(envelope_headers(sample()));
        if (value) headers[key] = *value;
        else headers.erase(key);
        std::string fault;
        BOOST_TEST(!read_envelope(lookup_in(headers), fault).has_value(), key);
        BOOST_TEST(fault == expected, key);
    };
    check("Br-V", std::string("2"), "envelope version 2 is not 1");
    check("Br-Ser", std::nullopt, "header Br-Ser missing");
    check("Br-Ser", std::string("xml"), "header Br-Ser malformed");
    check("Br-Node", std::string("12"), "header Br-Node malformed");
    check("Br-Seq", std::string("0"), "header Br-Seq malformed");
    check("Br-Seq", std::string("-1"), "header Br-Seq malformed");
    check("Br-Sess", std::string("x"), "header Br-Sess malformed");
    check("Br-Authid", std::string("=%4"), "header Br-Authid malformed");
    // Unmarked: an empty value would be one libnats mis-reads.
    check("Br-Authid", std::string("alice"), "header Br-Authid malformed");
    check("Br-Disclose", std::string("yes"), "header Br-Disclose malformed");
    check("Br-Pub", std::string("0"), "header Br-Pub malformed");
    check("Br-Pub", std::string("9007199254740993"), "header Br-Pub malformed");
}

BOOST_AUTO_TEST_CASE(percent_encoding_round_trips_every_byte) {
    std::string all;
    for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
    auto encoded = percent_encode(all);
    BOOST_TEST(encoded.find_first_of("\r\n :") == std::string::npos);
    BOOST_TEST(percent_decode(encoded).value() == all);
    BOOST_TEST(!percent_decode("%zz").has_value());
    BOOST_TEST(!percent_decode("abc%").has_value());
}

BOOST_AUTO_TEST_CASE(hex_round_trips_every_byte_in_one_spelling) {
    std::string all;
    for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
    auto encoded = hex_lower(all);
    BOOST_TEST(encoded.size() == 512u);
    BOOST_TEST(encoded.substr(0, 6) == "000102");
    BOOST_TEST(encoded.substr(506) == "fdfeff");
    BOOST_TEST(unhex_lower(encoded).value() == all);
    BOOST_TEST(unhex_lower("").value().empty());
    BOOST_TEST(!unhex_lower("0").has_value());
    BOOST_TEST(!unhex_lower("0g").has_value());
    BOOST_TEST(!unhex_lower("FF").has_value());
}

BOOST_AUTO_TEST_CASE(node_ids_are_sixteen_lowercase_digits) {
    BOOST_TEST(node_id_text(0) == "0000000000000000");
    BOOST_TEST(node_id_text(0xabcULL) == "0000000000000abc");
    BOOST_TEST(node_id_text(~0ULL) == "ffffffffffffffff");
    BOOST_TEST(parse_node_id("0000000000000abc").value() == 0xabcULL);
    BOOST_TEST(parse_node_id("ffffffffffffffff").value() == ~0ULL);
    BOOST_TEST(!parse_node_id("0000000000000ABC").has_value());
    BOOST_TEST(!parse_node_id("000000000000abc").has_value());
    BOOST_TEST(!parse_node_id("+000000000000abc").has_value());
}

BOOST_AUTO_TEST_CASE(a_received_publish_crosses_as_its_own_frame_not_a_copy) {
    // Spacing, key order and escapes a re-encoder would normalise.
    auto frame = std::make_shared<const std::string>(
        "[ 16,7 ,{\"exclude_me\" :false,  \"acknowledge\":true}, \"com.\\u0074\",[\"x\"] ]");
    auto decoded = codec::decode(wamp::Serializer::json, frame);
    BOOST_REQUIRE(decoded);
    auto body = forwarded_body(decoded.message(), wamp::Serializer::json);
    BOOST_REQUIRE(body);
    BOOST_TEST(body.get() == frame.get());
    BOOST_TEST(*body == *frame);
}

BOOST_AUTO_TEST_CASE(a_router_built_publish_is_encoded_in_its_senders_serializer) {
    auto publish = wamp::Publish::build(3, {}, "com.t").take();
    BOOST_REQUIRE(!publish.received_frame);
    auto body = forwarded_body(publish, wamp::Serializer::json);
    BOOST_REQUIRE(body);
    BOOST_TEST(*body == R"([16,3,{},"com.t"])");
    auto packed = forwarded_body(publish, wamp::Serializer::msgpack);
    BOOST_REQUIRE(packed);
    BOOST_TEST(static_cast<bool>(codec::decode(wamp::Serializer::msgpack, packed)));
}

BOOST_AUTO_TEST_CASE(a_testament_record_keeps_realm_envelope_and_frames_byte_exact) {
    cluster::TestamentRecord record;
    record.realm = "realm 1";
    record.envelope.serializer = wamp::Serializer::msgpack;
    record.envelope.node = 0xabc;
    record.envelope.sequence = 1;
    record.envelope.session = 42;
    record.envelope.authid = "who\nme";
    record.envelope.authrole = "anonymous";
    record.frames = {std::string("\x95\x10\x01\x80\xa1t\n\n", 9), "", "[16]"};
    std::string fault;
    auto back = cluster::decode_testament_record(cluster::encode_testament_record(record), fault);
    BOOST_REQUIRE_MESSAGE(back, fault);
    BOOST_TEST(back->realm == "realm 1");
    BOOST_TEST(back->envelope.node == 0xabcu);
    BOOST_TEST(back->envelope.session == 42u);
    BOOST_TEST(back->envelope.authid == "who\nme");
    BOOST_TEST((back->envelope.serializer == wamp::Serializer::msgpack));
    BOOST_TEST(back->frames == record.frames);
}

BOOST_AUTO_TEST_CASE(a_truncated_or_foreign_testament_record_is_refused) {
    cluster::TestamentRecord record;
    record.realm = "r";
    record.envelope.node = 1;
    record.envelope.sequence = 1;
    record.envelope.session = 2;
    record.frames = {"[16, 1, {}, \"t\"]"};
    auto text = cluster::encode_testament_record(record);
    std::string fault;
    BOOST_TEST(!cluster::decode_testament_record(text.substr(0, text.size() - 1), fault));
    BOOST_TEST(fault == "a frame length is malformed or beyond the record");
    BOOST_TEST(!cluster::decode_testament_record("hello", fault));
    BOOST_TEST(fault == "no end of headers");
    BOOST_TEST(!cluster::decode_testament_record(text.substr(text.find('\n') + 1), fault));
    BOOST_TEST(fault == "header Br-Realm missing or malformed");
}

namespace {
cluster::RetainedRecord retained_sample(std::string frame) {
    cluster::RetainedRecord record{"realm1", sample(), std::move(frame)};
    record.envelope.serializer = wamp::Serializer::json;
    return record;
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_retained_record_reads_back_as_its_publish_and_publisher_byte_exact) {
    std::string frame = R"([16,  1, {"retain": true, "eligible": [5]}, "com.a.t", [1, "x"]])";
    auto text = cluster::encode_retained_record(retained_sample(frame));
    std::string fault;
    auto back = cluster::retained_from_record("realm1", "realm1.com.a.t", text, fault);
    BOOST_REQUIRE_MESSAGE(back, fault);
    BOOST_TEST(back->publisher.session_id == 9007199254740991u);
    BOOST_TEST(back->publisher.authid == "alice\r\nBr-Sess: 1");
    BOOST_TEST(back->publisher.authrole == "user role");
    BOOST_TEST((back->publisher.serializer == wamp::Serializer::json));
    BOOST_TEST(back->disclose_publisher);
    BOOST_TEST(wamp::Publish(back->publish).topic() == "com.a.t");
    BOOST_REQUIRE(back->publish.received_frame);
    BOOST_TEST(*back->publish.received_frame == frame);
}

BOOST_AUTO_TEST_CASE(a_malformed_or_misplaced_retained_record_is_refused) {
    std::string fault;
    auto good = cluster::encode_retained_record(retained_sample(R"([16, 1, {}, "com.a"])"));
    BOOST_TEST(!cluster::retained_from_record("realm1", "realm1.com.b", good, fault));
    BOOST_TEST(fault == "the frame's topic is not the one its key names");
    BOOST_TEST(!cluster::retained_from_record("realm2", "realm2.com.a", good, fault));
    BOOST_TEST(fault == "a record of another realm");
    auto subscribe = cluster::encode_retained_record(retained_sample(R"([32, 1, {}, "com.a"])"));
    BOOST_TEST(!cluster::retained_from_record("realm1", "realm1.com.a", subscribe, fault));
    BOOST_TEST(fault == "the frame is not a PUBLISH");
    auto broken = cluster::encode_retained_record(retained_sample("[16, 1, {"));
    BOOST_TEST(!cluster::retained_from_record("realm1", "realm1.com.a", broken, fault));
    BOOST_TEST(fault.starts_with("the frame does not decode"));
    cluster::TestamentRecord two{"realm1", retained_sample("").envelope, {R"([16, 1, {}, "com.a"])", "[16]"}};
    BOOST_TEST(!cluster::retained_from_record("realm1", "realm1.com.a", cluster::encode_testament_record(two), fault));
    BOOST_TEST(fault == "a retained record holds 2 frames, not one");
    BOOST_TEST(!cluster::retained_from_record("realm1", "realm1.com.a", "hello", fault));
    BOOST_TEST(fault == "no end of headers");
}

BOOST_AUTO_TEST_CASE(split_keeps_empty_parts_so_that_n_separators_give_n_plus_one) {
    using V = std::vector<std::string_view>;
    BOOST_TEST((cluster::split("a.b.c", '.') == V{"a", "b", "c"}));
    BOOST_TEST((cluster::split("", '.') == V{""}));
    BOOST_TEST((cluster::split(".a.", '.') == V{"", "a", ""}));
    BOOST_TEST((cluster::split("d 3  4", ' ') == V{"d", "3", "", "4"}));
}

BOOST_AUTO_TEST_SUITE_END()
