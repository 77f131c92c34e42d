#include <boost/test/unit_test.hpp>

#include "blindrouter/wamp/uri.hpp"

using namespace blindrouter::wamp;

BOOST_AUTO_TEST_SUITE(uri)

BOOST_AUTO_TEST_CASE(loose_rules_for_exact_uris) {
    BOOST_TEST(is_valid_uri("com.myapp.topic1"));
    BOOST_TEST(is_valid_uri("com.MyApp.Topic-1"));
    BOOST_TEST(is_valid_uri("x"));
    BOOST_TEST(!is_valid_uri(""));
    BOOST_TEST(!is_valid_uri("com..topic"));
    BOOST_TEST(!is_valid_uri("com.topic."));
    BOOST_TEST(!is_valid_uri(".com"));
    BOOST_TEST(!is_valid_uri("com.my topic"));
    BOOST_TEST(!is_valid_uri("com.a#b"));
}

BOOST_AUTO_TEST_CASE(pattern_rules) {
    BOOST_TEST(is_valid_uri("com.myapp.", MatchPolicy::prefix));
    BOOST_TEST(is_valid_uri("", MatchPolicy::prefix));
    BOOST_TEST(!is_valid_uri("com..x", MatchPolicy::prefix));
    BOOST_TEST(is_valid_uri("com..update", MatchPolicy::wildcard));
    BOOST_TEST(is_valid_uri("..", MatchPolicy::wildcard));
    BOOST_TEST(!is_valid_uri("com. .x", MatchPolicy::wildcard));
}

BOOST_AUTO_TEST_CASE(match_policies_read_back_from_their_names) {
    for (auto policy : {MatchPolicy::exact, MatchPolicy::prefix, MatchPolicy::wildcard})
        BOOST_TEST((match_from_name(match_name(policy)) == policy));
    BOOST_TEST(!match_from_name("Prefix").has_value());
    BOOST_TEST(!match_from_name("").has_value());
    BOOST_TEST(!match_from_name("regex").has_value());
}

BOOST_AUTO_TEST_CASE(reserved_uris) {
    BOOST_TEST(is_reserved_uri("wamp.session.on_join"));
    BOOST_TEST(!is_reserved_uri("wampx.a"));
    BOOST_TEST(!is_reserved_uri("com.wamp.a"));
}

BOOST_AUTO_TEST_CASE(matching) {
    BOOST_TEST(uri_matches("com.a", MatchPolicy::exact, "com.a"));
    BOOST_TEST(!uri_matches("com.a", MatchPolicy::exact, "com.ab"));
    BOOST_TEST(uri_matches("com.a", MatchPolicy::prefix, "com.ab"));
    BOOST_TEST(uri_matches("", MatchPolicy::prefix, "anything"));
    BOOST_TEST(!uri_matches("com.b", MatchPolicy::prefix, "com.a.b"));
    BOOST_TEST(uri_matches("com..update", MatchPolicy::wildcard, "com.x.update"));
    BOOST_TEST(!uri_matches("com..update", MatchPolicy::wildcard, "com.x.y.update"));
    BOOST_TEST(!uri_matches("com..update", MatchPolicy::wildcard, "com.x.create"));
    BOOST_TEST(uri_matches("..", MatchPolicy::wildcard, "a.b.c"));
    BOOST_TEST(!uri_matches("..", MatchPolicy::wildcard, "a.b"));
}

BOOST_AUTO_TEST_SUITE_END()
