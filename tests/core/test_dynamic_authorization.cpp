// Dynamic authorizers: a component's procedure decides a role's actions, called from
// the realm's trusted service session as Crossbar calls it; the cache, the timeout,
// the bounds, and the order a session's messages keep while one is pending.
#include "blindrouter/core/dynamic_authorization.hpp"

#include <boost/test/unit_test.hpp>

#include "blindrouter/wamp/error_uri.hpp"
#include "core/fake_session.hpp"

using namespace blindrouter;
using namespace blindrouter::testing;
using namespace std::chrono_literals;

namespace {
const std::string node_json = R"({"version": 2,
  "workers": [{"type": "router",
    "realms": [{"name": "realm1", "roles": [
      {"name": "authorizer", "permissions": [
        {"uri": "com.example.auth", "match": "exact", "allow": {"register": true}}]},
      {"name": "app", "authorizer": "com.example.auth",
       "authorizer_limits": {"timeout": 5000, "cache_entries": 2, "cache_ttl": 10000, "max_pending": 2,
                             "max_held_per_session": 3}},
      {"name": "orphan", "authorizer": "com.example.nobody"}]}],
    "transports": [{"type": "websocket", "endpoint": {"type": "tcp", "port": 9000},
      "auth": {"ticket": {"type": "static", "principals": {
        "authorizer": {"ticket": "t-authorizer", "role": "authorizer"},
        "app": {"ticket": "t-app", "role": "app"},
        "app2": {"ticket": "t-app", "role": "app"},
        "app3": {"ticket": "t-app", "role": "app"},
        "orphan": {"ticket": "t-app", "role": "orphan"}}}}}]}]})";

struct Fixture : RouterHarness {
    Fixture() : RouterHarness(node_json) {}

    std::unique_ptr<Client> login(const std::string& authid, const std::string& ticket) {
        auto c = connect();
        c->send(R"([1, "realm1", {"roles": {"publisher": {}, "subscriber": {}, "caller": {}, "callee": {}},
                    "authmethods": ["ticket"], "authid": ")" + authid + R"("}])");
        c->send(R"([5, ")" + ticket + R"(", {}])");
        BOOST_REQUIRE_EQUAL(c->last()[0].GetInt(), 2);
        return c;
    }
    // The authorizer component, registered.
    std::unique_ptr<Client> authorizer() {
        auto c = login("authorizer", "t-authorizer");
        c->send(R"([64, 1, {}, "com.example.auth"])");
        BOOST_REQUIRE_EQUAL(c->last()[0].GetInt(), 65);
        return c;
    }
    const core::DynamicAuthorization& dynamic() { return *router().find_realm("realm1")->dynamic_authorization(); }
};

// The INVOCATION the authorizer received last: its request id.
std::uint64_t invocation(Client& authorizer) {
    auto m = authorizer.last();
    BOOST_REQUIRE_MESSAGE(m[0].GetInt() == 68, "not an INVOCATION: " + authorizer.transport.sent.back());
    return m[1].GetUint64();
}

void answer(Client& authorizer, const std::string& result_json) {
    authorizer.send("[70, " + std::to_string(invocation(authorizer)) + ", {}, [" + result_json + "]]");
}

std::string error_text(Client& c) {
    auto m = c.last();
    BOOST_REQUIRE_MESSAGE(m[0].GetInt() == 8, "not an ERROR: " + c.transport.sent.back());
    return m[5][0].GetString();
}
}  // namespace

BOOST_FIXTURE_TEST_SUITE(dynamic_authorization, Fixture)

BOOST_AUTO_TEST_CASE(calls_the_authorizer_with_crossbars_arguments_and_grants) {
    auto auth = authorizer();
    auto app = login("app", "t-app");
    app->send(R"([32, 7, {"match": "prefix"}, "com.example.topic"])");
    BOOST_TEST(app->transport.sent.size() == 2u);  // WELCOME and CHALLENGE only: waiting
    auto m = auth->last();
    BOOST_REQUIRE_EQUAL(m[0].GetInt(), 68);
    const auto& details = m[4][0];
    BOOST_TEST(details["session"].GetUint64() == app->session->id());
    BOOST_TEST(details["authid"].GetString() == std::string("app"));
    BOOST_TEST(details["authrole"].GetString() == std::string("app"));
    BOOST_TEST(details["authmethod"].GetString() == std::string("ticket"));
    BOOST_TEST(details["authprovider"].GetString() == std::string("static"));
    BOOST_TEST(details["authextra"].IsObject());
    BOOST_TEST(details["transport"].IsNull());
    BOOST_TEST(m[4][1].GetString() == std::string("com.example.topic"));
    BOOST_TEST(m[4][2].GetString() == std::string("subscribe"));
    BOOST_TEST(m[4][3]["match"].GetString() == std::string("prefix"));
    // Called by the realm's trusted service session, which is always disclosed.
    BOOST_TEST(m[3]["caller_authrole"].GetString() == std::string("trusted"));
    BOOST_TEST(dynamic().pending("app") == 1u);

    answer(*auth, "true");
    BOOST_TEST(app->last()[0].GetInt() == 33);
    BOOST_TEST(dynamic().pending("app") == 0u);
}

