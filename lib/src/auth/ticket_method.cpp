#include "blindrouter/auth/static_methods.hpp"
#include "blindrouter/wamp/error_uri.hpp"
#include "secret_crypto.hpp"

namespace blindrouter::auth {

// cb:router/auth/ticket.py, type static.
Outcome TicketMethod::hello(const HelloInfo& hello) {
    auto it = hello.authid ? config_.principals.find(*hello.authid) : config_.principals.end();
    // Crossbar denies an unknown authid before any challenge, formatting a missing one as None.
    if (it == config_.principals.end())
        return Outcome::deny(std::string(wamp::error_uri::not_authorized),
                             "no principal with authid \"" + hello.authid.value_or("None") + "\" exists");
    Principal principal;
    principal.authid = it->first;
    principal.authrole = it->second.role.value_or(config_.default_role.value_or(""));
    principal.authmethod = "ticket";
    principal.authprovider = "static";
    principal.authextra = hello.authextra;  // Crossbar echoes the client's HELLO authextra
    if (auto denial = check_principal(principal, hello.realm, realms_)) return *denial;
    principal_ = std::move(principal);
    ticket_ = &it->second.ticket;
    return Outcome::challenge("ticket", {});
}

Outcome TicketMethod::authenticate(const std::string& signature, const wamp::Dict&) {
    if (principal_ && ticket_ && *ticket_ && detail::secrets_equal(signature, **ticket_))
        return Outcome::welcome(std::move(*principal_));
    return Outcome::deny(std::string(wamp::error_uri::not_authorized),
                         "ticket in static WAMP-Ticket authentication is invalid");
}

}  // namespace blindrouter::auth
