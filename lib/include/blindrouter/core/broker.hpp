#pragma once
// Publish & subscribe. A plain synchronous object: it takes messages and returns
// what to send to whom; it owns no sockets, timers or threads.
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "blindrouter/core/delivery.hpp"
#include "blindrouter/core/ids.hpp"
#include "blindrouter/core/observation.hpp"
#include "blindrouter/core/uri_index.hpp"
#include "blindrouter/core/peer.hpp"
#include "blindrouter/hooks/message_hook.hpp"
#include "blindrouter/wamp/messages.hpp"

namespace blindrouter::core {

class Broker {
public:
    // `hooks` add what plugins forward from PUBLISH options into EVENT details.
    Broker(IdGenerator& ids, const hooks::HookChain& hooks) : ids_(ids), hooks_(hooks) {}

    // SUBSCRIBE whose URI and authorization the realm has checked.
    RouteResult subscribe(const SharedPeer& subscriber, wamp::Subscribe subscribe, wamp::MatchPolicy match);
    RouteResult unsubscribe(const PeerInfo& subscriber, wamp::Unsubscribe unsubscribe);
    // PUBLISH whose URI and authorization the realm has checked. `disclose_publisher`
    // comes from the publisher's permission (Crossbar's disclose.publisher).
    // Returns the EVENTs, then PUBLISHED when acknowledged; the realm decides which
    // receivers may take them (OutboundGate).
    RouteResult publish(const PeerInfo& publisher, wamp::Publish publish, bool disclose_publisher);
    // The session left: drop it from every subscription.
    void detach(SessionId session);

    std::size_t subscription_count() const { return subscriptions_.size(); }

    struct Subscription {
        SubscriptionId id;
        std::string uri;
        wamp::MatchPolicy match;
        std::chrono::system_clock::time_point created;
        std::vector<SharedPeer> subscribers;                   // iterated on every publish
        std::unordered_map<SessionId, std::size_t> position;  // index into subscribers

        bool has(SessionId session) const { return position.count(session) != 0; }
    };

    // What the meta API reads (core/meta_api.hpp).
    const Subscription* find(SubscriptionId id) const;
    const SubscriptionId* lookup(std::string_view uri, wamp::MatchPolicy match) const {
        return index_.find(uri, match);
    }
    template <class F>
    void for_each_subscription(F&& visit) const {
        for (const auto& [id, subscription] : subscriptions_) visit(subscription);
    }
    template <class F>
    void for_each_match(std::string_view topic, F&& visit) const {
        index_.for_each_match(topic, visit);
    }
    // The subscriptions of `session`; nullptr when it has none.
    const std::vector<SubscriptionId>* subscriptions_of(SessionId session) const;
    // Subscription revocation (Crossbar's removeSubscriber, wamp.subscription.remove_subscriber):
    // unsubscribes `subscriber`, who learns it from UNSUBSCRIBED with request 0 and
    // details {subscription, reason} when it announced subscription_revocation.
    // False when it is not subscribed there.
    bool revoke(SubscriptionId subscription, SessionId subscriber, const std::optional<std::string>& reason,
                RouteResult& result);
    // Told of every subscription created, joined, left and deleted.
    void set_listener(ObservationListener listener) { listener_ = std::move(listener); }

private:
    // Unsubscribes `session`; the subscription goes when its last subscriber does.
    void remove_subscriber(Subscription& subscription, SessionId session);
    // remove_subscriber, and the subscription leaves the session's list.
    void unsubscribe_session(Subscription& subscription, SessionId session);
    void tell(ObservationChange::Kind kind, SessionId session, const Subscription& subscription) const;

    IdGenerator& ids_;
    const hooks::HookChain& hooks_;
    UriIndex<SubscriptionId> index_;
    std::unordered_map<SubscriptionId, Subscription> subscriptions_;
    // What each session subscribed to, so that leaving costs its own subscriptions only.
    std::unordered_map<SessionId, std::vector<SubscriptionId>> by_session_;
    ObservationListener listener_;
};

}  // namespace blindrouter::core
