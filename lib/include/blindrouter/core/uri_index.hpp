#pragma once
// URI pattern → value index shared by the broker (every match), the dealer (the best
// match) and the authorizer (the longest string prefix). Crossbar keeps the same three
// maps, shared the same way (cb:router/observation.py:110-337): a dict of exact URIs, a
// string trie of prefixes and a trie of '.'-separated components for wildcards. No
// lookup here scans the patterns, so its cost does not grow with their number.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "blindrouter/wamp/uri.hpp"

namespace blindrouter::core {

namespace uri_index_detail {

// The prefix table hashes with FNV-1a because it is incremental: one pass over a URI
// gives the hash of each of its prefixes, so probing k prefix lengths hashes the URI
// once, not k times.
inline constexpr std::uint64_t fnv_offset = 14695981039346656037ull;
inline std::uint64_t fnv_step(std::uint64_t hash, char c) {
    return (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
}
std::uint64_t fnv(std::string_view text);

// A text with its hash already computed, for probing the prefix table.
struct HashedText {
    std::string_view text;
    std::size_t hash;
};

struct PrefixHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const { return fnv(text); }
    std::size_t operator()(const HashedText& probe) const { return probe.hash; }
};

struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
};

struct TextEqual {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const { return a == b; }
    bool operator()(const HashedText& a, std::string_view b) const { return a.text == b; }
    bool operator()(std::string_view a, const HashedText& b) const { return a == b.text; }
};

// Keyed by std::string, found by std::string_view without building a string.
template <class V>
using TextMap = std::unordered_map<std::string, V, TextHash, TextEqual>;

inline constexpr std::size_t end_of_uri = std::string_view::npos;

// The component of `uri` that starts at `position`, and where the next one starts
// (end_of_uri after the last).
inline std::pair<std::string_view, std::size_t> component_at(std::string_view uri, std::size_t position) {
    auto dot = uri.find('.', position);
    if (dot == std::string_view::npos) return {uri.substr(position), end_of_uri};
    return {uri.substr(position, dot - position), dot + 1};
}

}  // namespace uri_index_detail

template <class V>
class UriIndex {
public:
    // False (and nothing changes) when (uri, match) is already present.
    bool insert(std::string_view uri, wamp::MatchPolicy match, V value) {
        switch (match) {
            case wamp::MatchPolicy::exact:
                return exact_.try_emplace(std::string(uri), std::move(value)).second;
            case wamp::MatchPolicy::prefix:
                if (!prefix_.try_emplace(std::string(uri), std::move(value)).second) return false;
                count_prefix_length(uri.size(), +1);
                return true;
            case wamp::MatchPolicy::wildcard: {
                Node* node = &wildcard_root_;
                for (std::size_t position = 0; position != uri_index_detail::end_of_uri;) {
                    auto [component, next] = uri_index_detail::component_at(uri, position);
                    auto& child = component.empty() ? node->wildcard : node->child(component);
                    if (!child) child = std::make_unique<Node>();
                    node = child.get();
                    position = next;
                }
                if (node->value) return false;
                node->value.emplace(std::move(value));
                return true;
            }
        }
        return false;
    }

    void erase(std::string_view uri, wamp::MatchPolicy match) {
        switch (match) {
            case wamp::MatchPolicy::exact:
                if (auto it = exact_.find(uri); it != exact_.end()) exact_.erase(it);
                return;
            case wamp::MatchPolicy::prefix:
                if (auto it = prefix_.find(uri); it != prefix_.end()) {
                    prefix_.erase(it);
                    count_prefix_length(uri.size(), -1);
                }
                return;
            case wamp::MatchPolicy::wildcard:
                erase_wildcard(wildcard_root_, uri, 0);
                return;
        }
    }

    const V* find(std::string_view uri, wamp::MatchPolicy match) const {
        switch (match) {
            case wamp::MatchPolicy::exact: {
                auto it = exact_.find(uri);
                return it == exact_.end() ? nullptr : &it->second;
            }
            case wamp::MatchPolicy::prefix: {
                auto it = prefix_.find(uri);
                return it == prefix_.end() ? nullptr : &it->second;
            }
            case wamp::MatchPolicy::wildcard: {
                const Node* node = &wildcard_root_;
                for (std::size_t position = 0; node && position != uri_index_detail::end_of_uri;) {
                    auto [component, next] = uri_index_detail::component_at(uri, position);
                    node = component.empty() ? node->wildcard.get() : node->find_child(component);
                    position = next;
                }
                return node && node->value ? &*node->value : nullptr;
            }
        }
        return nullptr;
    }

    // Calls f(value) for every entry that matches `uri`: the exact one, then the
    // prefixes (shortest first), then the wildcards, the order Crossbar dispatches in
    // (cb:router/observation.py:280-306).
    template <class F>
    void for_each_match(std::string_view uri, F&& f) const {
        if (auto it = exact_.find(uri); it != exact_.end()) f(it->second);
        for_each_prefix(uri, f);
        walk_wildcards(wildcard_root_, uri, 0, [&](const V& value) {
            f(value);
            return false;
        });
    }

