#include "blindrouter/core/broker.hpp"

#include <boost/container/small_vector.hpp>

#include <algorithm>
#include <chrono>

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

// What a kept event (retained or in the history) holds in memory beyond its
// bookkeeping: its topic and the received bytes of its arguments.
std::size_t retained_size(const wamp::Publish& publish) {
    constexpr std::size_t overhead = 256;  // the entry, the publisher's identity, the options
    const auto& m = publish.message();
    return overhead + publish.topic().size() + (m.arguments ? m.arguments->size() : 0) +
           (m.arguments_kw ? m.arguments_kw->size() : 0);
}
// A received PUBLISH as a kept event holds it: without its received frame, which
// retained_size does not count and nothing reads once the publication is routed.
wamp::Message kept_copy(const wamp::Message& publish) {
    auto kept = publish;
    kept.received_frame.reset();
    return kept;
}
// An EVENT's details are the same for every receiver of one subscription. The last
// subscription to match takes `forwarded` itself instead of a copy: at 1->1 the
// details cost no allocation of their own (bench/README.md, "Issue 16: round 5").
codec::SharedOutbound build_event(SubscriptionId subscription, wamp::MatchPolicy match, PublicationId publication,
                                  const PeerInfo& publisher, bool disclose, wamp::Dict& forwarded,
                                  bool forwarded_movable, const wamp::Publish& publish) {
    wamp::Dict details;
    bool pattern = match != wamp::MatchPolicy::exact;
    if (forwarded_movable && !pattern && !disclose) {
        details = std::move(forwarded);
    } else {
        if (auto size = (pattern ? 1 : 0) + (disclose ? 3 : 0) + forwarded.size(); size > 0) details.reserve(size);
        // Receivers of a pattern subscription learn the concrete topic (WAMP spec).
        if (pattern) details.emplace_back("topic", Value{publish.topic()});
        if (disclose) {
            details.emplace_back("publisher", Value{publisher.session_id});
            details.emplace_back("publisher_authid", Value{publisher.authid});
            details.emplace_back("publisher_authrole", Value{publisher.authrole});
        }
        if (forwarded_movable)
            details.insert(details.end(), std::make_move_iterator(forwarded.begin()),
                           std::make_move_iterator(forwarded.end()));
        else
            details.insert(details.end(), forwarded.begin(), forwarded.end());
    }
    return codec::make_outbound(
        wamp::Event::build(subscription, publication, std::move(details)).arguments_from(publish.message()).take());
}
}  // namespace

bool Broker::ReceiverFilter::chosen(const PeerInfo& receiver) const {
    if (contains(exclude, receiver.session_id) || contains(exclude_authid, receiver.authid) ||
        contains(exclude_authrole, receiver.authrole))
        return false;
    if (eligible && !contains(eligible, receiver.session_id)) return false;
    if (eligible_authid && !contains(eligible_authid, receiver.authid)) return false;
    if (eligible_authrole && !contains(eligible_authrole, receiver.authrole)) return false;
    return true;
}

Broker::Subscription& Broker::subscription_for(const std::string& uri, wamp::MatchPolicy match, bool& created) {
    created = false;
    if (const auto* existing = index_.find(uri, match)) return subscriptions_.at(*existing);
    created = true;
    auto id = id_realm_ ? free_observation_id(*id_realm_, uri, match, subscriptions_) : ids_.next_free(subscriptions_);
    index_.insert(uri, match, id);
    return subscriptions_.emplace(id, Subscription{id, uri, match, std::chrono::system_clock::now(), {}, {}})
        .first->second;
}

SubscriptionId Broker::keep_history(const std::string& uri, wamp::MatchPolicy match, std::size_t limit) {
    bool created;
    auto& subscription = subscription_for(uri, match, created);
    subscription.keeps_history = true;
    history_.enable(subscription.id, limit);
    return subscription.id;
}

const std::string* Broker::subscription_uri(SubscriptionId subscription) const {
    auto it = subscriptions_.find(subscription);
    return it == subscriptions_.end() ? nullptr : &it->second.uri;
}

