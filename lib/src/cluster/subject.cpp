#include "blindrouter/cluster/subject.hpp"

#include "blindrouter/cluster/envelope.hpp"

#include <vector>

namespace blindrouter::cluster {
namespace {

bool plain(std::string_view component) {
    if (component.empty()) return false;
    for (char c : component) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

std::string escaped(std::string_view component, char mark) {
    if (plain(component)) return std::string(component);
    std::string token(1, mark);
    token += hex_lower(component);
    return token;
}

// `root` then the tokens of (`uri`, `match`), each component escaped behind `mark`.
std::string pattern_for(std::string root, std::string_view uri, wamp::MatchPolicy match, char mark) {
    auto parts = split(uri, '.');
    if (match == wamp::MatchPolicy::prefix) parts.pop_back();
    for (auto part : parts) {
        root.push_back('.');
        if (match == wamp::MatchPolicy::wildcard && part.empty()) root.push_back('*');
        else root += escaped(part, mark);
    }
    if (match == wamp::MatchPolicy::prefix) root += ".>";
    return root;
}

// JetStream KV keys may hold [-/_=.A-Za-z0-9] only: '~' is not among them.
constexpr char key_mark = '=';
constexpr char subject_mark = '~';

std::string events_root(std::string_view realm) { return "br." + subject_token(realm) + ".e"; }

}  // namespace

std::string subject_token(std::string_view component) { return escaped(component, subject_mark); }

std::string event_subject(std::string_view realm, std::string_view topic) {
    return interest_subject(realm, topic, wamp::MatchPolicy::exact);
}

std::string interest_subject(std::string_view realm, std::string_view uri, wamp::MatchPolicy match) {
    return pattern_for(events_root(realm), uri, match, subject_mark);
}

std::string retained_key(std::string_view realm, std::string_view topic) {
    return retained_filter(realm, topic, wamp::MatchPolicy::exact);
}

std::string retained_filter(std::string_view realm, std::string_view uri, wamp::MatchPolicy match) {
    return pattern_for(escaped(realm, key_mark), uri, match, key_mark);
}

bool subject_matches(std::string_view filter, std::string_view subject) {
    auto patterns = split(filter, '.');
    auto tokens = split(subject, '.');
    for (std::size_t i = 0; i < patterns.size(); ++i) {
        if (patterns[i] == ">" && i + 1 == patterns.size()) return tokens.size() > i;
        if (i == tokens.size()) return false;
        if (patterns[i] != "*" && patterns[i] != tokens[i]) return false;
    }
    return tokens.size() == patterns.size();
}

}  // namespace blindrouter::cluster
