#include <boost/test/unit_test.hpp>

#include "blindrouter/core/broker.hpp"
#include "core/fake_session.hpp"

using namespace blindrouter;
using namespace blindrouter::testing;
using wamp::MatchPolicy;

namespace {
struct BrokerFixture {
    core::IdGenerator ids{42};
    hooks::HookChain no_hooks;
    core::Broker broker{ids, no_hooks};
    core::SharedPeer alice = make_peer(1, "alice", "user");
    core::SharedPeer bob = make_peer(2, "bob", "user");
    core::SharedPeer carol = make_peer(3, "carol", "admin");

    std::uint64_t subscribe(const core::SharedPeer& who, const std::string& topic, MatchPolicy match = MatchPolicy::exact) {
        auto r = broker.subscribe(who, wamp::Subscribe(parse("[32, 1, {}, \"" + topic + "\"]")), match);
        BOOST_REQUIRE_EQUAL(r.deliveries.size(), 1u);
        auto d = dom(json_of(r.deliveries[0].message));
        BOOST_REQUIRE_EQUAL(d[0].GetInt(), 33);
        return d[2].GetUint64();
    }
    core::RouteResult publish(const core::SharedPeer& who, const std::string& json) {
        return broker.publish(*who, wamp::Publish(parse(json)), false);
    }
    static std::vector<core::SessionId> receivers(const core::RouteResult& r, int type = 36) {
        std::vector<core::SessionId> ids;
        for (const auto& d : r.deliveries)
            if (dom(json_of(d.message))[0].GetInt() == type) ids.push_back(d.to);
        return ids;
    }
};
}  // namespace

BOOST_FIXTURE_TEST_SUITE(broker, BrokerFixture)

BOOST_AUTO_TEST_CASE(subscribers_of_a_topic_share_one_subscription_id) {
    auto a = subscribe(alice, "com.t");
    auto b = subscribe(bob, "com.t");
    BOOST_TEST(a == b);
    BOOST_TEST(subscribe(alice, "com.t") == a);  // subscribing twice returns the same id
    BOOST_TEST(subscribe(alice, "com.other") != a);
}

BOOST_AUTO_TEST_CASE(one_event_shared_by_all_receivers_with_the_publishers_argument_bytes) {
    subscribe(alice, "com.t");
    subscribe(bob, "com.t");
    auto r = publish(carol, R"([16, 5, {}, "com.t", [1, {"deep": ["x"]}], {"k": 2.5}])");
    BOOST_REQUIRE_EQUAL(r.deliveries.size(), 2u);
    BOOST_TEST(r.deliveries[0].message.get() == r.deliveries[1].message.get());
    auto text = json_of(r.deliveries[0].message);
    BOOST_TEST(text.find(R"(,[1, {"deep": ["x"]}],{"k": 2.5}])") != std::string::npos, text);
    BOOST_TEST(r.deliveries[0].message->encoded(wamp::Serializer::json).pieces()[0].data() ==
               r.deliveries[1].message->encoded(wamp::Serializer::json).pieces()[0].data());
}

BOOST_AUTO_TEST_CASE(kept_events_hold_their_publish_without_the_frame_it_arrived_in) {
    // Retained events and the history count a PUBLISH by its topic and arguments: the
    // rest of its frame (here options nobody reads again) is not kept with it.
    auto history = broker.keep_history("com.t", MatchPolicy::exact, 10);
    publish(carol, R"([16, 5, {"retain": true, "padding": "routing bytes read once"}, "com.t"])");
    auto kept = broker.retained_event(subscribe(alice, "com.t"), *alice);
    BOOST_REQUIRE(kept);
    BOOST_TEST(!kept->publish.received_frame);
    BOOST_TEST(wamp::Publish(kept->publish).topic() == "com.t");
    auto events = broker.history().events(history, 10);
    BOOST_REQUIRE(events && events->size() == 1u);
    BOOST_TEST(!events->front()->publish.received_frame);
}

