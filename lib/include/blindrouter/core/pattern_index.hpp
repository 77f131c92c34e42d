#pragma once
// URI pattern → id index shared by the broker (every match) and the dealer (best
// match): exact URIs hashed, prefix and wildcard patterns scanned.
#include <map>
#include <string>
#include <unordered_map>

#include "blindrouter/wamp/uri.hpp"

namespace blindrouter::core {

template <class Id>
class PatternIndex {
public:
    bool insert(const std::string& uri, wamp::MatchPolicy match, Id id) {
        if (match == wamp::MatchPolicy::exact) return exact_.emplace(uri, id).second;
        return patterns(match).emplace(uri, id).second;
    }

    void erase(const std::string& uri, wamp::MatchPolicy match) {
        if (match == wamp::MatchPolicy::exact) exact_.erase(uri);
        else patterns(match).erase(uri);
    }

    const Id* find(const std::string& uri, wamp::MatchPolicy match) const {
        if (match == wamp::MatchPolicy::exact) {
            auto it = exact_.find(uri);
            return it == exact_.end() ? nullptr : &it->second;
        }
        const auto& table = match == wamp::MatchPolicy::prefix ? prefix_ : wildcard_;
        auto it = table.find(uri);
        return it == table.end() ? nullptr : &it->second;
    }

    // Calls f(id) for every pattern that matches `uri`.
    template <class F>
    void for_each_match(const std::string& uri, F&& f) const {
        if (auto it = exact_.find(uri); it != exact_.end()) f(it->second);
        for (const auto& [pattern, id] : prefix_)
            if (wamp::uri_matches(pattern, wamp::MatchPolicy::prefix, uri)) f(id);
        for (const auto& [pattern, id] : wildcard_)
            if (wamp::uri_matches(pattern, wamp::MatchPolicy::wildcard, uri)) f(id);
    }

    // The one pattern that serves `uri` (WAMP spec, pattern-based registration):
    // exact first, then the longest matching prefix, then the matching wildcard with
    // the longest literal start.
    const Id* best_match(const std::string& uri) const {
        if (auto it = exact_.find(uri); it != exact_.end()) return &it->second;
        const Id* best = nullptr;
        std::size_t best_length = 0;
        for (const auto& [pattern, id] : prefix_) {
            if ((!best || pattern.size() > best_length) &&
                wamp::uri_matches(pattern, wamp::MatchPolicy::prefix, uri)) {
                best = &id;
                best_length = pattern.size();
            }
        }
        if (best) return best;
        for (const auto& [pattern, id] : wildcard_) {
            auto literal = pattern.find("..");
            auto length = literal == std::string::npos ? pattern.size() : literal;
            if ((!best || length > best_length) && wamp::uri_matches(pattern, wamp::MatchPolicy::wildcard, uri)) {
                best = &id;
                best_length = length;
            }
        }
        return best;
    }

private:
    std::map<std::string, Id>& patterns(wamp::MatchPolicy match) {
        return match == wamp::MatchPolicy::prefix ? prefix_ : wildcard_;
    }

    std::unordered_map<std::string, Id> exact_;
    std::map<std::string, Id> prefix_;
    std::map<std::string, Id> wildcard_;
};

}  // namespace blindrouter::core
