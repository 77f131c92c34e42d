// WAMP-TLS: the peer certificate's details as Autobahn reports them to Crossbar, and the
// static method's answers to HELLO (cb:router/auth/tls.py).
#include <boost/test/unit_test.hpp>

#include "blindrouter/auth/byte_encoding.hpp"
#include "blindrouter/auth/methods.hpp"
#include "blindrouter/auth/tls_method.hpp"

using namespace blindrouter;
using auth::Outcome;
BOOST_TEST_DONT_PRINT_LOG_VALUE(blindrouter::auth::Outcome::Kind)

namespace {
// A public client certificate (no key) made with openssl: EC P-256, signed by "Unit Test
// CA", serial 0x7b2f4c0e1d9a88f3e1b3aa10c4d52e61, subject C=DE/O=Example/OU=first/
// OU=second/CN=client_0, valid until 2126, basicConstraints (critical), subjectAltName,
// extendedKeyUsage and key identifiers. The expected values below were printed by
// pyOpenSSL 23 through the body of Autobahn's extract_peer_certificate.
const std::string certificate_base64 =
    "MIIB9jCCAZygAwIBAgIQey9MDh2aiPPhs6oQxNUuYTAKBggqhkjOPQQDAjAXMRUwEwYDVQQDDAxVbml0IFRlc3QgQ0EwIBcNMjYx"
    "MjAxMDYyNjU5WhgPMjEyNjExMDcwNjI2NTlaMFMxCzAJBgNVBAYTAkRFMRAwDgYDVQQKDAdFeGFtcGxlMQ4wDAYDVQQLDAVmaXJz"
    "dDEPMA0GA1UECwwGc2Vjb25kMREwDwYDVQQDDAhjbGllbnRfMDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABLAnFbM6c4qigXD6"
    "3sEa2zWt6s3UmkIRgvAE0S/0auXyOBI17jCNeFbRMz7vOU0YXI32VQ3On1oB4+UGzwUU/IWjgYswgYgwDAYDVR0TAQH/BAIwADAj"
    "BgNVHREEHDAaghJjbGllbnQuZXhhbXBsZS5jb22HBH8AAAEwEwYDVR0lBAwwCgYIKwYBBQUHAwIwHQYDVR0OBBYEFEDARm365PlX"
    "Eg8bKr8Bnxa7nwUUMB8GA1UdIwQYMBaAFHzb16BuSJm+tYxZJNT2MZT84CyIMAoGCCqGSM49BAMCA0gAMEUCIQCBWMuBkxcE8w8v"
    "J+bOT/ylUN8DJNCoYAc/nq7c0MMaUwIgGlWN0jmROUFLRI6pOLhizLGXMOPFzNs/aJbMhlmstUE=";

auth::PeerCertificate certificate() {
    auto der = auth::from_base64(certificate_base64);
    BOOST_REQUIRE(der);
    auto read = auth::read_peer_certificate(*der);
    BOOST_REQUIRE(read);
    return *read;
}

const wamp::Value& at(const wamp::Dict& dict, const char* key) {
    const auto* value = wamp::find(dict, key);
    BOOST_REQUIRE_MESSAGE(value, key);
    return *value;
}
std::string text(const wamp::Dict& dict, const char* key) { return *at(dict, key).as_string(); }
}  // namespace

BOOST_AUTO_TEST_SUITE(tls_method)

