#include <sodium.h>
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "blindrouter/auth/cryptosign.hpp"

using namespace blindrouter;
using auth::Outcome;

namespace {
// spec:authentication_cryptosign.md "Test Vectors" (wamp-proto d8389b83). The public
// keys were derived with PyNaCl: SigningKey(bytes.fromhex(private_key)).verify_key.
struct Vector {
    const char* channel_id;
    const char* private_key;
    const char* public_key;
    const char* challenge;
    const char* signature;
};
const Vector vectors[] = {
    {nullptr, "4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510",
     "1adfc8bfe1d35616e64dffbd900096f23b066f914c8c2ffbb66f6075b96e116d",
     "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
     "b32675b221f08593213737bef8240e7c15228b07028e19595294678c90d11c0cae80a357331bfc5cc9fb71081464e6e75013517c2cf067ad5"
     "66a6b7b728e5d03ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"},
    {nullptr, "d511fe78e23934b3dadb52fcd022974b80bd92bccc7c5cf404e46cc0a8a2f5cd",
     "6ed32739ff04a6074044ff0b0e3bfc7c856bc9d5f1d25efc57363bda0af3a8b0",
     "b26c1f87c13fc1da14997f1b5a71995dff8fbe0a62fae8473c7bdbd05bfb607d",
     "d4209ad10d5aff6bfbc009d7e924795de138a63515efc7afc6b01b7fe5201372190374886a70207b042294af5bd64ce725cd8dceb344e6d11"
     "c09d1aaaf4d660fb26c1f87c13fc1da14997f1b5a71995dff8fbe0a62fae8473c7bdbd05bfb607d"},
    {nullptr, "6e1fde9cf9e2359a87420b65a87dc0c66136e66945196ba2475990d8a0c3a25b",
     "28e11f427b82b9a625ee7ac89a7d29326b505f2dc11dd88c1245f83b6da79a85",
     "b05e6b8ad4d69abf74aa3be3c0ee40ae07d66e1895b9ab09285a2f1192d562d2",
     "7beb282184baadd08f166f16dd683b39cab53816ed81e6955def951cb2ddad1ec184e206746fd82bda075af03711d3d5658fc84a76196b0fa"
     "8d1ebc92ef9f30bb05e6b8ad4d69abf74aa3be3c0ee40ae07d66e1895b9ab09285a2f1192d562d2"},
    {"62e935ae755f3d48f80d4d59f6121358c435722a67e859cc0caa8b539027f2ff",
     "4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510",
     "1adfc8bfe1d35616e64dffbd900096f23b066f914c8c2ffbb66f6075b96e116d",
     "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
     "9b6f41540c9b95b4b7b281c3042fa9c54cef43c842d62ea3fd6030fcb66e70b3e80d49d44c29d1635da9348d02ec93f3ed1ef227dfb59a0"
     "7b580095c2b82f80f9d16ca518aa0c2b707f2b2a609edeca73bca8dd59817a633f35574ac6fd80d00"},
    {"62e935ae755f3d48f80d4d59f6121358c435722a67e859cc0caa8b539027f2ff",
     "d511fe78e23934b3dadb52fcd022974b80bd92bccc7c5cf404e46cc0a8a2f5cd",
     "6ed32739ff04a6074044ff0b0e3bfc7c856bc9d5f1d25efc57363bda0af3a8b0",
     "b26c1f87c13fc1da14997f1b5a71995dff8fbe0a62fae8473c7bdbd05bfb607d",
     "305aaa3ac25e98f651427688b3fc43fe7d8a68a7ec1d7d61c61517c519bd4a427c3015599d83ca28b4c652333920223844ef0725eb5dc2f"
     "ebfd6af7677b73f01d0852a29b460fc92ec943242ac638a053bbacc200512b18b30d15083cbdc9282"},
    {"62e935ae755f3d48f80d4d59f6121358c435722a67e859cc0caa8b539027f2ff",
     "6e1fde9cf9e2359a87420b65a87dc0c66136e66945196ba2475990d8a0c3a25b",
     "28e11f427b82b9a625ee7ac89a7d29326b505f2dc11dd88c1245f83b6da79a85",
     "b05e6b8ad4d69abf74aa3be3c0ee40ae07d66e1895b9ab09285a2f1192d562d2",
     "ee3c7644fd8070532bc1fde3d70d742267da545d8c8f03e63bda63f1ad4214f4d2c4bfdb4eb9526def42deeb7e31602a6ff99eba893e0a4"
     "ad4d45892ca75e608d2b75e24a189a7f78ca776ba36fc53f6c3e31c32f251f2c524f0a44202f2902d"},
};

std::string unhex(const char* text) { return *auth::from_hex(text); }

auth::RandomBytes fixed(std::string bytes) {
    return [bytes](std::span<unsigned char> into) {
        BOOST_REQUIRE_EQUAL(into.size(), bytes.size());
        std::memcpy(into.data(), bytes.data(), bytes.size());
    };
}

config::CryptosignAuth principals(std::vector<std::pair<std::string, std::vector<std::string>>> entries) {
    config::CryptosignAuth out;
    for (auto& [authid, keys] : entries) out.principals.push_back({authid, keys, "user", std::nullopt});
    return out;
}

auth::HelloInfo hello_with(wamp::Dict authextra, std::optional<std::string> authid = std::nullopt) {
    auth::HelloInfo hello;
    hello.realm = "realm1";
    hello.authid = std::move(authid);
    hello.authextra = std::move(authextra);
    return hello;
}

const std::string* text(const wamp::Dict& dict, const char* key) {
    const auto* v = wamp::find(dict, key);
    return v ? v->as_string() : nullptr;
}

void check_deny(const Outcome& outcome, const std::string& uri, const std::string& message) {
    BOOST_TEST((outcome.kind == Outcome::Kind::deny));
    BOOST_TEST(outcome.error_uri == uri);
    BOOST_TEST(outcome.message == message);
}
const std::string not_authorized = "wamp.error.not_authorized";

// Runs HELLO for vector `v`'s key and expects a challenge.
Outcome hello_for(auth::CryptosignAuthentication& method, const Vector& v, bool tls, bool bind,
                  std::optional<std::string> authid = std::nullopt) {
    wamp::Dict extra{{"pubkey", v.public_key}};
    if (bind) extra.emplace_back("channel_binding", "tls-unique");
    auto hello = hello_with(extra, std::move(authid));
    if (tls) hello.tls_unique = unhex(v.channel_id);
    auto outcome = method.hello(hello);
    BOOST_REQUIRE((outcome.kind == Outcome::Kind::challenge));
    return outcome;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(auth_cryptosign)

BOOST_AUTO_TEST_CASE(node_key_derives_the_public_key_of_the_spec_vectors) {
    for (const auto& v : vectors) BOOST_TEST(auth::NodeKey::from_seed(unhex(v.private_key))->public_key_hex() == v.public_key);
}

BOOST_AUTO_TEST_CASE(spec_vectors_authenticate_with_and_without_tls_unique) {
    for (const auto& v : vectors) {
        auto config = principals({{"client01@example.com", {v.public_key}}});
        auth::CryptosignAuthentication method(config, nullptr, fixed(unhex(v.challenge)));
        const bool bound = v.channel_id != nullptr;
        auto challenge = hello_for(method, v, bound, bound);
        BOOST_TEST(challenge.challenge_method == "cryptosign");
        BOOST_TEST(*text(challenge.challenge_extra, "challenge") == v.challenge);
        const auto* binding = wamp::find(challenge.challenge_extra, "channel_binding");
        BOOST_REQUIRE(binding);
        BOOST_TEST((bound ? *binding->as_string() == "tls-unique" : binding->is_null()));

        auto welcome = method.authenticate(v.signature, {});
        BOOST_REQUIRE((welcome.kind == Outcome::Kind::welcome));
        BOOST_TEST(welcome.principal.authid == "client01@example.com");  // derived from the pubkey
        BOOST_TEST(welcome.principal.authrole == "user");
        BOOST_TEST(welcome.principal.authmethod == "cryptosign");
        BOOST_TEST(welcome.principal.authprovider == "static");
    }
}

// Crossbar (§7c): tls-unique on a transport without TLS is echoed but not bound, so the
// unbound signature passes and the bound one does not.
BOOST_AUTO_TEST_CASE(tls_unique_without_tls_is_echoed_but_not_bound) {
    const auto& unbound = vectors[0];
    const auto& bound = vectors[3];
    auto config = principals({{"alice", {unbound.public_key}}});
    auth::CryptosignAuthentication method(config, nullptr, fixed(unhex(unbound.challenge)));
    auto challenge = hello_for(method, unbound, false, true);
    BOOST_TEST(*text(challenge.challenge_extra, "channel_binding") == "tls-unique");
    BOOST_TEST((method.authenticate(unbound.signature, {}).kind == Outcome::Kind::welcome));

    auth::CryptosignAuthentication again(config, nullptr, fixed(unhex(unbound.challenge)));
    hello_for(again, unbound, false, true);
    check_deny(again.authenticate(bound.signature, {}), not_authorized, "message signed is bogus");
}

BOOST_AUTO_TEST_CASE(a_bound_challenge_refuses_the_unbound_signature) {
    const auto& v = vectors[3];
    auto config = principals({{"alice", {v.public_key}}});
    auth::CryptosignAuthentication method(config, nullptr, fixed(unhex(v.challenge)));
    hello_for(method, v, true, true);
    check_deny(method.authenticate(vectors[0].signature, {}), not_authorized, "message signed is bogus");
}

BOOST_AUTO_TEST_CASE(hello_denials_carry_crossbars_reasons) {
    const auto& v = vectors[0];
    auto config = principals({{"alice", {v.public_key}}, {"bob", {vectors[1].public_key}}});
    auth::CryptosignAuthentication method(config, nullptr);

    check_deny(method.hello(hello_with({{"pubkey", v.public_key}, {"channel_binding", "tls-exporter"}})),
               not_authorized, "invalid channel binding type \"tls-exporter\" requested");
    check_deny(method.hello(hello_with({})), not_authorized,
               "cannot identify client: no authid requested and no extra.pubkey provided");
    check_deny(method.hello(hello_with({{"pubkey", vectors[2].public_key}})), not_authorized,
               "cannot identify client: no authid requested and no principal found for provided extra.pubkey");
    check_deny(method.hello(hello_with({{"pubkey", v.public_key}}, "carol")), not_authorized,
               "no principal with authid \"carol\" exists");
    check_deny(method.hello(hello_with({{"pubkey", vectors[1].public_key}}, "alice")), not_authorized,
               "extra.pubkey provided does not match any one of authorized_keys for the principal");
    check_deny(method.hello(hello_with({}, "alice")), not_authorized,
               "cannot verify client: extra.pubkey missing or not a 32-byte Ed25519 public key in hex");
    check_deny(method.hello(hello_with({{"pubkey", v.public_key}, {"challenge", "abcd"}})), not_authorized,
               "invalid extra.challenge (must be 32 bytes in hex)");
}

BOOST_AUTO_TEST_CASE(a_pubkey_under_two_authids_cannot_name_the_client) {
    const auto& v = vectors[0];
    auto config = principals({{"alice", {v.public_key}}, {"bob", {vectors[1].public_key, v.public_key}}});
    auth::CryptosignAuthentication method(config, nullptr);
    check_deny(method.hello(hello_with({{"pubkey", v.public_key}})), not_authorized,
               "cannot infer client identity from pubkey: multiple authids in principal database have this pubkey");
    // Naming the authid resolves it.
    BOOST_TEST((method.hello(hello_with({{"pubkey", v.public_key}}, "bob")).kind == Outcome::Kind::challenge));
}

BOOST_AUTO_TEST_CASE(a_principal_without_role_gets_the_default_role_or_no_such_role) {
    const auto& v = vectors[0];
    config::CryptosignAuth config;
    config.principals.push_back({"alice", {v.public_key}, std::nullopt, "realm2"});
    auth::CryptosignAuthentication method(config, nullptr);
    check_deny(method.hello(hello_with({{"pubkey", v.public_key}})), "wamp.error.no_such_role", "no authrole assigned");

    config.default_role = "guest";
    auth::CryptosignAuthentication with_default(config, nullptr, fixed(unhex(v.challenge)));
    hello_for(with_default, v, false, false);
    auto welcome = with_default.authenticate(v.signature, {});
    BOOST_REQUIRE((welcome.kind == Outcome::Kind::welcome));
    BOOST_TEST(welcome.principal.authrole == "guest");
    BOOST_TEST(*welcome.principal.realm == "realm2");
}

BOOST_AUTO_TEST_CASE(authenticate_denials_carry_crossbars_reasons) {
    const auto& v = vectors[0];
    auto config = principals({{"alice", {v.public_key}}});
    auto challenged = [&] {
        auto method = std::make_unique<auth::CryptosignAuthentication>(config, nullptr, fixed(unhex(v.challenge)));
        hello_for(*method, v, false, false);
        return method;
    };
    check_deny(challenged()->authenticate("not hex", {}), not_authorized,
               "signed message is invalid (not a HEX encoded string)");
    check_deny(challenged()->authenticate(std::string(v.signature).substr(0, 128), {}), not_authorized,
               "signed message has invalid length (was 64, but should have been 96)");
    std::string forged = v.signature;
    forged[0] = forged[0] == 'b' ? 'c' : 'b';
    check_deny(challenged()->authenticate(forged, {}), not_authorized, "signed message has invalid signature");
    // A signature by another key over the same challenge.
    check_deny(challenged()->authenticate(vectors[1].signature, {}), not_authorized, "signed message has invalid signature");

    auth::CryptosignAuthentication fresh(config, nullptr);
    check_deny(fresh.authenticate(v.signature, {}), not_authorized, "no pending authentication");
    auto once = challenged();
    BOOST_TEST((once->authenticate(v.signature, {}).kind == Outcome::Kind::welcome));
    check_deny(once->authenticate(v.signature, {}), not_authorized, "no pending authentication");
}

BOOST_AUTO_TEST_CASE(router_authentication_signs_the_client_challenge_with_the_node_key) {
    const auto& v = vectors[3];
    auto node_key = auth::NodeKey::from_seed(unhex(vectors[1].private_key));
    auto config = principals({{"alice", {v.public_key}}});
    const std::string client_challenge = unhex(vectors[2].challenge);
    for (bool tls : {false, true}) {
        auth::CryptosignAuthentication method(config, node_key, fixed(unhex(v.challenge)));
        auto hello = hello_with({{"pubkey", v.public_key},
                                 {"channel_binding", "tls-unique"},
                                 {"challenge", vectors[2].challenge}});
        if (tls) hello.tls_unique = unhex(v.channel_id);
        auto outcome = method.hello(hello);
        BOOST_REQUIRE((outcome.kind == Outcome::Kind::challenge));
        BOOST_TEST(*text(outcome.challenge_extra, "pubkey") == vectors[1].public_key);
        auto signed_message = auth::from_hex(*text(outcome.challenge_extra, "signature"));
        BOOST_REQUIRE(signed_message && signed_message->size() == 96u);
        std::string expected = client_challenge;
        if (tls)
            for (std::size_t i = 0; i < 32; ++i) expected[i] ^= (*hello.tls_unique)[i];
        BOOST_TEST(signed_message->substr(64) == expected);
        auto public_key = unhex(vectors[1].public_key);
        BOOST_TEST(crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signed_message->data()),
                                               reinterpret_cast<const unsigned char*>(expected.data()), 32,
                                               reinterpret_cast<const unsigned char*>(public_key.data())) == 0);
        BOOST_TEST((method.authenticate(tls ? v.signature : vectors[0].signature, {}).kind == Outcome::Kind::welcome));
    }
}

