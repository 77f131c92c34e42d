#include "blindrouter/auth/cryptosign.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <ctime>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "blindrouter/wamp/error_uri.hpp"

namespace blindrouter::auth {
namespace {

// ---- The node key files (cb:common/key.py) --------------------------------------------

using Tags = std::vector<std::pair<std::string, std::string>>;

const std::string* tag(const Tags& tags, std::string_view name) {
    for (const auto& [key, value] : tags)
        if (key == name) return &value;
    return nullptr;
}

std::string trim(std::string_view text) {
    auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    auto last = text.find_last_not_of(" \t\r\n");
    return std::string(text.substr(first, last - first + 1));
}

// Crossbar's _parse_node_key: a free-text header, a blank line, then "tag: value" lines.
Tags parse_key_file(const std::filesystem::path& path, bool is_private) {
    static const std::vector<std::string_view> public_tags = {"public-key-ed25519", "public-adr-eth", "machine-id",
                                                              "node-authid",        "node-cluster-ip", "created-at",
                                                              "creator"};
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read node key file " + path.string());
    Tags tags;
    bool after_blank_line = false;
    std::string line;
    while (std::getline(in, line)) {
        if (trim(line).empty()) {
            after_blank_line = true;
            continue;
        }
        if (!after_blank_line) continue;
        auto colon = line.find(':');
        if (colon == std::string::npos) throw std::runtime_error("malformed line in key file " + path.string());
        std::string name = trim(std::string_view(line).substr(0, colon));
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        bool allowed = is_private && (name == "private-key-ed25519" || name == "private-key-eth");
        for (auto known : public_tags) allowed |= (name == known);
        if (!allowed) throw std::runtime_error("Invalid tag '" + name + "' in key file " + path.string());
        if (tag(tags, name)) throw std::runtime_error("Duplicate tag '" + name + "' in key file " + path.string());
        tags.emplace_back(name, trim(std::string_view(line).substr(colon + 1)));
    }
    return tags;
}

void require_tags(const Tags& tags, std::initializer_list<std::string_view> names, const std::string& what,
                  const std::filesystem::path& path) {
    for (auto name : names)
        if (!tag(tags, name))
            throw std::runtime_error("Corrupt node " + what + " key file " + path.string() + " - " +
                                     std::string(name) + " tag not found");
}

// Writes a key file with its final mode from the start, so that a private key is
// never readable by others, not even for a moment.
void write_key_file(const std::filesystem::path& path, const std::string& header, const Tags& tags, mode_t mode) {
    std::string text = header + "\n\n";
    for (const auto& [name, value] : tags) text += name + ": " + value + "\n";
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) throw std::runtime_error("cannot create node key file " + path.string());
    bool ok = ::fchmod(fd, mode) == 0;
    std::size_t written = 0;
    while (ok && written < text.size()) {
        auto n = ::write(fd, text.data() + written, text.size() - written);
        ok = n > 0;
        if (ok) written += static_cast<std::size_t>(n);
    }
    sodium_memzero(text.data(), text.size());
    ok = (::close(fd) == 0) && ok;
    if (!ok) throw std::runtime_error("cannot write node key file " + path.string());
}

std::string environment_or(const char* name, std::string fallback) {
    const char* value = std::getenv(name);
    if (value && !trim(value).empty()) return value;
    return fallback;
}

std::string host_name() {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0) return "unknown";
    return name;
}

// Crossbar writes these for information only; they are not checked beyond presence.
std::string machine_id() {
    std::ifstream in("/var/lib/dbus/machine-id");
    std::string id;
    if (in && std::getline(in, id) && !trim(id).empty()) return trim(id);
    return host_name();
}

std::string creator() {
    const char* user = std::getenv("USER");
    return std::string(user ? user : "unknown") + "@" + host_name();
}

// autobahn.util.utcnow(): ISO 8601 with milliseconds and a Z.
std::string utc_now() {
    auto now = std::chrono::system_clock::now();
    auto seconds = std::chrono::system_clock::to_time_t(now);
    auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm utc{};
    ::gmtime_r(&seconds, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    auto fraction = std::to_string(1000 + millis).substr(1);
    return std::string(text) + "." + fraction + "Z";
}

Outcome deny(std::string message) { return Outcome::deny(std::string(wamp::error_uri::not_authorized), std::move(message)); }

}  // namespace

