#pragma once
#include <optional>
#include <string_view>

namespace blindrouter::wamp {

// How a subscription, registration or permission matches URIs (WAMP spec,
// pattern-based subscription/registration; Crossbar permissions use the same words).
enum class MatchPolicy : unsigned char { exact, prefix, wildcard };
// The policy's word on the wire and in configs: "exact", "prefix" or "wildcard".
std::string_view match_name(MatchPolicy policy);
// The policy a word names; nothing for any other word (callers say what they expected).
std::optional<MatchPolicy> match_from_name(std::string_view name);

// Loose URI rules (the WAMP spec's "relaxed" rule, which Crossbar applies by default):
// components are non-empty and contain no whitespace, '.' or '#'. A prefix pattern may
// end with an empty component ("com.myapp."), a wildcard pattern may have empty
// components anywhere ("com..update").
bool is_valid_uri(std::string_view uri, MatchPolicy policy = MatchPolicy::exact);

// URIs starting with "wamp." belong to the router (meta API); clients may not
// publish or register them.
bool is_reserved_uri(std::string_view uri);

bool uri_matches(std::string_view pattern, MatchPolicy policy, std::string_view uri);

}  // namespace blindrouter::wamp
