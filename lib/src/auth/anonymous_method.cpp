#include <random>

#include "blindrouter/auth/static_methods.hpp"
#include "blindrouter/wamp/error_uri.hpp"

namespace blindrouter::auth {

std::string generate_serial_authid() {
    static constexpr std::string_view alphabet = "345679ACEFGHJKLMNPQRSTUVWXY";
    static thread_local std::mt19937_64 engine{std::random_device{}()};
    std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
    std::string id;
    for (int group = 0; group < 6; ++group) {
        if (group) id += '-';
        for (int i = 0; i < 4; ++i) id += alphabet[pick(engine)];
    }
    return id;
}

// cb:router/auth/anonymous.py: the client's authid and authrole are ignored; its
// authextra is echoed back in WELCOME.
Outcome AnonymousMethod::hello(const HelloInfo& hello) {
    Principal principal;
    principal.authid = config_.authid       ? *config_.authid
                       : hello.tracking_id ? *hello.tracking_id
                                           : generate_serial_authid();
    principal.authrole = config_.role;
    principal.authmethod = "anonymous";
    principal.authprovider = "static";
    principal.authextra = hello.authextra;
    return Outcome::welcome(std::move(principal));
}

Outcome AnonymousMethod::authenticate(const std::string&, const wamp::Dict&) {
    return Outcome::deny(std::string(wamp::error_uri::not_authorized), "WAMP-Anonymous sends no challenge");
}

}  // namespace blindrouter::auth
