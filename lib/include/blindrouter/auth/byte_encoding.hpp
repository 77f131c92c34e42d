#pragma once
// Hex and base64 for authentication material (keys, salts, nonces, signatures,
// challenges). libsodium's codecs are used because they run in constant time: the
// bytes are secrets or compared against secrets. The codec's base64 (OpenSSL,
// faster, not constant-time) is for payload bytes, never for these.
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace blindrouter::auth {

// Starts libsodium once per process; throws std::runtime_error when it cannot start.
void init_sodium();

std::string to_hex(std::string_view bytes);
// Upper or lower case digits, even length, nothing else (Python's binascii.a2b_hex).
std::optional<std::string> from_hex(std::string_view text);
std::string to_base64(std::string_view bytes);
// Standard alphabet with its '=' padding, nothing else.
std::optional<std::string> from_base64(std::string_view text);

// Fills a buffer with random bytes. libsodium's randombytes_buf in the router;
// tests inject fixed bytes to check the spec's vectors.
using RandomBytes = std::function<void(std::span<unsigned char>)>;
RandomBytes system_random();

}  // namespace blindrouter::auth
