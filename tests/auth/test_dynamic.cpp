// Dynamic authenticators: Crossbar's reading of an authenticator's result and errors,
// its principal assignment, and the call life cycle (answered at once, later, or
// abandoned) against a fake caller.
#include <boost/test/unit_test.hpp>

#include <set>

#include "blindrouter/auth/dynamic.hpp"
#include "blindrouter/auth/methods.hpp"
#include "blindrouter/auth/static_methods.hpp"

using namespace blindrouter;
using auth::Outcome;
BOOST_TEST_DONT_PRINT_LOG_VALUE(blindrouter::auth::Outcome::Kind)

namespace {
struct Directory : auth::RealmDirectory {
    bool has_realm(std::string_view realm) const override { return realm == "realm1" || realm == "authrealm"; }
    bool has_role(std::string_view realm, std::string_view role) const override {
        return (realm == "realm1" && role == "frontend") || (realm == "authrealm" && role == "authenticator");
    }
};

// Records calls; the test answers them. A call's handle, when destroyed, marks it abandoned.
struct FakeCaller : auth::AuthenticatorCaller {
    struct Call {
        std::string procedure, realm, role;
        wamp::List args;
        Done done;
        bool abandoned = false;
    };
    struct Handle : auth::AuthenticatorCall {
        explicit Handle(Call& call) : call_(call) {}
        ~Handle() override { call_.abandoned = true; }
        Call& call_;
    };
    std::vector<std::unique_ptr<Call>> calls;
    std::optional<auth::AuthenticatorReply> answer_at_once;

    std::unique_ptr<auth::AuthenticatorCall> call_authenticator(const std::string& procedure, const std::string& realm,
                                                                const std::string& role, wamp::List args,
                                                                Done done) override {
        calls.push_back(std::make_unique<Call>(Call{procedure, realm, role, std::move(args), std::move(done)}));
        if (answer_at_once) calls.back()->done(*answer_at_once);
        return std::make_unique<Handle>(*calls.back());
    }
};

auth::AuthenticatorReply result(wamp::List args, wamp::Dict kwargs = {}) {
    return {std::nullopt, std::move(args), std::move(kwargs)};
}

void expect_deny(const Outcome& o, const std::string& uri, const std::string& message) {
    BOOST_REQUIRE(o.kind == Outcome::Kind::deny);
    BOOST_TEST(o.error_uri == uri);
    BOOST_TEST(o.message == message);
}

std::string denial_message(const auth::AuthenticatorReply& reply) {
    auto read = auth::read_authenticator_result(reply);
    BOOST_REQUIRE(std::holds_alternative<Outcome>(read));
    const auto& outcome = std::get<Outcome>(read);
    BOOST_TEST(outcome.error_uri == "wamp.error.authentication_failed");
    return outcome.message;
}

struct Fixture {
    Directory realms;
    FakeCaller caller;
    std::vector<Outcome> resumed;
    config::DynamicAuthenticator config{"com.example.authenticate", std::nullopt, std::nullopt, std::nullopt};
    auth::MethodContext context{realms, [this](Outcome o) { resumed.push_back(std::move(o)); }, nullptr, &caller};

    auth::HelloInfo hello(std::optional<std::string> authid) const {
        auth::HelloInfo info;
        info.session_id = 77;
        info.realm = "realm1";
        info.authid = std::move(authid);
        info.transport = wamp::Dict{{"channel_type", wamp::Value{"tcp"}}};
        return info;
    }
};
}  // namespace

BOOST_FIXTURE_TEST_SUITE(dynamic_authenticators, Fixture)

