// Session state machine, realm checks and every protocol-violation branch, driven
// through a fake transport.
#include <boost/test/unit_test.hpp>

#include "blindrouter/config/node_config_loader.hpp"
#include "blindrouter/core/router.hpp"
#include "core/fake_session.hpp"

using namespace blindrouter;
using namespace blindrouter::testing;

namespace {
const char* node_json = R"({
  "version": 2,
  "workers": [{"type": "router",
    "realms": [{"name": "realm1", "roles": [{"name": "anonymous", "permissions": [
        {"uri": "com.", "match": "prefix", "allow": {"call": true, "register": true, "publish": true, "subscribe": true}},
        {"uri": "com.readonly.", "match": "prefix", "allow": {"subscribe": true}},
        {"uri": "wamp.", "match": "prefix", "allow": {"register": true, "publish": true, "subscribe": true}}]}]},
      {"name": "realm2", "roles": [{"name": "other", "permissions": []}]}],
    "transports": [{"type": "websocket", "endpoint": {"type": "tcp", "port": 9000}}]}]})";

const std::string hello = hello_all_roles;

class Hook : public hooks::MessageHook {
public:
    std::string_view name() const override { return "test"; }
    hooks::Verdict inbound(const hooks::InboundContext&, const wamp::Carrier&) override { return {}; }
    hooks::Verdict outbound(const hooks::OutboundContext&) override { return hooks::Verdict::pass(); }
    std::string_view receiver_feature() const override { return ""; }
    void publication_refused(const wamp::Carrier&, std::size_t, std::size_t, hooks::Verdict&) const override {}
    void forward_details(const wamp::Carrier&, hooks::MessageNote, wamp::Dict&) const override {}
    void announce_features(wamp::Dict& broker, wamp::Dict&) const override {
        broker.emplace_back("test_feature", wamp::Value{true});
    }
    hooks::ConfigKeys config_keys() const override { return {}; }
    std::vector<std::string> check_config(const hooks::ConfigView&) const override { return {}; }
};

struct SessionFixture : RouterHarness {
    Hook* hook = nullptr;

    SessionFixture() : RouterHarness(node_json) {
        auto h = std::make_unique<Hook>();
        hook = h.get();
        hooks.add(std::move(h));
    }
    static void expect_abort(Client& c, const std::string& reason) {
        auto abort = c.last();
        BOOST_REQUIRE_EQUAL(abort[0].GetInt(), 3);
        BOOST_TEST(abort[2].GetString() == reason);
        BOOST_TEST(c.transport.closed.has_value());
    }
};
}  // namespace

BOOST_FIXTURE_TEST_SUITE(session, SessionFixture)

BOOST_AUTO_TEST_CASE(welcome_announces_served_features_and_anonymous_identity) {
    auto c = join();
    auto welcome = c->last();
    BOOST_TEST(welcome[1].GetUint64() == c->session->id());
    const auto& details = welcome[2];
    BOOST_TEST(details["authrole"].GetString() == std::string("anonymous"));
    BOOST_TEST(details["authmethod"].GetString() == std::string("anonymous"));
    BOOST_TEST(details["authprovider"].GetString() == std::string("static"));
    BOOST_TEST(std::string(details["authid"].GetString()).size() == 29u);
    const auto& broker = details["roles"]["broker"]["features"];
    BOOST_TEST(broker["publisher_exclusion"].GetBool());
    BOOST_TEST(broker["test_feature"].GetBool());  // hooks announce their features
    BOOST_TEST(!broker.HasMember("payload_transparency"));
    BOOST_TEST(details["roles"]["dealer"]["features"]["progressive_call_results"].GetBool());
    BOOST_TEST(details["roles"]["dealer"]["features"]["call_canceling"].GetBool());
    BOOST_TEST(details["roles"]["dealer"]["features"]["call_timeout"].GetBool());
    BOOST_TEST(details["roles"]["dealer"]["features"]["progressive_call_invocations"].GetBool());
}

BOOST_AUTO_TEST_CASE(no_such_realm) {
    auto c = connect();
    c->send(R"([1, "nope", {"roles": {"caller": {}}}])");
    expect_abort(*c, "wamp.error.no_such_realm");
}

// Crossbar exempts "anonymous" (and "trusted") from the role check: the session joins
// a realm that does not define the role, and is denied every action there.
BOOST_AUTO_TEST_CASE(anonymous_role_missing_on_realm_joins_with_no_permissions) {
    auto c = connect();
    c->send(R"([1, "realm2", {"roles": {"caller": {}}}])");
    BOOST_REQUIRE_EQUAL(c->last()[0].GetInt(), 2);
    BOOST_TEST(c->last()[2]["authrole"].GetString() == std::string("anonymous"));
    c->send(R"([48, 1, {}, "com.x"])");
    BOOST_TEST(c->last_error_uri() == "wamp.error.not_authorized");
}

BOOST_AUTO_TEST_CASE(no_auth_method) {
    auto c = connect();
    c->send(R"([1, "realm1", {"roles": {"caller": {}}, "authmethods": ["ticket"]}])");
    expect_abort(*c, "wamp.error.no_auth_method");
}

BOOST_AUTO_TEST_CASE(goodbye_is_answered_and_closes) {
    auto c = join();
    c->send(R"([6, {}, "wamp.close.normal"])");
    BOOST_TEST(c->transport.sent.back() == R"([6,{},"wamp.close.normal"])");
    BOOST_TEST((c->transport.closed == core::CloseReason::normal));
}

