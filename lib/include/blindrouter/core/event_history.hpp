#pragma once
// Event history (Crossbar's realm store of type "memory", cb:router/realmstore.py; WAMP
// spec, pubsub event history): the events published on topics the realm's `store`
// names in `event-history`, kept per subscription up to the item's `limit`, and within
// the realm's max_history_bytes over all of them. The broker records; the service
// session answers wamp.subscription.get_events (serve_event_history_api).
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "blindrouter/core/ids.hpp"
#include "blindrouter/wamp/message.hpp"

namespace blindrouter::core {

class Realm;
class ServiceSession;

class EventHistory {
public:
    // One publication, kept once whatever the number of subscriptions that keep it.
    struct Event {
        std::uint64_t time_ns;
        SessionId session_id;
        std::string authid, authrole;
        PublicationId publication;
        std::string topic;
        wamp::Message publish;  // as it arrived: its arguments are the received bytes
        std::size_t bytes;
    };
    using SharedEvent = std::shared_ptr<const Event>;

    explicit EventHistory(std::size_t max_bytes) : max_bytes_(max_bytes) {}

    void enable(SubscriptionId subscription, std::size_t limit);
    bool enabled(SubscriptionId subscription) const { return topics_.count(subscription) != 0; }
    // Keeps `event` for each of `subscriptions` (all enabled), dropping the oldest
    // beyond a subscription's limit, then the realm's oldest beyond max_bytes.
    void record(const std::vector<SubscriptionId>& subscriptions, SharedEvent event);
    // At most `limit` events of the subscription, newest first; nullopt when it keeps
    // no history (Crossbar's get_events).
    std::optional<std::vector<SharedEvent>> events(SubscriptionId subscription, std::size_t limit) const;
    std::size_t bytes() const { return bytes_; }

private:
    struct Topic {
        std::size_t limit;
        std::deque<SharedEvent> events;  // oldest first
    };
    // One subscription let go of `event`: forgotten once none keeps it.
    void release(const SharedEvent& event);

    std::size_t max_bytes_;
    std::size_t bytes_ = 0;
    std::unordered_map<SubscriptionId, Topic> topics_;
    // Every kept event once, oldest first; expired once no subscription keeps it.
    std::deque<std::weak_ptr<const Event>> kept_;
};

// Registers wamp.subscription.get_events on the realm's service session.
void serve_event_history_api(ServiceSession& service, Realm& realm);

}  // namespace blindrouter::core
