#include "secret_crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <vector>
#include <chrono>
#include <ctime>
#include <stdexcept>

#include "blindrouter/auth/static_methods.hpp"

namespace blindrouter::auth {
namespace detail {

std::string base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(written));
    return out;
}

namespace {
std::array<unsigned char, 32> sha256(std::string_view text) {
    std::array<unsigned char, 32> digest{};
    unsigned int length = 0;
    if (!EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr))
        throw std::runtime_error("SHA-256 failed");
    return digest;
}
}  // namespace

bool secrets_equal(std::string_view a, std::string_view b) {
    auto da = sha256(a);
    auto db = sha256(b);
    return CRYPTO_memcmp(da.data(), db.data(), da.size()) == 0;
}

std::string random_id(std::size_t length) {
    std::vector<unsigned char> bytes((length * 6 + 7) / 8);
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) throw std::runtime_error("RAND_bytes failed");
    auto text = base64(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    text.resize(length);
    return text;
}

std::string utc_timestamp() {
    using namespace std::chrono;
    auto now = system_clock::now();
    auto seconds = system_clock::to_time_t(now);
    auto millis = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[32];
    std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(millis));
    return text;
}

}  // namespace detail

std::string wampcra_derive_key(std::string_view secret, std::string_view salt, int iterations, int keylen) {
    std::string key(static_cast<std::size_t>(keylen), '\0');
    if (!PKCS5_PBKDF2_HMAC(secret.data(), static_cast<int>(secret.size()),
                           reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()), iterations,
                           EVP_sha256(), keylen, reinterpret_cast<unsigned char*>(key.data())))
        throw std::runtime_error("PBKDF2 failed");
    return detail::base64(key);
}

std::string wampcra_signature(std::string_view key, std::string_view challenge) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    std::size_t length = 0;
    if (!EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
                   reinterpret_cast<const unsigned char*>(challenge.data()), challenge.size(), mac, sizeof mac, &length))
        throw std::runtime_error("HMAC-SHA256 failed");
    return detail::base64(std::string_view(reinterpret_cast<const char*>(mac), length));
}

}  // namespace blindrouter::auth
