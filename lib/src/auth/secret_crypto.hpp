#pragma once
// OpenSSL primitives the secret-based methods share. Nothing here logs.
#include <string>
#include <string_view>

namespace blindrouter::auth::detail {

std::string base64(std::string_view bytes);
// Equal contents, compared in time independent of where they differ and of their
// lengths: both sides are hashed first, then compared with CRYPTO_memcmp.
bool secrets_equal(std::string_view a, std::string_view b);
// Autobahn's util.newid(length): the first `length` characters of the base64 of
// ceil(length * 6 / 8) random bytes.
std::string random_id(std::size_t length);
// Crossbar's nonce (autobahn util.newid(64)): base64 of 48 random bytes.
inline std::string random_nonce() { return random_id(64); }
// Crossbar's timestamp (autobahn util.utcnow): "2014-06-22T16:51:41.643Z".
std::string utc_timestamp();

}  // namespace blindrouter::auth::detail
