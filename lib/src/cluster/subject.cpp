#include "blindrouter/cluster/subject.hpp"

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

std::vector<std::string_view> components(std::string_view uri) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (;;) {
        auto dot = uri.find('.', start);
        parts.push_back(uri.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
        if (dot == std::string_view::npos) return parts;
        start = dot + 1;
    }
}

std::string events_root(std::string_view realm) { return "br." + subject_token(realm) + ".e"; }

}  // namespace

std::string subject_token(std::string_view component) {
    if (plain(component)) return std::string(component);
    static constexpr char hex[] = "0123456789abcdef";
    std::string token = "~";
    for (unsigned char c : component) {
        token.push_back(hex[c >> 4]);
        token.push_back(hex[c & 0xf]);
    }
    return token;
}

std::string event_subject(std::string_view realm, std::string_view topic) {
    return interest_subject(realm, topic, wamp::MatchPolicy::exact);
}

std::string interest_subject(std::string_view realm, std::string_view uri, wamp::MatchPolicy match) {
    auto subject = events_root(realm);
    auto parts = components(uri);
    if (match == wamp::MatchPolicy::prefix) parts.pop_back();
    for (auto part : parts) {
        subject.push_back('.');
        if (match == wamp::MatchPolicy::wildcard && part.empty()) subject.push_back('*');
        else subject += subject_token(part);
    }
    if (match == wamp::MatchPolicy::prefix) subject += ".>";
    return subject;
}

}  // namespace blindrouter::cluster
