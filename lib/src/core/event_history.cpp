#include "blindrouter/core/event_history.hpp"

#include <array>

#include "blindrouter/codec/element_value.hpp"
#include "blindrouter/core/realm.hpp"
#include "blindrouter/core/service_session.hpp"
#include "blindrouter/wamp/error_uri.hpp"

namespace blindrouter::core {
using wamp::Value;

void EventHistory::enable(SubscriptionId subscription, std::size_t limit) {
    topics_.try_emplace(subscription, Topic{limit, {}});
}

void EventHistory::release(const SharedEvent& event) {
    // The caller holds one reference; the last subscription held the other.
    if (event.use_count() == 1) bytes_ -= event->bytes;
}

void EventHistory::record(const std::vector<SubscriptionId>& subscriptions, SharedEvent event) {
    bytes_ += event->bytes;
    kept_.push_back(event);
    for (auto id : subscriptions) {
        auto& topic = topics_.at(id);
        topic.events.push_back(event);
        if (topic.events.size() > topic.limit) {
            auto oldest = std::move(topic.events.front());
            topic.events.pop_front();
            release(oldest);
        }
    }
    event.reset();
    // Beyond the realm's bytes, the oldest event goes from every subscription: it is
    // the first of each that keeps it, since all of them keep events in order.
    while (bytes_ > max_bytes_ && !kept_.empty()) {
        auto oldest = kept_.front().lock();
        kept_.pop_front();
        if (!oldest) continue;
        for (auto& [id, topic] : topics_)
            if (!topic.events.empty() && topic.events.front() == oldest) topic.events.pop_front();
        release(oldest);
    }
    // Events a subscription's limit dropped leave an expired entry behind: pruned
    // from the front, and compacted before they outnumber the live ones.
    while (!kept_.empty() && kept_.front().expired()) kept_.pop_front();
    std::size_t live = 0;
    for (const auto& [id, topic] : topics_) live += topic.events.size();
    if (kept_.size() > 2 * live + 64)
        std::erase_if(kept_, [](const std::weak_ptr<const Event>& e) { return e.expired(); });
}

std::optional<std::vector<EventHistory::SharedEvent>> EventHistory::events(SubscriptionId subscription,
                                                                          std::size_t limit) const {
    auto it = topics_.find(subscription);
    if (it == topics_.end()) return std::nullopt;
    const auto& kept = it->second.events;
    std::vector<SharedEvent> newest_first(kept.rbegin(), kept.rbegin() + std::min(limit, kept.size()));
    return newest_first;
}

namespace {

CallError runtime_error(std::string text) {
    return CallError::with_message(wamp::error_uri::runtime_error, std::move(text));
}

// Arguments of a kept event for get_events. The router reads a plaintext event's
// arguments here as the service it answers; an end-to-end encrypted one it never
// reads: its args and kwargs are null, as Crossbar's store keeps a payload event
// (cb:router/realmstore.py store_event keeps publish.args, None for a payload).
Value element_value(const std::optional<wamp::EncodedElement>& element, bool transparent) {
    if (!element || transparent) return Value{};
    codec::ElementLimits limits;
    limits.max_bytes = element->size();
    auto value = codec::decode_element(*element, limits);
    return value ? std::move(value.value()) : Value{};
}

bool is_transparent(const wamp::Message& publish) {
    if (publish.arguments && publish.arguments->kind() == wamp::ElementKind::binary) return true;
    const auto& options = wamp::Publish(publish).options();
    return wamp::find(options, "enc_algo") || wamp::find(options, "ppt_scheme");
}

Value entry(const EventHistory::Event& event, const std::string& realm) {
    const auto& publish = event.publish;
    bool transparent = is_transparent(publish);
    Value args = publish.router_arguments ? Value{*publish.router_arguments}
                                          : element_value(publish.arguments, transparent);
    Value kwargs = publish.router_arguments_kw ? Value{*publish.router_arguments_kw}
                                               : element_value(publish.arguments_kw, transparent);
    return Value{wamp::Dict{
        {"time_ns", Value{event.time_ns}},
        {"realm", Value{realm}},
        {"session_id", Value{event.session_id}},
        {"authid", Value{event.authid}},
        {"authrole", Value{event.authrole}},
        {"publication", Value{event.publication}},
        {"topic", Value{event.topic}},
        {"args", std::move(args)},
        {"kwargs", std::move(kwargs)},
    }};
}

// wamp.subscription.get_events(subscription_id, limit=10), as Crossbar's
// (cb:router/service.py:1010-1056): the newest `limit` events, newest first.
CallOutcome get_events(const Realm& realm, const CallArguments& arguments, const InvocationDetails& details) {
    constexpr std::string_view signature = "wamp.subscription.get_events(subscription_id, limit=10)";
    const Value* id = arguments.args.size() > 0 ? &arguments.args[0] : nullptr;
    const Value* limit = arguments.args.size() > 1 ? &arguments.args[1] : nullptr;
    if (arguments.args.size() > 2) return runtime_error(std::string(signature) + " takes at most 2 arguments");
    for (const auto& [key, value] : arguments.kwargs) {
        auto& slot = key == "subscription_id" ? id : key == "limit" ? limit : id;
        if (key != "subscription_id" && key != "limit")
            return runtime_error(std::string(signature) + " got an unexpected keyword argument '" + key + "'");
        if (slot) return runtime_error(std::string(signature) + " got multiple values for argument '" + key + "'");
        slot = &value;
    }
    if (!id) return runtime_error(std::string(signature) + " missing required argument 'subscription_id'");
    std::size_t count = 10;
    if (limit && !limit->is_null()) {
        auto n = limit->as_integer();
        if (!n) return runtime_error(std::string(signature) + ": limit must be an int");
        count = *n < 0 ? 0 : static_cast<std::size_t>(*n);
    } else if (limit) {
        count = SIZE_MAX;
    }
    if (!realm.keeps_history())
        return CallError::with_message("wamp.error.history_unavailable", "event history not available or enabled");
    auto subscription_id = id->as_integer();
    const std::string* uri = subscription_id && *subscription_id > 0
                                 ? realm.broker().subscription_uri(static_cast<SubscriptionId>(*subscription_id))
                                 : nullptr;
    if (!uri)
        return CallError::with_message(wamp::error_uri::no_such_subscription,
                                       "no subscription with that ID exists on this broker");
    // Crossbar's is_protected_uri (cb:router/observation.py:18-27).
    if ((uri->starts_with("wamp.") || uri->starts_with("crossbar.")) && details.caller_authrole != "trusted")
        return CallError::with_message(wamp::error_uri::not_authorized,
                                       "not authorized to retrieve event history for protected URI \"" + *uri + "\"");
    auto events = realm.broker().history().events(static_cast<SubscriptionId>(*subscription_id), count);
    if (!events)
        return CallError::with_message("wamp.error.history_unavailable",
                                       "event history for the given subscription is not available or enabled");
    wamp::List list;
    list.reserve(events->size());
    for (const auto& event : *events) list.push_back(entry(*event, realm.name()));
    return CallArguments{wamp::List{Value{std::move(list)}}, {}};
}

}  // namespace

void serve_event_history_api(ServiceSession& service, Realm& realm) {
    service.register_procedure("wamp.subscription.get_events",
                               [&realm](const CallArguments& arguments, const InvocationDetails& details) {
                                   return get_events(realm, arguments, details);
                               });
}

}  // namespace blindrouter::core
