// The static methods one by one, against a fake realm directory: what each answers to
// HELLO and AUTHENTICATE, and the WAMP-CRA computations against published vectors.
#include <boost/test/unit_test.hpp>
#include <rapidjson/document.h>

#include <set>

#include "blindrouter/auth/methods.hpp"
#include "blindrouter/auth/static_methods.hpp"

using namespace blindrouter;
using auth::Outcome;
BOOST_TEST_DONT_PRINT_LOG_VALUE(blindrouter::auth::Outcome::Kind)

namespace {
struct Directory : auth::RealmDirectory {
    std::set<std::pair<std::string, std::string>> roles{{"realm1", "frontend"}, {"realm1", "user"}};
    bool has_realm(std::string_view realm) const override { return realm == "realm1"; }
    bool has_role(std::string_view realm, std::string_view role) const override {
        return roles.count({std::string(realm), std::string(role)}) != 0;
    }
};

auth::HelloInfo hello_as(std::optional<std::string> authid, wamp::Dict authextra = {}) {
    auth::HelloInfo info;
    info.session_id = 4242;
    info.realm = "realm1";
    info.authid = std::move(authid);
    info.authextra = std::move(authextra);
    return info;
}

void expect_deny(const Outcome& o, const std::string& uri, const std::string& message) {
    BOOST_REQUIRE(o.kind == Outcome::Kind::deny);
    BOOST_TEST(o.error_uri == uri);
    BOOST_TEST(o.message == message);
}

struct Fixture {
    Directory realms;
    config::TicketAuth ticket{{{"joe", {std::string("joe-ticket"), std::string("frontend")}},
                               {"norole", {std::string("t"), std::nullopt}},
                               {"ghost", {std::string("t"), std::string("nosuchrole")}},
                               {"unset", {std::nullopt, std::string("frontend")}}},
                              std::nullopt};
    config::WampCraAuth wampcra{{{"joe", {std::string("secret2"), std::string("frontend"), {}, {}, {}}},
                                 {"peter", {std::string("secret2"), std::string("frontend"), std::string("salt123"), 100, 16}},
                                 {"half", {std::string("secret2"), std::string("frontend"), std::string("salt123"), 100, {}}}},
                                std::string("user")};

    static std::string signed_challenge(const Outcome& challenge, const std::string& key) {
        return auth::wampcra_signature(key, *wamp::find(challenge.challenge_extra, "challenge")->as_string());
    }
};
}  // namespace

BOOST_FIXTURE_TEST_SUITE(static_methods, Fixture)

BOOST_AUTO_TEST_CASE(anonymous_welcomes_with_config_identity_and_echoes_authextra) {
    config::AnonymousAuth config{"public", std::string("guest")};
    auth::AnonymousMethod method(config);
    auto o = method.hello(hello_as("ignored", {{"k", wamp::Value{"v"}}}));
    BOOST_REQUIRE(o.kind == Outcome::Kind::welcome);
    BOOST_TEST(o.principal.authid == "guest");
    BOOST_TEST(o.principal.authrole == "public");
    BOOST_TEST(o.principal.authmethod == "anonymous");
    BOOST_TEST(o.principal.authprovider == "static");
    BOOST_TEST((o.principal.authextra == wamp::Dict{{"k", wamp::Value{"v"}}}));
    config::AnonymousAuth generated;
    auto g = auth::AnonymousMethod(generated).hello(hello_as(std::nullopt));
    BOOST_TEST(g.principal.authid.size() == 29u);
    BOOST_TEST(g.principal.authrole == "anonymous");
}

