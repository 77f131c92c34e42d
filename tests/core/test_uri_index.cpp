#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "blindrouter/core/uri_index.hpp"

using namespace blindrouter;
using core::UriIndex;
using wamp::MatchPolicy;

namespace {
std::vector<int> matches(const UriIndex<int>& index, std::string_view uri) {
    std::vector<int> found;
    index.for_each_match(uri, [&](int value) { found.push_back(value); });
    return found;
}
int best(const UriIndex<int>& index, std::string_view uri) {
    const int* found = index.best_match(uri);
    return found ? *found : 0;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(uri_index)

BOOST_AUTO_TEST_CASE(exact_matches_only_the_same_uri) {
    UriIndex<int> index;
    BOOST_TEST(index.insert("com.a.b", MatchPolicy::exact, 1));
    BOOST_TEST(matches(index, "com.a.b") == std::vector<int>{1});
    BOOST_TEST(matches(index, "com.a.bc").empty());
    BOOST_TEST(matches(index, "com.a").empty());
}

BOOST_AUTO_TEST_CASE(prefix_is_a_plain_string_prefix) {
    // WAMP spec (pubsub_pattern_based_subscription): "com.myapp.topic.emergency" matches
    // "...emergency.11", "...emergency-low" and itself, not "...emerge".
    UriIndex<int> index;
    index.insert("com.myapp.topic.emergency", MatchPolicy::prefix, 1);
    BOOST_TEST(matches(index, "com.myapp.topic.emergency.11") == std::vector<int>{1});
    BOOST_TEST(matches(index, "com.myapp.topic.emergency-low") == std::vector<int>{1});
    BOOST_TEST(matches(index, "com.myapp.topic.emergency") == std::vector<int>{1});
    BOOST_TEST(matches(index, "com.myapp.topic.emerge").empty());
}

BOOST_AUTO_TEST_CASE(empty_prefix_matches_everything) {
    UriIndex<int> index;
    index.insert("", MatchPolicy::prefix, 1);
    BOOST_TEST(matches(index, "a") == std::vector<int>{1});
    BOOST_TEST(matches(index, "com.x.y") == std::vector<int>{1});
    BOOST_TEST(best(index, "org.z") == 1);
}

BOOST_AUTO_TEST_CASE(wildcard_needs_the_same_number_of_components) {
    UriIndex<int> index;
    index.insert("com.myapp..userevent", MatchPolicy::wildcard, 1);
    BOOST_TEST(matches(index, "com.myapp.foo.userevent") == std::vector<int>{1});
    BOOST_TEST(matches(index, "com.myapp.foo.userevent.bar").empty());
    BOOST_TEST(matches(index, "com.myapp.userevent").empty());
    BOOST_TEST(matches(index, "com.myapp.foo.other").empty());
}

BOOST_AUTO_TEST_CASE(wildcard_at_either_end) {
    UriIndex<int> index;
    index.insert(".b.c", MatchPolicy::wildcard, 1);
    index.insert("a.b.", MatchPolicy::wildcard, 2);
    BOOST_TEST(matches(index, "x.b.c") == std::vector<int>{1});
    BOOST_TEST(matches(index, "a.b.x") == std::vector<int>{2});
    // The concrete branch is walked before the wildcard one.
    BOOST_TEST(matches(index, "a.b.c") == (std::vector<int>{2, 1}));
    BOOST_TEST(matches(index, "a.b").empty());
}

BOOST_AUTO_TEST_CASE(every_match_in_order_exact_prefix_wildcard) {
    UriIndex<int> index;
    index.insert("com..c", MatchPolicy::wildcard, 5);
    index.insert("com.b.", MatchPolicy::prefix, 3);
    index.insert("com.", MatchPolicy::prefix, 2);
    index.insert("com.b.c", MatchPolicy::exact, 1);
    index.insert(".b.", MatchPolicy::wildcard, 4);
    index.insert("com.b.d", MatchPolicy::exact, 9);
    auto found = matches(index, "com.b.c");
    BOOST_REQUIRE_EQUAL(found.size(), 5u);
    BOOST_TEST(found[0] == 1);
    // Prefixes shortest first, as Crossbar's StringTrie iter_prefix_values yields them.
    BOOST_TEST(found[1] == 2);
    BOOST_TEST(found[2] == 3);
    BOOST_TEST(((found[3] == 4 && found[4] == 5) || (found[3] == 5 && found[4] == 4)));
}

BOOST_AUTO_TEST_CASE(insert_refuses_a_duplicate_and_find_sees_each_policy) {
    UriIndex<int> index;
    BOOST_TEST(index.insert("com.a", MatchPolicy::exact, 1));
    BOOST_TEST(index.insert("com.a", MatchPolicy::prefix, 2));
    BOOST_TEST(index.insert("com.a", MatchPolicy::wildcard, 3));
    BOOST_TEST(!index.insert("com.a", MatchPolicy::exact, 4));
    BOOST_TEST(!index.insert("com.a", MatchPolicy::prefix, 4));
    BOOST_TEST(!index.insert("com.a", MatchPolicy::wildcard, 4));
    BOOST_TEST(*index.find("com.a", MatchPolicy::exact) == 1);
    BOOST_TEST(*index.find("com.a", MatchPolicy::prefix) == 2);
    BOOST_TEST(*index.find("com.a", MatchPolicy::wildcard) == 3);
    BOOST_TEST(!index.find("com.", MatchPolicy::prefix));
    // find is by pattern, not by match: the wildcard "com." is not the pattern "com.a".
    index.insert("com.", MatchPolicy::wildcard, 5);
    BOOST_TEST(!index.find("com.b", MatchPolicy::wildcard));
    BOOST_TEST(*index.find("com.", MatchPolicy::wildcard) == 5);
}

BOOST_AUTO_TEST_CASE(erase_removes_only_that_entry) {
    UriIndex<int> index;
    index.insert("a.b", MatchPolicy::exact, 1);
    index.insert("a.", MatchPolicy::prefix, 2);
    index.insert("a.bc", MatchPolicy::prefix, 6);
    index.insert("a..c", MatchPolicy::wildcard, 3);
    index.insert("a.b.c", MatchPolicy::wildcard, 4);
    index.erase("a.b", MatchPolicy::exact);
    index.erase("a.", MatchPolicy::prefix);
    index.erase("a..c", MatchPolicy::wildcard);
    index.erase("a.x", MatchPolicy::wildcard);  // absent: no effect
    BOOST_TEST(matches(index, "a.b").empty());
    BOOST_TEST(matches(index, "a.bc") == std::vector<int>{6});
    BOOST_TEST(matches(index, "a.b.c") == std::vector<int>{4});
    BOOST_TEST(matches(index, "a.x.c").empty());
    index.erase("a.b.c", MatchPolicy::wildcard);
    index.erase("a.bc", MatchPolicy::prefix);
    BOOST_TEST(matches(index, "a.b.c").empty());
    BOOST_TEST(matches(index, "a.bcd").empty());
    // Erased entries can come back.
    BOOST_TEST(index.insert("a..c", MatchPolicy::wildcard, 7));
    BOOST_TEST(index.insert("a.", MatchPolicy::prefix, 8));
    BOOST_TEST(matches(index, "a.x.c") == (std::vector<int>{8, 7}));
}

BOOST_AUTO_TEST_CASE(prefix_lengths_shared_by_several_keys_survive_one_erase) {
    UriIndex<int> index;
    index.insert("a.b", MatchPolicy::prefix, 1);
    index.insert("a.c", MatchPolicy::prefix, 2);
    index.erase("a.b", MatchPolicy::prefix);
    BOOST_TEST(matches(index, "a.c.d") == std::vector<int>{2});
    index.erase("a.b", MatchPolicy::prefix);  // twice: the length count must not drop again
    BOOST_TEST(matches(index, "a.c.d") == std::vector<int>{2});
}

// The examples of the WAMP spec, rpc_pattern_based_registration, "Calls matching multiple
// registrations".
BOOST_AUTO_TEST_CASE(best_match_follows_the_spec_examples) {
    UriIndex<int> index;
    index.insert("a1.b2.c3.d4.e55", MatchPolicy::exact, 1);
    index.insert("a1.b2.c3", MatchPolicy::prefix, 2);
    index.insert("a1.b2.c3.d4", MatchPolicy::prefix, 3);
    index.insert("a1.b2..d4.e5", MatchPolicy::wildcard, 4);
    index.insert("a1.b2.c33..e5", MatchPolicy::wildcard, 5);
    index.insert("a1.b2..d4.e5..g7", MatchPolicy::wildcard, 6);
    index.insert("a1.b2..d4..f6.g7", MatchPolicy::wildcard, 7);
    BOOST_TEST(best(index, "a1.b2.c3.d4.e55") == 1);
    BOOST_TEST(best(index, "a1.b2.c3.d98.e74") == 2);
    BOOST_TEST(best(index, "a1.b2.c3.d4.e325") == 3);
    BOOST_TEST(best(index, "a1.b2.c55.d4.e5") == 4);
    BOOST_TEST(best(index, "a1.b2.c88.d4.e5.f6.g7") == 6);
    BOOST_TEST(best(index, "a2.b2.c2.d2.e2") == 0);
    // The spec expects RPC 5 here, counting prefixes by components; a prefix is a string
    // prefix (spec, pubsub_pattern_based_subscription; Crossbar's StringTrie), so
    // "a1.b2.c3" is a prefix of "a1.b2.c33..." and wins before any wildcard, as in Crossbar.
    BOOST_TEST(best(index, "a1.b2.c33.d4.e5") == 2);
    index.erase("a1.b2.c3", MatchPolicy::prefix);
    BOOST_TEST(best(index, "a1.b2.c33.d4.e5") == 5);
}

BOOST_AUTO_TEST_CASE(best_match_backtracks_from_a_concrete_dead_end) {
    // The spec's step 3 example: for "a1.b2.c3.d4", "a1.b2..d4" beats "a1...d4"; and when
    // the concrete branch leads nowhere, the wildcard branch is still tried.
    UriIndex<int> index;
    index.insert("a1...d4", MatchPolicy::wildcard, 1);
    index.insert("a1.b2..d4", MatchPolicy::wildcard, 2);
    index.insert("a1.b2.c3.x", MatchPolicy::wildcard, 3);
    BOOST_TEST(best(index, "a1.b2.c3.d4") == 2);
    BOOST_TEST(best(index, "a1.zz.c3.d4") == 1);
}

BOOST_AUTO_TEST_CASE(longest_prefix_ignores_exact_and_wildcard_entries) {
    UriIndex<int> index;
    index.insert("com.a.b", MatchPolicy::exact, 1);
    index.insert("com.a..", MatchPolicy::wildcard, 2);
    index.insert("com.", MatchPolicy::prefix, 3);
    index.insert("com.a", MatchPolicy::prefix, 4);
    BOOST_TEST(*index.longest_prefix("com.a.b") == 4);
    BOOST_TEST(*index.longest_prefix("com.b") == 3);
    BOOST_TEST(!index.longest_prefix("co"));
}

BOOST_AUTO_TEST_CASE(hundred_thousand_patterns) {
    UriIndex<int> index;
    constexpr int n = 100000;
    for (int i = 0; i < n; ++i) {
        auto s = std::to_string(i);
        switch (i % 3) {
            case 0: index.insert("com.app.exact." + s, MatchPolicy::exact, i); break;
            case 1: index.insert("com.app.prefix." + s + ".", MatchPolicy::prefix, i); break;
            case 2: index.insert("com.app.wild." + s + "..x", MatchPolicy::wildcard, i); break;
        }
    }
    for (int i = 0; i < n; i += 997) {
        auto s = std::to_string(i);
        switch (i % 3) {
            case 0: BOOST_TEST(matches(index, "com.app.exact." + s) == std::vector<int>{i}); break;
            case 1: BOOST_TEST(best(index, "com.app.prefix." + s + ".y.z") == i); break;
            case 2: BOOST_TEST(best(index, "com.app.wild." + s + ".y.x") == i); break;
        }
    }
    BOOST_TEST(matches(index, "com.app.prefix.1").empty());
    for (int i = 0; i < n; ++i) {
        auto s = std::to_string(i);
        switch (i % 3) {
            case 0: index.erase("com.app.exact." + s, MatchPolicy::exact); break;
            case 1: index.erase("com.app.prefix." + s + ".", MatchPolicy::prefix); break;
            case 2: index.erase("com.app.wild." + s + "..x", MatchPolicy::wildcard); break;
        }
    }
    BOOST_TEST(matches(index, "com.app.prefix.1.y").empty());
    BOOST_TEST(!index.best_match("com.app.wild.2.y.x"));
}

BOOST_AUTO_TEST_SUITE_END()
