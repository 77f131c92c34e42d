// This node's copy of JetStream KV br_ret (cluster/retained_mirror.hpp): what the
// watcher applies, what a get_retained read finds, and when it may read.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <map>
#include <thread>

#include "blindrouter/cluster/retained_mirror.hpp"

using namespace blindrouter;
using cluster::RetainedMirror;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<std::string> keys(const std::vector<RetainedMirror::Entry>& entries) {
    std::vector<std::string> out;
    for (const auto& entry : entries) out.push_back(entry.key);
    return out;
}

std::vector<std::string> found(const RetainedMirror& mirror, std::string_view filter, std::size_t limit = 100) {
    bool more = false;
    return keys(mirror.matching(filter, limit, more));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cluster_retained_mirror)

BOOST_AUTO_TEST_CASE(a_newer_revision_replaces_a_key_and_a_delete_marker_removes_it) {
    RetainedMirror mirror;
    mirror.apply("r.com.a", "one", 1, false);
    mirror.apply("r.com.a", "two", 2, false);
    bool more = false;
    auto entries = mirror.matching("r.com.a", 10, more);
    BOOST_REQUIRE(entries.size() == 1u);
    BOOST_TEST(entries[0].value == "two");
    mirror.apply("r.com.a", "", 3, true);
    BOOST_TEST(mirror.size() == 0u);
    BOOST_TEST(mirror.applied() == 3u);
}

BOOST_AUTO_TEST_CASE(reads_find_the_keys_the_filter_matches_and_no_others) {
    RetainedMirror mirror;
    std::uint64_t revision = 0;
    for (const char* key : {"r.com.a", "r.com.a.b", "r.com.ab", "r.com.x.b", "r.coma", "s.com.a", "r.com"})
        mirror.apply(key, "v", ++revision, false);
    BOOST_TEST((found(mirror, "r.com.a") == std::vector<std::string>{"r.com.a"}));
    BOOST_TEST((found(mirror, "r.com.>") ==
                std::vector<std::string>{"r.com.a", "r.com.a.b", "r.com.ab", "r.com.x.b"}));
    BOOST_TEST((found(mirror, "r.com.*.b") == std::vector<std::string>{"r.com.a.b", "r.com.x.b"}));
    BOOST_TEST((found(mirror, "r.*") == std::vector<std::string>{"r.com", "r.coma"}));
    BOOST_TEST(found(mirror, "r.com.zz").empty());
}

BOOST_AUTO_TEST_CASE(a_read_stops_at_its_limit_and_says_that_more_match) {
    RetainedMirror mirror;
    mirror.apply("r.t.a", "v", 1, false);
    mirror.apply("r.t.b", "v", 2, false);
    mirror.apply("r.t.c", "v", 3, false);
    bool more = false;
    BOOST_TEST(mirror.matching("r.t.>", 2, more).size() == 2u);
    BOOST_TEST(more);
    BOOST_TEST(mirror.matching("r.t.>", 3, more).size() == 3u);
    BOOST_TEST(!more);
}

BOOST_AUTO_TEST_CASE(a_reader_waits_until_the_watcher_applied_the_sequence_it_asked_for) {
    RetainedMirror mirror;
    mirror.apply("r.a", "v", 4, false);
    BOOST_TEST(mirror.wait_for(4, Clock::now()));
    // Not yet applied: times out, then succeeds once the watcher thread gets there.
    BOOST_TEST(!mirror.wait_for(5, Clock::now() + std::chrono::milliseconds(20)));
    std::thread watcher([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
        mirror.apply("r.b", "v", 5, false);
    });
    BOOST_TEST(mirror.wait_for(5, Clock::now() + std::chrono::seconds(10)));
    watcher.join();
    BOOST_TEST((found(mirror, "r.b") == std::vector<std::string>{"r.b"}));
}

// A deleted newest entry is never delivered among the initial values: without
// caught_up a reader would wait for it until its deadline, on every read.
BOOST_AUTO_TEST_CASE(the_end_of_the_initial_values_counts_everything_up_to_the_last_sequence) {
    RetainedMirror mirror;
    mirror.apply("r.a", "v", 3, false);
    BOOST_TEST(!mirror.wait_for(9, Clock::now()));
    mirror.caught_up(9);
    BOOST_TEST(mirror.wait_for(9, Clock::now()));
    // Never backwards.
    mirror.caught_up(2);
    BOOST_TEST(mirror.applied() == 9u);
}

// A purge of the whole stream delivers no marker; its first sequence moves past
// what was purged.
BOOST_AUTO_TEST_CASE(entries_below_the_streams_first_sequence_are_forgotten) {
    RetainedMirror mirror;
    mirror.apply("r.a", "v", 1, false);
    mirror.apply("r.b", "v", 2, false);
    mirror.apply("r.c", "v", 7, false);
    mirror.drop_below(7);
    BOOST_TEST((found(mirror, "r.>") == std::vector<std::string>{"r.c"}));
}

// drop_below runs on every get_retained read and removes by revision: a key whose
// first revision is below the bound but whose newest is not stays, and one rewritten
// below the bound goes, whatever the keys' order.
BOOST_AUTO_TEST_CASE(a_drop_removes_exactly_the_entries_older_than_the_first_sequence_among_many) {
    RetainedMirror mirror;
    std::map<std::string, std::uint64_t> newest;  // key -> its revision in the stream
    std::uint64_t revision = 0;
    auto write = [&](int topic, bool deleted) {
        std::string key = "r.t.", value = deleted ? "" : "v";
        key += std::to_string(topic);
        ++revision;
        if (!deleted) value += std::to_string(revision);
        mirror.apply(key, value, revision, deleted);
        if (deleted) newest.erase(key);
        else newest[key] = revision;
    };
    // Revisions 1..300 in an order unlike the keys' (7 and 300 are coprime), then
    // 301..400 rewrite every third topic, then 401..430 delete every tenth.
    for (int i = 0; i < 300; ++i) write(i * 7 % 300, false);
    for (int topic = 0; topic < 300; topic += 3) write(topic, false);
    for (int topic = 1; topic < 300; topic += 10) write(topic, true);

    const std::uint64_t first = 350;
    mirror.drop_below(first);
    std::vector<std::string> kept;
    for (const auto& [key, at] : newest)
        if (at >= first) kept.push_back(key);
    std::sort(kept.begin(), kept.end());
    BOOST_TEST(kept.size() == 46u);  // rewritten at 350..400, less the 5 deleted since
    BOOST_TEST(found(mirror, "r.t.>", 1000) == kept);
    BOOST_TEST(mirror.size() == kept.size());
    // Topic 297: written at revision 172, rewritten at 400.
    bool more = false;
    auto entries = mirror.matching("r.t.297", 10, more);
    BOOST_REQUIRE(entries.size() == 1u);
    BOOST_TEST(entries[0].value == "v400");

    mirror.drop_below(first);
    BOOST_TEST(mirror.size() == kept.size());
    mirror.drop_below(revision + 1);
    BOOST_TEST(mirror.size() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
