#pragma once
// `type: dynamic` authentication (issue 12; shared/ADVANCED.md §7c; cb:router/auth/pending.py):
// the router asks a procedure a component registered who the client is. The call
// goes through a router-internal session (core/service_session.hpp) on the
// authenticator realm, so the call never blocks other sessions: the method answers
// `pending` and resumes when the reply comes.
//
// A method adds its dynamic form by holding one DynamicAuthenticator and calling
// `call(realm, authid, details, then)` where Crossbar calls the authenticator; `then`
// turns the authenticator's principal into the method's next Outcome (a CHALLENGE
// or a WELCOME). See dynamic_methods.cpp for ticket, wampcra, cryptosign, scram and
// anonymous.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "blindrouter/auth/authenticator.hpp"
#include "blindrouter/config/node_config.hpp"
#include "blindrouter/wamp/value.hpp"

namespace blindrouter::auth {

struct MethodContext;

// What the authenticator answered: its result, or the WAMP error it raised.
struct AuthenticatorReply {
    std::optional<std::string> error_uri;  // set when the call failed
    wamp::List args;
    wamp::Dict kwargs;
};

// A call in flight. Destroying it abandons the call: its reply, when it comes, is dropped.
class AuthenticatorCall {
public:
    virtual ~AuthenticatorCall() = default;
};

// The router's side: calls `procedure` on `realm` under `role`. `done` runs exactly
// once unless the returned call is destroyed first, and may run before `call` returns.
class AuthenticatorCaller {
public:
    using Done = std::function<void(AuthenticatorReply)>;
    virtual ~AuthenticatorCaller() = default;
    virtual std::unique_ptr<AuthenticatorCall> call_authenticator(const std::string& procedure,
                                                                  const std::string& realm, const std::string& role,
                                                                  wamp::List args, Done done) = 0;
};

// The principal an authenticator returned, as Crossbar reads a call result
// (Autobahn: one positional result is the value; none, several or keyword results are
// a CallResult object): a string is the role, a dict is the principal. Anything else
// is the denial Crossbar sends (wamp.error.authentication_failed, naming the Python type).
std::variant<wamp::Dict, Outcome> read_authenticator_result(const AuthenticatorReply& reply);

// The denial for an authenticator's error: its own URI and its first argument as the
// message (cb:router/auth/pending.py _marshal_dynamic_authenticator_error).
Outcome authenticator_error(const AuthenticatorReply& reply);

// Crossbar's _assign_principal over `into` (realm, authid and extra as the method set
// them before): the principal's realm, authid, role (else `default_role`) and extra
// override, then check_principal. A key of the wrong type is a denial.
std::optional<Outcome> assign_principal(const wamp::Dict& principal, const std::optional<std::string>& default_role,
                                        std::optional<std::string_view> requested_realm, const RealmDirectory& realms,
                                        Principal& into);

// The denial Crossbar sends when the authenticator's principal lacks what the method
// needs (a KeyError inside Crossbar: cb:router/session.py _swallow_error_and_abort).
Outcome internal_authentication_error();

// Crossbar's `details` argument: {transport, session, authmethod, authextra} (the
// method adds authid, authrole or ticket).
wamp::Dict authenticator_details(const HelloInfo& hello, std::string_view authmethod);

// One method's dynamic authenticator, for one pending authentication.
class DynamicAuthenticator {
public:
    // `then` maps the principal to the method's Outcome.
    using Then = std::function<Outcome(const wamp::Dict& principal)>;
    DynamicAuthenticator(const config::DynamicAuthenticator& config, const MethodContext& context);
    DynamicAuthenticator(const DynamicAuthenticator&) = delete;
    DynamicAuthenticator& operator=(const DynamicAuthenticator&) = delete;

    // Crossbar's _init_dynamic_authenticator: the authenticator realm (default:
    // `session_realm`) must exist and the role must exist on it ("trusted" always does).
    // `session_realm` is nothing when the client named no realm.
    std::optional<Outcome> check(const std::optional<std::string>& session_realm) const;
    // Calls the authenticator with (realm, authid, details), realm null when the client
    // named none. Returns the Outcome when
    // the reply came at once, else `pending`, and the Outcome goes to the context's
    // `resume` later (as its last act: resume may destroy the method and this object).
    Outcome call(const std::optional<std::string>& realm, const std::optional<std::string>& authid, wamp::Dict details,
                 Then then);
    const config::DynamicAuthenticator& config() const { return config_; }

private:
    Outcome finish(const AuthenticatorReply& reply);

    const config::DynamicAuthenticator& config_;
    const RealmDirectory& realms_;
    AuthenticatorCaller* caller_;
    Resume resume_;
    Then then_;
    std::unique_ptr<AuthenticatorCall> call_;
    bool calling_ = false;
    std::optional<Outcome> immediate_;
};

// The method `name` served by `config`'s authenticator; nullptr for a method without
// a dynamic form (cookie: Crossbar has none).
std::unique_ptr<PendingAuthentication> make_dynamic_method(std::string_view name,
                                                           const config::DynamicAuthenticator& config,
                                                           const MethodContext& context);

}  // namespace blindrouter::auth
