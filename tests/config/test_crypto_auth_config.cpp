// Config parsing of the cryptosign and scram auth blocks (kept apart from
// test_node_config.cpp, whose auth cases cover the other methods).
#include <boost/test/unit_test.hpp>

#include "blindrouter/config/node_config_loader.hpp"

using namespace blindrouter;

namespace {
config::LoadResult with_auth(const std::string& auth) {
    return config::load_node_config(
        R"({"version": 2, "workers": [{"type": "router", "realms": [{"name": "realm1", "roles": [{"name": "user"}]}],
            "transports": [{"type": "websocket", "endpoint": {"type": "tcp", "port": 8080}, "auth": )" +
        auth + "}]}]}");
}
const config::TransportAuth& auth_of(const config::LoadResult& r) { return r.config.transports.at(0).websocket.at(0).auth; }
bool has(const std::vector<std::string>& lines, const std::string& part) {
    for (const auto& line : lines)
        if (line.find(part) != std::string::npos) return true;
    return false;
}
const std::string key1 = "545efb0a2192db8d43f118e9bf9aee081466e1ef36c708b96ee6f62dddad9122";
const std::string key2 = "1adfc8bfe1d35616e64dffbd900096f23b066f914c8c2ffbb66f6075b96e116d";
const std::string hex32 = "5144fbf3cd67355d53c58e19a29418449e98f32d62394f6a99e70426828db54d";
// A valid principal with one field's JSON replaced (or added).
std::string scram_principal(const std::string& field = "", const std::string& json = "") {
    std::vector<std::pair<std::string, std::string>> fields = {
        {"kdf", R"("argon2id-13")"}, {"iterations", "4"}, {"memory", "512"},
        {"salt", R"("000102030405060708090a0b0c0d0e0f")"}, {"stored-key", '"' + hex32 + '"'},
        {"server-key", '"' + hex32 + '"'}, {"role", R"("user")"}};
    bool replaced = false;
    for (auto& [name, value] : fields)
        if (name == field) value = json, replaced = true;
    if (!field.empty() && !replaced) fields.emplace_back(field, json);
    std::string out = "{";
    for (const auto& [name, value] : fields) out += (out.size() > 1 ? ", \"" : "\"") + name + "\": " + value;
    return out + "}";
}
}  // namespace

BOOST_AUTO_TEST_SUITE(crypto_auth_config)

BOOST_AUTO_TEST_CASE(static_cryptosign_principals_are_read_in_order) {
    auto r = with_auth(R"({"cryptosign": {"type": "static", "principals": {
        "client01@example.com": {"authorized_keys": [")" + key1 + R"("], "role": "user", "realm": "realm1"},
        "client02@example.com": {"authorized_keys": [")" + key2 + R"(", ")" + key1 + R"("]}}}})");
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.faults.empty() ? std::string() : r.faults[0]));
    const auto& auth = auth_of(r);
    BOOST_TEST(!auth.anonymous);
    BOOST_REQUIRE(auth.cryptosign);
    BOOST_REQUIRE_EQUAL(auth.cryptosign->principals.size(), 2u);
    const auto& first = auth.cryptosign->principals[0];
    BOOST_TEST(first.authid == "client01@example.com");
    BOOST_TEST((first.authorized_keys == std::vector<std::string>{key1}));
    BOOST_TEST(*first.role == "user");
    BOOST_TEST(*first.realm == "realm1");
    BOOST_TEST(!auth.cryptosign->principals[1].role);
    BOOST_TEST(auth.cryptosign->principals[1].authorized_keys.size() == 2u);
    BOOST_TEST(!has(r.config.warnings, "cryptosign"));
}