BOOST_AUTO_TEST_CASE(publisher_is_excluded_by_default) {
    subscribe(alice, "com.t");
    subscribe(bob, "com.t");
    BOOST_TEST(receivers(publish(alice, R"([16, 5, {}, "com.t"])")) == std::vector<core::SessionId>{2});
    auto r = publish(alice, R"([16, 6, {"exclude_me": false}, "com.t"])");
    BOOST_TEST(receivers(r).size() == 2u);
}

BOOST_AUTO_TEST_CASE(acknowledge_answers_published) {
    subscribe(bob, "com.t");
    auto r = publish(alice, R"([16, 77, {"acknowledge": true}, "com.t", ["x"]])");
    auto acks = receivers(r, 17);
    BOOST_REQUIRE_EQUAL(acks.size(), 1u);
    BOOST_TEST(acks[0] == 1u);
    auto event = dom(json_of(r.deliveries[0].message));
    auto ack = dom(json_of(r.deliveries[1].message));
    BOOST_TEST(ack[1].GetUint64() == 77u);
    BOOST_TEST(ack[2].GetUint64() == event[2].GetUint64());  // publication id
    BOOST_TEST(receivers(publish(alice, R"([16, 78, {}, "com.t"])"), 17).empty());
}

BOOST_AUTO_TEST_CASE(black_and_white_listing) {
    subscribe(alice, "com.t");
    subscribe(bob, "com.t");
    subscribe(carol, "com.t");
    core::SharedPeer dave = make_peer(4);
    BOOST_TEST(receivers(publish(dave, R"([16, 1, {"exclude": [2]}, "com.t"])")) == (std::vector<core::SessionId>{1, 3}));
    BOOST_TEST(receivers(publish(dave, R"([16, 1, {"eligible": [2, 3]}, "com.t"])")) == (std::vector<core::SessionId>{2, 3}));
    BOOST_TEST(receivers(publish(dave, R"([16, 1, {"eligible_authrole": ["admin"]}, "com.t"])")) == (std::vector<core::SessionId>{3}));
    BOOST_TEST(receivers(publish(dave, R"([16, 1, {"exclude_authid": ["alice"]}, "com.t"])")) == (std::vector<core::SessionId>{2, 3}));
    // Behind other options, which the broker reads in one pass before the lists.
    BOOST_TEST(receivers(publish(dave, R"([16, 1, {"enc_algo": "cryptobox", "exclude_authrole": ["user"]}, "com.t"])")) ==
               (std::vector<core::SessionId>{3}));
    BOOST_TEST(receivers(publish(dave, R"([16, 1, {"acknowledge": false, "eligible_authid": ["bob"]}, "com.t"])")) ==
               (std::vector<core::SessionId>{2}));
}

BOOST_AUTO_TEST_CASE(wrong_option_type_is_invalid_argument_when_acknowledged) {
    subscribe(bob, "com.t");
    auto r = publish(alice, R"([16, 9, {"acknowledge": true, "exclude": "bob"}, "com.t"])");
    BOOST_REQUIRE_EQUAL(r.deliveries.size(), 1u);
    auto error = dom(json_of(r.deliveries[0].message));
    BOOST_TEST(error[0].GetInt() == 8);
    BOOST_TEST(error[4].GetString() == std::string("wamp.error.invalid_argument"));
    BOOST_TEST(publish(alice, R"([16, 9, {"exclude": "bob"}, "com.t"])").deliveries.empty());
}

BOOST_AUTO_TEST_CASE(pattern_subscriptions_get_the_concrete_topic) {
    auto prefix = subscribe(alice, "com.", MatchPolicy::prefix);
    auto wildcard = subscribe(bob, "com..t", MatchPolicy::wildcard);
    subscribe(carol, "com.x.t");
    auto r = publish(make_peer(9), R"([16, 1, {}, "com.x.t"])");
    BOOST_TEST(r.deliveries.size() == 3u);
    for (const auto& d : r.deliveries) {
        auto event = dom(json_of(d.message));
        bool pattern = event[1].GetUint64() == prefix || event[1].GetUint64() == wildcard;
        BOOST_TEST(event[3].HasMember("topic") == pattern);
        if (pattern) BOOST_TEST(event[3]["topic"].GetString() == std::string("com.x.t"));
    }
    BOOST_TEST(receivers(publish(make_peer(9), R"([16, 1, {}, "com.y"])")) == std::vector<core::SessionId>{1});
}

