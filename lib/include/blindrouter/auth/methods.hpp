#pragma once
// Crossbar's authentication method selection (shared/ADVANCED.md §7b,
// cb:router/session.py:864-1107) and the factory of the methods a transport serves.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "blindrouter/auth/authenticator.hpp"
#include "blindrouter/config/node_config.hpp"

namespace blindrouter::auth {

// The method names Crossbar knows (cb:router/auth/__init__.py, AUTHMETHODS); a client
// that offers any other name is refused at once.
bool is_known_method(std::string_view name);

// What a method may use besides its configuration. `resume` is for methods that answer
// later (a dynamic authenticator's `pending`); static methods answer at once. Calling
// `resume` may end the session's authentication and destroy the method: call it as the
// method's last act.
class NodeKey;
class AuthenticatorCaller;

struct MethodContext {
    const RealmDirectory& realms;
    Resume resume;
    // The node's Ed25519 key (cryptosign router authentication); null when no
    // transport serves cryptosign.
    std::shared_ptr<const NodeKey> node_key = nullptr;
    // Calls dynamic authenticators (the router); null: `type: dynamic` denies.
    AuthenticatorCaller* authenticators = nullptr;
};

// The method `name` as the transport configures it, or nullptr when the transport does
// not configure it (or configures it in a form blindrouter does not serve): Crossbar
// then skips to the client's next method.
std::unique_ptr<PendingAuthentication> make_method(std::string_view name, const config::TransportAuth& auth,
                                                   const MethodContext& context);

// Either the chosen method or the ABORT to send.
struct Selection {
    std::unique_ptr<PendingAuthentication> method;
    std::optional<Outcome> denial;
    std::string method_name;  // the chosen method's, when there is one
};

// Walks the client's methods in its order (HELLO.Details.authmethods; absent means
// ["anonymous"]): an unknown name denies at once, an unconfigured one is skipped, and
// the first configured one is chosen, with no fallback if it later denies.
Selection select_method(const std::vector<std::string>& offered, const config::TransportAuth& auth,
                        const MethodContext& context);

}  // namespace blindrouter::auth
