#include "blindrouter/core/uri_index.hpp"

namespace blindrouter::core::uri_index_detail {

std::uint64_t fnv(std::string_view text) {
    std::uint64_t hash = fnv_offset;
    for (char c : text) hash = fnv_step(hash, c);
    return hash;
}

}  // namespace blindrouter::core::uri_index_detail
