// Event history (Crossbar's memory realm store; shared/ADVANCED.md §3b): events kept
// per history subscription and wamp.subscription.get_events as Crossbar answers it.
#include <boost/test/unit_test.hpp>

#include "core/fake_session.hpp"

using namespace blindrouter;
using namespace blindrouter::testing;

namespace {
std::string node_json(const std::string& store) {
    return one_realm_node(store, R"({"uri": "com.", "match": "prefix", "allow": {"publish": true, "subscribe": true}},
        {"uri": "wamp.", "match": "prefix", "allow": {"call": true, "subscribe": true}})");
}
const std::string example_store = R"("store": {"type": "memory", "limit": 3, "max_history_bytes": 2000, "event-history": [
    {"uri": "com.h", "match": "exact", "limit": 5}, {"uri": "com.p.", "match": "prefix"}, {"uri": "wamp.x", "match": "exact"}]},)";

struct HistoryFixture : RouterHarness {
    explicit HistoryFixture(const std::string& store = example_store) : RouterHarness(node_json(store)) {}
    std::uint64_t subscribe(Client& c, const std::string& topic, const std::string& options = "{}") {
        c.send(R"([32, 1, )" + options + R"(, ")" + topic + R"("])");
        BOOST_REQUIRE_EQUAL(c.last()[0].GetInt(), 33);
        return c.last()[2].GetUint64();
    }
    rapidjson::Document get_events(Client& c, const std::string& args) {
        c.send(R"([48, 9, {}, "wamp.subscription.get_events", )" + args + "]");
        return c.last();
    }
};
// "[id]" or "[id, limit]" (built by appending: GCC 12 warns falsely on "[" + std::string).
std::string args_of(std::uint64_t id, const std::string& more = "") {
    std::string text("[");
    text += std::to_string(id);
    text += more;
    text += "]";
    return text;
}
struct NoStoreFixture : HistoryFixture {
    NoStoreFixture() : HistoryFixture("") {}
};
}  // namespace

BOOST_FIXTURE_TEST_SUITE(event_history, HistoryFixture)

BOOST_AUTO_TEST_CASE(events_published_before_anyone_subscribed_are_answered_newest_first) {
    auto pub = join();
    for (int i = 0; i < 7; ++i) pub->send(R"([16, 1, {}, "com.h", [)" + std::to_string(i) + R"(], {"n": 1}])");
    auto c = join();
    auto id = subscribe(*c, "com.h");  // the subscription the store made at start
    auto result = get_events(*c, args_of(id, ", 3"));
    BOOST_REQUIRE_EQUAL(result[0].GetInt(), 50);
    const auto& events = result[3][0];
    BOOST_REQUIRE_EQUAL(events.Size(), 3u);
    BOOST_TEST(events[0]["args"][0].GetInt() == 6);
    BOOST_TEST(events[2]["args"][0].GetInt() == 4);
    BOOST_TEST(events[0]["kwargs"]["n"].GetInt() == 1);
    BOOST_TEST(events[0]["topic"].GetString() == std::string("com.h"));
    BOOST_TEST(events[0]["realm"].GetString() == std::string("realm1"));
    BOOST_TEST(events[0]["session_id"].GetUint64() == dom(pub->transport.sent.front())[1].GetUint64());
    BOOST_TEST(events[0]["authrole"].GetString() == std::string("anonymous"));
    BOOST_TEST(events[0]["time_ns"].GetUint64() > 0u);
    BOOST_TEST(events[0]["publication"].IsUint64());
    // The item's limit (5) keeps the newest five; the default limit of the call is 10.
    BOOST_TEST(get_events(*c, args_of(id))[3][0].Size() == 5u);
}

BOOST_AUTO_TEST_CASE(a_prefix_item_keeps_the_stores_limit_and_one_entry_per_publication) {
    auto pub = join();
    auto a = join();
    auto b = join();
    auto id = subscribe(*a, "com.p.", R"({"match": "prefix"})");
    subscribe(*b, "com.p.", R"({"match": "prefix"})");
    for (int i = 0; i < 4; ++i) pub->send(R"([16, 1, {}, "com.p.x", [)" + std::to_string(i) + "]]");
    auto events = get_events(*a, args_of(id, ", 10"));
    BOOST_REQUIRE_EQUAL(events[3][0].Size(), 3u);  // two receivers, kept once each
    BOOST_TEST(events[3][0][0]["args"][0].GetInt() == 3);
}

BOOST_AUTO_TEST_CASE(events_for_chosen_receivers_and_encrypted_payloads_are_not_read) {
    auto pub = join();
    auto c = join();
    auto id = subscribe(*c, "com.h");
    pub->send(R"([16, 1, {"eligible": [1]}, "com.h", ["chosen"]])");
    pub->send(R"([16, 2, {"enc_algo": "cryptobox", "enc_serializer": "json"}, "com.h", "\u0000AAECAw=="])");
    auto result = get_events(*c, args_of(id));  // the document outlives the array view
    auto events = result[3][0].GetArray();
    BOOST_REQUIRE_EQUAL(events.Size(), 1u);
    BOOST_TEST(events[0]["args"].IsNull());
    BOOST_TEST(events[0]["kwargs"].IsNull());
}

BOOST_AUTO_TEST_CASE(the_realms_bytes_drop_the_oldest_events) {
    auto pub = join();
    auto c = join();
    auto id = subscribe(*c, "com.h");
    std::string text(500, 'x');
    for (int i = 0; i < 5; ++i) pub->send(R"([16, 1, {}, "com.h", [")" + text + R"(", )" + std::to_string(i) + "]]");
    auto result = get_events(*c, args_of(id));  // the document outlives the array view
    auto events = result[3][0].GetArray();
    BOOST_TEST(events.Size() < 5u);
    BOOST_TEST(events[0]["args"][1].GetInt() == 4);
    BOOST_TEST(router().find_realm("realm1")->broker().history().bytes() <= 2000u);
}

BOOST_AUTO_TEST_CASE(errors_are_crossbars) {
    auto c = join();
    auto plain = subscribe(*c, "com.other");
    get_events(*c, args_of(plain));
    BOOST_TEST(c->last_error_uri() == "wamp.error.history_unavailable");
    get_events(*c, "[12345]");
    BOOST_TEST(c->last_error_uri() == "wamp.error.no_such_subscription");
    auto reserved = subscribe(*c, "wamp.x");
    get_events(*c, args_of(reserved));
    BOOST_TEST(c->last_error_uri() == "wamp.error.not_authorized");
    get_events(*c, "[]");
    BOOST_TEST(c->last_error_uri() == "wamp.error.runtime_error");
}

BOOST_FIXTURE_TEST_CASE(a_realm_without_store_has_no_history, NoStoreFixture) {
    auto c = join();
    auto id = subscribe(*c, "com.h");
    get_events(*c, args_of(id));
    BOOST_TEST(c->last_error_uri() == "wamp.error.history_unavailable");
}

BOOST_AUTO_TEST_SUITE_END()
