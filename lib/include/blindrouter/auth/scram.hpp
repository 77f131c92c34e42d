#pragma once
// WAMP-SCRAM with static principals, as Crossbar serves it and Autobahn|Python's
// client computes it (spec:authentication_scram.md; cb:router/auth/scram.py;
// ab:wamp/auth.py AuthScram). Where Crossbar and the spec differ, Crossbar's wire
// form is kept, because that is what clients were written against:
// - authmethod "scram", not "wamp-scram"; KDF names "argon2id-13" and "pbkdf2";
// - CHALLENGE extra {nonce, kdf, salt, iterations, memory}, with no channel_binding
//   key: Autobahn puts that value into its AuthMessage as it stands, so a null there
//   would break every proof;
// - AuthMessage's channel-binding part is "c=" with nothing after it;
// - WELCOME authextra carries "scram_server_signature", not "verifier".
// The router never runs the KDF: a principal is configured with its verifier.
#include <string>
#include <string_view>

#include "blindrouter/auth/authenticator.hpp"
#include "blindrouter/auth/byte_encoding.hpp"
#include "blindrouter/config/node_config.hpp"

namespace blindrouter::auth {

inline constexpr std::string_view scram_authmethod = "scram";

// One pending SCRAM authentication; `config` must outlive it.
class ScramAuthentication final : public PendingAuthentication {
public:
    explicit ScramAuthentication(const config::ScramAuth& config, RandomBytes random = system_random());

    Outcome hello(const HelloInfo& hello) override;
    Outcome authenticate(const std::string& signature, const wamp::Dict& extra) override;

private:
    const config::ScramAuth& config_;
    RandomBytes random_;
    const config::ScramPrincipal* principal_ = nullptr;  // set by a challenge
    std::string role_;
    std::string auth_message_;
};

}  // namespace blindrouter::auth
