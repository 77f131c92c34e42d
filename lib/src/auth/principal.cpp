#include "blindrouter/auth/authenticator.hpp"
#include "blindrouter/wamp/error_uri.hpp"

namespace blindrouter::auth {
namespace uri = wamp::error_uri;

std::optional<Outcome> check_principal(const Principal& principal, std::optional<std::string_view> requested_realm,
                                       const RealmDirectory& realms) {
    std::string realm(principal.realm ? std::string_view(*principal.realm) : requested_realm.value_or(""));
    if (realm.empty()) return Outcome::deny(std::string(uri::no_such_realm), "no realm assigned");
    if (principal.authid.empty()) return Outcome::deny(std::string(uri::no_such_principal), "no authid assigned");
    if (principal.authrole.empty()) return Outcome::deny(std::string(uri::no_such_role), "no authrole assigned");
    if (!realms.has_realm(realm))
        return Outcome::deny(std::string(uri::no_such_realm), "no realm \"" + realm + "\" exists on this router");
    // Crossbar exempts these two: a session may hold them on a realm that does not define
    // them, and is then denied every action (cb:router/auth/pending.py:145-152).
    if (principal.authrole != "trusted" && principal.authrole != "anonymous" &&
        !realms.has_role(realm, principal.authrole))
        return Outcome::deny(std::string(uri::no_such_role),
                             "realm \"" + realm + "\" has no role \"" + principal.authrole + "\"");
    return std::nullopt;
}

}  // namespace blindrouter::auth
