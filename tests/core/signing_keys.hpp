#pragma once
// An Ed25519 key pair from a fixed seed, signing as an Autobahn cryptosign client does.
#include <sodium.h>

#include <string>
#include <string_view>

#include "blindrouter/auth/byte_encoding.hpp"
#include "blindrouter/auth/cryptosign.hpp"

namespace blindrouter::testing {

struct SigningKeys {
    unsigned char public_key[crypto_sign_PUBLICKEYBYTES];
    unsigned char secret_key[crypto_sign_SECRETKEYBYTES];
    explicit SigningKeys(unsigned char seed_byte) {
        auth::init_sodium();
        unsigned char seed[crypto_sign_SEEDBYTES] = {seed_byte};
        crypto_sign_seed_keypair(public_key, secret_key, seed);
    }
    std::string public_hex() const {
        return auth::to_hex(std::string_view(reinterpret_cast<const char*>(public_key), sizeof public_key));
    }
    // Autobahn's answer: hex(signature ‖ message).
    std::string sign(const std::string& message) const {
        unsigned char signature[crypto_sign_BYTES];
        crypto_sign_detached(signature, nullptr, reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                             secret_key);
        return auth::to_hex(std::string(reinterpret_cast<const char*>(signature), sizeof signature) + message);
    }
};

}  // namespace blindrouter::testing
