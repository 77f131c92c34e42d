#include <boost/test/unit_test.hpp>
#include <cstring>

#include "blindrouter/auth/scram.hpp"

using namespace blindrouter;
using auth::Outcome;

namespace {
// The spec has no WAMP-SCRAM test vectors. These come from Autobahn|Python 22.7.1's
// client (Debian's python3-autobahn), AuthScram.on_challenge / on_welcome, run as:
//
//   # argon2-cffi is not in Debian 12: give Autobahn argon2.low_level.hash_secret over
//   # PyNaCl's Argon2id (libsodium, v1.3, one lane), in argon2-cffi's encoded form.
//   import base64, hashlib, hmac, sys, types; import nacl.bindings as nb
//   argon2 = types.ModuleType("argon2"); low = types.ModuleType("argon2.low_level")
//   class Type: ID = 2
//   def hash_secret(secret, salt, time_cost, memory_cost, parallelism, hash_len, type, version):
//       raw = nb.crypto_pwhash_alg(hash_len, secret, salt, time_cost, memory_cost * 1024,
//                                  nb.crypto_pwhash_ALG_ARGON2ID13)
//       b64 = lambda b: base64.b64encode(b).rstrip(b"=")
//       return b"$argon2id$v=19$m=%d,t=%d,p=1$" % (memory_cost, time_cost) + b64(salt) + b"$" + b64(raw)
//   low.hash_secret = hash_secret; argon2.Type = Type; argon2.low_level = low
//   sys.modules["argon2"] = argon2; sys.modules["argon2.low_level"] = low
//   from autobahn.wamp import auth; from autobahn.wamp.types import Challenge
//   password, authid, iterations, memory = "secret123", "alice", 4, 512
//   salt = bytes(range(16)); client_nonce = bytes(range(100, 116)); server_part = bytes(range(200, 216))
//   salted = auth._hash_argon2id13_secret(password.encode(), base64.b64encode(salt).decode(), iterations, memory)
//   client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
//   stored_key = hashlib.sha256(client_key).digest()
//   server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
//   client = auth.AuthScram(authid=authid, password=password)
//   client._client_nonce = base64.b64encode(client_nonce).decode()
//   extra = {"nonce": base64.b64encode(client_nonce + server_part).decode(), "kdf": "argon2id-13",
//            "salt": base64.b64encode(salt).decode(), "iterations": iterations, "memory": memory}
//   proof = client.on_challenge(None, Challenge("scram", extra))
//   server_signature = base64.b64encode(hmac.new(server_key, client._auth_message, hashlib.sha256).digest())
//   # client.on_welcome(session, {"scram_server_signature": server_signature}) returns None (accepted)
//
// Note Autobahn's quirk: its SaltedPassword is the unpadded base64 *text* of the Argon2
// hash (the tail of argon2-cffi's encoded form), not the raw hash. The router never
// runs the KDF (it holds stored-key and server-key), but verifiers must be made that way.
const char* salt_hex = "000102030405060708090a0b0c0d0e0f";
const char* stored_key_hex = "5144fbf3cd67355d53c58e19a29418449e98f32d62394f6a99e70426828db54d";
const char* server_key_hex = "241e63613c739fb231eaba419173c7eaf9be634803dd6771e84120108b8139a1";
const char* client_nonce = "ZGVmZ2hpamtsbW5vcHFycw==";  // bytes 100..115
const char* server_nonce = "ZGVmZ2hpamtsbW5vcHFyc8jJysvMzc7P0NHS09TV1tc=";
const char* client_proof = "K4Hl46Te/Ylwsk24jUJD4UwI6NQjPA0JR+O0PQDGx3Q=";
const char* server_signature = "ck/7yAkX7Cnoe2mE+klHLXbfpGRAoM8TRIOkLVMgkwQ=";

config::ScramAuth alice_config() {
    config::ScramAuth config;
    config::ScramPrincipal alice;
    alice.authid = "alice";
    alice.kdf = "argon2id-13";
    alice.iterations = 4;
    alice.memory = 512;
    alice.salt = *auth::from_hex(salt_hex);
    alice.stored_key = *auth::from_hex(stored_key_hex);
    alice.server_key = *auth::from_hex(server_key_hex);
    alice.role = "user";
    config.principals.push_back(alice);
    return config;
}

// The server's 16 random nonce bytes of the vector: 200..215.
void server_part(std::span<unsigned char> into) {
    BOOST_REQUIRE_EQUAL(into.size(), 16u);
    for (std::size_t i = 0; i < into.size(); ++i) into[i] = static_cast<unsigned char>(200 + i);
}

auth::HelloInfo hello_with(wamp::Dict authextra, std::optional<std::string> authid = "alice") {
    auth::HelloInfo hello;
    hello.realm = "realm1";
    hello.authid = std::move(authid);
    hello.authextra = std::move(authextra);
    return hello;
}

void check_deny(const Outcome& outcome, const std::string& uri, const std::string& message) {
    BOOST_TEST((outcome.kind == Outcome::Kind::deny));
    BOOST_TEST(outcome.error_uri == uri);
    BOOST_TEST(outcome.message == message);
}
const std::string not_authorized = "wamp.error.not_authorized";
}  // namespace