BOOST_AUTO_TEST_CASE(ticket_challenges_a_known_authid_and_welcomes_the_right_ticket) {
    auth::TicketMethod method(ticket, realms);
    auto c = method.hello(hello_as("joe", {{"x", wamp::Value{1}}}));
    BOOST_REQUIRE(c.kind == Outcome::Kind::challenge);
    BOOST_TEST(c.challenge_method == "ticket");
    BOOST_TEST(c.challenge_extra.empty());
    auto w = method.authenticate("joe-ticket", {});
    BOOST_REQUIRE(w.kind == Outcome::Kind::welcome);
    BOOST_TEST(w.principal.authid == "joe");
    BOOST_TEST(w.principal.authrole == "frontend");
    BOOST_TEST(w.principal.authmethod == "ticket");
    BOOST_TEST(w.principal.authprovider == "static");
    BOOST_TEST((w.principal.authextra == wamp::Dict{{"x", wamp::Value{1}}}));  // HELLO authextra echoed
}

BOOST_AUTO_TEST_CASE(ticket_denials) {
    auth::TicketMethod wrong(ticket, realms);
    wrong.hello(hello_as("joe"));
    expect_deny(wrong.authenticate("joe-ticket!", {}), "wamp.error.not_authorized",
                "ticket in static WAMP-Ticket authentication is invalid");
    auth::TicketMethod prefix(ticket, realms);
    prefix.hello(hello_as("joe"));
    expect_deny(prefix.authenticate("joe", {}), "wamp.error.not_authorized",
                "ticket in static WAMP-Ticket authentication is invalid");
    // Unknown authid: denied before any challenge, as Crossbar.
    expect_deny(auth::TicketMethod(ticket, realms).hello(hello_as("mallory")), "wamp.error.not_authorized",
                "no principal with authid \"mallory\" exists");
    expect_deny(auth::TicketMethod(ticket, realms).hello(hello_as(std::nullopt)), "wamp.error.not_authorized",
                "no principal with authid \"None\" exists");
    expect_deny(auth::TicketMethod(ticket, realms).hello(hello_as("norole")), "wamp.error.no_such_role",
                "no authrole assigned");
    expect_deny(auth::TicketMethod(ticket, realms).hello(hello_as("ghost")), "wamp.error.no_such_role",
                "realm \"realm1\" has no role \"nosuchrole\"");
    // A ticket taken from an unset environment variable matches nothing, not even "".
    auth::TicketMethod unset(ticket, realms);
    BOOST_REQUIRE(unset.hello(hello_as("unset")).kind == Outcome::Kind::challenge);
    expect_deny(unset.authenticate("", {}), "wamp.error.not_authorized",
                "ticket in static WAMP-Ticket authentication is invalid");
}

BOOST_AUTO_TEST_CASE(wampcra_challenge_has_crossbars_keys) {
    auth::WampCraMethod method(wampcra, realms);
    auto c = method.hello(hello_as("joe"));
    BOOST_REQUIRE(c.kind == Outcome::Kind::challenge);
    BOOST_TEST(c.challenge_method == "wampcra");
    BOOST_REQUIRE_EQUAL(c.challenge_extra.size(), 1u);  // not salted: no salt, iterations or keylen
    rapidjson::Document doc;
    doc.Parse(wamp::find(c.challenge_extra, "challenge")->as_string()->c_str());
    BOOST_REQUIRE(doc.IsObject());
    std::vector<std::string> keys;
    for (const auto& m : doc.GetObject()) keys.emplace_back(m.name.GetString());
    BOOST_TEST((keys == std::vector<std::string>{"authid", "authrole", "authmethod", "authprovider", "session", "nonce",
                                                  "timestamp"}));
    BOOST_TEST(doc["authid"].GetString() == std::string("joe"));
    BOOST_TEST(doc["authrole"].GetString() == std::string("frontend"));
    BOOST_TEST(doc["authmethod"].GetString() == std::string("wampcra"));
    BOOST_TEST(doc["authprovider"].GetString() == std::string("static"));
    BOOST_TEST(doc["session"].GetUint64() == 4242u);
    BOOST_TEST(std::string(doc["nonce"].GetString()).size() == 64u);
    std::string timestamp = doc["timestamp"].GetString();
    BOOST_TEST(timestamp.size() == 24u);  // 2014-06-22T16:51:41.643Z
    BOOST_TEST(timestamp.back() == 'Z');
    // Every challenge is fresh.
    auto again = auth::WampCraMethod(wampcra, realms).hello(hello_as("joe"));
    BOOST_TEST(*wamp::find(again.challenge_extra, "challenge")->as_string() !=
               *wamp::find(c.challenge_extra, "challenge")->as_string());
}

