// URI → NATS subject encoding (SCALE-OUT.md §2.3).
#include <boost/test/unit_test.hpp>

#include "blindrouter/cluster/subject.hpp"

using namespace blindrouter;
using cluster::event_subject;
using cluster::interest_subject;
using wamp::MatchPolicy;

BOOST_AUTO_TEST_SUITE(cluster_subject)

BOOST_AUTO_TEST_CASE(plain_components_are_kept_and_others_hex_encoded) {
    BOOST_TEST(cluster::subject_token("com_x-1") == "com_x-1");
    BOOST_TEST(cluster::subject_token("*") == "~2a");
    BOOST_TEST(cluster::subject_token(">") == "~3e");
    BOOST_TEST(cluster::subject_token("~2a") == "~7e3261");  // an encoded-looking name cannot alias "*"
    BOOST_TEST(cluster::subject_token("a b") == "~612062");
    BOOST_TEST(cluster::subject_token("\xc3\xa9") == "~c3a9");
}

BOOST_AUTO_TEST_CASE(exact_topics_map_component_by_component) {
    BOOST_TEST(event_subject("realm1", "com.example.topic") == "br.realm1.e.com.example.topic");
    BOOST_TEST(event_subject("realm.1", "com.*") == "br.~7265616c6d2e31.e.com.~2a");
    BOOST_TEST(interest_subject("realm1", "com.a", MatchPolicy::exact) == "br.realm1.e.com.a");
}

BOOST_AUTO_TEST_CASE(wildcard_empty_components_become_one_token_wildcards) {
    BOOST_TEST(interest_subject("realm1", "com..b", MatchPolicy::wildcard) == "br.realm1.e.com.*.b");
    BOOST_TEST(interest_subject("realm1", ".a.", MatchPolicy::wildcard) == "br.realm1.e.*.a.*");
}

BOOST_AUTO_TEST_CASE(prefix_widens_its_last_component_because_wamp_prefixes_are_string_prefixes) {
    BOOST_TEST(interest_subject("realm1", "com.a.b", MatchPolicy::prefix) == "br.realm1.e.com.a.>");
    BOOST_TEST(interest_subject("realm1", "com", MatchPolicy::prefix) == "br.realm1.e.>");
    BOOST_TEST(interest_subject("realm1", "com.a.", MatchPolicy::prefix) == "br.realm1.e.com.a.>");
}

// JetStream KV keys hold [-/_=.A-Za-z0-9] only: br_ret escapes behind '=' (SCALE-OUT.md §2.9).
BOOST_AUTO_TEST_CASE(retained_keys_escape_what_a_kv_key_cannot_hold_behind_an_equals_sign) {
    BOOST_TEST(cluster::retained_key("realm1", "com.example.topic") == "realm1.com.example.topic");
    BOOST_TEST(cluster::retained_key("realm.1", "com.a~b") == "=7265616c6d2e31.com.=617e62");
    // "=61" as a component is escaped itself, so it cannot alias the component "a".
    BOOST_TEST(cluster::retained_key("r", "x.=61") == "r.x.=3d3631");
    BOOST_TEST(cluster::retained_key("r", "x.*") == "r.x.=2a");
}

BOOST_AUTO_TEST_CASE(retained_filters_follow_the_interest_subjects) {
    BOOST_TEST(cluster::retained_filter("r", "com.a", MatchPolicy::exact) == "r.com.a");
    BOOST_TEST(cluster::retained_filter("r", "com..b", MatchPolicy::wildcard) == "r.com.*.b");
    BOOST_TEST(cluster::retained_filter("r", "com.a.b", MatchPolicy::prefix) == "r.com.a.>");
    BOOST_TEST(cluster::retained_filter("r", "com", MatchPolicy::prefix) == "r.>");
}

// RetainedMirror reads the retained filters as NATS reads them (nats-server's
// subject matching: '*' one token, a last '>' one or more).
BOOST_AUTO_TEST_CASE(subjects_match_filters_token_by_token_as_nats_matches_them) {
    using cluster::subject_matches;
    BOOST_TEST(subject_matches("r.com.a", "r.com.a"));
    BOOST_TEST(!subject_matches("r.com.a", "r.com.ab"));
    BOOST_TEST(!subject_matches("r.com.a", "r.com.a.b"));
    BOOST_TEST(!subject_matches("r.com.a.b", "r.com.a"));
    BOOST_TEST(subject_matches("r.com.*.b", "r.com.x.b"));
    BOOST_TEST(!subject_matches("r.com.*.b", "r.com.x.y.b"));
    BOOST_TEST(!subject_matches("r.com.*", "r.com"));
    BOOST_TEST(subject_matches("r.com.>", "r.com.a"));
    BOOST_TEST(subject_matches("r.com.>", "r.com.a.b.c"));
    BOOST_TEST(!subject_matches("r.com.>", "r.com"));
    BOOST_TEST(!subject_matches("r.com.>", "r.cox.a"));
    BOOST_TEST(subject_matches("r.>", "r.x"));
    BOOST_TEST(!subject_matches("r.>", "s.x"));
    // Only a last '>' is a wildcard, and "*" inside a token is a literal.
    BOOST_TEST(!subject_matches("r.>.a", "r.x.a"));
    BOOST_TEST(!subject_matches("r.a*", "r.ab"));
}

BOOST_AUTO_TEST_SUITE_END()
