#pragma once
// Authentication methods as the session's state machine sees them (issue 12).
// A session between HELLO and WELCOME holds one PendingAuthentication, made by the
// method Crossbar's selection rules chose (shared/ADVANCED.md §7b). The method
// answers HELLO and AUTHENTICATE with an Outcome: welcome, a CHALLENGE to send,
// a denial (ABORT), or "pending" when it waits for a dynamic authenticator; it then
// answers later through the `resume` callback it was given.
//
// Methods never log or put in an Outcome's text any secret, ticket, signature or
// challenge.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "blindrouter/wamp/value.hpp"

namespace blindrouter::auth {

// Who the session is, once authenticated (WELCOME.Details).
struct Principal {
    std::string authid;
    std::string authrole;
    std::string authmethod;                 // "ticket", "wampcra", ...
    std::string authprovider = "static";    // "static" or "dynamic"
    wamp::Dict authextra;                   // WELCOME.Details.authextra
    std::optional<std::string> realm;       // a principal may name its realm (Crossbar)
};

struct Outcome {
    enum class Kind : unsigned char { welcome, challenge, deny, pending };
    Kind kind = Kind::deny;
    Principal principal;            // welcome
    std::string challenge_method;   // challenge: CHALLENGE.AuthMethod
    wamp::Dict challenge_extra;     // challenge: CHALLENGE.Extra
    std::string error_uri;          // deny: the ABORT reason (wamp.error.not_authorized, ...)
    std::string message;            // deny: ABORT.Details.message, never a secret
    // deny: `message` is what a dynamic authenticator's ERROR carried in its
    // Arguments; the client is told it (as Crossbar does) but our log is not.
    bool message_is_payload = false;

    static Outcome welcome(Principal p) { return {Kind::welcome, std::move(p), {}, {}, {}, {}, false}; }
    static Outcome challenge(std::string method, wamp::Dict extra) {
        return {Kind::challenge, {}, std::move(method), std::move(extra), {}, {}, false};
    }
    static Outcome deny(std::string uri, std::string message) {
        return {Kind::deny, {}, {}, {}, std::move(uri), std::move(message), false};
    }
    static Outcome pending() { return {Kind::pending, {}, {}, {}, {}, {}, false}; }
};

struct PeerCertificate;  // auth/tls_method.hpp

// What a method may know of the HELLO and the transport.
struct HelloInfo {
    std::uint64_t session_id = 0;
    std::optional<std::string> realm;       // as requested; nothing when HELLO.Realm was null
    std::optional<std::string> authid;      // HELLO.Details.authid
    std::optional<std::string> authrole;    // HELLO.Details.authrole
    wamp::Dict authextra;                   // HELLO.Details.authextra
    wamp::Dict transport;                   // transport details (type, peer, ...), for dynamic authenticators
    std::optional<std::string> tls_unique;  // the TLS channel binding (32 bytes), when the transport is TLS
    // The client's TLS certificate, verified against the endpoint's ca_certificates.
    std::shared_ptr<const PeerCertificate> peer_certificate;
    // The connection's tracking cookie, given only where Crossbar makes it the anonymous
    // authid: a transport without an auth block (cb:router/session.py:963-971).
    std::optional<std::string> tracking_id;
};

class PendingAuthentication {
public:
    virtual ~PendingAuthentication() = default;
    virtual Outcome hello(const HelloInfo& hello) = 0;
    // AUTHENTICATE.Signature and .Extra.
    virtual Outcome authenticate(const std::string& signature, const wamp::Dict& extra) = 0;
};

// A method's answer that arrives after `pending` (a dynamic authenticator's).
using Resume = std::function<void(Outcome)>;

// What a method may ask of the router while it assigns a principal (Crossbar's
// IRealmContainer: has_realm, has_role).
class RealmDirectory {
public:
    virtual ~RealmDirectory() = default;
    virtual bool has_realm(std::string_view realm) const = 0;
    virtual bool has_role(std::string_view realm, std::string_view role) const = 0;
};

// Crossbar's principal checks (cb:router/auth/pending.py:94-154, `_assign_principal`),
// in its order: a realm, an authid and a role must be assigned, the realm must exist,
// and the role must exist on it unless it is "anonymous" or "trusted". Returns the
// denial, or nothing when the principal may be welcomed. `requested_realm` (nothing
// when the client named none) is used when the principal names none.
std::optional<Outcome> check_principal(const Principal& principal, std::optional<std::string_view> requested_realm,
                                       const RealmDirectory& realms);

}  // namespace blindrouter::auth
