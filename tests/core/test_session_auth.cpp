// The session's authentication states (HELLO → CHALLENGE → AUTHENTICATE → WELCOME),
// WELCOME details per method, the bound on pending authentications, and secrets kept
// out of logs, driven through a fake transport.
#include <boost/test/unit_test.hpp>

#include "blindrouter/auth/static_methods.hpp"
#include "core/fake_session.hpp"

using namespace blindrouter;
using namespace blindrouter::testing;

namespace {
const char* node_json = R"({"version": 2,
  "workers": [{"type": "router",
    "realms": [{"name": "realm1", "roles": [{"name": "frontend", "permissions": [
        {"uri": "com.", "match": "prefix", "allow": {"call": true, "register": true, "publish": true, "subscribe": true}}]}]},
      {"name": "realm2", "roles": [{"name": "other", "permissions": []}]}],
    "transports": [{"type": "websocket", "endpoint": {"type": "tcp", "port": 9000},
      "auth": {"ticket": {"type": "static", "principals": {
                  "joe": {"ticket": "joe-ticket-5b1f", "role": "frontend"},
                  "ghost": {"ticket": "ghost-ticket-77aa", "role": "nosuchrole"}}},
               "wampcra": {"type": "static", "users": {
                  "peter": {"secret": "peter-secret-91c3", "role": "frontend"},
                  "salty": {"secret": "salty-secret-e2d4", "role": "frontend",
                            "salt": "salt123", "iterations": 100, "keylen": 16}}}}}]}]})";

std::string hello(const std::string& methods, const std::string& authid, const std::string& realm = "realm1",
                  const std::string& extra = "") {
    return R"([1, ")" + realm + R"(", {"roles": {"caller": {}, "subscriber": {}}, "authmethods": )" + methods +
           R"(, "authid": ")" + authid + "\"" + extra + "}]";
}

struct AuthFixture : RouterHarness {
    AuthFixture() : RouterHarness(node_json) {}

    static void expect_abort(Client& c, const std::string& reason, const std::string& message) {
        expect_abort_with(c, reason, message);
    }
    static std::string cra_signature(Client& c, const std::string& key) {
        auto challenge = c.last();
        BOOST_REQUIRE_EQUAL(challenge[0].GetInt(), 4);
        return auth::wampcra_signature(key, challenge[2]["challenge"].GetString());
    }
    static std::string authenticate(const std::string& signature) { return R"([5, ")" + signature + R"(", {}])"; }
};
}  // namespace

BOOST_FIXTURE_TEST_SUITE(session_auth, AuthFixture)

BOOST_AUTO_TEST_CASE(ticket_challenge_then_welcome_with_crossbars_details) {
    auto c = connect();
    c->send(hello(R"(["ticket"])", "joe", "realm1", R"(, "authextra": {"client": "x"})"));
    BOOST_TEST(c->transport.sent.back() == R"([4,"ticket",{}])");
    BOOST_TEST(router().pending_authentications() == 1u);
    c->send(authenticate("joe-ticket-5b1f"));
    auto welcome = c->last();
    BOOST_REQUIRE_EQUAL(welcome[0].GetInt(), 2);
    BOOST_TEST(welcome[1].GetUint64() == c->session->id());
    const auto& d = welcome[2];
    BOOST_TEST(d["realm"].GetString() == std::string("realm1"));
    BOOST_TEST(d["authid"].GetString() == std::string("joe"));
    BOOST_TEST(d["authrole"].GetString() == std::string("frontend"));
    BOOST_TEST(d["authmethod"].GetString() == std::string("ticket"));
    BOOST_TEST(d["authprovider"].GetString() == std::string("static"));
    BOOST_TEST(d["authextra"]["client"].GetString() == std::string("x"));
    BOOST_TEST(c->session->established());
    BOOST_TEST(c->session->peer()->authmethod == "ticket");
    BOOST_TEST(router().pending_authentications() == 0u);
    // The role's permissions apply.
    c->send(R"([32, 1, {}, "com.topic"])");
    BOOST_TEST(c->last()[0].GetInt() == 33);
}

BOOST_AUTO_TEST_CASE(wrong_ticket_aborts_and_creates_no_session) {
    auto c = connect();
    c->send(hello(R"(["ticket"])", "joe"));
    c->send(authenticate("joe-ticket-5b1e"));
    expect_abort(*c, "wamp.error.not_authorized", "ticket in static WAMP-Ticket authentication is invalid");
    BOOST_TEST(!c->session->established());
    BOOST_TEST(router().pending_authentications() == 0u);
}

