#pragma once
// Publish & subscribe. A plain synchronous object: it takes messages and returns
// what to send to whom; it owns no sockets, timers or threads.
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "blindrouter/core/delivery.hpp"
#include "blindrouter/core/event_history.hpp"
#include "blindrouter/core/ids.hpp"
#include "blindrouter/core/observation.hpp"
#include "blindrouter/core/uri_index.hpp"
#include "blindrouter/core/peer.hpp"
#include "blindrouter/hooks/message_hook.hpp"
#include "blindrouter/wamp/messages.hpp"

namespace blindrouter::core {

class Broker {
public:
    // Bounds on retained events (config::RealmStore): a retained PUBLISH that would
    // go beyond either is refused as a whole (wamp.error.limit_reached when
    // acknowledged), so that the publisher learns its event was not kept.
    struct RetentionLimits {
        std::size_t max_events = 10000;
        std::size_t max_bytes = 64 * 1024 * 1024;
        std::size_t max_history_bytes = 64 * 1024 * 1024;  // EventHistory's bound
    };
    // A retained event for a new subscriber, with what the realm's outbound gate
    // judges it by: the PUBLISH it was built from, as it arrived, and its publisher.
    struct RetainedDelivery {
        codec::SharedOutbound event;
        const wamp::Message& publish;
        const PeerInfo& publisher;
    };

    // `hooks` add what plugins forward from PUBLISH options into EVENT details.
    Broker(IdGenerator& ids, const hooks::HookChain& hooks, RetentionLimits retention)
        : ids_(ids), hooks_(hooks), retention_(retention), history_(retention.max_history_bytes) {}
    Broker(IdGenerator& ids, const hooks::HookChain& hooks) : Broker(ids, hooks, RetentionLimits{}) {}

    // From now on, new ones get the id every node of a cluster gives them
    // (observation_id) rather than a random one: the realm is clustered.
    void use_observation_ids(std::string realm) { id_realm_ = std::move(realm); }
    // SUBSCRIBE whose URI and authorization the realm has checked.
    RouteResult subscribe(const SharedPeer& subscriber, wamp::Subscribe subscribe, wamp::MatchPolicy match);
    RouteResult unsubscribe(const PeerInfo& subscriber, wamp::Unsubscribe unsubscribe);
    // PUBLISH whose URI and authorization the realm has checked. `disclose_publisher`
    // comes from the publisher's permission (Crossbar's disclose.publisher).
    // Returns the EVENTs, then PUBLISHED when acknowledged; the realm decides which
    // receivers may take them (OutboundGate).
    // `notes`: what the hooks noted on the PUBLISH (HookChain::inbound), or nullptr.
    // `publication`: its id when already drawn (next_publication_id), else a fresh one.
    RouteResult publish(const PeerInfo& publisher, wamp::Publish publish, bool disclose_publisher,
                        const hooks::MessageNotes* notes = nullptr,
                        std::optional<PublicationId> publication = std::nullopt);
    // The id of a publication that is also sent to other nodes of a clustered realm:
    // drawn before it leaves, so that every subscriber anywhere and the publisher's
    // PUBLISHED name the same publication (WAMP spec: one id per publication).
    PublicationId next_publication_id() { return ids_.next(); }
    // The session left: drop it from every subscription.
    void detach(SessionId session);
    // The newest event retained on the topic of `subscription` that `subscriber` is
    // eligible for, as an EVENT with Details.retained (WAMP spec, event retention).
    // Only exact subscriptions get one, as on Crossbar: it looks retained events up
    // by the subscription's own URI (cb:router/broker.py:946-1000).
    std::optional<RetainedDelivery> retained_event(SubscriptionId subscription, const PeerInfo& subscriber);
    // A retained event kept elsewhere (another node of a clustered realm) as an EVENT
    // for a new subscriber of `subscription`, judged by the publication's own
    // exclude/eligible lists as a local one is. Pattern subscriptions get it too, with
    // Details.topic, when the topic matches them. nullopt when the subscriber is not
    // among its receivers or the topic does not match.
    codec::SharedOutbound retained_event(SubscriptionId subscription, const PeerInfo& subscriber,
                                         const PeerInfo& publisher, const wamp::Message& publish,
                                         bool disclose_publisher);

