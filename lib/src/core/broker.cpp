#include "blindrouter/core/broker.hpp"

#include <algorithm>

#include "blindrouter/core/options.hpp"
#include "blindrouter/core/reply.hpp"
#include "blindrouter/wamp/error_uri.hpp"

namespace blindrouter::core {
using wamp::MessageType;
using wamp::Value;

namespace {
template <class T>
bool contains(const std::optional<std::vector<T>>& list, const T& item) {
    return list && std::find(list->begin(), list->end(), item) != list->end();
}

// Subscriber black- and whitelisting (WAMP spec, advanced profile).
struct ReceiverFilter {
    bool exclude_me = true;
    std::optional<std::vector<std::uint64_t>> exclude, eligible;
    std::optional<std::vector<std::string>> exclude_authid, eligible_authid, exclude_authrole, eligible_authrole;

    bool admits(const PeerInfo& receiver, SessionId publisher) const {
        if (exclude_me && receiver.session_id == publisher) return false;
        if (contains(exclude, receiver.session_id) || contains(exclude_authid, receiver.authid) ||
            contains(exclude_authrole, receiver.authrole))
            return false;
        if (eligible && !contains(eligible, receiver.session_id)) return false;
        if (eligible_authid && !contains(eligible_authid, receiver.authid)) return false;
        if (eligible_authrole && !contains(eligible_authrole, receiver.authrole)) return false;
        return true;
    }
};
}  // namespace

RouteResult Broker::subscribe(const SharedPeer& subscriber, wamp::Subscribe subscribe, wamp::MatchPolicy match) {
    RouteResult result;
    const auto& uri = subscribe.topic();
    auto request = subscribe.request();
    SubscriptionId id;
    bool created = false;
    if (const auto* existing = index_.find(uri, match)) {
        id = *existing;
    } else {
        id = ids_.next_free(subscriptions_);
        index_.insert(uri, match, id);
        subscriptions_.emplace(id, Subscription{id, uri, match, std::chrono::system_clock::now(), {}, {}});
        created = true;
    }
    auto& subscription = subscriptions_.at(id);
    if (created) tell(ObservationChange::Kind::created, subscriber->session_id, subscription);
    // Subscribing twice to the same topic returns the same subscription (WAMP spec).
    if (!subscription.has(subscriber->session_id)) {
        subscription.position.emplace(subscriber->session_id, subscription.subscribers.size());
        subscription.subscribers.push_back(subscriber);
        by_session_[subscriber->session_id].push_back(id);
        tell(ObservationChange::Kind::attached, subscriber->session_id, subscription);
    }
    result.send(subscriber->session_id, reply::subscribed(request, id));
    return result;
}

RouteResult Broker::unsubscribe(const PeerInfo& subscriber, wamp::Unsubscribe unsubscribe) {
    RouteResult result;
    auto request = unsubscribe.request();
    auto it = subscriptions_.find(unsubscribe.subscription());
    if (it == subscriptions_.end() || !it->second.has(subscriber.session_id)) {
        result.send(subscriber.session_id,
                    reply::error(MessageType::unsubscribe, request, wamp::error_uri::no_such_subscription));
        return result;
    }
    unsubscribe_session(it->second, subscriber.session_id);
    result.send(subscriber.session_id, reply::unsubscribed(request));
    return result;
}

RouteResult Broker::publish(const PeerInfo& publisher, wamp::Publish publish, bool disclose_publisher) {
    RouteResult result;
    const auto& topic = publish.topic();
    auto request = publish.request();
    OptionReader options(publish.options());
    bool acknowledge = options.flag("acknowledge", false);
    ReceiverFilter filter;
    filter.exclude_me = options.flag("exclude_me", true);
    filter.exclude = options.id_list("exclude");
    filter.eligible = options.id_list("eligible");
    filter.exclude_authid = options.string_list("exclude_authid");
    filter.eligible_authid = options.string_list("eligible_authid");
    filter.exclude_authrole = options.string_list("exclude_authrole");
    filter.eligible_authrole = options.string_list("eligible_authrole");
    bool disclose = options.flag("disclose_me", false) || disclose_publisher;
    if (options.fault()) {
        // Without acknowledge the spec gives the publisher no reply at all.
        if (acknowledge)
            result.send(publisher.session_id, reply::error(MessageType::publish, request,
                                                           wamp::error_uri::invalid_argument, *options.fault()));
        return result;
    }

    auto publication = ids_.next();
    wamp::Dict forwarded;
    if (auto carrier = wamp::Carrier::of(publish.message())) hooks_.forward_details(*carrier, forwarded);
    index_.for_each_match(topic, [&](SubscriptionId id) {
        const auto& subscription = subscriptions_.at(id);
        wamp::Dict details;
        // Receivers of a pattern subscription learn the concrete topic (WAMP spec).
        if (subscription.match != wamp::MatchPolicy::exact) details.emplace_back("topic", Value{topic});
        if (disclose) {
            details.emplace_back("publisher", Value{publisher.session_id});
            details.emplace_back("publisher_authid", Value{publisher.authid});
            details.emplace_back("publisher_authrole", Value{publisher.authrole});
        }
        for (const auto& entry : forwarded) details.push_back(entry);
        codec::SharedOutbound event;  // built once, shared by every receiver of this subscription
        for (const auto& subscriber : subscription.subscribers) {
            if (!filter.admits(*subscriber, publisher.session_id)) continue;
            if (!event)
                event = codec::make_outbound(
                    wamp::Event::build(id, publication, details).arguments_from(publish.message()).take());
            result.send(subscriber->session_id, event);
        }
    });
    if (acknowledge) result.send(publisher.session_id, reply::published(request, publication));
    return result;
}

void Broker::tell(ObservationChange::Kind kind, SessionId session, const Subscription& subscription) const {
    if (listener_)
        listener_(ObservationChange{kind, session,
                                    ObservationInfo{subscription.id, subscription.uri, subscription.match,
                                                    subscription.created, {}}});
}

const Broker::Subscription* Broker::find(SubscriptionId id) const {
    auto it = subscriptions_.find(id);
    return it == subscriptions_.end() ? nullptr : &it->second;
}

const std::vector<SubscriptionId>* Broker::subscriptions_of(SessionId session) const {
    auto it = by_session_.find(session);
    return it == by_session_.end() ? nullptr : &it->second;
}

void Broker::unsubscribe_session(Subscription& subscription, SessionId session) {
    auto subscription_id = subscription.id;
    remove_subscriber(subscription, session);
    auto& mine = by_session_[session];
    mine.erase(std::remove(mine.begin(), mine.end(), subscription_id), mine.end());
    if (mine.empty()) by_session_.erase(session);
}

bool Broker::revoke(SubscriptionId subscription_id, SessionId subscriber, const std::optional<std::string>& reason,
                    RouteResult& result) {
    auto it = subscriptions_.find(subscription_id);
    if (it == subscriptions_.end() || !it->second.has(subscriber)) return false;
    const SharedPeer peer = it->second.subscribers[it->second.position.at(subscriber)];
    unsubscribe_session(it->second, subscriber);
    if (peer->announces("subscriber", "subscription_revocation")) {
        wamp::Dict details{{"subscription", Value{subscription_id}}};
        if (reason) details.emplace_back("reason", Value{*reason});
        result.send(subscriber, codec::make_outbound(wamp::Unsubscribed::make(0, std::move(details))));
    }
    return true;
}

void Broker::remove_subscriber(Subscription& subscription, SessionId session) {
    auto found = subscription.position.find(session);
    if (found == subscription.position.end()) return;
    tell(ObservationChange::Kind::detached, session, subscription);
    // Swap with the last subscriber: O(1), order of delivery is not a WAMP promise.
    auto index = found->second;
    auto& subscribers = subscription.subscribers;
    if (index + 1 != subscribers.size()) {
        subscribers[index] = std::move(subscribers.back());
        subscription.position[subscribers[index]->session_id] = index;
    }
    subscribers.pop_back();
    subscription.position.erase(session);
    if (subscribers.empty()) {
        tell(ObservationChange::Kind::deleted, session, subscription);
        index_.erase(subscription.uri, subscription.match);
        subscriptions_.erase(subscription.id);
    }
}

void Broker::detach(SessionId session) {
    auto mine = by_session_.find(session);
    if (mine == by_session_.end()) return;
    for (auto id : mine->second) {
        auto it = subscriptions_.find(id);
        if (it != subscriptions_.end()) remove_subscriber(it->second, session);
    }
    by_session_.erase(mine);
}

}  // namespace blindrouter::core