// ---- NodeKey -------------------------------------------------------------------------------

std::shared_ptr<const NodeKey> NodeKey::from_seed(std::string_view seed) {
    init_sodium();
    if (seed.size() != crypto_sign_SEEDBYTES) throw std::runtime_error("an Ed25519 seed has 32 bytes");
    std::shared_ptr<NodeKey> key(new NodeKey());
    std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> public_key{};
    crypto_sign_seed_keypair(public_key.data(), key->secret_key_.data(),
                             reinterpret_cast<const unsigned char*>(seed.data()));
    key->public_key_hex_ = to_hex(std::string_view(reinterpret_cast<const char*>(public_key.data()), public_key.size()));
    return key;
}

NodeKey::~NodeKey() { sodium_memzero(secret_key_.data(), secret_key_.size()); }

std::string NodeKey::sign(std::string_view message) const {
    std::string signature(crypto_sign_BYTES, '\0');
    crypto_sign_detached(reinterpret_cast<unsigned char*>(signature.data()), nullptr,
                         reinterpret_cast<const unsigned char*>(message.data()), message.size(), secret_key_.data());
    return signature;
}

std::shared_ptr<const NodeKey> NodeKey::load_or_create(const std::filesystem::path& cbdir) {
    init_sodium();
    const auto private_path = cbdir / "key.priv";
    const auto public_path = cbdir / "key.pub";
    std::shared_ptr<const NodeKey> key;
    if (std::filesystem::exists(private_path)) {
        if (!std::filesystem::is_regular_file(private_path))
            throw std::runtime_error("Key file '" + private_path.string() + "' exists, but isn't a file");
        auto priv = parse_key_file(private_path, true);
        require_tags(priv, {"creator", "created-at", "machine-id", "public-key-ed25519", "private-key-ed25519"},
                     "private", private_path);
        auto seed = from_hex(*tag(priv, "private-key-ed25519"));
        if (!seed || seed->size() != crypto_sign_SEEDBYTES)
            throw std::runtime_error("Corrupt node private key file " + private_path.string() +
                                     " - private-key-ed25519 is not 32 bytes in hex");
        key = from_seed(*seed);
        sodium_memzero(seed->data(), seed->size());
        if (*tag(priv, "public-key-ed25519") != key->public_key_hex())
            throw std::runtime_error("Inconsistent node private key file " + private_path.string() +
                                     " - public-key-ed25519 doesn't correspond to private-key-ed25519");
        if (std::filesystem::exists(public_path)) {
            auto pub = parse_key_file(public_path, false);
            require_tags(pub, {"creator", "created-at", "machine-id", "public-key-ed25519"}, "public", public_path);
            if (*tag(pub, "public-key-ed25519") != key->public_key_hex())
                throw std::runtime_error("Inconsistent node public key file " + public_path.string() +
                                         " - public-key-ed25519 doesn't correspond to private-key-ed25519 in "
                                         "private key file " + private_path.string());
        } else {
            Tags pub;
            for (auto name : {"creator", "created-at", "machine-id", "node-authid", "node-cluster-ip",
                              "public-key-ed25519", "public-adr-eth"}) {
                const auto* value = tag(priv, name);
                // Crossbar writes "unknown" for the optional node tags it lacks; an absent
                // Ethereum address stays absent so that Crossbar's own check still passes.
                if (value) pub.emplace_back(name, *value);
                else if (std::string_view(name) != "public-adr-eth") pub.emplace_back(name, "unknown");
            }
            write_key_file(public_path, "Crossbar.io node public key", pub, 0644);
        }
    } else {
        std::array<unsigned char, crypto_sign_SEEDBYTES> seed{};
        randombytes_buf(seed.data(), seed.size());
        std::string seed_bytes(reinterpret_cast<const char*>(seed.data()), seed.size());
        key = from_seed(seed_bytes);
        Tags tags = {{"creator", creator()},
                     {"created-at", utc_now()},
                     {"machine-id", machine_id()},
                     {"node-authid", environment_or("CROSSBAR_NODE_ID", host_name())},
                     {"node-cluster-ip", environment_or("CROSSBAR_NODE_CLUSTER_IP", "127.0.0.1")},
                     {"public-key-ed25519", key->public_key_hex()}};
        // Crossbar also writes an Ethereum key pair here; it is optional when read
        // (cb:common/key.py) and blindrouter has no use for it, so none is made.
        write_key_file(public_path, "Crossbar.io node public key", tags, 0644);
        tags.emplace_back("private-key-ed25519", to_hex(seed_bytes));
        write_key_file(private_path, "Crossbar.io node private key - KEEP THIS SAFE!", tags, 0600);
        sodium_memzero(tags.back().second.data(), tags.back().second.size());
        sodium_memzero(seed_bytes.data(), seed_bytes.size());
        sodium_memzero(seed.data(), seed.size());
    }
    // As Crossbar does on every start: the private key readable by the owner only.
    using std::filesystem::perms;
    std::filesystem::permissions(private_path, perms::owner_read | perms::owner_write);
    std::filesystem::permissions(public_path, perms::owner_read | perms::owner_write | perms::group_read | perms::others_read);
    return key;
}

