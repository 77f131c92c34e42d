// What clients choose reaches the core's log lines escaped and capped
// (wamp::log_text), never their payloads, and the lines a client can repeat at will
// are rate-limited with a count (core/client_warnings.hpp).
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>

#include "blindrouter/codec/decode_result.hpp"
#include "core/fake_session.hpp"

using namespace blindrouter;
using namespace blindrouter::testing;

namespace {

const std::string node_json = R"({"version": 2,
  "workers": [{"type": "router",
    "realms": [{"name": "realm1", "roles": [
      {"name": "backend", "permissions": [
        {"uri": "com.", "match": "prefix", "allow": {"call": true, "register": true, "publish": true, "subscribe": true}}]}]}],
    "transports": [{"type": "websocket", "endpoint": {"type": "tcp", "port": 9000},
      "auth": {"ticket": {"type": "dynamic", "authenticator": "com.example.authenticate"},
               "anonymous": {"type": "static", "role": "backend"}}}]}]})";

// MsgPack written by hand, for strings of any length in a few lines. (Invalid UTF-8
// never reaches the core: every codec refuses it in a routing field, see the last
// test; log_text's escaping of it is tested in tests/wamp.)
std::string mp_str(const std::string& s) {
    std::string out;
    if (s.size() < 32) {
        out.push_back(static_cast<char>(0xa0 | s.size()));
    } else {
        out.push_back(static_cast<char>(0xda));
        out.push_back(static_cast<char>(s.size() >> 8));
        out.push_back(static_cast<char>(s.size() & 0xff));
    }
    return out + s;
}
std::string mp_array(std::uint8_t n) { return std::string(1, static_cast<char>(0x90 | n)); }
std::string mp_map(std::uint8_t n) { return std::string(1, static_cast<char>(0x80 | n)); }
std::string mp_int(std::uint8_t i) { return std::string(1, static_cast<char>(i)); }  // positive fixint

// HELLO for `realm` with the ticket method and `authid`.
std::string mp_hello(const std::string& realm, const std::string& authid) {
    return mp_array(3) + mp_int(1) + mp_str(realm) + mp_map(3) + mp_str("roles") + mp_map(1) + mp_str("caller") +
           mp_map(0) + mp_str("authmethods") + mp_array(1) + mp_str("ticket") + mp_str("authid") + mp_str(authid);
}

// Control characters (a forged second line among them, DEL, C1's NEL) and 10 KB.
const std::string hostile = "evil\nFAKE LINE\x01\x7f\xc2\x85(" + std::string(10 * 1024, 'A');

// Each line of the log holds `hostile` escaped and cut to about log_text's cap.
void expect_escaped_and_capped(const LogCapture& log, const std::string& line_part) {
    auto text = log.lines.str();
    BOOST_TEST_REQUIRE(log.count(line_part) == 1u, text);
    BOOST_TEST(log.count("evil\\nFAKE LINE\\x01\\x7F\\u0085(AAA") == 1u, text);
    BOOST_TEST(log.count("\nFAKE LINE") == 0u);
    BOOST_TEST(log.count("...(+") == 1u, text);
    BOOST_TEST(text.size() < 600u, text.size());
}

