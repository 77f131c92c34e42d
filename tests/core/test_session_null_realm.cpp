// A HELLO whose realm is null (Autobahn's realm=None): the authentication method or
// the dynamic authenticator assigns the realm, as on Crossbar
// (cb:router/auth/pending.py _assign_principal; cb:router/session.py onHello).
#include <boost/test/unit_test.hpp>

#include "blindrouter/auth/byte_encoding.hpp"
#include "blindrouter/auth/cryptosign.hpp"
#include "core/fake_session.hpp"
#include "core/signing_keys.hpp"

using namespace blindrouter;
using namespace blindrouter::testing;

namespace {
// Transport 0 authenticates; transport 1 has no auth block (anonymous only), where
// the authenticator component joins "authrealm".
std::string node_json(const std::string& pubkey) {
    return R"({"version": 2, "workers": [{"type": "router",
      "realms": [{"name": "realm1", "roles": [{"name": "frontend", "permissions": []}]},
                 {"name": "devices", "roles": [{"name": "device", "permissions": []}]},
                 {"name": "authrealm", "roles": [{"name": "anonymous", "permissions": [
                    {"uri": "com.", "match": "prefix", "allow": {"register": true}}]}]}],
      "transports": [
        {"type": "websocket", "endpoint": {"type": "tcp", "port": 9000},
         "auth": {"cryptosign": {"type": "static", "principals": {
                    "placed": {"authorized_keys": [")" + pubkey + R"("], "role": "device", "realm": "devices"},
                    "unplaced": {"authorized_keys": [")" + pubkey + R"("], "role": "frontend"}}},
                  "ticket": {"type": "static", "principals": {"joe": {"ticket": "joe-ticket", "role": "frontend"}}},
                  "anonymous": {"type": "dynamic", "authenticator": "com.auth.anonymous",
                                "authenticator-realm": "authrealm"}}},
        {"type": "websocket", "endpoint": {"type": "tcp", "port": 9001}},
        {"type": "websocket", "endpoint": {"type": "tcp", "port": 9002},
         "auth": {"anonymous": {"type": "dynamic", "authenticator": "com.auth.anonymous"}}}]}]})";
}

std::string null_realm_hello(const std::string& methods, const std::string& more = "") {
    return R"([1, null, {"roles": {"caller": {}}, "authmethods": )" + methods + more + "}]";
}

struct NullRealmFixture : SigningKeys, RouterHarness {
    NullRealmFixture() : SigningKeys(9), RouterHarness(node_json(public_hex())) {
        router().set_node_key(auth::NodeKey::from_seed(std::string(32, '\x01')));
    }
    std::unique_ptr<Client> connect_to(std::size_t transport) {
        auto c = std::make_unique<Client>();
        c->session = router().open_session(c->transport, loaded.config.transports.at(transport).websocket.at(0).auth);
        return c;
    }
    std::string cryptosign_hello(const std::string& authid) const {
        return null_realm_hello(R"(["cryptosign"])", R"(, "authid": ")" + authid + R"(", "authextra": {"pubkey": ")" +
                                                         public_hex() + R"("})");
    }
    std::string signed_challenge(Client& c) const {
        auto challenge = c.last();
        BOOST_REQUIRE_EQUAL(challenge[0].GetInt(), 4);
        return R"([5, ")" + sign(*auth::from_hex(challenge[2]["challenge"].GetString())) + R"(", {}])";
    }
};
}  // namespace

BOOST_FIXTURE_TEST_SUITE(session_null_realm, NullRealmFixture)

BOOST_AUTO_TEST_CASE(a_principal_realm_is_the_session_realm) {
    auto c = connect_to(0);
    c->send(cryptosign_hello("placed"));
    c->send(signed_challenge(*c));
    auto welcome = c->last();
    BOOST_REQUIRE_EQUAL(welcome[0].GetInt(), 2);
    BOOST_TEST(welcome[2]["realm"].GetString() == std::string("devices"));
    BOOST_TEST(welcome[2]["authid"].GetString() == std::string("placed"));
    BOOST_TEST(welcome[2]["authrole"].GetString() == std::string("device"));
}

// Crossbar's static methods assign the principal at HELLO, so the refusal comes
// before any challenge.
BOOST_AUTO_TEST_CASE(no_realm_assigned_is_refused_at_hello) {
    auto cryptosign = connect_to(0);
    cryptosign->send(cryptosign_hello("unplaced"));
    expect_abort_with(*cryptosign, "wamp.error.no_such_realm", "no realm assigned");
    auto ticket = connect_to(0);
    ticket->send(null_realm_hello(R"(["ticket"])", R"(, "authid": "joe")"));
    expect_abort_with(*ticket, "wamp.error.no_such_realm", "no realm assigned");
}

BOOST_AUTO_TEST_CASE(without_an_auth_block_no_realm_is_requested) {
    auto c = connect_to(1);
    c->send(R"([1, null, {"roles": {"caller": {}}}])");
    expect_abort_with(*c, "wamp.error.no_such_realm", "no realm requested");
    // The method is chosen first, as in Crossbar.
    auto ticket = connect_to(1);
    ticket->send(null_realm_hello(R"(["ticket"])"));
    BOOST_TEST(ticket->last()[2].GetString() == std::string("wamp.error.no_auth_method"));
}

BOOST_AUTO_TEST_CASE(the_authenticator_sees_no_realm_and_assigns_one) {
    auto component = connect_to(1);
    component->send(R"([1, "authrealm", {"roles": {"callee": {}}}])");
    BOOST_REQUIRE_EQUAL(component->last()[0].GetInt(), 2);
    component->send(R"([64, 1, {}, "com.auth.anonymous"])");
    BOOST_REQUIRE_EQUAL(component->last()[0].GetInt(), 65);

    auto assigned = connect_to(0);
    assigned->send(null_realm_hello(R"(["anonymous"])"));
    auto invocation = component->last();
    BOOST_REQUIRE_EQUAL(invocation[0].GetInt(), 68);
    BOOST_TEST(invocation[4][0].IsNull());
    component->send("[70, " + std::to_string(invocation[1].GetUint64()) +
                    R"(, {}, [{"realm": "realm1", "role": "frontend"}]])");
    auto welcome = assigned->last();
    BOOST_REQUIRE_EQUAL(welcome[0].GetInt(), 2);
    BOOST_TEST(welcome[2]["realm"].GetString() == std::string("realm1"));
    BOOST_TEST(welcome[2]["authprovider"].GetString() == std::string("dynamic"));

    auto unassigned = connect_to(0);
    unassigned->send(null_realm_hello(R"(["anonymous"])"));
    invocation = component->last();
    component->send("[70, " + std::to_string(invocation[1].GetUint64()) + R"(, {}, [{"role": "frontend"}]])");
    expect_abort_with(*unassigned, "wamp.error.no_such_realm", "no realm assigned");
}

// The authenticator's realm defaults to the session's: Crossbar prints the missing one as None.
BOOST_AUTO_TEST_CASE(an_authenticator_on_the_session_realm_has_none) {
    auto c = connect_to(2);
    c->send(null_realm_hello(R"(["anonymous"])"));
    expect_abort_with(*c, "wamp.error.no_such_realm", "explicit realm <None> configured for dynamic authenticator does not exist");
}

BOOST_AUTO_TEST_SUITE_END()