// ---- CryptosignAuthentication -----------------------------------------------------------

CryptosignAuthentication::CryptosignAuthentication(const config::CryptosignAuth& config,
                                                   std::shared_ptr<const NodeKey> node_key, RandomBytes random,
                                                   const RealmDirectory* realms)
    : config_(config), node_key_(std::move(node_key)), random_(std::move(random)), realms_(realms) {
    init_sodium();
}

CryptosignAuthentication::~CryptosignAuthentication() {
    sodium_memzero(expected_message_.data(), expected_message_.size());
}

Outcome CryptosignAuthentication::hello(const HelloInfo& hello) {
    const auto* binding_value = wamp::find(hello.authextra, "channel_binding");
    std::optional<std::string> binding;
    if (binding_value && !binding_value->is_null()) {
        const auto* text = binding_value->as_string();
        if (!text || *text != "tls-unique")
            return deny(text ? "invalid channel binding type \"" + *text + "\" requested"
                             : "invalid channel binding type requested");
        binding = *text;
    }

    const std::string* pubkey = nullptr;
    if (const auto* v = wamp::find(hello.authextra, "pubkey")) pubkey = v->as_string();

    // Crossbar infers the authid from the public key when HELLO names none; a key listed
    // under two authids makes that ambiguous (cb:router/auth/cryptosign.py).
    const config::CryptosignPrincipal* principal = nullptr;
    if (!hello.authid) {
        if (!pubkey) return deny("cannot identify client: no authid requested and no extra.pubkey provided");
        for (const auto& candidate : config_.principals) {
            for (const auto& key : candidate.authorized_keys) {
                if (key != *pubkey) continue;
                if (principal)
                    return deny("cannot infer client identity from pubkey: multiple authids in principal database "
                                "have this pubkey");
                principal = &candidate;
                break;
            }
        }
        if (!principal)
            return deny("cannot identify client: no authid requested and no principal found for provided extra.pubkey");
    } else {
        for (const auto& candidate : config_.principals)
            if (candidate.authid == *hello.authid) principal = &candidate;
        if (!principal) return deny("no principal with authid \"" + *hello.authid + "\" exists");
        if (pubkey) {
            bool authorized = false;
            for (const auto& key : principal->authorized_keys) authorized |= (key == *pubkey);
            if (!authorized)
                return deny("extra.pubkey provided does not match any one of authorized_keys for the principal");
        }
    }
    auto role = principal->role ? principal->role : config_.default_role;
    Principal assigned{principal->authid, role.value_or(""), std::string(cryptosign_authmethod), "static", {},
                       principal->realm};
    if (realms_)
        if (auto denial = check_principal(assigned, hello.realm, *realms_)) return *denial;
    // Crossbar builds the verify key from extra.pubkey unconditionally; without one (or
    // with one that is not a key) it fails with an internal error, which is a Deny.
    auto verify_key = pubkey ? from_hex(*pubkey) : std::nullopt;
    if (!verify_key || verify_key->size() != crypto_sign_PUBLICKEYBYTES)
        return deny("cannot verify client: extra.pubkey missing or not a 32-byte Ed25519 public key in hex");

    if (!role) return Outcome::deny(std::string(wamp::error_uri::no_such_role), "no authrole assigned");

    // Only a TLS transport has a channel id. Crossbar's quirk (§7c): tls-unique asked
    // for on a transport without one leaves the challenge unbound, yet is echoed back.
    const bool bound = binding && hello.tls_unique;
    if (bound && hello.tls_unique->size() != crypto_sign_SEEDBYTES)
        return deny("channel binding unavailable on this transport");

    std::string challenge(32, '\0');
    random_(std::span(reinterpret_cast<unsigned char*>(challenge.data()), challenge.size()));
    std::string expected = challenge;
    if (bound)
        for (std::size_t i = 0; i < expected.size(); ++i) expected[i] ^= (*hello.tls_unique)[i];

    wamp::Dict extra;
    extra.emplace_back("challenge", to_hex(challenge));
    extra.emplace_back("channel_binding", binding ? wamp::Value(*binding) : wamp::Value());

    // Router authentication: the client asks the router to prove the node key.
    if (const auto* v = wamp::find(hello.authextra, "challenge"); v && !v->is_null()) {
        const auto* text = v->as_string();
        if (text && !text->empty()) {
            auto client_challenge = from_hex(*text);
            // The spec's challenge is 32 random bytes; the node key signs nothing else.
            if (!client_challenge || client_challenge->size() != 32)
                return deny("invalid extra.challenge (must be 32 bytes in hex)");
            if (!node_key_) return deny("router authentication requested, but this router has no node key");
            if (bound)
                for (std::size_t i = 0; i < client_challenge->size(); ++i)
                    (*client_challenge)[i] ^= (*hello.tls_unique)[i];
            extra.emplace_back("pubkey", node_key_->public_key_hex());
            extra.emplace_back("signature", to_hex(node_key_->sign(*client_challenge)) + to_hex(*client_challenge));
        } else if (!text && !(v->as_bool() && !*v->as_bool())) {
            return deny("invalid extra.challenge (must be 32 bytes in hex)");
        }
    }

    verify_key_ = std::move(*verify_key);
    expected_message_ = std::move(expected);
    principal_ = std::move(assigned);
    return Outcome::challenge(std::string(cryptosign_authmethod), std::move(extra));
}