BOOST_AUTO_TEST_CASE(result_shapes_as_crossbar_reads_them) {
    auto role = auth::read_authenticator_result(result({wamp::Value{"frontend"}}));
    BOOST_REQUIRE(std::holds_alternative<wamp::Dict>(role));
    BOOST_TEST(*wamp::find(std::get<wamp::Dict>(role), "role")->as_string() == "frontend");

    wamp::Dict principal{{"role", wamp::Value{"frontend"}}, {"secret", wamp::Value{"s"}}};
    auto dict = auth::read_authenticator_result(result({wamp::Value{principal}}));
    BOOST_REQUIRE(std::holds_alternative<wamp::Dict>(dict));
    BOOST_TEST((std::get<wamp::Dict>(dict) == principal));

    BOOST_TEST(denial_message(result({wamp::Value{42}})) ==
               "got invalid return type \"<class 'int'>\" from dynamic authenticator");
    BOOST_TEST(denial_message(result({})) == "got invalid return type \"<class 'NoneType'>\" from dynamic authenticator");
    BOOST_TEST(denial_message(result({wamp::Value{wamp::List{}}})) ==
               "got invalid return type \"<class 'list'>\" from dynamic authenticator");
    // Several results or keyword results are Autobahn's CallResult, not a principal.
    const std::string call_result =
        "got invalid return type \"<class 'autobahn.wamp.types.CallResult'>\" from dynamic authenticator";
    BOOST_TEST(denial_message(result({wamp::Value{"a"}, wamp::Value{"b"}})) == call_result);
    BOOST_TEST(denial_message(result({}, {{"role", wamp::Value{"frontend"}}})) == call_result);
}

BOOST_AUTO_TEST_CASE(an_error_becomes_the_abort_with_its_uri_and_first_argument) {
    expect_deny(auth::authenticator_error({std::string("com.example.nope"), {wamp::Value{"go away"}}, {}}),
                "com.example.nope", "go away");
    expect_deny(auth::authenticator_error({std::string("com.example.nope"), {wamp::Value{7}}, {}}), "com.example.nope",
                "7");
    expect_deny(auth::authenticator_error({std::string("com.example.nope"), {}, {}}), "com.example.nope", "");
}

BOOST_AUTO_TEST_CASE(assign_principal_overrides_then_checks) {
    auth::Principal into{"asked", "", "ticket", "static", {}, std::nullopt};
    wamp::Dict principal{{"authid", wamp::Value{"given"}},
                         {"role", wamp::Value{"frontend"}},
                         {"extra", wamp::Value{wamp::Dict{{"k", wamp::Value{1}}}}}};
    BOOST_TEST(!auth::assign_principal(principal, std::nullopt, "realm1", realms, into));
    BOOST_TEST(into.authid == "given");
    BOOST_TEST(into.authrole == "frontend");
    BOOST_TEST(into.authprovider == "dynamic");
    BOOST_TEST(into.authextra.size() == 1u);

    auth::Principal defaulted{"asked", "", "ticket", "static", {}, std::nullopt};
    BOOST_TEST(!auth::assign_principal({}, std::string("frontend"), "realm1", realms, defaulted));
    BOOST_TEST(defaulted.authrole == "frontend");

    auth::Principal no_role{"asked", "", "ticket", "static", {}, std::nullopt};
    expect_deny(*auth::assign_principal({}, std::nullopt, "realm1", realms, no_role), "wamp.error.no_such_role",
                "no authrole assigned");
    auth::Principal bad_realm{"asked", "", "ticket", "static", {}, std::nullopt};
    expect_deny(*auth::assign_principal({{"role", wamp::Value{"frontend"}}, {"realm", wamp::Value{"elsewhere"}}},
                                        std::nullopt, "realm1", realms, bad_realm),
                "wamp.error.no_such_realm", "no realm \"elsewhere\" exists on this router");
    auth::Principal bad_type{"asked", "", "ticket", "static", {}, std::nullopt};
    BOOST_TEST(auth::assign_principal({{"role", wamp::Value{5}}}, std::nullopt, "realm1", realms, bad_type)->error_uri ==
               "wamp.error.authentication_failed");
}

