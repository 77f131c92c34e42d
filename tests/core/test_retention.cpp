// Retained events (WAMP spec, event retention; Crossbar's behaviour in shared/ADVANCED.md
// §3a): kept per topic, handed to a later exact subscriber that asks with get_retained,
// through the same outbound gate as a live event, within the realm's bounds.
#include <boost/test/unit_test.hpp>

#include "core/fake_session.hpp"

using namespace blindrouter;
using namespace blindrouter::testing;

namespace {
std::string node_json(const std::string& store) {
    return one_realm_node(store, R"({"uri": "com.", "match": "prefix",
        "allow": {"call": true, "register": true, "publish": true, "subscribe": true}, "disclose": {"publisher": true}})");
}

struct RetentionFixture : RouterHarness {
    RefuseSerializer* hook = nullptr;
    explicit RetentionFixture(const std::string& store = "") : RouterHarness(node_json(store)) {
        auto h = std::make_unique<RefuseSerializer>(wamp::Serializer::cbor);
        hook = h.get();
        hooks.add(std::move(h));
    }
};

struct LimitedFixture : RetentionFixture {
    LimitedFixture()
        : RetentionFixture(R"("store": {"type": "memory", "max_retained_events": 2, "max_retained_bytes": 1000},)") {}
};

std::uint64_t session_id(Client& c) { return dom(c.transport.sent.front())[1].GetUint64(); }
}  // namespace

BOOST_FIXTURE_TEST_SUITE(retention, RetentionFixture)

BOOST_AUTO_TEST_CASE(welcome_announces_event_retention) {
    auto c = join();
    auto welcome = dom(c->transport.sent.front());
    BOOST_TEST(welcome[2]["roles"]["broker"]["features"]["event_retention"].GetBool());
}

BOOST_AUTO_TEST_CASE(a_retained_event_without_subscribers_reaches_a_later_subscriber_once) {
    auto pub = join();
    pub->send(R"([16, 1, {"acknowledge": true, "retain": true}, "com.t", ["kept"], {"k": 1}])");
    BOOST_REQUIRE_EQUAL(pub->last()[0].GetInt(), 17);
    auto publication = pub->last()[2].GetUint64();
    auto sub = join();
    sub->send(R"([32, 2, {"get_retained": true}, "com.t"])");
    BOOST_REQUIRE_EQUAL(sub->transport.sent.size(), 3u);  // WELCOME, SUBSCRIBED, EVENT
    BOOST_TEST(dom(sub->transport.sent[1])[0].GetInt() == 33);
    auto event = sub->last();
    BOOST_TEST(event[0].GetInt() == 36);
    BOOST_TEST(event[1].GetUint64() == dom(sub->transport.sent[1])[2].GetUint64());
    BOOST_TEST(event[2].GetUint64() != publication);  // a fresh publication id, as Crossbar
    BOOST_TEST(event[3]["retained"].GetBool());
    BOOST_TEST(event[3]["publisher"].GetUint64() == session_id(*pub));
    BOOST_TEST(!event[3].HasMember("topic"));
    BOOST_TEST(event[4][0].GetString() == std::string("kept"));
    BOOST_TEST(event[5]["k"].GetInt() == 1);

    auto plain = join();
    plain->send(R"([32, 3, {}, "com.t"])");
    BOOST_TEST(plain->last()[0].GetInt() == 33);  // no get_retained: nothing more
}

BOOST_AUTO_TEST_CASE(a_retained_publish_to_everyone_replaces_and_a_targeted_one_is_appended) {
    auto pub = join();
    auto chosen = join();
    auto other = join();
    pub->send(R"([16, 1, {"retain": true}, "com.t", ["first"]])");
    pub->send(R"([16, 2, {"retain": true}, "com.t", ["second"]])");
    pub->send(R"([16, 3, {"retain": true, "eligible": [)" + std::to_string(session_id(*chosen)) +
              R"(]}, "com.t", ["for chosen"]])");
    other->send(R"([32, 4, {"get_retained": true}, "com.t"])");
    BOOST_TEST(other->last()[4][0].GetString() == std::string("second"));
    chosen->send(R"([32, 5, {"get_retained": true}, "com.t"])");
    BOOST_TEST(chosen->last()[4][0].GetString() == std::string("for chosen"));
    BOOST_TEST(router().find_realm("realm1")->broker().retained_count() == 2u);
}

