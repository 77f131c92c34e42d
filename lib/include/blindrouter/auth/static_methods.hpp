#pragma once
// The methods Crossbar serves from a transport's `auth` block with `type: static`
// (shared/ADVANCED.md §7c). One class per method; each lives in lib/src/auth/.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "blindrouter/auth/authenticator.hpp"
#include "blindrouter/config/node_config.hpp"

namespace blindrouter::auth {

// Crossbar's generated authid (autobahn util.generate_serial_number): six groups of
// four characters from an alphabet without look-alikes, e.g. "YRAC-EL4X-FQQE-AW4T-WNUV-VN6T".
std::string generate_serial_authid();

// WAMP-Anonymous (cb:router/auth/anonymous.py): welcomes at HELLO.
class AnonymousMethod final : public PendingAuthentication {
public:
    explicit AnonymousMethod(const config::AnonymousAuth& config) : config_(config) {}
    Outcome hello(const HelloInfo& hello) override;
    Outcome authenticate(const std::string& signature, const wamp::Dict& extra) override;

private:
    const config::AnonymousAuth& config_;
};

// WAMP-Ticket (cb:router/auth/ticket.py): CHALLENGE "ticket" {} for a known authid,
// then the ticket compared with the configured one.
class TicketMethod final : public PendingAuthentication {
public:
    TicketMethod(const config::TicketAuth& config, const RealmDirectory& realms) : config_(config), realms_(realms) {}
    Outcome hello(const HelloInfo& hello) override;
    Outcome authenticate(const std::string& signature, const wamp::Dict& extra) override;

private:
    const config::TicketAuth& config_;
    const RealmDirectory& realms_;
    std::optional<Principal> principal_;          // set once the challenge is sent
    const std::optional<std::string>* ticket_ = nullptr;  // the configured ticket, absent if its variable was unset
};

// WAMP-CRA (cb:router/auth/wampcra.py): CHALLENGE with a JSON challenge string that
// the client signs with HMAC-SHA256.
//
// Salted users (salt, iterations and keylen all configured): Crossbar 26.x treats the
// configured secret as the password and derives the key from it; Crossbar 22.x used it
// as the derived key itself. Configs are written for both, so a signature made with
// either key is accepted (both are secret; shared/ADVANCED.md §7c, §10).
class WampCraMethod final : public PendingAuthentication {
public:
    // `authprovider` goes into the challenge and WELCOME ("dynamic" when a dynamic
    // authenticator supplied the user).
    WampCraMethod(const config::WampCraAuth& config, const RealmDirectory& realms, std::string authprovider = "static")
        : config_(config), realms_(realms), authprovider_(std::move(authprovider)) {}
    Outcome hello(const HelloInfo& hello) override;
    Outcome authenticate(const std::string& signature, const wamp::Dict& extra) override;

private:
    const config::WampCraAuth& config_;
    const RealmDirectory& realms_;
    std::string authprovider_;
    std::optional<Principal> principal_;
    std::vector<std::string> expected_signatures_;
};

// Autobahn's wamp.auth helpers, as clients compute them (ab:wamp/auth.py:544-628).
// derive_key: base64(PBKDF2-HMAC-SHA256(secret, salt, iterations, keylen)); clients use
// this base64 text, not the raw bytes, as the HMAC key.
std::string wampcra_derive_key(std::string_view secret, std::string_view salt, int iterations, int keylen);
// compute_wcs: base64(HMAC-SHA256(key, challenge)).
std::string wampcra_signature(std::string_view key, std::string_view challenge);

}  // namespace blindrouter::auth