BOOST_AUTO_TEST_CASE(shutdown_says_goodbye_to_every_session) {
    auto a = join();
    auto b = join();
    router().shut_down();
    for (auto* c : {a.get(), b.get()}) {
        auto goodbye = c->last();
        BOOST_TEST(goodbye[0].GetInt() == 6);
        BOOST_TEST(goodbye[2].GetString() == std::string("wamp.close.system_shutdown"));
    }
    a->send(R"([6, {}, "wamp.close.goodbye_and_out"])");
    BOOST_TEST(a->transport.closed.has_value());
}

BOOST_AUTO_TEST_CASE(violation_malformed_frame) {
    auto c = join();
    c->session->receive_malformed("invalid JSON: x");
    expect_violation(*c, "invalid JSON");
}
BOOST_AUTO_TEST_CASE(violation_message_before_hello) {
    auto c = connect();
    c->send(R"([32, 1, {}, "com.t"])");
    expect_violation(*c, "SUBSCRIBE received before session was established");
}
BOOST_AUTO_TEST_CASE(violation_goodbye_before_hello) {
    auto c = connect();
    c->send(R"([6, {}, "wamp.close.normal"])");
    expect_violation(*c, "GOODBYE received before");
}
BOOST_AUTO_TEST_CASE(violation_second_hello) {
    auto c = join();
    c->send(hello);
    expect_violation(*c, "HELLO received after session was established");
}
BOOST_AUTO_TEST_CASE(violation_router_message_from_client) {
    auto c = join();
    c->send(R"([36, 1, 2, {}])");
    expect_violation(*c, "EVENT is not a message a client may send");
}
BOOST_AUTO_TEST_CASE(violation_authenticate_without_challenge) {
    auto c = join();
    c->send(R"([5, "sig", {}])");
    expect_violation(*c, "AUTHENTICATE received without CHALLENGE");
}
BOOST_AUTO_TEST_CASE(violation_hello_without_roles) {
    auto c = connect();
    c->send(R"([1, "realm1", {}])");
    expect_violation(*c, "roles");
}
BOOST_AUTO_TEST_CASE(violation_yield_for_unknown_invocation) {
    auto c = join();
    c->send(R"([70, 99, {}])");
    expect_violation(*c, "YIELD for unknown invocation");
}
BOOST_AUTO_TEST_CASE(violation_error_not_answering_an_invocation) {
    auto c = join();
    c->send(R"([8, 48, 5, {}, "com.x"])");
    expect_violation(*c, "must answer an INVOCATION");
}
BOOST_AUTO_TEST_CASE(messages_after_abort_are_ignored) {
    auto c = join();
    c->send(R"([70, 99, {}])");
    auto sent = c->transport.sent.size();
    c->send(R"([16, 1, {"acknowledge": true}, "com.t"])");
    BOOST_TEST(c->transport.sent.size() == sent);
}

BOOST_AUTO_TEST_CASE(invalid_and_reserved_uris) {
    auto c = join();
    c->send(R"([32, 1, {}, "com..x"])");
    BOOST_TEST(c->last_error_uri() == "wamp.error.invalid_uri");
    c->send(R"([16, 2, {"acknowledge": true}, "com.a b"])");
    BOOST_TEST(c->last_error_uri() == "wamp.error.invalid_uri");
    c->send(R"([16, 3, {"acknowledge": true}, "wamp.session.on_join"])");
    BOOST_TEST(c->last_error_uri() == "wamp.error.invalid_uri");
    c->send(R"([64, 4, {}, "wamp.my.proc"])");
    BOOST_TEST(c->last_error_uri() == "wamp.error.invalid_uri");
    c->send(R"([48, 5, {}, "a#b"])");
    BOOST_TEST(c->last_error_uri() == "wamp.error.invalid_uri");
    c->send(R"([32, 6, {"match": "prefix"}, "com."])");
    BOOST_TEST(c->last()[0].GetInt() == 33);
    c->send(R"([32, 7, {"match": "fuzzy"}, "com.x"])");
    BOOST_TEST(c->last_error_uri() == "wamp.error.invalid_argument");
}

BOOST_AUTO_TEST_CASE(authorization_on_every_action) {
    auto c = join();
    c->send(R"([32, 1, {}, "com.readonly.t"])");
    BOOST_TEST(c->last()[0].GetInt() == 33);
    c->send(R"([16, 2, {"acknowledge": true}, "com.readonly.t"])");
    BOOST_TEST(c->last_error_uri() == "wamp.error.not_authorized");
    c->send(R"([64, 3, {}, "com.readonly.p"])");
    BOOST_TEST(c->last_error_uri() == "wamp.error.not_authorized");
    c->send(R"([48, 4, {}, "com.readonly.p"])");
    BOOST_TEST(c->last_error_uri() == "wamp.error.not_authorized");
    c->send(R"([32, 5, {}, "org.t"])");
    BOOST_TEST(c->last_error_uri() == "wamp.error.not_authorized");
    auto sent = c->transport.sent.size();
    c->send(R"([16, 6, {}, "com.readonly.t"])");  // no acknowledge: no answer
    BOOST_TEST(c->transport.sent.size() == sent);
}

BOOST_AUTO_TEST_SUITE_END()
