#include "blindrouter/core/uri_index.hpp"
#include "blindrouter/core/observation.hpp"

namespace blindrouter::core::uri_index_detail {

std::uint64_t fnv(std::string_view text) {
    std::uint64_t hash = fnv_offset;
    for (char c : text) hash = fnv_step(hash, c);
    return hash;
}

}  // namespace blindrouter::core::uri_index_detail

namespace blindrouter::core {

std::uint64_t observation_id(std::string_view realm, std::string_view uri, wamp::MatchPolicy match) {
    std::string key;
    key.reserve(realm.size() + uri.size() + 16);
    key.append(realm).append(1, '\0').append(wamp::match_name(match)).append(1, '\0').append(uri);
    auto id = uri_index_detail::fnv(key) & ((std::uint64_t{1} << 53) - 1);
    return id == 0 ? 1 : id;
}

}  // namespace blindrouter::core
