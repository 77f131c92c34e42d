// The realm `store` (Crossbar's realm store, cb:personality.py create_realm_store and
// cb:router/realmstore.py) and blindrouter's bounds kept in it.
#include <boost/test/unit_test.hpp>

#include "blindrouter/config/node_config_loader.hpp"

using namespace blindrouter;

namespace {
config::LoadResult load_store(const std::string& store) {
    return config::load_node_config(R"({"version": 2, "workers": [{"type": "router", "realms": [{"name": "realm1",
        "roles": [{"name": "anonymous"}], "store": )" + store + R"(}],
        "transports": [{"type": "websocket", "endpoint": {"type": "tcp", "port": 8080}}]}]})");
}
bool has(const std::vector<std::string>& lines, const std::string& part) {
    for (const auto& l : lines)
        if (l.find(part) != std::string::npos) return true;
    return false;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(realm_store)

BOOST_AUTO_TEST_CASE(crossbars_event_history_example_store_is_read) {
    auto r = load_store(R"({"type": "memory", "limit": 100, "event-history": [
        {"uri": "com.example.oncounter", "match": "exact", "limit": 1000}, {"uri": "com.example.", "match": "prefix"}]})");
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.faults.empty() ? std::string() : r.faults[0]));
    const auto& store = r.config.realms[0].store;
    BOOST_TEST(store.configured);
    BOOST_REQUIRE_EQUAL(store.event_history.size(), 2u);
    BOOST_TEST(store.event_history[0].limit == 1000u);
    BOOST_TEST(store.event_history[1].limit == 100u);  // the store's limit
    BOOST_TEST((store.event_history[1].match == wamp::MatchPolicy::prefix));
    BOOST_TEST(!has(r.config.warnings, "store"));
}

BOOST_AUTO_TEST_CASE(blindrouters_bounds_have_defaults_and_are_read) {
    auto plain = load_store(R"({"type": "memory"})");
    BOOST_REQUIRE(plain.ok());
    const auto& defaults = plain.config.realms[0].store;
    BOOST_TEST(defaults.limit == 100u);
    BOOST_TEST(defaults.max_retained_events == 10000u);
    BOOST_TEST(defaults.max_testaments_per_session == 100u);
    auto r = load_store(R"({"type": "memory", "max_retained_events": 5, "max_retained_bytes": 6,
                            "max_history_bytes": 7, "max_testaments_per_session": 8})");
    BOOST_REQUIRE(r.ok());
    const auto& store = r.config.realms[0].store;
    BOOST_TEST(store.max_retained_events == 5u);
    BOOST_TEST(store.max_retained_bytes == 6u);
    BOOST_TEST(store.max_history_bytes == 7u);
    BOOST_TEST(store.max_testaments_per_session == 8u);
}

BOOST_AUTO_TEST_CASE(what_crossbar_refuses_is_refused_and_call_queues_warned) {
    BOOST_TEST(has(load_store(R"({"limit": 5})").faults, "store.type: missing mandatory attribute"));
    BOOST_TEST(has(load_store(R"({"type": "cfxdb"})").faults, "invalid or unavailable store type cfxdb"));
    BOOST_TEST(has(load_store(R"({"type": "memory", "event-history": [{"match": "exact"}]})").faults,
                   "event-history[0].uri: missing mandatory attribute"));
    BOOST_TEST(has(load_store(R"({"type": "memory", "event-history": [{"uri": "a..b", "match": "exact"}]})").faults,
                   "invalid URI"));
    // Crossbar's checker does not look at the store's keys: an unknown one is warned.
    BOOST_TEST(has(load_store(R"({"type": "memory", "lmit": 5})").config.warnings,
                   "store.lmit: unknown attribute in realm store configuration, which Crossbar.io does not check; ignored"));
    BOOST_TEST(has(load_store(R"({"type": "memory", "max_retained_events": -1})").faults, "max_retained_events"));
    auto queued = load_store(R"({"type": "memory", "call-queue": [{"uri": "com.example.compute"}]})");
    BOOST_TEST(queued.ok());
    BOOST_TEST(has(queued.config.warnings, "store.call-queue: known to Crossbar.io but not served"));
}

BOOST_AUTO_TEST_SUITE_END()
