#pragma once
// Typed reads of options/details dicts. A wrong type is the sender's error
// (wamp.error.invalid_argument), never silently treated as absent.
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "blindrouter/wamp/uri.hpp"
#include "blindrouter/wamp/value.hpp"

namespace blindrouter::core {

class OptionReader {
public:
    explicit OptionReader(const wamp::Dict& options) : options_(options) {}

    bool flag(std::string_view key, bool fallback);
    std::optional<std::vector<std::uint64_t>> id_list(std::string_view key);
    std::optional<std::vector<std::string>> string_list(std::string_view key);
    // "match": "exact" | "prefix" | "wildcard" (pattern-based subscription/registration).
    wamp::MatchPolicy match_policy();
    std::optional<std::string> string(std::string_view key);
    // A non-negative integer (a count, a duration in milliseconds).
    std::optional<std::uint64_t> count(std::string_view key);

    // Whether any of `keys` is present, in one pass over the options.
    bool has_any(std::initializer_list<std::string_view> keys) const;

    // The first type fault met, phrased for an error's explanation.
    const std::optional<std::string>& fault() const { return fault_; }

private:
    void fail(std::string_view key, std::string_view expected);
    const wamp::Dict& options_;
    std::optional<std::string> fault_;
};

}  // namespace blindrouter::core
