#include <boost/test/unit_test.hpp>

#include "blindrouter/auth/authorizer.hpp"

using namespace blindrouter;
using wamp::MatchPolicy;

namespace {
config::Permission permission(std::string uri, MatchPolicy match, bool call, bool publish = false,
                              bool disclose_caller = false) {
    config::Permission p;
    p.uri = std::move(uri);
    p.match = match;
    p.allow_call = call;
    p.allow_publish = publish;
    p.disclose_caller = disclose_caller;
    return p;
}
auth::Authorizer make(std::vector<config::Permission> permissions) {
    config::Realm realm;
    realm.name = "realm1";
    config::Role role;
    role.name = "user";
    role.permissions = std::move(permissions);
    role.has_permissions = true;
    realm.roles = {std::move(role)};
    return auth::Authorizer(realm);
}
}  // namespace

BOOST_AUTO_TEST_SUITE(authorizer)

BOOST_AUTO_TEST_CASE(unknown_role_is_denied) {
    auto a = make({permission("", MatchPolicy::prefix, true)});
    BOOST_TEST(a.has_role("user"));
    BOOST_TEST(!a.has_role("admin"));
    BOOST_TEST(!a.authorize("admin", "com.x", auth::Action::call).allowed);
    BOOST_TEST(!a.lookup("admin", "com.x").plugin_options);
}

BOOST_AUTO_TEST_CASE(no_matching_permission_is_denied) {
    auto a = make({permission("com.a.", MatchPolicy::prefix, true)});
    BOOST_TEST(a.authorize("user", "com.a.x", auth::Action::call).allowed);
    BOOST_TEST(!a.authorize("user", "com.b.x", auth::Action::call).allowed);
    BOOST_TEST(!a.authorize("user", "com.a.x", auth::Action::publish).allowed);
}

BOOST_AUTO_TEST_CASE(exact_beats_wildcard_beats_longest_prefix) {
    auto a = make({
        permission("", MatchPolicy::prefix, true),
        permission("com.secret.", MatchPolicy::prefix, false),
        permission("com.secret..open", MatchPolicy::wildcard, true),
        permission("com.secret.x.open", MatchPolicy::exact, false),
    });
    BOOST_TEST(a.authorize("user", "org.any", auth::Action::call).allowed);
    BOOST_TEST(!a.authorize("user", "com.secret.y", auth::Action::call).allowed);
    BOOST_TEST(a.authorize("user", "com.secret.y.open", auth::Action::call).allowed);
    BOOST_TEST(!a.authorize("user", "com.secret.x.open", auth::Action::call).allowed);
}

BOOST_AUTO_TEST_CASE(disclosure_follows_the_governing_permission) {
    auto a = make({permission("com.", MatchPolicy::prefix, true, true, true)});
    BOOST_TEST(a.authorize("user", "com.p", auth::Action::call).disclose);
    BOOST_TEST(!a.authorize("user", "com.p", auth::Action::publish).disclose);
}

// Crossbar's static matching (cb:router/role.py RouterRoleStaticAuth.authorize), rule by rule.

BOOST_AUTO_TEST_CASE(longest_string_prefix_governs) {
    auto a = make({permission("com.", MatchPolicy::prefix, true), permission("com.a", MatchPolicy::prefix, false)});
    BOOST_TEST(!a.authorize("user", "com.a.x", auth::Action::call).allowed);
    BOOST_TEST(!a.authorize("user", "com.ab", auth::Action::call).allowed);  // a string prefix
    BOOST_TEST(a.authorize("user", "com.b", auth::Action::call).allowed);
}

BOOST_AUTO_TEST_CASE(longest_entry_exact_but_different_denies) {
    // "com.a.b" (exact) is the longest key that prefixes "com.a.bc": not the URI, so the
    // default governs, and the shorter prefix "com." that would allow is not tried.
    auto a = make({permission("com.", MatchPolicy::prefix, true), permission("com.a.b", MatchPolicy::exact, true)});
    BOOST_TEST(a.authorize("user", "com.a.b", auth::Action::call).allowed);
    BOOST_TEST(!a.authorize("user", "com.a.bc", auth::Action::call).allowed);
    BOOST_TEST(!a.authorize("user", "com.a.b.x", auth::Action::call).allowed);
    BOOST_TEST(a.authorize("user", "com.a.c", auth::Action::call).allowed);
    BOOST_TEST(!a.lookup("user", "com.a.bc").plugin_options);
}

BOOST_AUTO_TEST_CASE(empty_prefix_entry_governs_what_nothing_else_prefixes) {
    auto a = make({permission("", MatchPolicy::prefix, true), permission("com.", MatchPolicy::prefix, false)});
    BOOST_TEST(a.authorize("user", "org.x", auth::Action::call).allowed);
    BOOST_TEST(!a.authorize("user", "com.x", auth::Action::call).allowed);
    BOOST_TEST(!make({permission("com.", MatchPolicy::prefix, true)}).authorize("user", "org.x", auth::Action::call).allowed);
}

BOOST_AUTO_TEST_CASE(wildcard_overrides_a_prefix_or_the_default) {
    auto a = make({permission("com.", MatchPolicy::prefix, false), permission("com..read", MatchPolicy::wildcard, true),
                   permission("org.b..x", MatchPolicy::wildcard, true)});
    BOOST_TEST(a.authorize("user", "com.doc.read", auth::Action::call).allowed);
    BOOST_TEST(!a.authorize("user", "com.doc.write", auth::Action::call).allowed);
    BOOST_TEST(!a.authorize("user", "com.doc.read.more", auth::Action::call).allowed);  // component count
    BOOST_TEST(a.authorize("user", "org.b.y.x", auth::Action::call).allowed);           // over the default
}