BOOST_AUTO_TEST_CASE(authenticator_realm_and_role_are_checked_before_calling) {
    config.realm = "nosuchrealm";
    auth::DynamicAuthenticator missing_realm(config, context);
    expect_deny(*missing_realm.check("realm1"), "wamp.error.no_such_realm",
                "explicit realm <nosuchrealm> configured for dynamic authenticator does not exist");
    config.realm = "authrealm";
    config.role = "nobody";
    expect_deny(*auth::DynamicAuthenticator(config, context).check("realm1"), "wamp.error.no_such_role",
                "explicit role <nobody> on realm <authrealm> configured for dynamic authenticator does not exist");
    config.role = "authenticator";
    BOOST_TEST(!auth::DynamicAuthenticator(config, context).check("realm1"));
    config.realm.reset();
    config.role.reset();  // "trusted" on the session's realm, which always exists
    BOOST_TEST(!auth::DynamicAuthenticator(config, context).check("realm1"));
}

BOOST_AUTO_TEST_CASE(ticket_calls_at_authenticate_with_crossbars_arguments) {
    auto method = auth::make_dynamic_method("ticket", config, context);
    auto challenge = method->hello(hello("joe"));
    BOOST_REQUIRE(challenge.kind == Outcome::Kind::challenge);
    BOOST_TEST(caller.calls.empty());
    BOOST_TEST(method->authenticate("the-ticket", {}).kind == Outcome::Kind::pending);
    BOOST_REQUIRE(caller.calls.size() == 1u);
    const auto& call = *caller.calls.front();
    BOOST_TEST(call.procedure == "com.example.authenticate");
    BOOST_TEST(call.realm == "realm1");
    BOOST_TEST(call.role == "trusted");
    BOOST_REQUIRE(call.args.size() == 3u);
    BOOST_TEST(*call.args[0].as_string() == "realm1");
    BOOST_TEST(*call.args[1].as_string() == "joe");
    const auto& details = *call.args[2].as_dict();
    std::vector<std::string> keys;
    for (const auto& [key, value] : details) keys.push_back(key);
    BOOST_TEST((keys == std::vector<std::string>{"transport", "session", "authmethod", "authextra", "ticket"}));
    BOOST_TEST(*wamp::find(details, "ticket")->as_string() == "the-ticket");
    BOOST_TEST(*wamp::find(details, "session")->as_unsigned() == 77u);
    BOOST_TEST(wamp::find(details, "authextra")->is_null());

    caller.calls.front()->done(result({wamp::Value{"frontend"}}));
    BOOST_REQUIRE(resumed.size() == 1u);
    BOOST_REQUIRE(resumed[0].kind == Outcome::Kind::welcome);
    BOOST_TEST(resumed[0].principal.authid == "joe");
    BOOST_TEST(resumed[0].principal.authprovider == "dynamic");
}

BOOST_AUTO_TEST_CASE(a_reply_that_comes_at_once_is_returned_not_resumed) {
    caller.answer_at_once = auth::AuthenticatorReply{std::string("wamp.error.no_such_procedure"),
                                                     {wamp::Value{"no callee registered"}}, {}};
    auto method = auth::make_dynamic_method("anonymous", config, context);
    expect_deny(method->hello(hello(std::nullopt)), "wamp.error.no_such_procedure", "no callee registered");
    BOOST_TEST(resumed.empty());
}

BOOST_AUTO_TEST_CASE(destroying_the_method_abandons_its_call) {
    auto method = auth::make_dynamic_method("wampcra", config, context);
    BOOST_TEST(method->hello(hello("joe")).kind == Outcome::Kind::pending);
    BOOST_TEST(!caller.calls.front()->abandoned);
    method.reset();
    BOOST_TEST(caller.calls.front()->abandoned);
}

BOOST_AUTO_TEST_CASE(wampcra_challenges_with_the_returned_secret_salted_or_not) {
    auto method = auth::make_dynamic_method("wampcra", config, context);
    BOOST_TEST(method->hello(hello("joe")).kind == Outcome::Kind::pending);
    caller.calls.front()->done(result({wamp::Value{wamp::Dict{{"secret", wamp::Value{"pw"}},
                                                              {"role", wamp::Value{"frontend"}},
                                                              {"salt", wamp::Value{"salt123"}},
                                                              {"iterations", wamp::Value{100}},
                                                              {"keylen", wamp::Value{16}}}}}));
    BOOST_REQUIRE(resumed.size() == 1u);
    BOOST_REQUIRE(resumed[0].kind == Outcome::Kind::challenge);
    const auto& extra = resumed[0].challenge_extra;
    BOOST_TEST(*wamp::find(extra, "salt")->as_string() == "salt123");
    // Crossbar's challenge names the provider of the principal it was built for.
    BOOST_TEST(wamp::find(extra, "challenge")->as_string()->find("\"authprovider\":\"dynamic\"") != std::string::npos);
    auto key = auth::wampcra_derive_key("pw", "salt123", 100, 16);
    auto welcome = method->authenticate(auth::wampcra_signature(key, *wamp::find(extra, "challenge")->as_string()), {});
    BOOST_REQUIRE(welcome.kind == Outcome::Kind::welcome);
    BOOST_TEST(welcome.principal.authprovider == "dynamic");
}