BOOST_AUTO_TEST_CASE(unknown_authid_is_denied_before_a_challenge) {
    auto c = connect();
    c->send(hello(R"(["ticket"])", "mallory"));
    BOOST_TEST(c->transport.sent.size() == 1u);
    expect_abort(*c, "wamp.error.not_authorized", "no principal with authid \"mallory\" exists");
}

BOOST_AUTO_TEST_CASE(principal_role_missing_on_realm) {
    auto c = connect();
    c->send(hello(R"(["ticket"])", "ghost"));
    expect_abort(*c, "wamp.error.no_such_role", "realm \"realm1\" has no role \"nosuchrole\"");
    auto other = connect();
    other->send(hello(R"(["ticket"])", "joe", "realm2"));
    expect_abort(*other, "wamp.error.no_such_role", "realm \"realm2\" has no role \"frontend\"");
    auto none = connect();
    none->send(hello(R"(["ticket"])", "joe", "nope"));
    expect_abort(*none, "wamp.error.no_such_realm", "no realm \"nope\" exists on this router");
}

BOOST_AUTO_TEST_CASE(wampcra_plain_and_salted) {
    auto plain = connect();
    plain->send(hello(R"(["wampcra"])", "peter"));
    plain->send(authenticate(cra_signature(*plain, "peter-secret-91c3")));
    BOOST_REQUIRE_EQUAL(plain->last()[0].GetInt(), 2);
    BOOST_TEST(plain->last()[2]["authmethod"].GetString() == std::string("wampcra"));
    BOOST_TEST(plain->last()[2]["authextra"].ObjectEmpty());

    auto salted = connect();
    salted->send(hello(R"(["wampcra"])", "salty"));
    BOOST_TEST(salted->last()[2]["salt"].GetString() == std::string("salt123"));
    auto key = auth::wampcra_derive_key("salty-secret-e2d4", "salt123", 100, 16);
    salted->send(authenticate(cra_signature(*salted, key)));
    BOOST_REQUIRE_EQUAL(salted->last()[0].GetInt(), 2);

    auto wrong = connect();
    wrong->send(hello(R"(["wampcra"])", "peter"));
    wrong->send(authenticate(cra_signature(*wrong, "peter-secret-91c4")));
    expect_abort(*wrong, "wamp.error.not_authorized", "WAMP-CRA client signature is invalid");
}

BOOST_AUTO_TEST_CASE(selection_on_a_transport_with_an_auth_block) {
    auto first = connect();  // the first configured method wins; no fallback after its denial
    first->send(hello(R"(["anonymous", "wampcra", "ticket"])", "joe"));
    expect_abort(*first, "wamp.error.not_authorized", "no principal with authid \"joe\" exists");
    auto unknown = connect();
    unknown->send(hello(R"(["password", "ticket"])", "joe"));
    expect_abort(*unknown, "wamp.error.not_authorized", "invalid authmethod \"password\"");
    auto none = connect();
    none->send(R"([1, "realm1", {"roles": {"caller": {}}}])");  // anonymous, not configured here
    expect_abort(*none, "wamp.error.no_auth_method", "cannot authenticate using any of the offered authmethods ['anonymous']");
}

BOOST_AUTO_TEST_CASE(messages_out_of_place_during_authentication) {
    auto again = connect();
    again->send(hello(R"(["ticket"])", "joe"));
    again->send(hello(R"(["ticket"])", "joe"));
    expect_violation(*again, "HELLO received during authentication");
    BOOST_TEST(router().pending_authentications() == 0u);
    auto early = connect();
    early->send(hello(R"(["ticket"])", "joe"));
    early->send(R"([32, 1, {}, "com.topic"])");
    expect_violation(*early, "SUBSCRIBE received during authentication");
    auto twice = connect();
    twice->send(hello(R"(["ticket"])", "joe"));
    twice->send(authenticate("joe-ticket-5b1f"));
    twice->send(authenticate("joe-ticket-5b1f"));
    expect_violation(*twice, "AUTHENTICATE received without CHALLENGE");
    auto before = connect();
    before->send(authenticate("joe-ticket-5b1f"));
    expect_violation(*before, "AUTHENTICATE received before session was established");
    auto bad_authid = connect();
    bad_authid->send(R"([1, "realm1", {"roles": {"caller": {}}, "authmethods": ["ticket"], "authid": 5}])");
    expect_violation(*bad_authid, "HELLO.Details.authid must be a string");
    auto bad_methods = connect();
    bad_methods->send(R"([1, "realm1", {"roles": {"caller": {}}, "authmethods": ["ticket", 1]}])");
    expect_violation(*bad_methods, "HELLO.Details.authmethods must be a list of strings");
}