BOOST_AUTO_TEST_CASE(router_authentication_without_a_node_key_is_denied) {
    const auto& v = vectors[0];
    auto config = principals({{"alice", {v.public_key}}});
    auth::CryptosignAuthentication method(config, nullptr);
    check_deny(method.hello(hello_with({{"pubkey", v.public_key}, {"challenge", v.challenge}})), not_authorized,
               "router authentication requested, but this router has no node key");
}

namespace {
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "blindrouter-nodekey-XXXXXX").string();
        path = ::mkdtemp(pattern.data());
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};
unsigned mode_of(const std::filesystem::path& p) {
    struct stat st {};
    ::stat(p.c_str(), &st);
    return st.st_mode & 0777;
}
void write(const std::filesystem::path& p, const std::string& text) { std::ofstream(p) << text; }
}  // namespace

BOOST_AUTO_TEST_CASE(node_key_is_created_as_crossbar_does_and_read_back) {
    TempDir dir;
    auto created = auth::NodeKey::load_or_create(dir.path);
    BOOST_TEST(mode_of(dir.path / "key.priv") == 0600u);
    BOOST_TEST(mode_of(dir.path / "key.pub") == 0644u);
    auto again = auth::NodeKey::load_or_create(dir.path);
    BOOST_TEST(again->public_key_hex() == created->public_key_hex());

    std::ifstream pub(dir.path / "key.pub");
    std::string contents((std::istreambuf_iterator<char>(pub)), {});
    BOOST_TEST(contents.find("public-key-ed25519: " + created->public_key_hex()) != std::string::npos);
    BOOST_TEST(contents.find("private-key") == std::string::npos);

    std::filesystem::remove(dir.path / "key.pub");
    auth::NodeKey::load_or_create(dir.path);
    BOOST_TEST(std::filesystem::exists(dir.path / "key.pub"));
}