BOOST_AUTO_TEST_CASE(wampcra_without_secret_is_crossbars_internal_error) {
    auto method = auth::make_dynamic_method("wampcra", config, context);
    method->hello(hello("joe"));
    caller.calls.front()->done(result({wamp::Value{wamp::Dict{{"role", wamp::Value{"frontend"}}}}}));
    BOOST_REQUIRE(resumed.size() == 1u);
    expect_deny(resumed[0], "wamp.error.authorization_failed", "Internal server error");
}

BOOST_AUTO_TEST_CASE(cryptosign_needs_a_public_key_in_the_principal) {
    auto method = auth::make_dynamic_method("cryptosign", config, context);
    method->hello(hello("joe"));
    caller.calls.front()->done(result({wamp::Value{wamp::Dict{{"role", wamp::Value{"frontend"}},
                                                              {"pubkey", wamp::Value{"abcd"}}}}}));
    BOOST_REQUIRE(resumed.size() == 1u);
    expect_deny(resumed[0], "wamp.error.authorization_failed", "Internal server error");
}

// cb:router/auth/tls.py: the authenticator is asked at HELLO with the transport
// details, which carry the client certificate, and its principal is welcomed at once.
BOOST_AUTO_TEST_CASE(tls_asks_at_hello_with_the_certificate_in_the_transport_details) {
    auto method = auth::make_dynamic_method("tls", config, context);
    auto info = hello("joe");
    info.transport = wamp::Dict{{"peer_cert", wamp::Value{wamp::Dict{{"sha1", wamp::Value{"E0:01"}}}}}};
    BOOST_TEST(method->hello(info).kind == Outcome::Kind::pending);
    BOOST_REQUIRE(caller.calls.size() == 1u);
    const auto& call = *caller.calls.front();
    BOOST_REQUIRE(call.args.size() == 3u);
    BOOST_TEST(*call.args[1].as_string() == "joe");
    const auto& details = *call.args[2].as_dict();
    BOOST_TEST(*wamp::find(details, "authmethod")->as_string() == "tls");
    const auto* cert = wamp::find(*wamp::find(details, "transport")->as_dict(), "peer_cert");
    BOOST_REQUIRE(cert);
    BOOST_TEST(*wamp::find(*cert->as_dict(), "sha1")->as_string() == "E0:01");
    caller.calls.front()->done(result({wamp::Value{wamp::Dict{{"authid", wamp::Value{"device-7"}},
                                                              {"role", wamp::Value{"frontend"}}}}}));
    BOOST_REQUIRE(resumed.size() == 1u);
    BOOST_REQUIRE(resumed[0].kind == Outcome::Kind::welcome);
    BOOST_TEST(resumed[0].principal.authid == "device-7");
    BOOST_TEST(resumed[0].principal.authmethod == "tls");
    BOOST_TEST(resumed[0].principal.authprovider == "dynamic");
    BOOST_TEST(method->authenticate("x", {}).kind == Outcome::Kind::deny);
}

BOOST_AUTO_TEST_CASE(without_a_caller_dynamic_methods_deny) {
    context.authenticators = nullptr;
    auto method = auth::make_dynamic_method("anonymous", config, context);
    BOOST_TEST(method->hello(hello(std::nullopt)).error_uri == "wamp.error.authentication_failed");
}

BOOST_AUTO_TEST_SUITE_END()