    // Keeps the history of `uri` under `match`: its subscription exists from now on,
    // with no subscriber, and stays (Crossbar's store observes it at start).
    SubscriptionId keep_history(const std::string& uri, wamp::MatchPolicy match, std::size_t limit);
    const EventHistory& history() const { return history_; }
    // The URI of a subscription; nullptr when there is none with that id.
    const std::string* subscription_uri(SubscriptionId subscription) const;

    std::size_t subscription_count() const { return subscriptions_.size(); }
    std::size_t subscription_count_of(SessionId session) const {
        auto it = by_session_.find(session);
        return it == by_session_.end() ? 0 : it->second.size();
    }
    std::size_t retained_count() const { return retained_count_; }
    std::size_t retained_bytes() const { return retained_bytes_; }

    struct Subscription {
        SubscriptionId id;
        std::string uri;
        wamp::MatchPolicy match;
        std::chrono::system_clock::time_point created;
        std::vector<SharedPeer> subscribers;                   // iterated on every publish
        std::unordered_map<SessionId, std::size_t> position;  // index into subscribers
        bool keeps_history = false;                            // stays without subscribers

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
    // Subscriber black- and whitelisting (WAMP spec, advanced profile).
    struct ReceiverFilter {
        bool exclude_me = true;
        std::optional<std::vector<std::uint64_t>> exclude, eligible;
        std::optional<std::vector<std::string>> exclude_authid, eligible_authid, exclude_authrole, eligible_authrole;

        // Whether the publisher chose receivers by list; most publications do not.
        bool chooses() const {
            return exclude || eligible || exclude_authid || eligible_authid || exclude_authrole || eligible_authrole;
        }
        bool admits(const PeerInfo& receiver, SessionId publisher) const {
            if (exclude_me && receiver.session_id == publisher) return false;
            return !chooses() || chosen(receiver);
        }
        // Whether `receiver` passes the lists.
        bool chosen(const PeerInfo& receiver) const;
    };
    struct Retained {
        wamp::Message publish;  // as it arrived: its arguments are the received bytes
        std::shared_ptr<const PeerInfo> publisher;
        bool disclose;
        ReceiverFilter filter;
        std::size_t bytes;
    };
    // The subscription of `uri` under `match`, created when there is none (`created`
    // says which, for the meta API's on_create).
    Subscription& subscription_for(const std::string& uri, wamp::MatchPolicy match, bool& created);
    // The EVENT of a retained delivery on `subscription`, with a fresh publication id.
    codec::SharedOutbound retained_delivery(const Subscription& subscription, const wamp::Message& publish,
                                            const PeerInfo& publisher, bool disclose);
    // Keeps `publish` as the topic's retained event; false when a limit refuses it.
    bool retain(const PeerInfo& publisher, const wamp::Publish& publish, bool disclose, const ReceiverFilter& filter);
    // Unsubscribes `session`; the subscription goes when its last subscriber does.
    void remove_subscriber(Subscription& subscription, SessionId session);
    // remove_subscriber, and the subscription leaves the session's list.
    void unsubscribe_session(Subscription& subscription, SessionId session);
    void tell(ObservationChange::Kind kind, SessionId session, const Subscription& subscription) const;

    IdGenerator& ids_;
    std::optional<std::string> id_realm_;  // use_observation_ids
    const hooks::HookChain& hooks_;
    UriIndex<SubscriptionId> index_;
    std::unordered_map<SubscriptionId, Subscription> subscriptions_;
    // What each session subscribed to, so that leaving costs its own subscriptions only.
    std::unordered_map<SessionId, std::vector<SubscriptionId>> by_session_;
    // By topic, oldest first: Crossbar keeps a list per topic, replaced by a retained
    // publish to everyone and appended to by one with eligible or exclude.
    RetentionLimits retention_;
    std::unordered_map<std::string, std::vector<Retained>> retained_;
    std::size_t retained_count_ = 0, retained_bytes_ = 0;
    EventHistory history_;
    ObservationListener listener_;
};

}  // namespace blindrouter::core