BOOST_AUTO_TEST_CASE(node_key_reads_crossbars_file_and_refuses_inconsistent_ones) {
    TempDir dir;
    const auto& v = vectors[0];
    auto file = [&](const char* public_key, const char* extra_tag) {
        return std::string("Crossbar.io node private key - KEEP THIS SAFE!\n\n") +
               "creator: joe@example\ncreated-at: 2022-07-01T10:00:00.000Z\nmachine-id: 1234\n"
               "node-authid: node1\nnode-cluster-ip: 127.0.0.1\npublic-key-ed25519: " + public_key +
               "\nprivate-key-ed25519: " + v.private_key + "\n" + extra_tag;
    };
    write(dir.path / "key.priv", file(v.public_key, ""));
    ::chmod((dir.path / "key.priv").c_str(), 0644);
    BOOST_TEST(auth::NodeKey::load_or_create(dir.path)->public_key_hex() == v.public_key);
    BOOST_TEST(mode_of(dir.path / "key.priv") == 0600u);  // fixed, as Crossbar fixes it
    ::chmod((dir.path / "key.pub").c_str(), 0600);
    auth::NodeKey::load_or_create(dir.path);
    BOOST_TEST(mode_of(dir.path / "key.pub") == 0644u);

    write(dir.path / "key.priv", file(vectors[1].public_key, ""));
    BOOST_CHECK_THROW(auth::NodeKey::load_or_create(dir.path), std::runtime_error);
    write(dir.path / "key.priv", file(v.public_key, "bogus-tag: 1\n"));
    BOOST_CHECK_THROW(auth::NodeKey::load_or_create(dir.path), std::runtime_error);
    write(dir.path / "key.priv", file(v.public_key, "creator: twice\n"));
    BOOST_CHECK_THROW(auth::NodeKey::load_or_create(dir.path), std::runtime_error);
    write(dir.path / "key.priv", file(v.public_key, ""));
    write(dir.path / "key.pub", "Crossbar.io node public key\n\ncreator: x\ncreated-at: y\nmachine-id: z\n"
                                "public-key-ed25519: " + std::string(vectors[1].public_key) + "\n");
    BOOST_CHECK_THROW(auth::NodeKey::load_or_create(dir.path), std::runtime_error);
}

BOOST_AUTO_TEST_SUITE_END()