BOOST_AUTO_TEST_CASE(cryptosign_blocks_crossbar_refuses_are_refused) {
    BOOST_TEST(has(with_auth(R"({"cryptosign": {"type": "static", "principals": {}, "trustroots": {}}})").faults,
                   "cannot specify both 'principals' and 'trustroots'"));
    BOOST_TEST(has(with_auth(R"({"cryptosign": {"type": "static"}})").faults,
                   "neither 'principals' nor 'trustroots' attribute found"));
    BOOST_TEST(has(with_auth(R"({"cryptosign": {"principals": {}}})").faults, "auth.cryptosign.type: missing mandatory"));
    BOOST_TEST(has(with_auth(R"({"cryptosign": {"type": "magic", "principals": {}}})").faults, "invalid type 'magic'"));
    BOOST_TEST(has(with_auth(R"({"cryptosign": {"type": "static", "principals": {"a": {"role": "user"}}}})").faults,
                   "principals.a.authorized_keys: missing mandatory attribute"));
    BOOST_TEST(has(with_auth(R"({"cryptosign": {"type": "static", "principals": {"a": {"authorized_keys": "k"}}}})").faults,
                   "authorized_keys: must be a list"));
    BOOST_TEST(has(with_auth(R"({"cryptosign": {"type": "static", "principals": {"a": {"authorized_keys": [1]}}}})").faults,
                   "invalid type int for pubkey"));
    BOOST_TEST(has(with_auth(R"({"cryptosign": {"type": "static", "principals": {"a": {"authorized_keys": [], "x": 1}}}})").faults,
                   "unknown attribute 'x'"));
    BOOST_TEST(has(with_auth(R"({"cryptosign": {"type": "static", "principals": {"a": {"authorized_keys": []},
                                                                              "a": {"authorized_keys": []}}}})").faults,
                   "principals: duplicate key 'a'"));
}

BOOST_AUTO_TEST_CASE(unserved_cryptosign_forms_are_warned_and_disabled) {
    auto trust = with_auth(R"({"cryptosign": {"type": "static", "trustroots": {"realm1": {"certificate": "ca.json"}}}})");
    BOOST_TEST(trust.ok());
    BOOST_TEST(has(trust.config.warnings, "auth.cryptosign.trustroots: certificate trustroots are not served"));
    BOOST_TEST(!auth_of(trust).cryptosign);
    auto function = with_auth(R"({"cryptosign": {"type": "function", "create": "a.b"}})");
    BOOST_TEST(has(function.config.warnings, "use 'dynamic'"));
    auto bad_key = with_auth(R"({"cryptosign": {"type": "static", "principals": {"a": {"authorized_keys": ["zz"]}}}})");
    BOOST_TEST(bad_key.ok());
    BOOST_TEST(has(bad_key.config.warnings, "authorized_keys[0]: not a 32-byte Ed25519 public key"));
}

BOOST_AUTO_TEST_CASE(static_scram_principals_are_read_with_their_verifiers) {
    auto r = with_auth(R"({"scram": {"type": "static", "principals": {"alice": )" + scram_principal() + "}}}");
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.faults.empty() ? std::string() : r.faults[0]));
    BOOST_REQUIRE(auth_of(r).scram);
    const auto& alice = auth_of(r).scram->principals.at(0);
    BOOST_TEST(alice.authid == "alice");
    BOOST_TEST(alice.kdf == "argon2id-13");
    BOOST_TEST(alice.iterations == 4);
    BOOST_TEST(alice.memory == 512);
    BOOST_TEST(alice.salt.size() == 16u);
    BOOST_TEST(alice.stored_key.size() == 32u);
    BOOST_TEST(alice.server_key.size() == 32u);
    BOOST_TEST(*alice.role == "user");
}