RouteResult Broker::subscribe(const SharedPeer& subscriber, wamp::Subscribe subscribe, wamp::MatchPolicy match) {
    RouteResult result;
    const auto& uri = subscribe.topic();
    auto request = subscribe.request();
    bool created;
    auto& subscription = subscription_for(uri, match, created);
    auto id = subscription.id;
    if (created) tell(ObservationChange::Kind::created, subscriber->session_id, subscription);
    // Subscribing twice to the same topic returns the same subscription (WAMP spec).
    if (!subscription.has(subscriber->session_id)) {
        subscription.position.emplace(subscriber->session_id, subscription.subscribers.size());
        subscription.subscribers.push_back(subscriber);
        by_session_[subscriber->session_id].push_back(id);
        tell(ObservationChange::Kind::attached, subscriber->session_id, subscription);
    }
    result.send(subscriber->session_id, reply::subscribed(request, id));
    result.subscription = id;
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

RouteResult Broker::publish(const PeerInfo& publisher, wamp::Publish publish, bool disclose_publisher,
                            const hooks::MessageNotes* notes, std::optional<PublicationId> drawn) {
    RouteResult result;
    const auto& topic = publish.topic();
    auto request = publish.request();
    OptionReader options(publish.options());
    bool acknowledge = options.flag("acknowledge", false);
    ReceiverFilter filter;
    filter.exclude_me = options.flag("exclude_me", true);
    // Most publications choose no receivers: one pass over the options instead of six.
    if (options.has_any({"exclude", "eligible", "exclude_authid", "eligible_authid", "exclude_authrole",
                         "eligible_authrole"})) {
        filter.exclude = options.id_list("exclude");
        filter.eligible = options.id_list("eligible");
        filter.exclude_authid = options.string_list("exclude_authid");
        filter.eligible_authid = options.string_list("eligible_authid");
        filter.exclude_authrole = options.string_list("exclude_authrole");
        filter.eligible_authrole = options.string_list("eligible_authrole");
    }
    bool disclose = options.flag("disclose_me", false) || disclose_publisher;
    bool retain_event = options.flag("retain", false);
    if (options.fault()) {
        // Without acknowledge the spec gives the publisher no reply at all.
        if (acknowledge)
            result.send(publisher.session_id, reply::error(MessageType::publish, request,
                                                           wamp::error_uri::invalid_argument, *options.fault()));
        return result;
    }

    // Kept before anything is delivered: a publish that cannot be kept is refused
    // whole, so that its publisher can tell (Crossbar keeps it even with no subscriber).
    if (retain_event && !retain(publisher, publish, disclose, filter)) {
        result.dropped = "a retained event beyond the realm's limit on retained events";
        if (acknowledge)
            result.send(publisher.session_id,
                        reply::error(MessageType::publish, request, wamp::error_uri::limit_reached,
                                     "the realm keeps no more retained events (max_retained_events " +
                                         std::to_string(retention_.max_events) + ", max_retained_bytes " +
                                         std::to_string(retention_.max_bytes) + ")"));
        return result;
    }

    auto publication = drawn ? *drawn : ids_.next();
    wamp::Dict forwarded;
    if (auto carrier = wamp::Carrier::of(publish.message()); carrier && !hooks_.empty()) {
        forwarded.reserve(publish.options().size());  // hooks forward a subset of the options
        hooks_.forward_details(*carrier, forwarded, notes);
    }
    std::vector<SubscriptionId> history;
    // Hoisted out of the per-receiver loop: the filter is the same for every receiver.
    const bool exclude_me = filter.exclude_me, chooses = filter.chooses();
    // Collected first so that the last one's EVENT can take `forwarded` (build_event).
    boost::container::small_vector<SubscriptionId, 4> matches;
    index_.for_each_match(topic, [&](SubscriptionId id) { matches.push_back(id); });
    for (std::size_t i = 0; i < matches.size(); ++i) {
        auto id = matches[i];
        const auto& subscription = subscriptions_.at(id);
        if (subscription.keeps_history) history.push_back(id);
        // Room for every receiver and the PUBLISHED, grown geometrically across subscriptions.
        auto& deliveries = result.deliveries;
        if (auto needed = deliveries.size() + subscription.subscribers.size() + 1; needed > deliveries.capacity())
            deliveries.reserve(std::max(needed, 2 * deliveries.capacity()));
        codec::SharedOutbound event;  // built once, shared by every receiver of this subscription
        for (const auto& subscriber : subscription.subscribers) {
            if (exclude_me && subscriber->session_id == publisher.session_id) continue;
            if (chooses && !filter.chosen(*subscriber)) continue;
            if (!event)
                event = build_event(id, subscription.match, publication, publisher, disclose, forwarded,
                                    i + 1 == matches.size(), publish);
            result.send(subscriber->session_id, event);
        }
    }
    // Kept once per publication, whether or not anyone received it (Crossbar keeps it
    // once per receiver, and not at all without one: cb:router/broker.py:680-720).
    // An event meant for chosen receivers is not kept, as the spec says it should not.
    if (!history.empty() && !chooses) {
        auto now = std::chrono::system_clock::now().time_since_epoch();
        const auto& m = publish.message();
        auto bytes = retained_size(publish);
        history_.record(history, std::make_shared<const EventHistory::Event>(EventHistory::Event{
                                     static_cast<std::uint64_t>(std::chrono::nanoseconds(now).count()),
                                     publisher.session_id, publisher.authid, publisher.authrole, publication, topic,
                                     kept_copy(m), bytes}));
    }
    if (acknowledge) result.send(publisher.session_id, reply::published(request, publication));
    return result;
}

bool Broker::retain(const PeerInfo& publisher, const wamp::Publish& publish, bool disclose,
                    const ReceiverFilter& filter) {
    auto bytes = retained_size(publish);
    auto& kept = retained_[publish.topic()];
    // Crossbar: a retained publish with neither eligible nor exclude replaces the
    // topic's list; one with either is appended to it (cb:router/broker.py:473-503).
    bool replaces = !filter.eligible && !filter.exclude;
    std::size_t freed_count = 0, freed_bytes = 0;
    if (replaces)
        for (const auto& entry : kept) ++freed_count, freed_bytes += entry.bytes;
    if (retained_count_ - freed_count + 1 > retention_.max_events ||
        retained_bytes_ - freed_bytes + bytes > retention_.max_bytes) {
        if (kept.empty()) retained_.erase(publish.topic());
        return false;
    }
    if (replaces) kept.clear();
    retained_count_ += 1 - freed_count;
    retained_bytes_ += bytes - freed_bytes;
    auto identity = std::make_shared<PeerInfo>();
    identity->session_id = publisher.session_id;
    identity->authid = publisher.authid;
    identity->authrole = publisher.authrole;
    identity->serializer = publisher.serializer;
    // Crossbar checks only the session lists when it hands a retained event out.
    ReceiverFilter kept_filter;
    kept_filter.exclude_me = false;
    kept_filter.exclude = filter.exclude;
    kept_filter.eligible = filter.eligible;
    kept.push_back(Retained{kept_copy(publish.message()), std::move(identity), disclose, std::move(kept_filter), bytes});
    return true;
}

codec::SharedOutbound Broker::retained_delivery(const Subscription& subscription, const wamp::Message& publish,
                                                const PeerInfo& publisher, bool disclose) {
    wamp::Dict details{{"retained", Value{true}}};
    if (subscription.match != wamp::MatchPolicy::exact)
        details.emplace_back("topic", Value{wamp::Publish(publish).topic()});
    if (disclose) {
        details.emplace_back("publisher", Value{publisher.session_id});
        details.emplace_back("publisher_authid", Value{publisher.authid});
        details.emplace_back("publisher_authrole", Value{publisher.authrole});
    }
    if (auto carrier = wamp::Carrier::of(publish)) hooks_.forward_details(*carrier, details);
    // A fresh publication id, as Crossbar gives each retained delivery.
    return codec::make_outbound(
        wamp::Event::build(subscription.id, ids_.next(), std::move(details)).arguments_from(publish).take());
}

std::optional<Broker::RetainedDelivery> Broker::retained_event(SubscriptionId id, const PeerInfo& subscriber) {
    auto subscription = subscriptions_.find(id);
    if (subscription == subscriptions_.end() || subscription->second.match != wamp::MatchPolicy::exact)
        return std::nullopt;
    auto kept = retained_.find(subscription->second.uri);
    if (kept == retained_.end()) return std::nullopt;
    for (auto entry = kept->second.rbegin(); entry != kept->second.rend(); ++entry) {
        if (!entry->filter.admits(subscriber, entry->publisher->session_id)) continue;
        return RetainedDelivery{retained_delivery(subscription->second, entry->publish, *entry->publisher,
                                                  entry->disclose),
                                entry->publish, *entry->publisher};
    }
    return std::nullopt;
}

codec::SharedOutbound Broker::retained_event(SubscriptionId id, const PeerInfo& subscriber, const PeerInfo& publisher,
                                             const wamp::Message& publish, bool disclose_publisher) {
    auto subscription = subscriptions_.find(id);
    if (subscription == subscriptions_.end()) return nullptr;
    wamp::Publish view(publish);
    bool matches = false;
    index_.for_each_match(view.topic(), [&](SubscriptionId matched) { matches |= matched == id; });
    if (!matches) return nullptr;
    OptionReader options(view.options());
    // Crossbar checks only the session lists when it hands a retained event out.
    ReceiverFilter filter;
    filter.exclude_me = false;
    filter.exclude = options.id_list("exclude");
    filter.eligible = options.id_list("eligible");
    bool disclose = options.flag("disclose_me", false) || disclose_publisher;
    if (options.fault() || !filter.admits(subscriber, publisher.session_id)) return nullptr;
    return retained_delivery(subscription->second, publish, publisher, disclose);
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
    if (peer->announces("subscriber", "subscription_revocation"))
        result.send(subscriber, reply::subscription_revoked(subscription_id, reason));
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
    if (subscribers.empty() && !subscription.keeps_history) {
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
