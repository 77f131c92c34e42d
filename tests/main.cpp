#define BOOST_TEST_MODULE blindrouter
#include <spdlog/spdlog.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>

// Router log lines are noise in test output; BLINDROUTER_TEST_LOG=debug shows them.
struct QuietLogs {
    QuietLogs() {
        const char* level = std::getenv("BLINDROUTER_TEST_LOG");
        spdlog::set_level(level ? spdlog::level::from_str(level) : spdlog::level::off);
    }
};
BOOST_TEST_GLOBAL_FIXTURE(QuietLogs);
