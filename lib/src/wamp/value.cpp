#include "blindrouter/wamp/value.hpp"

namespace blindrouter::wamp {

std::optional<std::uint64_t> Value::as_unsigned() const {
    if (auto u = std::get_if<std::uint64_t>(&data)) return *u;
    if (auto i = std::get_if<std::int64_t>(&data); i && *i >= 0) return static_cast<std::uint64_t>(*i);
    return std::nullopt;
}

std::optional<std::int64_t> Value::as_integer() const {
    if (auto i = std::get_if<std::int64_t>(&data)) return *i;
    if (auto u = std::get_if<std::uint64_t>(&data); u && *u <= static_cast<std::uint64_t>(INT64_MAX))
        return static_cast<std::int64_t>(*u);
    return std::nullopt;
}

const Value* find(const Dict& dict, std::string_view key) {
    for (const auto& [k, v] : dict)
        if (k == key) return &v;
    return nullptr;
}

void set(Dict& dict, std::string key, Value value) {
    for (auto& [k, v] : dict) {
        if (k == key) {
            v = std::move(value);
            return;
        }
    }
    dict.emplace_back(std::move(key), std::move(value));
}

}  // namespace blindrouter::wamp
