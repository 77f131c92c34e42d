#pragma once
// WAMP URIs as NATS subjects (docs: SCALE-OUT.md §2.3). Both separate components
// with '.', so components map one to one; what NATS would read as a wildcard or
// cannot carry is written as '~' and hex, so that no URI can alias another.
#include <string>
#include <string_view>

#include "blindrouter/wamp/uri.hpp"

namespace blindrouter::cluster {

// A URI component (or a realm name) as one subject token: itself when it is only
// [A-Za-z0-9_-], else '~' followed by the lowercase hex of its bytes.
std::string subject_token(std::string_view component);

// Where a publication to `topic` in `realm` is published: br.<realm>.e.<tokens>.
std::string event_subject(std::string_view realm, std::string_view topic);

// What a node subscribes to for its subscription (`uri`, `match`). Exact: the
// literal subject. Wildcard: '*' for each empty component. Prefix: WAMP's is a
// string prefix ("a.b" matches "a.bc") and NATS matches whole tokens, so the last
// component is widened to '>' (every node filters by string prefix again in its
// own broker match): "a.b" → br.<realm>.e.a.>, "a" → br.<realm>.e.>.
std::string interest_subject(std::string_view realm, std::string_view uri, wamp::MatchPolicy match);

// The key of the retained event of `topic` in `realm` in JetStream KV br_ret
// (SCALE-OUT.md §2.9): the tokens of event_subject after the realm's, escaped behind
// '=' rather than '~', which a KV key cannot hold: <realm>.<tokens>.
std::string retained_key(std::string_view realm, std::string_view topic);
// The keys a subscription (`uri`, `match`) may find retained events under, as a
// KV watch filter, widened for prefixes as interest_subject is: the caller filters
// by string prefix again.
std::string retained_filter(std::string_view realm, std::string_view uri, wamp::MatchPolicy match);

// Whether NATS would deliver a message on `subject` to a subscription to `filter`:
// token by token, '*' one token, a last '>' one or more (retained_filter's
// patterns, read by RetainedMirror as the KV watch read them).
bool subject_matches(std::string_view filter, std::string_view subject);

}  // namespace blindrouter::cluster