BOOST_AUTO_TEST_CASE(wampcra_plain_secret) {
    auth::WampCraMethod method(wampcra, realms);
    auto c = method.hello(hello_as("joe"));
    auto w = method.authenticate(signed_challenge(c, "secret2"), {});
    BOOST_REQUIRE(w.kind == Outcome::Kind::welcome);
    BOOST_TEST(w.principal.authid == "joe");
    BOOST_TEST(w.principal.authrole == "frontend");
    BOOST_TEST(w.principal.authmethod == "wampcra");
    BOOST_TEST(w.principal.authextra.empty());

    auth::WampCraMethod wrong(wampcra, realms);
    auto c2 = wrong.hello(hello_as("joe"));
    expect_deny(wrong.authenticate(signed_challenge(c2, "secret3"), {}), "wamp.error.not_authorized",
                "WAMP-CRA client signature is invalid");
}

BOOST_AUTO_TEST_CASE(wampcra_salted_accepts_crossbar_26_and_22_keys) {
    auth::WampCraMethod v26(wampcra, realms);
    auto c = v26.hello(hello_as("peter"));
    BOOST_REQUIRE(c.kind == Outcome::Kind::challenge);
    BOOST_TEST(*wamp::find(c.challenge_extra, "salt")->as_string() == "salt123");
    BOOST_TEST(*wamp::find(c.challenge_extra, "iterations")->as_integer() == 100);
    BOOST_TEST(*wamp::find(c.challenge_extra, "keylen")->as_integer() == 16);
    // 26.x: the config secret is the password; the client derives the key (Autobahn derive_key).
    BOOST_TEST(v26.authenticate(signed_challenge(c, auth::wampcra_derive_key("secret2", "salt123", 100, 16)), {}).kind ==
               Outcome::Kind::welcome);
    // 22.x: the config secret is the derived key already, used as the HMAC key as it stands.
    auth::WampCraMethod v22(wampcra, realms);
    auto c2 = v22.hello(hello_as("peter"));
    BOOST_TEST(v22.authenticate(signed_challenge(c2, "secret2"), {}).kind == Outcome::Kind::welcome);
    auth::WampCraMethod wrong(wampcra, realms);
    auto c3 = wrong.hello(hello_as("peter"));
    expect_deny(wrong.authenticate(signed_challenge(c3, auth::wampcra_derive_key("secret3", "salt123", 100, 16)), {}),
                "wamp.error.not_authorized", "WAMP-CRA client signature is invalid");
}

BOOST_AUTO_TEST_CASE(wampcra_salt_parameters_only_when_all_are_configured) {
    auth::WampCraMethod method(wampcra, realms);
    auto c = method.hello(hello_as("half"));
    BOOST_TEST(c.challenge_extra.size() == 1u);
    BOOST_TEST(method.authenticate(signed_challenge(c, "secret2"), {}).kind == Outcome::Kind::welcome);
}

BOOST_AUTO_TEST_CASE(wampcra_denials_before_the_challenge) {
    expect_deny(auth::WampCraMethod(wampcra, realms).hello(hello_as("mallory")), "wamp.error.not_authorized",
                "no principal with authid \"mallory\" exists");
    realms.roles.erase({"realm1", "user"});
    wampcra.users.emplace("defaulted", config::WampCraUser{std::string("s"), std::nullopt, {}, {}, {}});
    expect_deny(auth::WampCraMethod(wampcra, realms).hello(hello_as("defaulted")), "wamp.error.no_such_role",
                "realm \"realm1\" has no role \"user\"");  // default-role applies, and is checked
}