BOOST_AUTO_TEST_CASE(wildcard_does_not_override_an_exact_entry) {
    auto a = make({permission("com.a.read", MatchPolicy::exact, false), permission("com..read", MatchPolicy::wildcard, true)});
    BOOST_TEST(!a.authorize("user", "com.a.read", auth::Action::call).allowed);
    BOOST_TEST(a.authorize("user", "com.b.read", auth::Action::call).allowed);
}

BOOST_AUTO_TEST_CASE(only_the_longest_wildcard_key_is_tried) {
    // Keys "com" and "com.a": for "com.a.x.y" only "com.a..z" is tried, and it does not match.
    auto a = make({permission("com...y", MatchPolicy::wildcard, true), permission("com.a..z", MatchPolicy::wildcard, true)});
    BOOST_TEST(!a.authorize("user", "com.a.x.y", auth::Action::call).allowed);
    BOOST_TEST(a.authorize("user", "com.b.x.y", auth::Action::call).allowed);
}

BOOST_AUTO_TEST_CASE(later_permission_with_the_same_key_replaces_the_earlier) {
    // Crossbar keeps one permission per trie key: "com..read" and "com..write" share "com".
    auto a = make({permission("com..read", MatchPolicy::wildcard, true), permission("com..write", MatchPolicy::wildcard, true),
                   permission("org.a", MatchPolicy::exact, true), permission("org.a", MatchPolicy::prefix, false)});
    BOOST_TEST(!a.authorize("user", "com.doc.read", auth::Action::call).allowed);
    BOOST_TEST(a.authorize("user", "com.doc.write", auth::Action::call).allowed);
    BOOST_TEST(!a.authorize("user", "org.a", auth::Action::call).allowed);
}

BOOST_AUTO_TEST_CASE(wildcard_is_matched_as_autobahn_pattern) {
    auto a = make({permission("com..read", MatchPolicy::wildcard, true), permission("org.App..x", MatchPolicy::wildcard, true),
                   permission("net..<id:int>.x", MatchPolicy::wildcard, true)});
    // A wildcard component matches a non-empty one only, so a wildcard subscription URI
    // is not covered by the same wildcard permission.
    BOOST_TEST(!a.authorize("user", "com..read", auth::Action::subscribe).allowed);
    // Literal components must be [a-z0-9][a-z0-9_-]*, or autobahn refuses the pattern.
    BOOST_TEST(!a.authorize("user", "org.App.y.x", auth::Action::call).allowed);
    // Named components: "<id:int>" takes what Python's int() accepts.
    BOOST_TEST(a.authorize("user", "net.y.-12.x", auth::Action::call).allowed);
    BOOST_TEST(a.authorize("user", "net.y.1_000.x", auth::Action::call).allowed);
    BOOST_TEST(!a.authorize("user", "net.y.ab.x", auth::Action::call).allowed);
    BOOST_TEST(!a.authorize("user", "net.y.1__0.x", auth::Action::call).allowed);
}

BOOST_AUTO_TEST_CASE(a_uri_with_two_dots_is_a_wildcard_whatever_its_match) {
    auto a = make({permission("com..x", MatchPolicy::exact, true)});
    BOOST_TEST(a.authorize("user", "com.y.x", auth::Action::call).allowed);
}

BOOST_AUTO_TEST_CASE(plugin_options_come_from_the_governing_permission) {
    auto prefix = permission("com.", MatchPolicy::prefix, true);
    prefix.plugin_options.emplace_back("tag", wamp::Value{std::string("prefix")});
    auto wildcard = permission("com..read", MatchPolicy::wildcard, true, true);
    wildcard.plugin_options.emplace_back("tag", wamp::Value{std::string("wildcard")});
    auto a = make({prefix, wildcard});
    auto tag = [&](std::string_view uri) -> std::string {
        const auto* options = a.lookup("user", uri).plugin_options;
        if (!options) return "none";
        return *wamp::find(*options, "tag")->as_string();
    };
    BOOST_TEST(tag("com.doc.write") == "prefix");
    BOOST_TEST(tag("com.doc.read") == "wildcard");
    BOOST_TEST(tag("org.x") == "none");
    auto permission = a.lookup("user", "com.doc.read");
    BOOST_TEST(permission.allowed(auth::Action::publish));
    BOOST_TEST(!permission.allowed(auth::Action::subscribe));
    BOOST_TEST(a.lookup("user", "com.doc.read").plugin_options == permission.plugin_options);
}

BOOST_AUTO_TEST_CASE(default_permission_denies_everything) {
    auth::Permission none;
    for (auto action : {auth::Action::call, auth::Action::register_procedure, auth::Action::publish, auth::Action::subscribe}) {
        BOOST_TEST(!none.allowed(action));
        BOOST_TEST(!none.disclose(action));
    }
    BOOST_TEST(!none.plugin_options);
}

BOOST_AUTO_TEST_CASE(role_without_permissions_follows_allow_by_default) {
    config::Realm realm;
    realm.name = "realm1";
    config::Role open, closed;
    open.name = "open";
    open.allow_by_default = true;
    closed.name = "closed";
    realm.roles = {open, closed};
    auth::Authorizer a(realm);
    BOOST_TEST(a.authorize("open", "com.any", auth::Action::register_procedure).allowed);
    BOOST_TEST(!a.authorize("closed", "com.any", auth::Action::subscribe).allowed);
    BOOST_TEST(a.lookup("open", "com.any").allowed(auth::Action::call));
    BOOST_TEST(!a.lookup("open", "com.any").disclose(auth::Action::call));
    // A role that lists permissions, even none, is governed by them.
    BOOST_TEST(!make({}).authorize("user", "com.any", auth::Action::call).allowed);
}

BOOST_AUTO_TEST_SUITE_END()
