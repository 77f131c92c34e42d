#pragma once
// Publish & subscribe. A plain synchronous object: it takes messages and returns
// what to send to whom; it owns no sockets, timers or threads.
#include <string>
#include <unordered_map>
#include <vector>

#include "blindrouter/core/delivery.hpp"
#include "blindrouter/core/ids.hpp"
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
    std::size_t subscriptions_of(SessionId session) const {
        auto it = by_session_.find(session);
        return it == by_session_.end() ? 0 : it->second.size();
    }

private:
    struct Subscription {
        SubscriptionId id;
        std::string uri;
        wamp::MatchPolicy match;
        std::vector<SharedPeer> subscribers;                   // iterated on every publish
        std::unordered_map<SessionId, std::size_t> position;  // index into subscribers

        bool has(SessionId session) const { return position.count(session) != 0; }
    };

    // Unsubscribes `session`; the subscription goes when its last subscriber does.
    void remove_subscriber(Subscription& subscription, SessionId session);

    IdGenerator& ids_;
    const hooks::HookChain& hooks_;
    UriIndex<SubscriptionId> index_;
    std::unordered_map<SubscriptionId, Subscription> subscriptions_;
    // What each session subscribed to, so that leaving costs its own subscriptions only.
    std::unordered_map<SessionId, std::vector<SubscriptionId>> by_session_;
};

}  // namespace blindrouter::core