struct Fixture : RouterHarness {
    Fixture() : RouterHarness(node_json) {}
    std::unique_ptr<Client> backend() {
        return join(R"([1, "realm1", {"roles": {"caller": {}, "callee": {}}, "authmethods": ["anonymous"]}])");
    }
    // A backend session serving the dynamic ticket authenticator.
    std::unique_ptr<Client> authenticator() {
        auto component = backend();
        component->send(R"([64, 1, {}, "com.example.authenticate"])");
        BOOST_REQUIRE_EQUAL(component->last()[0].GetInt(), 65);
        return component;
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(client_log, Fixture)

BOOST_AUTO_TEST_CASE(an_invalid_realm_name_is_logged_escaped_and_capped) {
    LogCapture log;
    auto c = connect();
    c->send_frame(wamp::Serializer::msgpack, mp_hello("bad." + hostile, "joe"));
    BOOST_TEST(c->last()[2].GetString() == std::string("wamp.error.invalid_uri"));
    expect_escaped_and_capped(log, "HELLO for invalid realm name \"bad.evil");
}

BOOST_AUTO_TEST_CASE(an_authid_is_logged_escaped_and_capped) {
    auto component = authenticator();
    auto c = connect();
    c->send_frame(wamp::Serializer::msgpack, mp_hello("realm1", hostile));
    LogCapture log;
    c->send(R"([5, "ticket-canary-50e2", {}])");
    component->send("[70, " + std::to_string(component->last()[1].GetUint64()) + R"(, {}, [{"role": "backend"}]])");
    BOOST_TEST(c->last()[0].GetInt() == 2);
    expect_escaped_and_capped(log, "joined realm \"realm1\" as authid \"evil");
    BOOST_TEST(log.count("ticket-canary") == 0u);
}

BOOST_AUTO_TEST_CASE(a_uri_in_a_refusal_is_logged_escaped_and_capped) {
    auto c = backend();
    LogCapture log;
    c->send_frame(wamp::Serializer::msgpack, mp_array(4) + mp_int(48) + mp_int(1) + mp_map(0) + mp_str("com." + hostile));
    BOOST_TEST(c->last_error_uri() == "wamp.error.invalid_uri");
    expect_escaped_and_capped(log, "CALL refused with wamp.error.invalid_uri (uri \"com.evil");
}

BOOST_AUTO_TEST_CASE(an_abort_reason_is_logged_escaped_and_capped) {
    auto c = backend();
    LogCapture log;
    c->send_frame(wamp::Serializer::msgpack, mp_array(3) + mp_int(3) + mp_map(0) + mp_str("x." + hostile));
    expect_escaped_and_capped(log, "aborted by client: x.evil");
}

BOOST_AUTO_TEST_CASE(refusals_a_client_repeats_are_rate_limited_with_a_count) {
    auto c = backend();
    LogCapture log;
    for (int request = 1; request <= 5; ++request)
        c->send("[48, " + std::to_string(request) + R"(, {}, "org.example.forbidden", ["payload-canary-1"]])");
    BOOST_TEST(c->last_error_uri() == "wamp.error.not_authorized");
    BOOST_TEST(log.count("refused with wamp.error.not_authorized") == 1u);
    timers.advance(std::chrono::seconds(10));
    c->send(R"([48, 6, {}, "org.example.forbidden", []])");
    BOOST_TEST(log.count("refused with wamp.error.not_authorized") == 2u);
    BOOST_TEST(log.count("(4 more like this suppressed)") == 1u, log.lines.str());
    BOOST_TEST(log.count("payload-canary") == 0u);
}

BOOST_AUTO_TEST_CASE(protocol_violations_are_rate_limited_router_wide) {
    LogCapture log;
    for (int i = 0; i < 3; ++i) {
        auto c = backend();
        c->send(hello_all_roles);
        BOOST_TEST(c->transport.closed.has_value());  // each is still aborted
    }
    BOOST_TEST(log.count("protocol violation") == 1u);
    timers.advance(std::chrono::seconds(10));
    backend()->send(hello_all_roles);
    BOOST_TEST(log.count("protocol violation") == 2u);
    BOOST_TEST(log.count("(2 more like this suppressed)") == 1u, log.lines.str());
}

BOOST_AUTO_TEST_CASE(authentication_refusals_are_rate_limited_router_wide) {
    LogCapture log;
    for (int i = 0; i < 3; ++i) {
        auto c = connect();
        c->send(R"([1, "nosuchrealm", {"roles": {"caller": {}}, "authmethods": ["anonymous"]}])");
        BOOST_TEST(c->last()[0].GetInt() == 3);
    }
    BOOST_TEST(log.count("authentication refused") == 1u);
}

// Crossbar tells the client the text of the authenticator's ERROR (its first
// argument); the log has the error URI only.
BOOST_AUTO_TEST_CASE(a_dynamic_authenticators_error_text_is_not_logged) {
    auto component = authenticator();
    LogCapture log;
    auto c = connect();
    c->send(R"([1, "realm1", {"roles": {"caller": {}}, "authmethods": ["ticket"], "authid": "joe"}])");
    c->send(R"([5, "ticket-canary-7c1d", {}])");
    auto invocation = component->last();
    BOOST_REQUIRE_EQUAL(invocation[0].GetInt(), 68);
    component->send("[8, 68, " + std::to_string(invocation[1].GetUint64()) +
                    R"(, {}, "com.example.denied", ["you sent ticket-canary-7c1d"]])");
    BOOST_TEST(c->last()[0].GetInt() == 3);
    BOOST_TEST(c->last()[1]["message"].GetString() == std::string("you sent ticket-canary-7c1d"));
    BOOST_TEST(log.count("authentication refused: com.example.denied (the authenticator's message is not logged)") ==
                   1u,
               log.lines.str());
    BOOST_TEST(log.count("ticket-canary") == 0u);
}

BOOST_AUTO_TEST_CASE(invalid_utf8_in_a_routing_field_is_refused_before_the_core) {
    for (const auto& frame : {mp_hello("realm1", "joe\xff"), mp_hello("realm\xc3(", "joe")}) {
        auto decoded = codec::decode(wamp::Serializer::msgpack, std::make_shared<const std::string>(frame));
        BOOST_TEST(!decoded);
    }
}

BOOST_AUTO_TEST_SUITE_END()
