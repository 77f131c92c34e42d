#pragma once
#include <boost/container/small_vector.hpp>

#include <optional>
#include <string>
#include <vector>

#include "blindrouter/codec/outbound_message.hpp"
#include "blindrouter/core/ids.hpp"

namespace blindrouter::core {

struct Delivery {
    SessionId to;
    codec::SharedOutbound message;
};

// What the broker or dealer decided: messages to send, and, when the input broke
// the protocol, the reason to ABORT the sender with; `dropped`: why the input was
// dropped without an answer (for the log).
struct RouteResult {
    // Inline room for the common answers (one reply; an EVENT to one subscriber and
    // a PUBLISHED): routing those allocates nothing here.
    boost::container::small_vector<Delivery, 2> deliveries;
    std::optional<std::string> protocol_violation;
    std::optional<std::string> dropped;
    // SUBSCRIBE: the subscription the subscriber got (0 when refused).
    SubscriptionId subscription = 0;

    void send(SessionId to, codec::SharedOutbound message) { deliveries.push_back({to, std::move(message)}); }
};

}  // namespace blindrouter::core
