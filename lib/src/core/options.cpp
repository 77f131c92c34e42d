#include "blindrouter/core/options.hpp"

namespace blindrouter::core {

void OptionReader::fail(std::string_view key, std::string_view expected) {
    if (!fault_) fault_ = "option '" + std::string(key) + "' must be " + std::string(expected);
}

bool OptionReader::has_any(std::initializer_list<std::string_view> keys) const {
    for (const auto& entry : options_)
        for (auto key : keys)
            if (entry.first == key) return true;
    return false;
}

bool OptionReader::flag(std::string_view key, bool fallback) {
    const auto* v = wamp::find(options_, key);
    if (!v) return fallback;
    if (const auto* b = v->as_bool()) return *b;
    fail(key, "a boolean");
    return fallback;
}

std::optional<std::vector<std::uint64_t>> OptionReader::id_list(std::string_view key) {
    const auto* v = wamp::find(options_, key);
    if (!v) return std::nullopt;
    std::vector<std::uint64_t> ids;
    if (const auto* list = v->as_list()) {
        for (const auto& item : *list) {
            auto id = item.as_unsigned();
            if (!id) {
                fail(key, "a list of session ids");
                return std::nullopt;
            }
            ids.push_back(*id);
        }
        return ids;
    }
    fail(key, "a list of session ids");
    return std::nullopt;
}

std::optional<std::vector<std::string>> OptionReader::string_list(std::string_view key) {
    const auto* v = wamp::find(options_, key);
    if (!v) return std::nullopt;
    std::vector<std::string> strings;
    if (const auto* list = v->as_list()) {
        for (const auto& item : *list) {
            const auto* s = item.as_string();
            if (!s) {
                fail(key, "a list of strings");
                return std::nullopt;
            }
            strings.push_back(*s);
        }
        return strings;
    }
    fail(key, "a list of strings");
    return std::nullopt;
}

std::optional<std::string> OptionReader::string(std::string_view key) {
    const auto* v = wamp::find(options_, key);
    if (!v) return std::nullopt;
    if (const auto* s = v->as_string()) return *s;
    fail(key, "a string");
    return std::nullopt;
}

std::optional<std::uint64_t> OptionReader::count(std::string_view key) {
    const auto* v = wamp::find(options_, key);
    if (!v) return std::nullopt;
    if (auto n = v->as_unsigned()) return n;
    fail(key, "a non-negative integer");
    return std::nullopt;
}

wamp::MatchPolicy OptionReader::match_policy() {
    auto match = string("match");
    if (!match) return wamp::MatchPolicy::exact;
    if (auto policy = wamp::match_from_name(*match)) return *policy;
    fail("match", "one of \"exact\", \"prefix\", \"wildcard\"");
    return wamp::MatchPolicy::exact;
}

}  // namespace blindrouter::core