    // The one entry that serves `uri` (WAMP spec, rpc_pattern_based_registration; Crossbar
    // observation.py:308-337 best_matching_observation): the exact one, else the longest
    // matching prefix, else the first wildcard met by a depth-first walk that tries the
    // concrete component before the wildcard at each level. That walk prefers the longest
    // concrete run before each wildcard, compared left to right, as the spec asks.
    const V* best_match(std::string_view uri) const {
        if (auto it = exact_.find(uri); it != exact_.end()) return &it->second;
        if (const V* prefix = longest_prefix(uri)) return prefix;
        const V* found = nullptr;
        walk_wildcards(wildcard_root_, uri, 0, [&](const V& value) {
            found = &value;
            return true;
        });
        return found;
    }

    // The prefix entry with the longest key that is a string prefix of `uri` (Crossbar's
    // StringTrie.longest_prefix_value); "" is a prefix of every URI.
    const V* longest_prefix(std::string_view uri) const {
        const V* longest = nullptr;
        for_each_prefix(uri, [&](const V& value) { longest = &value; });
        return longest;
    }

private:
    struct Node {
        uri_index_detail::TextMap<std::unique_ptr<Node>> children;  // concrete components
        std::unique_ptr<Node> wildcard;                             // the empty component
        std::optional<V> value;

        std::unique_ptr<Node>& child(std::string_view component) {
            if (auto it = children.find(component); it != children.end()) return it->second;
            return children[std::string(component)];
        }
        const Node* find_child(std::string_view component) const {
            auto it = children.find(component);
            return it == children.end() ? nullptr : it->second.get();
        }
        bool empty() const { return !value && !wildcard && children.empty(); }
    };

    // A prefix table keyed by text, plus the distinct key lengths present: a lookup
    // probes the table once per distinct length no longer than the URI, hashing the URI
    // once (see fnv above). The distinct lengths are bounded by the longest pattern, not
    // by the number of patterns, and the keys cost one string each; a character trie
    // would cost a node per character and a pointer chase per character of every lookup.
    template <class F>
    void for_each_prefix(std::string_view uri, F&& f) const {
        std::uint64_t hash = uri_index_detail::fnv_offset;
        std::size_t hashed = 0;
        for (const auto& [length, entries] : prefix_lengths_) {
            if (length > uri.size()) break;
            for (; hashed < length; ++hashed) hash = uri_index_detail::fnv_step(hash, uri[hashed]);
            auto probe = uri_index_detail::HashedText{uri.substr(0, length), static_cast<std::size_t>(hash)};
            if (auto it = prefix_.find(probe); it != prefix_.end()) f(it->second);
        }
    }

    void count_prefix_length(std::size_t length, int change) {
        auto it = std::lower_bound(prefix_lengths_.begin(), prefix_lengths_.end(), length,
                                   [](const auto& entry, std::size_t l) { return entry.first < l; });
        if (change > 0) {
            if (it != prefix_lengths_.end() && it->first == length) ++it->second;
            else prefix_lengths_.insert(it, {length, 1});
        } else if (it != prefix_lengths_.end() && it->first == length && --it->second == 0) {
            prefix_lengths_.erase(it);
        }
    }

    // Visits the wildcard entries matching uri[position..] below `node`, concrete child
    // first; stops as soon as f returns true. The component counts must be equal (WAMP
    // spec, pubsub_pattern_based_subscription: "com.myapp..userevent" does not match
    // "com.myapp.foo.userevent.bar").
    template <class F>
    static bool walk_wildcards(const Node& node, std::string_view uri, std::size_t position, F&& f) {
        if (position == uri_index_detail::end_of_uri) return node.value && f(*node.value);
        auto [component, next] = uri_index_detail::component_at(uri, position);
        if (const Node* concrete = node.find_child(component))
            if (walk_wildcards(*concrete, uri, next, f)) return true;
        return node.wildcard && walk_wildcards(*node.wildcard, uri, next, f);
    }

    // Removes the entry and the nodes it leaves empty; true when `node` is left empty.
    static bool erase_wildcard(Node& node, std::string_view uri, std::size_t position) {
        if (position == uri_index_detail::end_of_uri) {
            node.value.reset();
            return node.empty();
        }
        auto [component, next] = uri_index_detail::component_at(uri, position);
        if (component.empty()) {
            if (node.wildcard && erase_wildcard(*node.wildcard, uri, next)) node.wildcard.reset();
        } else if (auto it = node.children.find(component); it != node.children.end()) {
            if (erase_wildcard(*it->second, uri, next)) node.children.erase(it);
        }
        return node.empty();
    }

    uri_index_detail::TextMap<V> exact_;
    std::unordered_map<std::string, V, uri_index_detail::PrefixHash, uri_index_detail::TextEqual> prefix_;
    std::vector<std::pair<std::size_t, std::size_t>> prefix_lengths_;  // (length, entries), by length
    Node wildcard_root_;
};

}  // namespace blindrouter::core
