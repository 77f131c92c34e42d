// The hand-driven timers the unit tests and the state-machine fuzzer use.
#include <boost/test/unit_test.hpp>
#include <memory>
#include <vector>

#include "blindrouter/core/manual_timers.hpp"

using namespace blindrouter::core;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(manual_timers)

BOOST_AUTO_TEST_CASE(timers_fire_in_due_order_when_time_passes_them) {
    ManualTimers timers;
    std::vector<int> fired;
    auto late = timers.schedule(30ms, [&] { fired.push_back(30); });
    auto early = timers.schedule(10ms, [&] { fired.push_back(10); });
    timers.advance(9ms);
    BOOST_TEST(fired.empty());
    timers.advance(25ms);
    BOOST_TEST((fired == std::vector<int>{10, 30}));
    BOOST_TEST(timers.scheduled() == 0u);
}

BOOST_AUTO_TEST_CASE(a_cancelled_timer_never_fires_and_lets_go_of_its_callback_before_its_due_time) {
    ManualTimers timers;
    auto held = std::make_shared<int>(0);
    auto handle = timers.schedule(1h, [held] { ++*held; });
    BOOST_TEST(held.use_count() == 2);
    handle.reset();
    BOOST_TEST(timers.scheduled() == 0u);
    auto other = timers.schedule(1h, [] {});
    BOOST_TEST(held.use_count() == 1);
    timers.advance(2h);
    BOOST_TEST(*held == 0);
}

BOOST_AUTO_TEST_SUITE_END()
