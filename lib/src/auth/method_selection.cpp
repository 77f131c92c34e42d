#include <array>

#include "blindrouter/auth/cryptosign.hpp"
#include "blindrouter/auth/dynamic.hpp"
#include "blindrouter/auth/methods.hpp"
#include "blindrouter/auth/scram.hpp"
#include "blindrouter/auth/static_methods.hpp"
#include "blindrouter/auth/tls_method.hpp"
#include "blindrouter/wamp/error_uri.hpp"

namespace blindrouter::auth {

bool is_known_method(std::string_view name) {
    static constexpr std::array<std::string_view, 9> known{
        "ticket", "wampcra", "tls", "cryptosign", "cryptosign-proxy", "cookie", "anonymous", "anonymous-proxy", "scram"};
    for (auto k : known)
        if (k == name) return true;
    return false;
}

std::unique_ptr<PendingAuthentication> make_method(std::string_view name, const config::TransportAuth& auth,
                                                   const MethodContext& context) {
    if (auto dynamic = auth.dynamic.find(name); dynamic != auth.dynamic.end())
        return make_dynamic_method(name, dynamic->second, context);
    if (name == "anonymous" && auth.anonymous) return std::make_unique<AnonymousMethod>(*auth.anonymous);
    if (name == "ticket" && auth.ticket) return std::make_unique<TicketMethod>(*auth.ticket, context.realms);
    if (name == "wampcra" && auth.wampcra) return std::make_unique<WampCraMethod>(*auth.wampcra, context.realms);
    if (name == "cryptosign" && auth.cryptosign && context.node_key)
        return std::make_unique<CryptosignAuthentication>(*auth.cryptosign, context.node_key, system_random(),
                                                          &context.realms);
    if (name == "scram" && auth.scram) return std::make_unique<ScramAuthentication>(*auth.scram);
    if (name == "tls" && auth.tls) return std::make_unique<TlsMethod>(*auth.tls);
    return nullptr;
}

Selection select_method(const std::vector<std::string>& offered, const config::TransportAuth& auth,
                        const MethodContext& context) {
    static const std::vector<std::string> anonymous_only{"anonymous"};
    const auto& methods = offered.empty() ? anonymous_only : offered;
    std::string listed;
    for (const auto& m : methods) listed += (listed.empty() ? "'" : ", '") + m + "'";
    if (!auth.has_auth_block) {
        // Without an auth block Crossbar accepts anonymous alone, whatever else is offered.
        for (const auto& m : methods)
            if (m == "anonymous") return {make_method(m, auth, context), std::nullopt, m};
        return {nullptr, Outcome::deny(std::string(wamp::error_uri::no_auth_method),
                                       "cannot authenticate using any of the offered authmethods [" + listed + "]"), {}};
    }
    for (const auto& m : methods) {
        if (!is_known_method(m))
            return {nullptr, Outcome::deny(std::string(wamp::error_uri::not_authorized), "invalid authmethod \"" + m + "\""), {}};
        if (auto method = make_method(m, auth, context)) return {std::move(method), std::nullopt, m};
    }
    return {nullptr, Outcome::deny(std::string(wamp::error_uri::no_auth_method),
                                   "cannot authenticate using any of the offered authmethods [" + listed + "]"), {}};
}

}  // namespace blindrouter::auth
