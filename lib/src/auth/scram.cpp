#include "blindrouter/auth/scram.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>

#include "blindrouter/wamp/error_uri.hpp"

namespace blindrouter::auth {
namespace {

using Digest = std::array<unsigned char, crypto_auth_hmacsha256_BYTES>;

Digest hmac_sha256(std::string_view key, std::string_view message) {
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()), key.size());
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(message.data()), message.size());
    Digest out{};
    crypto_auth_hmacsha256_final(&state, out.data());
    sodium_memzero(&state, sizeof state);
    return out;
}

std::string_view view(const Digest& digest) {
    return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

Outcome deny(std::string message) {
    return Outcome::deny(std::string(wamp::error_uri::not_authorized), std::move(message));
}

// Crossbar and Autobahn put SASLprep(authid) into the AuthMessage (passlib's saslprep).
// For printable ASCII that is the identity; the stringprep tables for the rest are not
// linked, so other authids are refused rather than risking a different AuthMessage.
bool saslprep_is_identity(std::string_view authid) {
    return std::all_of(authid.begin(), authid.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

}  // namespace

ScramAuthentication::ScramAuthentication(const config::ScramAuth& config, RandomBytes random)
    : config_(config), random_(std::move(random)) {
    init_sodium();
}

Outcome ScramAuthentication::hello(const HelloInfo& hello) {
    const auto* nonce_value = wamp::find(hello.authextra, "nonce");
    if (!nonce_value || nonce_value->is_null()) return deny("client must send a nonce");
    const auto* nonce_text = nonce_value->as_string();
    auto client_nonce = nonce_text ? from_base64(*nonce_text) : std::nullopt;
    if (!client_nonce) return deny("client nonce must be base64");
    if (!hello.authid) return deny("cannot identify client: no authid requested");

    const config::ScramPrincipal* principal = nullptr;
    for (const auto& candidate : config_.principals)
        if (candidate.authid == *hello.authid) principal = &candidate;
    if (!principal) return deny("no principal with authid \"" + *hello.authid + "\" exists");
    auto role = principal->role ? principal->role : config_.default_role;
    if (!role) return Outcome::deny(std::string(wamp::error_uri::no_such_role), "no authrole assigned");
    if (!saslprep_is_identity(*hello.authid)) return deny("SCRAM authid must be printable ASCII on this router");

    // Crossbar: the server nonce is the client's nonce bytes followed by 16 random bytes.
    std::string server_nonce = *client_nonce + std::string(16, '\0');
    random_(std::span(reinterpret_cast<unsigned char*>(server_nonce.data()) + client_nonce->size(), 16));
    auto client_nonce_text = to_base64(*client_nonce);
    auto server_nonce_text = to_base64(server_nonce);
    auto salt_text = to_base64(principal->salt);

    auth_message_ = "n=" + *hello.authid + ",r=" + client_nonce_text + ",r=" + server_nonce_text + ",s=" + salt_text +
                    ",i=" + std::to_string(principal->iterations) + ",c=,r=" + server_nonce_text;
    principal_ = principal;
    role_ = *role;

    wamp::Dict extra;
    extra.emplace_back("nonce", server_nonce_text);
    extra.emplace_back("kdf", principal->kdf);
    extra.emplace_back("salt", salt_text);
    extra.emplace_back("iterations", principal->iterations);
    extra.emplace_back("memory", principal->memory);
    return Outcome::challenge(std::string(scram_authmethod), std::move(extra));
}

Outcome ScramAuthentication::authenticate(const std::string& signature, const wamp::Dict&) {
    if (!principal_) return deny("no pending authentication");
    const auto* principal = principal_;
    principal_ = nullptr;
    auto proof = from_base64(signature);
    if (!proof || proof->size() != crypto_auth_hmacsha256_BYTES) return deny("SCRAM authentication failed");

    // RFC 5802 §3: the proof XOR HMAC(StoredKey, AuthMessage) is the ClientKey, whose
    // SHA-256 must be the StoredKey.
    auto client_key = hmac_sha256(principal->stored_key, auth_message_);
    for (std::size_t i = 0; i < client_key.size(); ++i) client_key[i] ^= static_cast<unsigned char>((*proof)[i]);
    std::array<unsigned char, crypto_hash_sha256_BYTES> recovered{};
    crypto_hash_sha256(recovered.data(), client_key.data(), client_key.size());
    sodium_memzero(client_key.data(), client_key.size());
    bool valid = principal->stored_key.size() == recovered.size() &&
                 sodium_memcmp(recovered.data(), principal->stored_key.data(), recovered.size()) == 0;
    if (!valid) return deny("SCRAM authentication failed");

    Principal welcome{principal->authid, role_, std::string(scram_authmethod), "static", {}, std::nullopt};
    welcome.authextra.emplace_back("scram_server_signature",
                                   to_base64(view(hmac_sha256(principal->server_key, auth_message_))));
    return Outcome::welcome(std::move(welcome));
}

}  // namespace blindrouter::auth
