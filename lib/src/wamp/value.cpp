#include "blindrouter/wamp/value.hpp"

#include <cmath>

namespace blindrouter::wamp {
namespace {

// JavaScript has one number type, and its MsgPack and CBOR encoders (msgpackr and
// cbor-x, used by wampy 8) write every integer beyond 32 bits as a float64: a
// session id in `exclude`, or the request id of an INVOCATION echoed in YIELD,
// arrives as 4.5e15. Such a float names an integer exactly and is read as one; a
// float with a fraction, or beyond [low, high), is still not an integer.
std::optional<double> integral(const Value::Storage& data, double low, double high) {
    const auto* d = std::get_if<double>(&data);
    if (!d || !(*d >= low && *d < high) || std::trunc(*d) != *d) return std::nullopt;
    return *d;
}

constexpr double two_to_63 = 9223372036854775808.0;
constexpr double two_to_64 = 18446744073709551616.0;

}  // namespace

std::optional<std::uint64_t> Value::as_unsigned() const {
    if (auto u = std::get_if<std::uint64_t>(&data)) return *u;
    if (auto i = std::get_if<std::int64_t>(&data); i && *i >= 0) return static_cast<std::uint64_t>(*i);
    if (auto d = integral(data, 0, two_to_64)) return static_cast<std::uint64_t>(*d);
    return std::nullopt;
}

std::optional<std::int64_t> Value::as_integer() const {
    if (auto i = std::get_if<std::int64_t>(&data)) return *i;
    if (auto u = std::get_if<std::uint64_t>(&data); u && *u <= static_cast<std::uint64_t>(INT64_MAX))
        return static_cast<std::int64_t>(*u);
    if (auto d = integral(data, -two_to_63, two_to_63)) return static_cast<std::int64_t>(*d);
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