BOOST_AUTO_TEST_SUITE(auth_scram)

BOOST_AUTO_TEST_CASE(autobahn_client_proof_is_accepted_and_its_server_signature_matches) {
    auto config = alice_config();
    auth::ScramAuthentication method(config, server_part);
    auto challenge = method.hello(hello_with({{"nonce", client_nonce}}));
    BOOST_REQUIRE((challenge.kind == Outcome::Kind::challenge));
    BOOST_TEST(challenge.challenge_method == "scram");
    // Crossbar's keys and order; no channel_binding key (Autobahn would put a null into its AuthMessage).
    wamp::Dict expected{{"nonce", server_nonce},
                        {"kdf", "argon2id-13"},
                        {"salt", "AAECAwQFBgcICQoLDA0ODw=="},
                        {"iterations", std::int64_t{4}},
                        {"memory", std::int64_t{512}}};
    BOOST_TEST((challenge.challenge_extra == expected));

    auto welcome = method.authenticate(client_proof, {{"nonce", server_nonce}});
    BOOST_REQUIRE((welcome.kind == Outcome::Kind::welcome));
    BOOST_TEST(welcome.principal.authid == "alice");
    BOOST_TEST(welcome.principal.authrole == "user");
    BOOST_TEST(welcome.principal.authmethod == "scram");
    BOOST_TEST(welcome.principal.authprovider == "static");
    BOOST_TEST((welcome.principal.authextra == wamp::Dict{{"scram_server_signature", server_signature}}));
}

BOOST_AUTO_TEST_CASE(a_wrong_proof_is_denied) {
    auto config = alice_config();
    auto challenged = [&] {
        auto method = std::make_unique<auth::ScramAuthentication>(config, server_part);
        BOOST_REQUIRE((method->hello(hello_with({{"nonce", client_nonce}})).kind == Outcome::Kind::challenge));
        return method;
    };
    std::string wrong = client_proof;
    wrong[0] = wrong[0] == 'K' ? 'L' : 'K';
    check_deny(challenged()->authenticate(wrong, {}), not_authorized, "SCRAM authentication failed");
    check_deny(challenged()->authenticate("not base64!", {}), not_authorized, "SCRAM authentication failed");
    check_deny(challenged()->authenticate("AAAA", {}), not_authorized, "SCRAM authentication failed");

    // Another server nonce makes another AuthMessage: the recorded proof no longer fits.
    auth::ScramAuthentication other(config, [](std::span<unsigned char> into) { std::memset(into.data(), 7, into.size()); });
    other.hello(hello_with({{"nonce", client_nonce}}));
    check_deny(other.authenticate(client_proof, {}), not_authorized, "SCRAM authentication failed");

    auth::ScramAuthentication fresh(config);
    check_deny(fresh.authenticate(client_proof, {}), not_authorized, "no pending authentication");
    auto once = challenged();
    BOOST_TEST((once->authenticate(client_proof, {}).kind == Outcome::Kind::welcome));
    check_deny(once->authenticate(client_proof, {}), not_authorized, "no pending authentication");
}

BOOST_AUTO_TEST_CASE(hello_denials_carry_crossbars_reasons) {
    auto config = alice_config();
    auth::ScramAuthentication method(config);
    check_deny(method.hello(hello_with({})), not_authorized, "client must send a nonce");
    check_deny(method.hello(hello_with({{"nonce", "***"}})), not_authorized, "client nonce must be base64");
    check_deny(method.hello(hello_with({{"nonce", std::int64_t{5}}})), not_authorized, "client nonce must be base64");
    check_deny(method.hello(hello_with({{"nonce", client_nonce}}, std::nullopt)), not_authorized,
               "cannot identify client: no authid requested");
    check_deny(method.hello(hello_with({{"nonce", client_nonce}}, "bob")), not_authorized,
               "no principal with authid \"bob\" exists");

    config.principals[0].role.reset();
    auth::ScramAuthentication roleless(config);
    check_deny(roleless.hello(hello_with({{"nonce", client_nonce}})), "wamp.error.no_such_role", "no authrole assigned");
    config.default_role = "guest";
    auth::ScramAuthentication defaulted(config, server_part);
    defaulted.hello(hello_with({{"nonce", client_nonce}}));
    auto welcome = defaulted.authenticate(client_proof, {});
    BOOST_REQUIRE((welcome.kind == Outcome::Kind::welcome));
    BOOST_TEST(welcome.principal.authrole == "guest");
}

BOOST_AUTO_TEST_SUITE_END()
