#pragma once
// What the broker and dealer tell the realm about their subscriptions and
// registrations as they change, for the meta API's events (core/meta_api.hpp;
// Crossbar publishes them from its broker and dealer, cb:router/broker.py,
// cb:router/dealer.py).
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

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

}  // namespace blindrouter::core
