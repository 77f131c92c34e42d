#pragma once
// WAMP-Cryptosign with static principals, as Crossbar serves it
// (spec:authentication_cryptosign.md; cb:router/auth/cryptosign.py; shared/ADVANCED.md §7a, §7c).
#include <array>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "blindrouter/auth/authenticator.hpp"
#include "blindrouter/auth/byte_encoding.hpp"
#include "blindrouter/config/node_config.hpp"

namespace blindrouter::auth {

// The node's Ed25519 key, in the files Crossbar keeps in the node directory
// (key.priv and key.pub; cb:common/key.py), so that a node directory moved between
// Crossbar and blindrouter keeps its identity.
class NodeKey {
public:
    // Reads <cbdir>/key.priv, or creates key.priv (0600) and key.pub (0644) when it is
    // absent; rewrites a missing key.pub from key.priv. Throws std::runtime_error naming
    // the file when a key file is corrupt or inconsistent (a start-up fault).
    static std::shared_ptr<const NodeKey> load_or_create(const std::filesystem::path& cbdir);
    // From a 32-byte Ed25519 seed (Crossbar's private-key-ed25519, decoded).
    static std::shared_ptr<const NodeKey> from_seed(std::string_view seed);

    NodeKey(const NodeKey&) = delete;
    NodeKey& operator=(const NodeKey&) = delete;
    ~NodeKey();

    const std::string& public_key_hex() const { return public_key_hex_; }
    // The 64-byte Ed25519 signature of `message`.
    std::string sign(std::string_view message) const;

private:
    NodeKey() = default;
    std::array<unsigned char, 64> secret_key_{};  // libsodium's seed ‖ public key
    std::string public_key_hex_;
};

inline constexpr std::string_view cryptosign_authmethod = "cryptosign";

// One pending cryptosign authentication. `config` must outlive it (it is the
// transport's auth config); `node_key` signs the client's challenge when the client
// asks the router to authenticate itself (HELLO authextra.challenge). With `realms`,
// the principal is checked at HELLO, before any challenge, as Crossbar does
// (cb:router/auth/cryptosign.py: _assign_principal before the challenge); without, the
// session checks it after AUTHENTICATE.
class CryptosignAuthentication final : public PendingAuthentication {
public:
    CryptosignAuthentication(const config::CryptosignAuth& config, std::shared_ptr<const NodeKey> node_key,
                             RandomBytes random = system_random(), const RealmDirectory* realms = nullptr);
    ~CryptosignAuthentication() override;

    Outcome hello(const HelloInfo& hello) override;
    Outcome authenticate(const std::string& signature, const wamp::Dict& extra) override;

private:
    const config::CryptosignAuth& config_;
    std::shared_ptr<const NodeKey> node_key_;
    RandomBytes random_;
    const RealmDirectory* realms_;
    std::string verify_key_;        // the client's Ed25519 public key, 32 bytes; empty until challenged
    std::string expected_message_;  // challenge, XORed with tls-unique when bound
    Principal principal_;
};

}  // namespace blindrouter::auth