BOOST_AUTO_TEST_CASE(marshals_the_options_as_autobahn_does) {
    auto publish = parse(R"([16, 1, {"acknowledge": true, "exclude_me": false, "disclose_me": true, "x_custom": 1}, "a.b"])");
    auto options = core::marshalled_options(publish);
    BOOST_TEST(options.size() == 2u);
    BOOST_TEST(options[0].first == "acknowledge");
    BOOST_TEST(options[1].first == "exclude_me");
    auto reg = parse(R"([64, 1, {"match": "exact", "invoke": "single", "concurrency": 0}, "a.b"])");
    BOOST_TEST(core::marshalled_options(reg).empty());
    auto reg2 = parse(R"([64, 1, {"match": "prefix", "invoke": "roundrobin"}, "a.b"])");
    BOOST_TEST(core::marshalled_options(reg2).size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_clean_deny_is_not_authorized) {
    auto auth = authorizer();
    auto app = login("app", "t-app");
    app->send(R"([64, 3, {}, "com.example.proc"])");
    answer(*auth, R"({"allow": false})");
    BOOST_TEST(app->last_error_uri() == "wamp.error.not_authorized");
    app->send(R"([48, 4, {}, "com.example.proc"])");
    answer(*auth, "false");
    BOOST_TEST(app->last_error_uri() == "wamp.error.not_authorized");
}

BOOST_AUTO_TEST_CASE(an_authorizer_error_is_authorization_failed) {
    auto auth = authorizer();
    auto app = login("app", "t-app");
    app->send(R"([48, 4, {}, "com.example.proc"])");
    auth->send("[8, 68, " + std::to_string(invocation(*auth)) + R"(, {}, "com.example.broken", ["secret detail"]])");
    BOOST_TEST(app->last_error_uri() == "wamp.error.authorization_failed");
    BOOST_TEST(error_text(*app) ==
               "failed to authorize session for calling procedure 'com.example.proc': the authorizer answered "
               "com.example.broken");
}

BOOST_AUTO_TEST_CASE(no_authorizer_registered_fails_at_once) {
    auto orphan = login("orphan", "t-app");
    orphan->send(R"([32, 2, {}, "com.example.topic"])");
    BOOST_TEST(orphan->last_error_uri() == "wamp.error.authorization_failed");
    BOOST_TEST(error_text(*orphan).find("wamp.error.no_such_procedure") != std::string::npos);
    // A publish without acknowledge gets no answer, as on Crossbar.
    auto before = orphan->transport.sent.size();
    orphan->send(R"([16, 3, {}, "com.example.topic"])");
    BOOST_TEST(orphan->transport.sent.size() == before);
}

BOOST_AUTO_TEST_CASE(answers_crossbar_refuses_are_authorization_failed) {
    auto auth = authorizer();
    auto app = login("app", "t-app");
    const std::pair<std::string, std::string> cases[] = {
        {R"({"allow": true, "color": "red"})", "Authorizer returned unknown key 'color'"},
        {R"({"cache": true})", "Authorizer must have 'allow' in returned dict"},
        {R"({"allow": 1})", "Authorizer must have bool for 'allow'"},
        {R"({"allow": true, "validate": 3})", "Authorizer must have dict for 'validate' (if present and not null)"},
        {R"("yes")", "Authorizer returned unknown type 'str'"},
        {R"(null)", "Authorizer returned unknown type 'NoneType'"},
        {R"(true, true)", "Authorizer returned unknown type 'CallResult'"},
    };
    std::uint64_t request = 10;
    for (const auto& [result, why] : cases) {
        app->send("[32, " + std::to_string(++request) + R"(, {}, "com.example.topic"])");
        answer(*auth, result);
        BOOST_TEST(app->last_error_uri() == "wamp.error.authorization_failed");
        BOOST_TEST(error_text(*app) == "failed to authorize session for subscribing to topic URI 'com.example.topic': " + why);
    }
}

BOOST_AUTO_TEST_CASE(a_dict_without_disclose_works_for_publish) {
    auto auth = authorizer();
    auto app = login("app", "t-app");
    auto subscriber = login("app2", "t-app");
    subscriber->send(R"([32, 1, {}, "com.example.topic"])");
    answer(*auth, "true");
    BOOST_REQUIRE_EQUAL(subscriber->last()[0].GetInt(), 33);

    app->send(R"([16, 9, {"acknowledge": true}, "com.example.topic", ["hi"]])");
    answer(*auth, R"({"allow": true})");
    BOOST_TEST(app->last()[0].GetInt() == 17);
    auto event = subscriber->last();
    BOOST_REQUIRE_EQUAL(event[0].GetInt(), 36);
    BOOST_TEST(!event[3].HasMember("publisher"));

    app->send(R"([16, 10, {"acknowledge": true}, "com.example.topic"])");
    answer(*auth, R"({"allow": true, "disclose": true})");
    BOOST_TEST(subscriber->last()[3]["publisher"].GetUint64() == app->session->id());
}

BOOST_AUTO_TEST_CASE(a_cached_decision_serves_every_session_of_the_role_until_it_expires) {
    auto auth = authorizer();
    auto app = login("app", "t-app");
    auto other = login("app2", "t-app");
    app->send(R"([32, 1, {}, "com.example.topic"])");
    answer(*auth, R"({"allow": true, "cache": true})");
    BOOST_TEST(dynamic().cached("app") == 1u);
    auto asked = auth->transport.sent.size();

    // Crossbar's key is (authrole, uri, action): another session of the role is served from it.
    other->send(R"([32, 2, {}, "com.example.topic"])");
    BOOST_TEST(other->last()[0].GetInt() == 33);
    BOOST_TEST(auth->transport.sent.size() == asked);
    // Another action on the URI is not.
    other->send(R"([16, 3, {"acknowledge": true}, "com.example.topic"])");
    BOOST_TEST(auth->transport.sent.size() == asked + 1);
    answer(*auth, "true");  // not cached
    asked = auth->transport.sent.size();

    timers.advance(9999ms);
    other->send(R"([32, 4, {}, "com.example.topic"])");
    BOOST_TEST(auth->transport.sent.size() == asked);
    timers.advance(1ms);
    other->send(R"([32, 5, {}, "com.example.topic"])");
    BOOST_TEST(auth->transport.sent.size() == asked + 1);
    BOOST_TEST(dynamic().cached("app") == 0u);
    answer(*auth, "false");
    BOOST_TEST(other->last_error_uri() == "wamp.error.not_authorized");
}

BOOST_AUTO_TEST_CASE(the_cache_keeps_the_most_recently_used_entries) {
    auto auth = authorizer();
    auto app = login("app", "t-app");
    std::uint64_t request = 0;
    auto subscribe = [&](const std::string& topic) {
        app->send("[32, " + std::to_string(++request) + R"(, {}, ")" + topic + R"("])");
    };
    subscribe("com.a");
    answer(*auth, R"({"allow": true, "cache": true})");
    subscribe("com.b");
    answer(*auth, R"({"allow": true, "cache": true})");
    subscribe("com.a");  // hit: com.a is now the most recent
    auto asked = auth->transport.sent.size();
    subscribe("com.c");
    answer(*auth, R"({"allow": true, "cache": true})");
    BOOST_TEST(dynamic().cached("app") == 2u);
    subscribe("com.a");
    BOOST_TEST(auth->transport.sent.size() == asked + 1);  // still cached
    subscribe("com.b");                                    // evicted: asked again
    BOOST_TEST(auth->transport.sent.size() == asked + 2);
}

BOOST_AUTO_TEST_CASE(later_messages_wait_behind_a_pending_authorization_in_order) {
    auto auth = authorizer();
    auto app = login("app", "t-app");
    auto subscriber = login("app2", "t-app");
    subscriber->send(R"([32, 1, {}, "com.example.b"])");
    answer(*auth, "true");
    app->send(R"([16, 1, {"acknowledge": true}, "com.example.b"])");
    answer(*auth, R"({"allow": true, "cache": true})");
    BOOST_REQUIRE_EQUAL(app->last()[0].GetInt(), 17);
    auto events = subscriber->transport.sent.size();

    auto before = app->transport.sent.size();
    app->send(R"([32, 2, {}, "com.example.a"])");                     // asks the authorizer
    auto asked = auth->transport.sent.size();
    app->send(R"([16, 3, {"acknowledge": true}, "com.example.b"])");  // cached, yet waits
    app->send(R"([34, 4, 999])");                                     // not an authorized action: waits too
    BOOST_TEST(app->transport.sent.size() == before);
    BOOST_TEST(subscriber->transport.sent.size() == events);
    BOOST_TEST(auth->transport.sent.size() == asked);

    answer(*auth, "true");
    BOOST_REQUIRE_EQUAL(app->transport.sent.size(), before + 3);
    BOOST_TEST(dom(app->transport.sent[before])[0].GetInt() == 33);
    BOOST_TEST(dom(app->transport.sent[before + 1])[0].GetInt() == 17);
    BOOST_TEST(dom(app->transport.sent[before + 2])[0].GetInt() == 8);  // no such subscription
    BOOST_TEST(subscriber->transport.sent.size() == events + 1);
    BOOST_TEST(dynamic().pending("app") == 0u);
}

BOOST_AUTO_TEST_CASE(a_held_message_asks_when_its_turn_comes) {
    auto auth = authorizer();
    auto app = login("app", "t-app");
    app->send(R"([32, 1, {}, "com.example.a"])");
    app->send(R"([32, 2, {}, "com.example.b"])");
    answer(*auth, "true");
    BOOST_TEST(auth->last()[4][1].GetString() == std::string("com.example.b"));
    answer(*auth, "false");
    BOOST_TEST(app->last_error_uri() == "wamp.error.not_authorized");
    BOOST_TEST(dynamic().pending("app") == 0u);
}

BOOST_AUTO_TEST_CASE(a_session_that_leaves_mid_authorization_is_forgotten) {
    auto auth = authorizer();
    auto app = login("app", "t-app");
    app->send(R"([48, 1, {}, "com.example.proc"])");
    app->send(R"([48, 2, {}, "com.example.proc"])");
    BOOST_TEST(dynamic().pending("app") == 1u);
    auto pending_calls = router().service_session("realm1", "trusted")->pending_calls();
    app->session->transport_closed();
    BOOST_TEST(dynamic().pending("app") == 0u);
    BOOST_TEST(router().service_session("realm1", "trusted")->pending_calls() == pending_calls - 1);
    // The authorizer's late answer goes nowhere, and nothing breaks.
    answer(*auth, "true");
    BOOST_TEST(!auth->transport.closed);
    BOOST_TEST(timers.scheduled() == 0u);
}

BOOST_AUTO_TEST_CASE(an_authorizer_that_never_answers_times_out) {
    auto auth = authorizer();
    auto app = login("app", "t-app");
    app->send(R"([48, 1, {}, "com.example.proc"])");
    app->send(R"([48, 2, {}, "com.example.proc"])");
    auto first = invocation(*auth);
    timers.advance(4999ms);
    BOOST_TEST(app->transport.sent.size() == 2u);
    timers.advance(1ms);
    BOOST_TEST(error_text(*app) ==
               "failed to authorize session for calling procedure 'com.example.proc': the authorizer did not answer "
               "within 5000 ms");
    BOOST_TEST(app->last()[2].GetUint64() == 1u);
    // The second call's turn has come: asked in its own right.
    BOOST_TEST(invocation(*auth) != first);
    auth->send("[70, " + std::to_string(first) + ", {}, [true]]");  // too late: dropped
    BOOST_TEST(app->last()[2].GetUint64() == 1u);
    answer(*auth, "false");
    BOOST_TEST(app->last()[2].GetUint64() == 2u);
    BOOST_TEST(app->last_error_uri() == "wamp.error.not_authorized");
}

BOOST_AUTO_TEST_CASE(pending_authorizations_are_bounded_per_role) {
    auto auth = authorizer();
    auto a = login("app", "t-app");
    auto b = login("app2", "t-app");
    auto c = login("app3", "t-app");
    a->send(R"([32, 1, {}, "com.x"])");
    b->send(R"([32, 1, {}, "com.x"])");
    c->send(R"([32, 1, {}, "com.x"])");
    BOOST_TEST(c->last_error_uri() == "wamp.error.authorization_failed");
    BOOST_TEST(error_text(*c) == "failed to authorize session for subscribing to topic URI 'com.x': too many "
                                 "authorizations pending for this role (limit 2)");
    BOOST_TEST(dynamic().pending("app") == 2u);
}

BOOST_AUTO_TEST_CASE(messages_held_per_session_are_bounded) {
    auto auth = authorizer();
    auto app = login("app", "t-app");
    app->send(R"([32, 1, {}, "com.a"])");
    app->send(R"([32, 2, {}, "com.b"])");
    app->send(R"([32, 3, {}, "com.c"])");
    auto before = app->transport.sent.size();
    app->send(R"([32, 4, {}, "com.d"])");
    BOOST_REQUIRE_EQUAL(app->transport.sent.size(), before + 1);
    BOOST_TEST(app->last_error_uri() == "wamp.error.authorization_failed");
    BOOST_TEST(app->last()[2].GetUint64() == 4u);
    BOOST_TEST(error_text(*app) == "too many messages wait for this session's authorization (limit 3)");
}

BOOST_AUTO_TEST_CASE(a_callee_answers_invocations_while_its_own_authorization_is_pending) {
    auto auth = authorizer();
    auto callee = login("app", "t-app");
    auto caller = login("app2", "t-app");
    callee->send(R"([64, 1, {}, "com.example.proc"])");
    answer(*auth, "true");
    caller->send(R"([48, 5, {}, "com.example.proc"])");
    answer(*auth, "true");
    auto invoked = callee->last();
    BOOST_REQUIRE_EQUAL(invoked[0].GetInt(), 68);
    callee->send(R"([32, 2, {}, "com.a"])");  // pending
    callee->send("[70, " + std::to_string(invoked[1].GetUint64()) + ", {}, [42]]");
    BOOST_TEST(caller->last()[0].GetInt() == 50);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(dynamic_authorization_config)

BOOST_AUTO_TEST_CASE(limits_default_and_are_read_from_the_role) {
    auto loaded = config::load_node_config(node_json);
    BOOST_REQUIRE(loaded.ok());
    const auto& roles = loaded.config.realms.at(0).roles;
    const auto& app = *roles.at(1).authorizer;
    BOOST_TEST(app.procedure == "com.example.auth");
    BOOST_TEST(app.timeout.count() == 5000);
    BOOST_TEST(app.cache_entries == 2u);
    BOOST_TEST(app.max_held_per_session == 3u);
    const auto& orphan = *roles.at(2).authorizer;
    BOOST_TEST(orphan.timeout.count() == 10000);
    BOOST_TEST(orphan.cache_entries == 10000u);
    BOOST_TEST(orphan.cache_ttl.count() == 60000);
    BOOST_TEST(orphan.max_pending == 1000u);
    BOOST_TEST(loaded.config.warnings.empty());
}

BOOST_AUTO_TEST_CASE(refuses_what_cannot_work) {
    auto with_role = [](const std::string& role) {
        return config::load_node_config(R"({"version": 2, "workers": [{"type": "router",
            "realms": [{"name": "realm1", "roles": [)" + role + R"(]}],
            "transports": [{"type": "websocket", "endpoint": {"type": "tcp", "port": 9000}}]}]})");
    };
    auto trusted = with_role(R"({"name": "trusted", "authorizer": "com.auth"})");
    BOOST_REQUIRE(!trusted.ok());
    BOOST_TEST(trusted.faults[0].find("the role 'trusted' cannot have a dynamic authorizer") != std::string::npos);
    auto bad_uri = with_role(R"({"name": "app", "authorizer": "com..auth"})");
    BOOST_TEST(!bad_uri.ok());
    auto bad_limit = with_role(R"({"name": "app", "authorizer": "com.auth", "authorizer_limits": {"max_pending": 0}})");
    BOOST_TEST(!bad_limit.ok());
    auto unknown = with_role(R"({"name": "app", "authorizer": "com.auth", "authorizer_limits": {"cache": 1}})");
    BOOST_TEST(!unknown.ok());
    auto static_role = with_role(R"({"name": "app", "permissions": [], "authorizer_limits": {}})");
    BOOST_REQUIRE(static_role.ok());
    BOOST_TEST(static_role.config.warnings.at(0).find("only applies to a role with an authorizer") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
