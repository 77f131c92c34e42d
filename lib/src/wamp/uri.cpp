#include "blindrouter/wamp/uri.hpp"

namespace blindrouter::wamp {
namespace {
bool is_component_char(char c) {
    return !(c == '.' || c == '#' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v');
}

// Calls f(component) for each '.'-separated component.
template <class F>
bool all_components(std::string_view uri, F&& f) {
    std::size_t start = 0;
    for (;;) {
        auto dot = uri.find('.', start);
        auto part = uri.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        bool last = dot == std::string_view::npos;
        if (!f(part, last)) return false;
        if (last) return true;
        start = dot + 1;
    }
}
}  // namespace

bool is_valid_uri(std::string_view uri, MatchPolicy policy) {
    if (uri.empty()) return policy == MatchPolicy::prefix;
    return all_components(uri, [policy](std::string_view part, bool last) {
        if (part.empty())
            return policy == MatchPolicy::wildcard || (policy == MatchPolicy::prefix && last);
        for (char c : part)
            if (!is_component_char(c)) return false;
        return true;
    });
}

bool is_reserved_uri(std::string_view uri) { return uri.substr(0, 5) == "wamp."; }

bool uri_matches(std::string_view pattern, MatchPolicy policy, std::string_view uri) {
    switch (policy) {
        case MatchPolicy::exact:
            return pattern == uri;
        case MatchPolicy::prefix:
            return uri.substr(0, pattern.size()) == pattern;
        case MatchPolicy::wildcard: {
            // Same number of components; an empty pattern component matches any one.
            std::size_t p = 0, u = 0;
            for (;;) {
                auto pd = pattern.find('.', p), ud = uri.find('.', u);
                auto pc = pattern.substr(p, pd == std::string_view::npos ? pd : pd - p);
                auto uc = uri.substr(u, ud == std::string_view::npos ? ud : ud - u);
                if (!pc.empty() && pc != uc) return false;
                if ((pd == std::string_view::npos) != (ud == std::string_view::npos)) return false;
                if (pd == std::string_view::npos) return true;
                p = pd + 1;
                u = ud + 1;
            }
        }
    }
    return false;
}

std::string_view match_name(MatchPolicy policy) {
    switch (policy) {
        case MatchPolicy::exact: return "exact";
        case MatchPolicy::prefix: return "prefix";
        case MatchPolicy::wildcard: return "wildcard";
    }
    return "exact";
}

std::optional<MatchPolicy> match_from_name(std::string_view name) {
    for (auto match : {MatchPolicy::exact, MatchPolicy::prefix, MatchPolicy::wildcard})
        if (match_name(match) == name) return match;
    return std::nullopt;
}

}  // namespace blindrouter::wamp
