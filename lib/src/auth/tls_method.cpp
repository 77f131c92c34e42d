#include "blindrouter/auth/tls_method.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <charconv>
#include <memory>

#include "blindrouter/wamp/error_uri.hpp"

namespace blindrouter::auth {
namespace {

template <class T, void (*Free)(T*)>
struct Deleter {
    void operator()(T* p) const { Free(p); }
};
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using GeneralizedTimePtr = std::unique_ptr<ASN1_GENERALIZEDTIME, Deleter<ASN1_GENERALIZEDTIME, ASN1_GENERALIZEDTIME_free>>;

// pyOpenSSL's X509.digest: "AB:CD:..." in upper case.
std::string fingerprint(const X509* certificate, const EVP_MD* digest) {
    unsigned char bytes[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (X509_digest(certificate, digest, bytes, &size) != 1) return {};
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string text;
    for (unsigned int i = 0; i < size; ++i) {
        if (i != 0) text += ':';
        text += digits[bytes[i] >> 4];
        text += digits[bytes[i] & 0xF];
    }
    return text;
}

std::string bio_text(BIO* bio) {
    char* data = nullptr;
    long size = BIO_get_mem_data(bio, &data);
    return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

// pyOpenSSL's _get_asn1_time: GeneralizedTime text, UTCTime converted to it.
std::string generalized_time(const ASN1_TIME* time) {
    GeneralizedTimePtr converted(ASN1_TIME_to_generalizedtime(time, nullptr));
    if (!converted) return {};
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(converted.get())),
                       static_cast<std::size_t>(ASN1_STRING_length(converted.get())));
}

std::vector<std::pair<std::string, std::string>> name_components(const X509_NAME* name) {
    std::vector<std::pair<std::string, std::string>> components;
    for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
        const X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, i);
        std::string key = OBJ_nid2sn(OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry)));
        for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        unsigned char* utf8 = nullptr;
        int size = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
        std::string value = size >= 0 ? std::string(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(size))
                                      : std::string();
        OPENSSL_free(utf8);
        components.emplace_back(std::move(key), std::move(value));
    }
    return components;
}

wamp::Dict name_dict(const std::vector<std::pair<std::string, std::string>>& components) {
    wamp::Dict dict;
    for (const auto& [key, value] : components) {
        bool replaced = false;
        for (auto& [k, v] : dict)
            if (k == key) v = wamp::Value(value), replaced = true;
        if (!replaced) dict.emplace_back(key, wamp::Value(value));
    }
    return dict;
}

Outcome deny(std::string message) {
    return Outcome::deny(std::string(wamp::error_uri::not_authorized), std::move(message));
}

}  // namespace

std::optional<PeerCertificate> read_peer_certificate(std::string_view der) {
    const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
    X509Ptr certificate(d2i_X509(nullptr, &cursor, static_cast<long>(der.size())));
    if (!certificate) return std::nullopt;
    const X509* x = certificate.get();

    PeerCertificate out;
    out.md5 = fingerprint(x, EVP_md5());
    out.sha1 = fingerprint(x, EVP_sha1());
    out.sha256 = fingerprint(x, EVP_sha256());
    out.expired = X509_cmp_current_time(X509_get0_notAfter(x)) < 0;
    out.subject_name_hash = X509_subject_name_hash(certificate.get());
    if (BignumPtr serial{ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr)}) {
        char* text = BN_bn2dec(serial.get());
        if (text) out.serial = text;
        OPENSSL_free(text);
    }
    const ASN1_OBJECT* algorithm = nullptr;
    X509_ALGOR_get0(&algorithm, nullptr, nullptr, X509_get0_tbs_sigalg(x));
    if (const char* name = OBJ_nid2ln(OBJ_obj2nid(algorithm))) out.signature_algorithm = name;
    out.version = X509_get_version(x);
    out.not_before = generalized_time(X509_get0_notBefore(x));
    out.not_after = generalized_time(X509_get0_notAfter(x));
    for (int i = 0; i < X509_get_ext_count(x); ++i) {
        X509_EXTENSION* extension = X509_get_ext(x, i);
        PeerCertificate::Extension e;
        e.name = OBJ_nid2sn(OBJ_obj2nid(X509_EXTENSION_get_object(extension)));
        e.critical = X509_EXTENSION_get_critical(extension) != 0;
        BioPtr bio(BIO_new(BIO_s_mem()));
        if (bio && X509V3_EXT_print(bio.get(), extension, X509V3_EXT_ERROR_UNKNOWN, 0) == 1) e.value = bio_text(bio.get());
        out.extensions.push_back(std::move(e));
    }
    out.subject = name_components(X509_get_subject_name(x));
    out.issuer = name_components(X509_get_issuer_name(x));
    return out;
}

wamp::Dict peer_certificate_details(const PeerCertificate& c) {
    wamp::Value serial{c.serial};
    std::int64_t small = 0;
    const auto* end = c.serial.data() + c.serial.size();
    if (auto [ptr, ec] = std::from_chars(c.serial.data(), end, small); ec == std::errc() && ptr == end)
        serial = wamp::Value(small);
    wamp::List extensions;
    for (const auto& e : c.extensions)
        extensions.emplace_back(wamp::Dict{
            {"name", wamp::Value(e.name)}, {"value", wamp::Value(e.value)}, {"critical", wamp::Value(e.critical)}});
    return wamp::Dict{
        {"md5", wamp::Value(c.md5)},
        {"sha1", wamp::Value(c.sha1)},
        {"sha256", wamp::Value(c.sha256)},
        {"expired", wamp::Value(c.expired)},
        {"hash", wamp::Value(std::uint64_t{c.subject_name_hash})},
        {"serial", std::move(serial)},
        {"signature_algorithm", wamp::Value(c.signature_algorithm)},
        {"version", wamp::Value(c.version)},
        {"not_before", wamp::Value(c.not_before)},
        {"not_after", wamp::Value(c.not_after)},
        {"extensions", wamp::Value(std::move(extensions))},
        {"subject", wamp::Value(name_dict(c.subject))},
        {"issuer", wamp::Value(name_dict(c.issuer))},
    };
}

// cb:router/auth/tls.py, type static. The HELLO authid is not consulted: the
// certificate alone names the principal.
Outcome TlsMethod::hello(const HelloInfo& hello) {
    if (!hello.peer_certificate) return deny("client did not send a TLS client certificate");
    const auto& sha1 = hello.peer_certificate->sha1;
    auto it = config_.principals_by_sha1.find(sha1);
    // Crossbar's text names the fingerprint where an authid would be.
    if (it == config_.principals_by_sha1.end()) return deny("no principal with authid \"" + sha1 + "\" exists");
    return Outcome::welcome(
        Principal{it->second.authid, it->second.role, std::string(tls_authmethod), "static", {}, std::nullopt});
}

Outcome TlsMethod::authenticate(const std::string&, const wamp::Dict&) {
    return deny("WAMP-TLS does not use AUTHENTICATE");
}

}  // namespace blindrouter::auth
