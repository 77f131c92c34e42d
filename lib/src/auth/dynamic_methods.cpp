// The `type: dynamic` form of each method Crossbar serves dynamically
// (cb:router/auth/{ticket,wampcra,cryptosign,scram,anonymous}.py). Where the
// authenticator hands back the credential (a WAMP-CRA secret, a cryptosign public key,
// a SCRAM verifier), the static method does the challenge, run over a one-principal
// configuration made from the authenticator's answer.
#include "blindrouter/auth/cryptosign.hpp"
#include "blindrouter/auth/dynamic.hpp"
#include "blindrouter/auth/methods.hpp"
#include "blindrouter/auth/scram.hpp"
#include "blindrouter/auth/static_methods.hpp"
#include "blindrouter/wamp/error_uri.hpp"

namespace blindrouter::auth {
namespace {

// A static method's WELCOME, with what the authenticator assigned: the realm, the
// provider, and its extra ahead of what the method adds (SCRAM's server signature).
Outcome as_dynamic(Outcome outcome, const Principal& assigned) {
    if (outcome.kind != Outcome::Kind::welcome) return outcome;
    auto& principal = outcome.principal;
    principal.authprovider = "dynamic";
    principal.realm = assigned.realm;
    auto extra = assigned.authextra;
    for (auto& [key, value] : principal.authextra) wamp::set(extra, key, std::move(value));
    principal.authextra = std::move(extra);
    return outcome;
}

Outcome no_pending() {
    return Outcome::deny(std::string(wamp::error_uri::not_authorized), "no pending authentication");
}

const std::string* string_field(const wamp::Dict& principal, std::string_view key) {
    const auto* value = wamp::find(principal, key);
    return value ? value->as_string() : nullptr;
}

std::optional<std::string> hex_field(const wamp::Dict& principal, std::string_view key) {
    const auto* text = string_field(principal, key);
    return text ? from_hex(*text) : std::nullopt;
}

// Shared by the methods: the authenticator, the HELLO it answers for, and the
// principal it assigned.
class DynamicMethod : public PendingAuthentication {
public:
    DynamicMethod(const config::DynamicAuthenticator& config, const MethodContext& context, std::string_view method)
        : authenticator_(config, context), realms_(context.realms), method_(method) {}

protected:
    // Calls the authenticator for `hello`; `then` gets the assigned principal.
    Outcome call(const HelloInfo& hello, const std::optional<std::string>& authid, wamp::Dict details,
                 std::function<Outcome(const wamp::Dict&)> then) {
        hello_ = hello;
        assigned_ = Principal{authid.value_or(""), "", method_, "dynamic", {}, std::nullopt};
        return authenticator_.call(hello.realm, authid, std::move(details),
                                   [this, then = std::move(then)](const wamp::Dict& principal) {
                                       if (auto denied = assign_principal(principal, authenticator_.config().default_role,
                                                                          hello_.realm, realms_, assigned_))
                                           return *denied;
                                       return then(principal);
                                   });
    }
    // Details with the HELLO's authid and authrole, as wampcra and cryptosign send them.
    wamp::Dict details_with_identity(const HelloInfo& hello) const {
        auto details = authenticator_details(hello, method_);
        details.emplace_back("authid", hello.authid ? wamp::Value{*hello.authid} : wamp::Value{});
        details.emplace_back("authrole", hello.authrole ? wamp::Value{*hello.authrole} : wamp::Value{});
        return details;
    }
    // The HELLO as the static method must see it: from the assigned authid.
    HelloInfo assigned_hello() const {
        auto hello = hello_;
        hello.authid = assigned_.authid;
        return hello;
    }

