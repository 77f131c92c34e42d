#pragma once
// WAMP-TLS: a client authenticated by the TLS client certificate it presented, as
// Crossbar serves it (cb:router/auth/tls.py; shared/ADVANCED.md §7). The listener
// verifies the certificate against the endpoint's ca_certificates during the
// handshake; this method only maps a verified certificate to a principal.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "blindrouter/auth/authenticator.hpp"
#include "blindrouter/config/node_config.hpp"
#include "blindrouter/wamp/value.hpp"

namespace blindrouter::auth {

// The peer certificate as Autobahn's extract_peer_certificate (ab:twisted/util.py)
// describes it to Crossbar, which hands it to a dynamic tls authenticator as
// details.transport.peer_cert. Texts are pyOpenSSL's.
struct PeerCertificate {
    struct Extension {
        std::string name;   // OpenSSL short name, e.g. "basicConstraints"
        std::string value;  // as OpenSSL prints it (X509V3_EXT_print)
        bool critical = false;
    };
    std::string md5, sha1, sha256;  // fingerprints, "E0:01:...": upper-case hex pairs joined by ':'
    bool expired = false;
    std::uint64_t subject_name_hash = 0;  // X509_subject_name_hash, as `openssl x509 -hash`
    // The serial number in decimal: an integer in the details when it fits in 64 bits,
    // else this text (CA serials are often 128 bits and msgpack/CBOR carry 64).
    std::string serial;
    std::string signature_algorithm;  // long name, e.g. "sha256WithRSAEncryption"
    std::int64_t version = 0;         // X509 version field: 2 for v3
    std::string not_before, not_after;  // ASN.1 GeneralizedTime, "20260101000000Z"
    std::vector<Extension> extensions;
    // Name components, short names lower-cased ("cn", "o", ...), in certificate order.
    std::vector<std::pair<std::string, std::string>> subject, issuer;
};

// Reads a DER certificate; nullopt when it is not one.
std::optional<PeerCertificate> read_peer_certificate(std::string_view der);

// Crossbar's peer_cert dict: {md5, sha1, sha256, expired, hash, serial,
// signature_algorithm, version, not_before, not_after, extensions: [{name, value,
// critical}], subject: {cn, ...}, issuer: {...}}. A repeated name component keeps its
// last value, as the Python dict does. For a dynamic tls authenticator.
wamp::Dict peer_certificate_details(const PeerCertificate& certificate);

inline constexpr std::string_view tls_authmethod = "tls";

// Static WAMP-TLS: welcomes at HELLO the principal whose certificate-sha1 is the
// client certificate's fingerprint. `config` must outlive it.
class TlsMethod final : public PendingAuthentication {
public:
    explicit TlsMethod(const config::TlsAuth& config) : config_(config) {}
    Outcome hello(const HelloInfo& hello) override;
    // Never reached: the method sends no CHALLENGE, and the session refuses an
    // AUTHENTICATE without one.
    Outcome authenticate(const std::string& signature, const wamp::Dict& extra) override;

private:
    const config::TlsAuth& config_;
};

}  // namespace blindrouter::auth
