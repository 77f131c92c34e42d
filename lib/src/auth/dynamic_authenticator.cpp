#include <spdlog/spdlog.h>

#include "blindrouter/auth/dynamic.hpp"
#include "blindrouter/auth/methods.hpp"
#include "blindrouter/wamp/error_uri.hpp"
#include "blindrouter/wamp/log_text.hpp"

namespace blindrouter::auth {
namespace uri = wamp::error_uri;

namespace {

// The name Python prints for a value's type, as in Crossbar's message
// 'got invalid return type "<class 'int'>" from dynamic authenticator'.
std::string python_type(const wamp::Value& value) {
    struct Name {
        const char* operator()(std::monostate) const { return "NoneType"; }
        const char* operator()(bool) const { return "bool"; }
        const char* operator()(std::int64_t) const { return "int"; }
        const char* operator()(std::uint64_t) const { return "int"; }
        const char* operator()(double) const { return "float"; }
        const char* operator()(const std::string&) const { return "str"; }
        const char* operator()(const wamp::Binary&) const { return "bytes"; }
        const char* operator()(const wamp::List&) const { return "list"; }
        const char* operator()(const wamp::Dict&) const { return "dict"; }
    };
    return std::string("<class '") + std::visit(Name{}, value.data) + "'>";
}

// Python's str() of an error's first argument, for the scalars an authenticator
// raises with; a container is named by its type instead of printed.
std::string python_str(const wamp::Value& value) {
    if (const auto* text = value.as_string()) return *text;
    if (value.is_null()) return "None";
    if (const auto* flag = value.as_bool()) return *flag ? "True" : "False";
    if (auto integer = value.as_integer()) return std::to_string(*integer);
    if (auto unsigned_integer = value.as_unsigned()) return std::to_string(*unsigned_integer);
    return python_type(value);
}

Outcome denial(std::string_view uri, std::string message) { return Outcome::deny(std::string(uri), std::move(message)); }

}  // namespace

std::variant<wamp::Dict, Outcome> read_authenticator_result(const AuthenticatorReply& reply) {
    if (!reply.kwargs.empty() || reply.args.size() > 1)
        return denial(uri::authentication_failed,
                      "got invalid return type \"<class 'autobahn.wamp.types.CallResult'>\" from dynamic authenticator");
    wamp::Value result = reply.args.empty() ? wamp::Value{} : reply.args.front();
    // Crossbar's backwards compatibility: an authenticator returning the role alone.
    if (const auto* role = result.as_string()) return wamp::Dict{{"role", wamp::Value{*role}}};
    if (auto* principal = result.as_dict()) return std::move(*principal);
    return denial(uri::authentication_failed,
                  "got invalid return type \"" + python_type(result) + "\" from dynamic authenticator");
}

Outcome authenticator_error(const AuthenticatorReply& reply) {
    auto denial = Outcome::deny(reply.error_uri.value_or(std::string(uri::authentication_failed)),
                                reply.args.empty() ? std::string() : python_str(reply.args.front()));
    denial.message_is_payload = true;
    return denial;
}

Outcome internal_authentication_error() {
    // Crossbar's URI here is authorization_failed, not authentication_failed.
    return Outcome::deny("wamp.error.authorization_failed", "Internal server error");
}

std::optional<Outcome> assign_principal(const wamp::Dict& principal, const std::optional<std::string>& default_role,
                                        std::optional<std::string_view> requested_realm, const RealmDirectory& realms,
                                        Principal& into) {
    for (auto [key, target] : {std::pair{"realm", 0}, std::pair{"authid", 1}, std::pair{"role", 2}}) {
        const auto* value = wamp::find(principal, key);
        if (!value) continue;
        const auto* text = value->as_string();
        if (!text)
            return denial(uri::authentication_failed, std::string("dynamic authenticator returned a principal whose \"") +
                                                          key + "\" is " + python_type(*value) + ", not a string");
        if (target == 0) into.realm = *text;
        else if (target == 1) into.authid = *text;
        else into.authrole = *text;
    }
    if (!wamp::find(principal, "role") && default_role) into.authrole = *default_role;
    if (const auto* extra = wamp::find(principal, "extra")) {
        if (const auto* dict = extra->as_dict()) into.authextra = *dict;
        else if (extra->is_null()) into.authextra.clear();
        else
            return denial(uri::authentication_failed,
                          "dynamic authenticator returned a principal whose \"extra\" is " + python_type(*extra) +
                              ", not a dict");
    }
    into.authprovider = "dynamic";
    return check_principal(into, requested_realm, realms);
}

wamp::Dict authenticator_details(const HelloInfo& hello, std::string_view authmethod) {
    return wamp::Dict{
        {"transport", wamp::Value{hello.transport}},
        {"session", wamp::Value{static_cast<std::uint64_t>(hello.session_id)}},
        {"authmethod", wamp::Value{std::string(authmethod)}},
        // Autobahn's HelloDetails.authextra is None when the client sent none.
        {"authextra", hello.authextra.empty() ? wamp::Value{} : wamp::Value{hello.authextra}},
    };
}

DynamicAuthenticator::DynamicAuthenticator(const config::DynamicAuthenticator& config, const MethodContext& context)
    : config_(config), realms_(context.realms), caller_(context.authenticators), resume_(context.resume) {}

std::optional<Outcome> DynamicAuthenticator::check(const std::optional<std::string>& session_realm) const {
    const auto& configured = config_.realm ? config_.realm : session_realm;
    // Crossbar formats the missing realm as Python's None.
    const std::string realm = configured.value_or("None");
    if (!configured || !realms_.has_realm(realm))
        return denial(uri::no_such_realm,
                      "explicit realm <" + realm + "> configured for dynamic authenticator does not exist");
    // Crossbar's role check passes for the role of its service session, "trusted".
    const auto& role = config_.role ? *config_.role : std::string("trusted");
    if (role != "trusted" && !realms_.has_role(realm, role))
        return denial(uri::no_such_role, "explicit role <" + role + "> on realm <" + realm +
                                             "> configured for dynamic authenticator does not exist");
    return std::nullopt;
}

Outcome DynamicAuthenticator::call(const std::optional<std::string>& realm, const std::optional<std::string>& authid,
                                   wamp::Dict details, Then then) {
    if (auto denied = check(realm)) return *denied;
    if (!caller_) return denial(uri::authentication_failed, "dynamic authenticators cannot be called on this router");
    then_ = std::move(then);
    wamp::List args{realm ? wamp::Value{*realm} : wamp::Value{}, authid ? wamp::Value{*authid} : wamp::Value{},
                    wamp::Value{std::move(details)}};
    calling_ = true;
    immediate_.reset();
    // The reply may come before call_authenticator returns (no callee, for instance):
    // it is kept and returned, since resume must not run inside the method's hello.
    // check() made sure one of the two is there.
    call_ = caller_->call_authenticator(config_.procedure, config_.realm ? *config_.realm : *realm,
                                        config_.role.value_or("trusted"), std::move(args),
                                        [this](AuthenticatorReply reply) {
                                            auto outcome = finish(reply);
                                            if (calling_) return void(immediate_ = std::move(outcome));
                                            // A copy: resuming may destroy this object.
                                            auto resume = resume_;
                                            resume(std::move(outcome));
                                        });
    calling_ = false;
    if (immediate_) {
        call_.reset();
        return std::move(*immediate_);
    }
    return Outcome::pending();
}

Outcome DynamicAuthenticator::finish(const AuthenticatorReply& reply) {
    if (reply.error_uri) {
        spdlog::info("dynamic authenticator \"{}\" answered with error {}", wamp::log_text(config_.procedure),
                     wamp::log_text(*reply.error_uri));
        return authenticator_error(reply);
    }
    auto principal = read_authenticator_result(reply);
    if (auto* denied = std::get_if<Outcome>(&principal)) return std::move(*denied);
    return then_(std::get<wamp::Dict>(principal));
}

}  // namespace blindrouter::auth
