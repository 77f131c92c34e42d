// What a TLS connection tells the session reaches the authentication methods: the
// client certificate (WAMP-TLS) and the tls-unique channel id (cryptosign channel
// binding), driven through a fake transport.
#include <sodium.h>

#include <boost/test/unit_test.hpp>

#include "blindrouter/auth/byte_encoding.hpp"
#include "blindrouter/auth/cryptosign.hpp"
#include "blindrouter/auth/tls_method.hpp"
#include "core/fake_session.hpp"
#include "core/signing_keys.hpp"

using namespace blindrouter;
using namespace blindrouter::testing;

namespace {
const std::string sha1 = "90:7B:E7:CD:AB:D9:BE:48:2F:52:5C:EF:E6:93:98:37:D4:40:25:AF";

std::string node_json(const std::string& pubkey) {
    return R"({"version": 2, "workers": [{"type": "router",
      "realms": [{"name": "realm1", "roles": [{"name": "backend", "permissions": []}]}],
      "transports": [{"type": "websocket", "endpoint": {"type": "tcp", "port": 9000},
        "auth": {"tls": {"type": "static", "principals": {"client_0": {"certificate-sha1": ")" +
           sha1 + R"(", "role": "backend"}}},
                 "cryptosign": {"type": "static", "principals": {"client01": {"authorized_keys": [")" +
           pubkey + R"("], "role": "backend"}}}}}]}]})";
}

struct TlsFixture : SigningKeys, RouterHarness {
    TlsFixture() : SigningKeys(7), RouterHarness(node_json(public_hex())) {
        router().set_node_key(auth::NodeKey::from_seed(std::string(32, '\x01')));
    }
    std::unique_ptr<Client> connect_tls(std::shared_ptr<const auth::PeerCertificate> certificate = nullptr) {
        auto c = connect();
        auto channel = std::make_shared<core::TlsChannel>();
        channel->tls_unique = std::string(32, '\x5a');
        channel->peer_certificate = std::move(certificate);
        c->transport.tls = channel;
        return c;
    }
    std::string cryptosign_hello() const {
        return R"([1, "realm1", {"roles": {"caller": {}}, "authmethods": ["cryptosign"], "authid": "client01",
                  "authextra": {"pubkey": ")" + public_hex() + R"(", "channel_binding": "tls-unique"}}])";
    }
    static std::string challenge_of(Client& c) {
        auto challenge = c.last();
        BOOST_REQUIRE_EQUAL(challenge[0].GetInt(), 4);
        BOOST_TEST(challenge[2]["channel_binding"].GetString() == std::string("tls-unique"));
        return *auth::from_hex(challenge[2]["challenge"].GetString());
    }
};
}  // namespace

BOOST_FIXTURE_TEST_SUITE(session_tls, TlsFixture)

BOOST_AUTO_TEST_CASE(client_certificate_reaches_the_tls_method) {
    auth::PeerCertificate certificate;
    certificate.sha1 = sha1;
    auto c = connect_tls(std::make_shared<const auth::PeerCertificate>(certificate));
    c->send(R"([1, "realm1", {"roles": {"caller": {}}, "authmethods": ["tls"]}])");
    auto welcome = c->last();
    BOOST_REQUIRE_EQUAL(welcome[0].GetInt(), 2);
    BOOST_TEST(welcome[2]["authid"].GetString() == std::string("client_0"));
    BOOST_TEST(welcome[2]["authrole"].GetString() == std::string("backend"));
    BOOST_TEST(welcome[2]["authmethod"].GetString() == std::string("tls"));
    BOOST_TEST(welcome[2]["authprovider"].GetString() == std::string("static"));
}

BOOST_AUTO_TEST_CASE(a_transport_without_tls_has_no_certificate) {
    auto c = connect();
    c->send(R"([1, "realm1", {"roles": {"caller": {}}, "authmethods": ["tls"]}])");
    auto abort = c->last();
    BOOST_REQUIRE_EQUAL(abort[0].GetInt(), 3);
    BOOST_TEST(abort[2].GetString() == std::string("wamp.error.not_authorized"));
    BOOST_TEST(abort[1]["message"].GetString() == std::string("client did not send a TLS client certificate"));
}

BOOST_AUTO_TEST_CASE(cryptosign_signature_is_bound_to_tls_unique) {
    auto c = connect_tls();
    c->send(cryptosign_hello());
    auto message = challenge_of(*c);
    for (auto& byte : message) byte = static_cast<char>(byte ^ 0x5a);  // challenge XOR tls-unique
    c->send(R"([5, ")" + sign(message) + R"(", {}])");
    BOOST_REQUIRE_EQUAL(c->last()[0].GetInt(), 2);
}

BOOST_AUTO_TEST_CASE(cryptosign_signature_over_the_unbound_challenge_is_refused) {
    auto c = connect_tls();
    c->send(cryptosign_hello());
    c->send(R"([5, ")" + sign(challenge_of(*c)) + R"(", {}])");
    auto abort = c->last();
    BOOST_REQUIRE_EQUAL(abort[0].GetInt(), 3);
    BOOST_TEST(abort[2].GetString() == std::string("wamp.error.not_authorized"));
    BOOST_TEST(abort[1]["message"].GetString() == std::string("message signed is bogus"));
}

BOOST_AUTO_TEST_SUITE_END()