BOOST_AUTO_TEST_CASE(client_abort_or_disconnect_during_authentication_frees_its_slot) {
    auto aborting = connect();
    aborting->send(hello(R"(["ticket"])", "joe"));
    auto leaving = connect();
    leaving->send(hello(R"(["wampcra"])", "peter"));
    BOOST_TEST(router().pending_authentications() == 2u);
    aborting->send(R"([3, {}, "wamp.close.normal"])");
    BOOST_TEST((aborting->transport.closed == core::CloseReason::normal));
    leaving->session->transport_closed();
    BOOST_TEST(router().pending_authentications() == 0u);
}

BOOST_AUTO_TEST_CASE(pending_authentications_are_bounded) {
    loaded.config.max_pending_authentications = 2;
    auto a = connect();
    a->send(hello(R"(["ticket"])", "joe"));
    auto b = connect();
    b->send(hello(R"(["wampcra"])", "peter"));
    auto c = connect();
    c->send(hello(R"(["ticket"])", "joe"));
    expect_abort(*c, "wamp.error.authentication_failed",
                 "too many authentications in progress on this router; try again later");
    a->send(authenticate("joe-ticket-5b1f"));  // a slot frees when an authentication ends
    auto d = connect();
    d->send(hello(R"(["ticket"])", "joe"));
    BOOST_TEST(d->last()[0].GetInt() == 4);
}

BOOST_AUTO_TEST_CASE(shutdown_closes_sessions_that_are_authenticating) {
    auto c = connect();
    c->send(hello(R"(["ticket"])", "joe"));
    router().shut_down();
    BOOST_TEST((c->transport.closed == core::CloseReason::going_away));
    BOOST_TEST(router().pending_authentications() == 0u);
}

// Tickets, secrets, signatures and challenges never reach a log line at any level.
BOOST_AUTO_TEST_CASE(secrets_stay_out_of_logs_and_aborts) {
    LogCapture log;
    std::vector<std::string> secrets{"joe-ticket-5b1f", "joe-ticket-WRONG", "peter-secret-91c3", "peter-secret-WRONG",
                                     "salty-secret-e2d4"};
    std::vector<std::string> wire;  // signatures and challenges seen on the wire
    auto run = [&](const std::string& methods, const std::string& authid, const std::string& key, bool cra) {
        auto c = connect();
        c->send(hello(methods, authid));
        std::string signature = key;
        if (cra) {
            wire.push_back(c->last()[2]["challenge"].GetString());
            signature = cra_signature(*c, key);
            wire.push_back(signature);
        }
        c->send(authenticate(signature));
        timers.advance(std::chrono::seconds(11));  // past the refusal lines' rate limit
        for (const auto& frame : c->transport.sent)
            if (frame.rfind("[3,", 0) == 0)
                for (const auto& s : secrets) BOOST_TEST(frame.find(s) == std::string::npos, frame);
    };
    run(R"(["ticket"])", "joe", "joe-ticket-5b1f", false);
    run(R"(["ticket"])", "joe", "joe-ticket-WRONG", false);
    run(R"(["wampcra"])", "peter", "peter-secret-91c3", true);
    run(R"(["wampcra"])", "peter", "peter-secret-WRONG", true);
    run(R"(["wampcra"])", "salty", auth::wampcra_derive_key("salty-secret-e2d4", "salt123", 100, 16), true);
    run(R"(["wampcra"])", "salty", "salty-secret-e2d4", true);  // the 22.x reading of the same user
    BOOST_TEST(log.count("joined realm") == 4u);
    BOOST_TEST(log.count("authentication refused") == 2u);
    for (const auto& s : secrets) BOOST_TEST(log.count(s) == 0u, s);
    for (const auto& w : wire) BOOST_TEST(log.count(w) == 0u, w);
    BOOST_TEST(log.count("nonce") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