BOOST_AUTO_TEST_CASE(scram_blocks_crossbar_refuses_are_refused) {
    auto principal = [](const std::string& body) {
        return with_auth(R"({"scram": {"type": "static", "principals": {"alice": )" + body + "}}}").faults;
    };
    BOOST_TEST(has(with_auth(R"({"scram": {"type": "static"}})").faults, "missing mandatory attribute 'principals'"));
    BOOST_TEST(has(principal(scram_principal("kdf", R"("scrypt")")), "WAMP-SCRAM illegal KDF 'scrypt'"));
    BOOST_TEST(has(principal(R"({"kdf": "pbkdf2", "iterations": 4, "salt": "00", "stored-key": ")" + hex32 +
                             R"(", "server-key": ")" + hex32 + R"("})"),
                   "principals.alice.memory: missing mandatory attribute"));
    BOOST_TEST(has(principal(scram_principal("iterations", R"("4")")), "iterations: must be an int"));
    BOOST_TEST(has(principal(scram_principal("realm", R"("realm1")")), "unknown attribute 'realm'"));
    BOOST_TEST(has(principal(scram_principal("stored-key", R"("abcd")")), "stored-key: must be 32 bytes in hex"));
    BOOST_TEST(has(principal(scram_principal("salt", R"("xyz")")), "salt: must be hex"));
}

BOOST_AUTO_TEST_CASE(static_tls_principals_are_keyed_by_certificate_fingerprint) {
    const std::string sha1 = "E0:01:DC:37:BB:50:79:DC:E7:A7:CF:E9:CE:08:21:D6:F8:31:C3:5F";
    // crossbar-examples authentication/tls/static/.crossbar/config.json
    auto r = with_auth(R"({"tls": {"type": "static", "principals": {"client_0": {"certificate-sha1": ")" + sha1 +
                       R"(", "role": "user"}}}})");
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.faults.empty() ? std::string() : r.faults[0]));
    BOOST_REQUIRE(auth_of(r).tls);
    const auto& principal = auth_of(r).tls->principals_by_sha1.at(sha1);
    BOOST_TEST(principal.authid == "client_0");
    BOOST_TEST(principal.role == "user");
    BOOST_TEST(r.config.warnings.empty());

    auto none = with_auth(R"({"tls": {"type": "static"}})");
    BOOST_TEST(none.ok());
    BOOST_TEST((auth_of(none).tls && auth_of(none).tls->principals_by_sha1.empty()));
}

BOOST_AUTO_TEST_CASE(tls_principals_crossbar_would_fail_on_are_refused_or_warned) {
    auto no_role = with_auth(R"({"tls": {"type": "static", "principals": {"a": {"certificate-sha1": "AB"}}}})");
    BOOST_TEST(has(no_role.faults, "principals.a.role: missing mandatory attribute"));
    auto no_sha1 = with_auth(R"({"tls": {"type": "static", "principals": {"a": {"role": "user"}}}})");
    BOOST_TEST(has(no_sha1.faults, "principals.a.certificate-sha1: missing mandatory attribute"));
    auto lower = with_auth(R"({"tls": {"type": "static", "principals": {"a": {"role": "user",
        "certificate-sha1": "e0:01:dc:37:bb:50:79:dc:e7:a7:cf:e9:ce:08:21:d6:f8:31:c3:5f"}}}})");
    BOOST_TEST(lower.ok());
    BOOST_TEST(has(lower.config.warnings, "certificate-sha1: not an upper-case SHA-1 fingerprint"));
    auto twice = with_auth(R"({"tls": {"type": "static", "principals": {
        "a": {"role": "user", "certificate-sha1": "E0:01:DC:37:BB:50:79:DC:E7:A7:CF:E9:CE:08:21:D6:F8:31:C3:5F"},
        "b": {"role": "user", "certificate-sha1": "E0:01:DC:37:BB:50:79:DC:E7:A7:CF:E9:CE:08:21:D6:F8:31:C3:5F"}}}})");
    BOOST_TEST(has(twice.config.warnings, "principals.b.certificate-sha1: fingerprint listed for another principal"));
    BOOST_TEST(auth_of(twice).tls->principals_by_sha1.begin()->second.authid == "b");
    auto dynamic = with_auth(R"({"tls": {"type": "dynamic", "authenticator": "com.example.auth"}})");
    BOOST_TEST(dynamic.ok());
    BOOST_TEST(!auth_of(dynamic).tls);
    BOOST_TEST(auth_of(dynamic).dynamic.at("tls").procedure == "com.example.auth");
}

BOOST_AUTO_TEST_SUITE_END()
