// A realm's limits (config::RealmLimits, the realm's "limits" dict), each at its
// limit with what the client sees, and freed again when the resource is.
#include <boost/test/unit_test.hpp>

#include "core/fake_session.hpp"

using namespace blindrouter;
using namespace blindrouter::testing;

namespace {
const std::string node_json = R"({"version": 2,
  "workers": [{"type": "router",
    "realms": [{"name": "realm1",
      "limits": {"max_sessions": 3, "max_subscriptions_per_session": 2, "max_registrations_per_session": 2,
                 "max_pending_calls_per_caller": 2, "max_pending_invocations_per_callee": 2},
      "roles": [{"name": "anonymous", "permissions": [
        {"uri": "com.", "match": "prefix", "allow": {"call": true, "register": true, "publish": true, "subscribe": true}}]}]}],
    "transports": [{"type": "websocket", "endpoint": {"type": "tcp", "port": 9000}}]}]})";

struct Fixture : RouterHarness {
    Fixture() : RouterHarness(node_json) {}
};
}  // namespace

BOOST_FIXTURE_TEST_SUITE(realm_limits, Fixture)

BOOST_AUTO_TEST_CASE(config_reads_the_limits_and_refuses_bad_ones) {
    const auto& limits = loaded.config.realms.at(0).limits;
    BOOST_TEST(limits.max_sessions == 3u);
    BOOST_TEST(limits.max_pending_invocations_per_callee == 2u);
    BOOST_TEST(config::RealmLimits{}.max_pending_calls_per_caller == 10000u);
    auto with = [](const std::string& limits) {
        return config::load_node_config(R"({"version": 2, "workers": [{"type": "router",
            "realms": [{"name": "realm1", "roles": [], "limits": )" + limits + "}]}]}");
    };
    auto faults = [](const config::LoadResult& r) {
        std::string all;
        for (const auto& f : r.faults) all += f + "\n";
        return all;
    };
    BOOST_TEST(faults(with(R"({"max_sessions": 0})")).find(
                   "workers[0].realms[0].limits.max_sessions: invalid value 0") != std::string::npos);
    BOOST_TEST(faults(with(R"({"max_session": 5})")).find("unknown attribute 'max_session'") != std::string::npos);
    BOOST_TEST(faults(with(R"({"max_sessions": "5"})")).find("must be an int") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_hello_beyond_the_sessions_of_a_realm_is_aborted) {
    // The meta API's service session is joined too, and not counted.
    auto a = join(), b = join(), c = join();
    auto refused = connect();
    refused->send(hello_all_roles);
    auto abort = refused->last();
    BOOST_TEST(abort[0].GetInt() == 3);
    BOOST_TEST(abort[2].GetString() == std::string("wamp.error.limit_reached"));
    BOOST_TEST(refused->transport.closed.has_value());
    c->session->transport_closed();
    join();
}

BOOST_AUTO_TEST_CASE(subscriptions_and_registrations_per_session) {
    auto s = join();
    s->send(R"([32, 1, {}, "com.a"])");
    s->send(R"([32, 2, {}, "com.b"])");
    s->send(R"([32, 3, {}, "com.c"])");
    BOOST_TEST(s->last_error_uri() == "wamp.error.limit_reached");
    BOOST_TEST(s->last()[1].GetInt() == 32);
    auto first = std::to_string(dom(s->transport.sent[s->transport.sent.size() - 3])[2].GetUint64());
    s->send("[34, 4, " + first + "]");
    s->send(R"([32, 5, {}, "com.c"])");
    BOOST_TEST(s->last()[0].GetInt() == 33);

    s->send(R"([64, 6, {}, "com.p1"])");
    s->send(R"([64, 7, {}, "com.p2"])");
    s->send(R"([64, 8, {}, "com.p3"])");
    BOOST_TEST(s->last_error_uri() == "wamp.error.limit_reached");
    BOOST_TEST(s->last()[1].GetInt() == 64);
    auto registration = std::to_string(dom(s->transport.sent[s->transport.sent.size() - 3])[2].GetUint64());
    s->send("[66, 9, " + registration + "]");
    s->send(R"([64, 10, {}, "com.p3"])");
    BOOST_TEST(s->last()[0].GetInt() == 65);
}

BOOST_AUTO_TEST_CASE(pending_calls_per_caller) {
    auto callee = join(), caller = join();
    callee->send(R"([64, 1, {}, "com.p"])");
    caller->send(R"([48, 1, {}, "com.p"])");
    auto first = std::to_string(callee->last()[1].GetUint64());
    caller->send(R"([48, 2, {}, "com.p"])");
    auto seen = callee->transport.sent.size();
    caller->send(R"([48, 3, {}, "com.p"])");
    BOOST_TEST(caller->last_error_uri() == "wamp.error.limit_reached");
    BOOST_TEST(caller->last()[2].GetInt() == 3);
    BOOST_TEST(callee->transport.sent.size() == seen);
    callee->send("[70, " + first + ", {}, []]");
    caller->send(R"([48, 4, {}, "com.p"])");
    BOOST_TEST(callee->last()[0].GetInt() == 68);
}

BOOST_AUTO_TEST_CASE(pending_invocations_per_callee_pass_the_call_to_another_callee_or_refuse_it) {
    auto busy = join(), spare = join(), caller = join();
    busy->send(R"([64, 1, {"invoke": "first"}, "com.p"])");
    caller->send(R"([48, 1, {}, "com.p"])");
    caller->send(R"([48, 2, {}, "com.p"])");
    // One invocation its caller gave up on still counts until the callee answers it.
    caller->send(R"([49, 2, {"mode": "skip"}])");
    caller->send(R"([48, 3, {}, "com.p"])");
    BOOST_TEST(caller->last_error_uri() == "wamp.error.limit_reached");
    spare->send(R"([64, 1, {"invoke": "first"}, "com.p"])");
    auto seen = spare->transport.sent.size();
    caller->send(R"([48, 4, {}, "com.p"])");
    BOOST_TEST(spare->transport.sent.size() == seen + 1);
    BOOST_TEST(spare->last()[0].GetInt() == 68);
}

BOOST_AUTO_TEST_SUITE_END()
