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
    // A role that lists permissions, even none, is governed by them.
    BOOST_TEST(!make({}).authorize("user", "com.any", auth::Action::call).allowed);
}

BOOST_AUTO_TEST_SUITE_END()