// Autobahn's derive_key returns base64 text, and that text is the HMAC key.
BOOST_AUTO_TEST_CASE(wampcra_vectors) {
    // PBKDF2-HMAC-SHA256 vector of RFC 7914 §11 (P="passwd", S="salt", c=1, dkLen=64), base64.
    BOOST_TEST(auth::wampcra_derive_key("passwd", "salt", 1, 64) ==
               "VawEblbjCJ/sFpHCJUS2BflBhSFt3gRl5oudV8INrLxJypzM8Xm2RZkWZLOdd+8xfHG4RbHjC9UJESBB06GXgw==");
    // Crossbar's documented salted user, computed with Autobahn|Python 22.7.1 derive_key / compute_wcs.
    auto key = auth::wampcra_derive_key("secret2", "salt123", 100, 16);
    BOOST_TEST(key == "LG5/FwnS5WvgmlEyLPk/pQ==");
    BOOST_TEST(auth::wampcra_signature(key, R"({"authid":"peter"})") == "tTU1VWMDjGpKlT8JKFYWi6dNLdFVqhRXO4fu1ksdvRQ=");
    // wampy's unit test vector (test/unit/test_authentication.py): a base64-looking secret used as text.
    BOOST_TEST(auth::wampcra_signature("prq7+YkJ1/KlW1X0YczMHw==",
                                       "{'authid': 'peter', 'authrole': 'wampy', 'authmethod': 'wampcra', "
                                       "'authprovider': 'static', 'session': 3071302313344522, 'nonce': "
                                       "'acL4f0gAqPijddsa6ko555z5nTLF3pjWp0lO0okYDvCC4GhXt8NbTooRaeYjNwTu', "
                                       "'timestamp': '2019-01-17T12:09:52.508Z'}") ==
               "bn55LVCWcn68Zrqifsn8Dh0YZMfhmnyeRd0Hrllqlg4=");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(method_selection)

namespace {
std::string chosen(const std::vector<std::string>& offered, const config::TransportAuth& auth, std::string* denial_uri,
                   std::string* denial_message = nullptr) {
    Directory realms;
    auth::MethodContext context{realms, [](Outcome) {}};
    auto s = auth::select_method(offered, auth, context);
    if (s.denial) {
        *denial_uri = s.denial->error_uri;
        if (denial_message) *denial_message = s.denial->message;
        return "";
    }
    return s.method->hello(hello_as("joe")).principal.authmethod;
}
}  // namespace

BOOST_AUTO_TEST_CASE(crossbar_selection_rules) {
    config::TransportAuth with_block;
    with_block.has_auth_block = true;
    with_block.ticket = config::TicketAuth{{{"joe", {std::string("t"), std::string("frontend")}}}, std::nullopt};
    with_block.anonymous = config::AnonymousAuth{};
    std::string uri, message;
    // First configured method in the client's order wins.
    BOOST_TEST(chosen({"anonymous", "ticket"}, with_block, &uri) == "anonymous");
    // Known but unconfigured methods are skipped.
    BOOST_TEST(chosen({"wampcra", "cryptosign", "anonymous"}, with_block, &uri) == "anonymous");
    // An unknown method refuses at once, even when a later one is configured.
    BOOST_TEST(chosen({"wampcra", "password", "anonymous"}, with_block, &uri, &message).empty());
    BOOST_TEST(uri == "wamp.error.not_authorized");
    BOOST_TEST(message == "invalid authmethod \"password\"");
    // Nothing configured: Crossbar's no_auth_method (not the spec's no_matching_auth_method).
    BOOST_TEST(chosen({"wampcra", "scram"}, with_block, &uri, &message).empty());
    BOOST_TEST(uri == "wamp.error.no_auth_method");
    BOOST_TEST(message == "cannot authenticate using any of the offered authmethods ['wampcra', 'scram']");
    // No authmethods (or an empty list) means ["anonymous"].
    BOOST_TEST(chosen({}, with_block, &uri) == "anonymous");

    config::TransportAuth no_block;  // anonymous only; unknown names are not looked at
    BOOST_TEST(chosen({"password", "anonymous"}, no_block, &uri) == "anonymous");
    BOOST_TEST(chosen({"ticket"}, no_block, &uri).empty());
    BOOST_TEST(uri == "wamp.error.no_auth_method");
}

BOOST_AUTO_TEST_SUITE_END()