    DynamicAuthenticator authenticator_;
    const RealmDirectory& realms_;
    std::string method_;
    HelloInfo hello_;
    Principal assigned_;
};

// A method whose challenge is the static method's, run over `config_` once the
// authenticator answered.
template <class StaticMethod, class Config>
class DelegatingMethod : public DynamicMethod {
public:
    using DynamicMethod::DynamicMethod;
    Outcome authenticate(const std::string& signature, const wamp::Dict& extra) override {
        if (!method_impl_) return no_pending();
        return as_dynamic(method_impl_->authenticate(signature, extra), assigned_);
    }

protected:
    Config config_;
    std::unique_ptr<StaticMethod> method_impl_;
};

// Ticket: Crossbar calls the authenticator at AUTHENTICATE, with the ticket in details.
class DynamicTicket final : public DynamicMethod {
public:
    DynamicTicket(const config::DynamicAuthenticator& config, const MethodContext& context)
        : DynamicMethod(config, context, "ticket") {}
    Outcome hello(const HelloInfo& hello) override {
        if (auto denied = authenticator_.check(hello.realm)) return *denied;
        hello_ = hello;
        details_ = authenticator_details(hello, method_);
        challenged_ = true;
        return Outcome::challenge(method_, {});
    }
    Outcome authenticate(const std::string& signature, const wamp::Dict&) override {
        if (!challenged_) return no_pending();
        challenged_ = false;
        auto details = std::move(details_);
        details.emplace_back("ticket", signature);
        auto hello = hello_;
        return call(hello, hello.authid, std::move(details),
                    [this](const wamp::Dict&) { return Outcome::welcome(assigned_); });
    }

private:
    wamp::Dict details_;
    bool challenged_ = false;
};

class DynamicAnonymous final : public DynamicMethod {
public:
    DynamicAnonymous(const config::DynamicAuthenticator& config, const MethodContext& context)
        : DynamicMethod(config, context, "anonymous") {}
    Outcome hello(const HelloInfo& hello) override {
        return call(hello, generate_serial_authid(), authenticator_details(hello, method_),
                    [this](const wamp::Dict&) { return Outcome::welcome(assigned_); });
    }
    Outcome authenticate(const std::string&, const wamp::Dict&) override {
        return Outcome::deny(std::string(wamp::error_uri::not_authorized), "WAMP-Anonymous sends no challenge");
    }
};

// WAMP-TLS (cb:router/auth/tls.py): the authenticator gets the HELLO's authid and the
// transport details, which carry the verified client certificate (`peer_cert`), and
// its principal is welcomed at once. As Crossbar, the router does not insist on a
// certificate here: the authenticator decides.
class DynamicTls final : public DynamicMethod {
public:
    DynamicTls(const config::DynamicAuthenticator& config, const MethodContext& context)
        : DynamicMethod(config, context, "tls") {}
    Outcome hello(const HelloInfo& hello) override {
        return call(hello, hello.authid, authenticator_details(hello, method_),
                    [this](const wamp::Dict&) { return Outcome::welcome(assigned_); });
    }
    Outcome authenticate(const std::string&, const wamp::Dict&) override {
        return Outcome::deny(std::string(wamp::error_uri::not_authorized), "WAMP-TLS does not use AUTHENTICATE");
    }
};

// WAMP-CRA: {secret, role, salt?, iterations?, keylen?, ...}; the challenge is the
// static method's, salted when all three salt keys are given.
class DynamicWampCra final : public DelegatingMethod<WampCraMethod, config::WampCraAuth> {
public:
    DynamicWampCra(const config::DynamicAuthenticator& config, const MethodContext& context)
        : DelegatingMethod(config, context, "wampcra") {}
    Outcome hello(const HelloInfo& hello) override {
        return call(hello, hello.authid, details_with_identity(hello), [this](const wamp::Dict& principal) {
            const auto* secret = string_field(principal, "secret");
            if (!secret) return internal_authentication_error();
            config::WampCraUser user{*secret, assigned_.authrole, std::nullopt, std::nullopt, std::nullopt};
            const auto* salt = wamp::find(principal, "salt");
            const auto* iterations = wamp::find(principal, "iterations");
            const auto* keylen = wamp::find(principal, "keylen");
            if (salt && iterations && keylen) {
                if (!salt->as_string() || !iterations->as_integer() || !keylen->as_integer() ||
                    *iterations->as_integer() < 1 || *keylen->as_integer() < 1)
                    return internal_authentication_error();
                user.salt = *salt->as_string();
                user.iterations = *iterations->as_integer();
                user.keylen = *keylen->as_integer();
            }
            config_.users.clear();
            config_.users.emplace(assigned_.authid, std::move(user));
            method_impl_ = std::make_unique<WampCraMethod>(config_, realms_, "dynamic");
            auto hello = assigned_hello();
            if (assigned_.realm) hello.realm = *assigned_.realm;
            return method_impl_->hello(hello);
        });
    }
};

// Cryptosign: {pubkey, role, ...}; the client's signature is verified with that key.
class DynamicCryptosign final : public DelegatingMethod<CryptosignAuthentication, config::CryptosignAuth> {
public:
    DynamicCryptosign(const config::DynamicAuthenticator& config, const MethodContext& context)
        : DelegatingMethod(config, context, "cryptosign"), node_key_(context.node_key) {}
    Outcome hello(const HelloInfo& hello) override {
        return call(hello, hello.authid, details_with_identity(hello), [this](const wamp::Dict& principal) {
            const auto* pubkey = string_field(principal, "pubkey");
            auto key = pubkey ? from_hex(*pubkey) : std::nullopt;
            if (!key || key->size() != 32) return internal_authentication_error();
            config_.principals = {config::CryptosignPrincipal{assigned_.authid, {*pubkey}, assigned_.authrole,
                                                              assigned_.realm}};
            method_impl_ = std::make_unique<CryptosignAuthentication>(config_, node_key_);
            auto hello = assigned_hello();
            wamp::set(hello.authextra, "pubkey", wamp::Value{*pubkey});
            return method_impl_->hello(hello);
        });
    }

private:
    std::shared_ptr<const NodeKey> node_key_;
};

// SCRAM: {kdf, iterations, memory, salt, stored-key, server-key (hex), role, ...},
// the verifier as in the static config.
class DynamicScram final : public DelegatingMethod<ScramAuthentication, config::ScramAuth> {
public:
    DynamicScram(const config::DynamicAuthenticator& config, const MethodContext& context)
        : DelegatingMethod(config, context, "scram") {}
    Outcome hello(const HelloInfo& hello) override {
        // Crossbar refuses a HELLO without nonce or authid before calling; the static
        // method with no principals gives the same denials.
        if (!hello.authid || !wamp::find(hello.authextra, "nonce"))
            return ScramAuthentication(config_).hello(hello);
        return call(hello, hello.authid, authenticator_details(hello, method_), [this](const wamp::Dict& principal) {
            const auto* kdf = string_field(principal, "kdf");
            const auto* iterations = wamp::find(principal, "iterations");
            const auto* memory = wamp::find(principal, "memory");
            auto salt = hex_field(principal, "salt");
            auto stored_key = hex_field(principal, "stored-key");
            auto server_key = hex_field(principal, "server-key");
            if (!kdf || !iterations || !iterations->as_integer() || !memory || !memory->as_integer() || !salt ||
                !stored_key || !server_key)
                return internal_authentication_error();
            config_.principals = {config::ScramPrincipal{assigned_.authid, *kdf, *iterations->as_integer(),
                                                         *memory->as_integer(), std::move(*salt),
                                                         std::move(*stored_key), std::move(*server_key),
                                                         assigned_.authrole}};
            method_impl_ = std::make_unique<ScramAuthentication>(config_);
            return method_impl_->hello(assigned_hello());
        });
    }
};

}  // namespace

std::unique_ptr<PendingAuthentication> make_dynamic_method(std::string_view name,
                                                           const config::DynamicAuthenticator& config,
                                                           const MethodContext& context) {
    if (name == "ticket") return std::make_unique<DynamicTicket>(config, context);
    if (name == "wampcra") return std::make_unique<DynamicWampCra>(config, context);
    if (name == "cryptosign") return std::make_unique<DynamicCryptosign>(config, context);
    if (name == "scram") return std::make_unique<DynamicScram>(config, context);
    if (name == "anonymous") return std::make_unique<DynamicAnonymous>(config, context);
    if (name == "tls") return std::make_unique<DynamicTls>(config, context);
    return nullptr;
}

}  // namespace blindrouter::auth
