#pragma once
// What the broker and dealer tell the realm about their subscriptions and
// registrations as they change, for the meta API's events (core/meta_api.hpp;
// Crossbar publishes them from its broker and dealer, cb:router/broker.py,
// cb:router/dealer.py).
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "blindrouter/core/ids.hpp"
#include "blindrouter/wamp/uri.hpp"

namespace blindrouter::core {

// A subscription or registration as the meta API describes it.
struct ObservationInfo {
    std::uint64_t id = 0;
    std::string uri;
    wamp::MatchPolicy match = wamp::MatchPolicy::exact;
    std::chrono::system_clock::time_point created;
    std::string invoke;  // a registration's invocation policy; "" for a subscription
};

struct ObservationChange {
    // created: the first subscriber or callee made it; attached/detached: a session
    // subscribed/registered or left it; deleted: its last one left.
    enum class Kind : unsigned char { created, attached, detached, deleted };
    Kind kind;
    SessionId session;
    ObservationInfo observation;
};

using ObservationListener = std::function<void(ObservationChange)>;

// The id every node of a cluster gives the subscription or registration (`uri`,
// `match`) of `realm`: H(realm, match, uri) mod 2^53 (SCALE-OUT.md §2.5), so that
// the meta API's answers of several nodes name the same thing alike. The WAMP spec
// lets a router choose router-scope ids freely.
std::uint64_t observation_id(std::string_view realm, std::string_view uri, wamp::MatchPolicy match);
// The same, stepped past ids `taken` already holds (two URIs of one hash): nodes
// that hold both name them alike too.
template <class Table>
std::uint64_t free_observation_id(std::string_view realm, std::string_view uri, wamp::MatchPolicy match,
                                  const Table& taken) {
    constexpr std::uint64_t largest = std::uint64_t{1} << 53;
    auto id = observation_id(realm, uri, match);
    while (taken.count(id) != 0) id = id % largest + 1;
    return id;
}

}  // namespace blindrouter::core