Outcome CryptosignAuthentication::authenticate(const std::string& signature, const wamp::Dict&) {
    if (expected_message_.empty()) return deny("no pending authentication");
    std::string expected = std::move(expected_message_);
    expected_message_.clear();
    auto wipe = [&] { sodium_memzero(expected.data(), expected.size()); };

    auto signed_message = from_hex(signature);
    if (!signed_message) {
        wipe();
        return deny("signed message is invalid (not a HEX encoded string)");
    }
    constexpr std::size_t signed_size = crypto_sign_BYTES + 32;
    if (signed_message->size() != signed_size) {
        wipe();
        return deny("signed message has invalid length (was " + std::to_string(signed_message->size()) +
                    ", but should have been 96)");
    }
    const auto* bytes = reinterpret_cast<const unsigned char*>(signed_message->data());
    if (crypto_sign_verify_detached(bytes, bytes + crypto_sign_BYTES, 32,
                                    reinterpret_cast<const unsigned char*>(verify_key_.data())) != 0) {
        wipe();
        return deny("signed message has invalid signature");
    }
    // Crossbar's text also prints both messages; a challenge never goes into an error.
    bool same = sodium_memcmp(bytes + crypto_sign_BYTES, expected.data(), expected.size()) == 0;
    wipe();
    if (!same) return deny("message signed is bogus");
    return Outcome::welcome(principal_);
}

}  // namespace blindrouter::auth