BOOST_AUTO_TEST_CASE(prefix_and_wildcard_subscriptions_get_no_retained_event) {
    auto pub = join();
    pub->send(R"([16, 1, {"retain": true}, "com.t", [1]])");
    auto sub = join();
    sub->send(R"([32, 2, {"get_retained": true, "match": "prefix"}, "com."])");
    sub->send(R"([32, 3, {"get_retained": true, "match": "wildcard"}, "com."])");
    BOOST_REQUIRE_EQUAL(sub->transport.sent.size(), 3u);
    BOOST_TEST(sub->last()[0].GetInt() == 33);
}

BOOST_AUTO_TEST_CASE(a_retained_event_goes_through_the_outbound_gate_like_a_live_one) {
    LogCapture log;
    auto pub = join();
    pub->send(R"([16, 1, {"retain": true}, "com.t", [1]])");
    auto refused = join(hello_all_roles, wamp::Serializer::cbor);
    refused->send(R"([32, 2, {"get_retained": true}, "com.t"])");
    BOOST_TEST(refused->last()[0].GetInt() == 33);
    BOOST_TEST(hook->outbound_calls == 1);
    BOOST_TEST(log.count("retained event on subscription") == 1u);
    auto admitted = join(hello_all_roles, wamp::Serializer::msgpack);
    admitted->send(R"([32, 3, {"get_retained": true}, "com.t"])");
    BOOST_TEST(admitted->last()[0].GetInt() == 36);
}

BOOST_AUTO_TEST_CASE(get_retained_that_is_no_bool_is_invalid_argument) {
    auto sub = join();
    sub->send(R"([32, 2, {"get_retained": "yes"}, "com.t"])");
    BOOST_TEST(sub->last_error_uri() == "wamp.error.invalid_argument");
}

BOOST_FIXTURE_TEST_CASE(a_retained_publish_beyond_the_count_is_refused_whole, LimitedFixture) {
    auto sub = join();
    sub->send(R"([32, 1, {}, "com.c"])");
    auto pub = join();
    pub->send(R"([16, 2, {"acknowledge": true, "retain": true}, "com.a", [1]])");
    pub->send(R"([16, 3, {"acknowledge": true, "retain": true}, "com.b", [1]])");
    BOOST_TEST(pub->last()[0].GetInt() == 17);
    auto before = sub->transport.sent.size();
    pub->send(R"([16, 4, {"acknowledge": true, "retain": true}, "com.c", [1]])");
    BOOST_TEST(pub->last_error_uri() == "wamp.error.limit_reached");
    BOOST_TEST(sub->transport.sent.size() == before);  // not delivered either
    // Replacing a topic's event needs no room.
    pub->send(R"([16, 5, {"acknowledge": true, "retain": true}, "com.a", [2]])");
    BOOST_TEST(pub->last()[0].GetInt() == 17);
    // Without acknowledge the refusal is silent, as every unacknowledged one.
    pub->send(R"([16, 6, {"retain": true}, "com.c", [1]])");
    BOOST_TEST(sub->transport.sent.size() == before);
    BOOST_TEST(router().find_realm("realm1")->broker().retained_count() == 2u);
}

BOOST_FIXTURE_TEST_CASE(a_retained_publish_beyond_the_bytes_is_refused, LimitedFixture) {
    auto pub = join();
    std::string big(800, 'x');
    pub->send(R"([16, 1, {"acknowledge": true, "retain": true}, "com.a", [")" + big + R"("]])");
    BOOST_TEST(pub->last_error_uri() == "wamp.error.limit_reached");
    BOOST_TEST(router().find_realm("realm1")->broker().retained_bytes() == 0u);
    pub->send(R"([16, 2, {"acknowledge": true, "retain": true}, "com.a", ["small"]])");
    BOOST_TEST(pub->last()[0].GetInt() == 17);
}

BOOST_AUTO_TEST_SUITE_END()
