// Node liveness, death verdicts and the janitor choice (SCALE-OUT.md §2.8), on a fake clock.
#include <boost/test/unit_test.hpp>

#include "blindrouter/cluster/liveness.hpp"

using namespace blindrouter;
using cluster::Liveness;
using namespace std::chrono_literals;

namespace {

struct Fixture {
    Liveness::Clock::time_point now{};
    Liveness live{50, 1000ms, 3, now};
    void pass(Liveness::Clock::duration by) { now += by; }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(cluster_liveness)

BOOST_FIXTURE_TEST_CASE(a_peer_is_declared_dead_after_the_missed_heartbeats_once, Fixture) {
    BOOST_TEST(live.heard(70, 1, now).joined);
    BOOST_TEST(!live.heard(70, 1, now).joined);
    pass(2999ms);
    BOOST_TEST(live.expire(now).empty());
    pass(1ms);
    auto verdicts = live.expire(now);
    BOOST_TEST_REQUIRE(verdicts.size() == 1u);
    BOOST_TEST(verdicts[0].node == 70u);
    BOOST_TEST(verdicts[0].incarnation == 1u);
    pass(5s);
    BOOST_TEST(live.expire(now).empty());
}

BOOST_FIXTURE_TEST_CASE(each_heartbeat_restarts_the_window, Fixture) {
    live.heard(70, 1, now);
    for (int i = 0; i < 10; ++i) {
        pass(1s);
        live.heard(70, 1, now);
        BOOST_TEST(live.expire(now).empty());
    }
}

BOOST_FIXTURE_TEST_CASE(a_late_heartbeat_of_a_dead_incarnation_does_not_revive_it, Fixture) {
    live.heard(70, 1, now);
    pass(3s);
    BOOST_TEST(live.expire(now).size() == 1u);
    BOOST_TEST(!live.heard(70, 1, now).joined);
    BOOST_TEST(live.live_nodes() == std::vector<std::uint64_t>{50});
    auto back = live.heard(70, 2, now);
    BOOST_TEST(back.joined);
    BOOST_TEST(!back.replaced);
    BOOST_TEST((live.live_nodes() == std::vector<std::uint64_t>{50, 70}));
}

BOOST_FIXTURE_TEST_CASE(a_newer_incarnation_is_the_verdict_on_the_older_one, Fixture) {
    live.heard(70, 1, now);
    pass(1s);
    auto heard = live.heard(70, 2, now);
    BOOST_TEST(heard.joined);
    BOOST_TEST_REQUIRE(heard.replaced.has_value());
    BOOST_TEST((*heard.replaced == Liveness::Verdict{70, 1}));
    BOOST_TEST(!live.heard(70, 1, now).replaced);  // an old one after the new one
    pass(2500ms);
    BOOST_TEST(live.expire(now).empty());
}

BOOST_FIXTURE_TEST_CASE(the_lowest_live_id_is_the_janitor, Fixture) {
    BOOST_TEST(live.janitor());
    live.heard(70, 1, now);
    BOOST_TEST(live.janitor());
    live.heard(20, 1, now);
    BOOST_TEST(!live.janitor());
    BOOST_TEST((live.live_nodes() == std::vector<std::uint64_t>{20, 50, 70}));
    pass(2s);
    live.heard(70, 1, now);
    pass(1s);
    BOOST_TEST(live.expire(now).size() == 1u);  // 20 died: 50 cleans up after it
    BOOST_TEST(live.janitor());
}

BOOST_FIXTURE_TEST_CASE(a_node_whose_own_heartbeats_stop_coming_back_counts_itself_dead, Fixture) {
    live.heard(70, 1, now);
    pass(1s);
    live.heard_self(1, now);
    live.heard(70, 1, now);
    pass(2999ms);
    BOOST_TEST(!live.self_expired(now));
    pass(1ms);  // frozen: neither its own heartbeats nor its peers' were read
    BOOST_TEST(live.self_expired(now));
    auto old = live.restart(now);
    BOOST_TEST((old == Liveness::Verdict{50, 1}));
    BOOST_TEST(live.incarnation() == 2u);
    BOOST_TEST(!live.self_expired(now));
    // The peers' silence was ours: no verdict on them for it.
    BOOST_TEST(live.expire(now).empty());
    live.heard_self(1, now + 2s);  // a heartbeat of the old incarnation, late
    BOOST_TEST(live.self_expired(now + 3s));
}

BOOST_FIXTURE_TEST_CASE(a_stalled_reader_gives_its_peers_a_fresh_window, Fixture) {
    live.heard(70, 1, now);
    pass(5s);
    live.restart_window(now);
    BOOST_TEST(live.expire(now).empty());
    pass(3s);
    BOOST_TEST(live.expire(now).size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