BOOST_AUTO_TEST_CASE(publisher_disclosure) {
    subscribe(bob, "com.t");
    auto plain = dom(json_of(publish(alice, R"([16, 1, {}, "com.t"])").deliveries[0].message));
    BOOST_TEST(!plain[3].HasMember("publisher"));
    auto asked = dom(json_of(publish(alice, R"([16, 1, {"disclose_me": true}, "com.t"])").deliveries[0].message));
    BOOST_TEST(asked[3]["publisher"].GetUint64() == 1u);
    BOOST_TEST(asked[3]["publisher_authid"].GetString() == std::string("alice"));
    auto by_role = dom(json_of(broker.publish(*alice, wamp::Publish(parse(R"([16, 1, {}, "com.t"])")), true).deliveries[0].message));
    BOOST_TEST(by_role[3]["publisher_authrole"].GetString() == std::string("user"));
}

BOOST_AUTO_TEST_CASE(unsubscribe_and_detach) {
    auto id = subscribe(alice, "com.t");
    subscribe(bob, "com.t");
    auto r = broker.unsubscribe(*alice, wamp::Unsubscribe(parse("[34, 4, " + std::to_string(id) + "]")));
    BOOST_TEST(dom(json_of(r.deliveries[0].message))[0].GetInt() == 35);
    r = broker.unsubscribe(*alice, wamp::Unsubscribe(parse("[34, 5, " + std::to_string(id) + "]")));
    auto error = dom(json_of(r.deliveries[0].message));
    BOOST_TEST(error[4].GetString() == std::string("wamp.error.no_such_subscription"));
    BOOST_TEST(broker.subscription_count() == 1u);
    broker.detach(2);
    BOOST_TEST(broker.subscription_count() == 0u);
    BOOST_TEST(publish(carol, R"([16, 1, {}, "com.t"])").deliveries.empty());
}

BOOST_AUTO_TEST_CASE(leaving_subscribers_in_any_order_keep_the_rest_subscribed) {
    std::vector<core::SharedPeer> peers;
    std::uint64_t id = 0;
    for (core::SessionId s = 11; s <= 15; ++s) {
        peers.push_back(make_peer(s));
        id = subscribe(peers.back(), "com.t");
        subscribe(peers.back(), "com.other." + std::to_string(s));
    }
    broker.detach(12);
    broker.detach(14);
    broker.unsubscribe(*peers[0], wamp::Unsubscribe(parse("[34, 9, " + std::to_string(id) + "]")));
    auto got = receivers(publish(carol, R"([16, 1, {}, "com.t"])"));
    std::sort(got.begin(), got.end());
    BOOST_TEST(got == (std::vector<core::SessionId>{13, 15}));
    BOOST_TEST(broker.subscription_count() == 4u);  // com.t and three com.other.* remain
    broker.detach(13);
    broker.detach(15);
    broker.detach(11);
    BOOST_TEST(broker.subscription_count() == 0u);
}

BOOST_AUTO_TEST_CASE(subscription_ids_are_drawn_again_on_a_collision) {
    core::IdGenerator repeating(std::vector<std::uint64_t>{9, 9, 9, 10});
    core::Broker fresh(repeating, no_hooks);
    auto first = fresh.subscribe(alice, wamp::Subscribe(parse(R"([32, 1, {}, "com.a"])")), MatchPolicy::exact);
    auto second = fresh.subscribe(alice, wamp::Subscribe(parse(R"([32, 2, {}, "com.b"])")), MatchPolicy::exact);
    BOOST_TEST(json_of(first.deliveries.at(0).message) == "[33,1,9]");
    BOOST_TEST(json_of(second.deliveries.at(0).message) == "[33,2,10]");
}

BOOST_AUTO_TEST_SUITE_END()