BOOST_AUTO_TEST_CASE(certificate_details_are_autobahns_peer_cert) {
    auto details = auth::peer_certificate_details(certificate());
    BOOST_TEST(text(details, "md5") == "80:F7:CE:5E:02:37:9F:2C:48:5C:27:55:82:B2:33:CB");
    BOOST_TEST(text(details, "sha1") == "90:7B:E7:CD:AB:D9:BE:48:2F:52:5C:EF:E6:93:98:37:D4:40:25:AF");
    BOOST_TEST(text(details, "sha256") ==
               "E8:53:4B:9E:AB:40:0B:6B:49:B6:93:6A:9A:F3:FD:61:A2:04:32:52:FC:FC:C9:B0:BD:05:43:26:BF:2C:10:5A");
    BOOST_TEST(*at(details, "expired").as_bool() == false);
    BOOST_TEST(*at(details, "hash").as_unsigned() == 168458510u);
    // 128 bits: more than msgpack or CBOR can carry as an integer.
    BOOST_TEST(text(details, "serial") == "163740624015381828594065817780125773409");
    BOOST_TEST(text(details, "signature_algorithm") == "ecdsa-with-SHA256");
    BOOST_TEST(*at(details, "version").as_integer() == 2);
    BOOST_TEST(text(details, "not_before") == "20261201062659Z");  // UTCTime in the certificate
    BOOST_TEST(text(details, "not_after") == "21261107062659Z");   // GeneralizedTime
    const auto& extensions = *at(details, "extensions").as_list();
    BOOST_REQUIRE_EQUAL(extensions.size(), 5u);
    const std::vector<std::tuple<std::string, std::string, bool>> expected = {
        {"basicConstraints", "CA:FALSE", true},
        {"subjectAltName", "DNS:client.example.com, IP Address:127.0.0.1", false},
        {"extendedKeyUsage", "TLS Web Client Authentication", false},
        {"subjectKeyIdentifier", "40:C0:46:6D:FA:E4:F9:57:12:0F:1B:2A:BF:01:9F:16:BB:9F:05:14", false},
        {"authorityKeyIdentifier", "7C:DB:D7:A0:6E:48:99:BE:B5:8C:59:24:D4:F6:31:94:FC:E0:2C:88", false}};
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const auto& e = *extensions[i].as_dict();
        BOOST_TEST(text(e, "name") == std::get<0>(expected[i]));
        BOOST_TEST(text(e, "value") == std::get<1>(expected[i]));
        BOOST_TEST(*at(e, "critical").as_bool() == std::get<2>(expected[i]));
    }
    // Name components by lower-cased short name; a repeated one keeps its last value.
    wamp::Dict subject{{"c", wamp::Value("DE")}, {"o", wamp::Value("Example")}, {"ou", wamp::Value("second")},
                       {"cn", wamp::Value("client_0")}};
    BOOST_TEST((*at(details, "subject").as_dict() == subject));
    BOOST_TEST((*at(details, "issuer").as_dict() == wamp::Dict{{"cn", wamp::Value("Unit Test CA")}}));
}

BOOST_AUTO_TEST_CASE(a_serial_that_fits_is_an_integer) {
    auto c = certificate();
    c.serial = "1575211513309152467";
    BOOST_TEST(*wamp::find(auth::peer_certificate_details(c), "serial")->as_integer() == 1575211513309152467);
}

BOOST_AUTO_TEST_CASE(bytes_that_are_no_certificate_are_refused) {
    BOOST_TEST(!auth::read_peer_certificate("not a certificate"));
    auto der = *auth::from_base64(certificate_base64);
    BOOST_TEST(!auth::read_peer_certificate(std::string_view(der).substr(0, der.size() / 2)));
}

BOOST_AUTO_TEST_CASE(static_principals_by_certificate_fingerprint) {
    config::TlsAuth config;
    config.principals_by_sha1.emplace("90:7B:E7:CD:AB:D9:BE:48:2F:52:5C:EF:E6:93:98:37:D4:40:25:AF",
                                      config::TlsPrincipal{"client_0", "backend"});
    auth::HelloInfo hello;
    hello.realm = "realm1";
    hello.authid = "ignored";  // the certificate alone names the principal

    auth::TlsMethod without(config);
    auto refused = without.hello(hello);
    BOOST_REQUIRE(refused.kind == Outcome::Kind::deny);
    BOOST_TEST(refused.error_uri == "wamp.error.not_authorized");
    BOOST_TEST(refused.message == "client did not send a TLS client certificate");

    hello.peer_certificate = std::make_shared<const auth::PeerCertificate>(certificate());
    auth::TlsMethod known(config);
    auto welcome = known.hello(hello);
    BOOST_REQUIRE(welcome.kind == Outcome::Kind::welcome);
    BOOST_TEST(welcome.principal.authid == "client_0");
    BOOST_TEST(welcome.principal.authrole == "backend");
    BOOST_TEST(welcome.principal.authmethod == "tls");
    BOOST_TEST(welcome.principal.authprovider == "static");
    BOOST_TEST(welcome.principal.authextra.empty());

    auto other = *hello.peer_certificate;
    other.sha1 = "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33";
    hello.peer_certificate = std::make_shared<const auth::PeerCertificate>(other);
    auth::TlsMethod unknown(config);
    auto denied = unknown.hello(hello);
    BOOST_REQUIRE(denied.kind == Outcome::Kind::deny);
    BOOST_TEST(denied.error_uri == "wamp.error.not_authorized");
    BOOST_TEST(denied.message == "no principal with authid \"" + other.sha1 + "\" exists");
}

BOOST_AUTO_TEST_CASE(selected_when_configured) {
    struct NoRealms : auth::RealmDirectory {
        bool has_realm(std::string_view) const override { return true; }
        bool has_role(std::string_view, std::string_view) const override { return true; }
    } realms;
    config::TransportAuth transport;
    transport.has_auth_block = true;
    auth::MethodContext context{realms, nullptr};
    BOOST_TEST(!auth::select_method({"tls"}, transport, context).method);
    transport.tls = config::TlsAuth{};
    BOOST_TEST((dynamic_cast<auth::TlsMethod*>(auth::select_method({"tls"}, transport, context).method.get()) != nullptr));
}

BOOST_AUTO_TEST_SUITE_END()
