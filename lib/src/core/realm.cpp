#include "blindrouter/core/realm.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "blindrouter/core/options.hpp"
#include "blindrouter/core/reply.hpp"
#include "blindrouter/core/session.hpp"
#include "blindrouter/wamp/error_uri.hpp"
#include "blindrouter/wamp/log_text.hpp"

namespace blindrouter::core {
using wamp::MessageType;

namespace {

// The request a client message is about, for the ERROR that answers it.
RequestId request_of(const wamp::Message& m) {
    switch (m.type) {
        case MessageType::publish: return wamp::Publish(m).request();
        case MessageType::subscribe: return wamp::Subscribe(m).request();
        case MessageType::unsubscribe: return wamp::Unsubscribe(m).request();
        case MessageType::call: return wamp::Call(m).request();
        case MessageType::reg: return wamp::Register(m).request();
        case MessageType::unregister: return wamp::Unregister(m).request();
        case MessageType::yield: return wamp::Yield(m).request();
        case MessageType::error: return wamp::Error(m).request();
        case MessageType::cancel: return wamp::Cancel(m).request();
        default: return 0;
    }
}

// Crossbar's router-internal role: its sessions may use the reserved wamp.* namespace
// (cb:router/broker.py:279-305, dealer.py:380-394) and are always disclosed
// (cb:router/router.py authorize, auto_disclose_trusted).
constexpr std::string_view trusted_role = "trusted";

// The topic or procedure a client message names ("" for those that name none), for logs.
std::string_view uri_of(const wamp::Message& m) {
    switch (m.type) {
        case MessageType::publish: return wamp::Publish(m).topic();
        case MessageType::subscribe: return wamp::Subscribe(m).topic();
        case MessageType::call: return wamp::Call(m).procedure();
        case MessageType::reg: return wamp::Register(m).procedure();
        default: return {};
    }
}

}  // namespace

Realm::Realm(const config::Realm& config, const hooks::HookChain& hooks, IdGenerator& ids, TimerService* timers)
    : name_(config.name),
      plugin_options_(config.plugin_options),
      authorizer_(config),
      hooks_(hooks),
      ids_(ids),
      broker_(ids, hooks,
              {config.store.max_retained_events, config.store.max_retained_bytes, config.store.max_history_bytes}),
      dealer_(ids, hooks, timers, [this](RequestId invocation) { deliver(dealer_.expire(invocation)); },
              config.limits),
      testaments_(config.store.max_testaments_per_session),
      keeps_history_(config.store.configured),
      limits_(config.limits),
      warnings_(timers) {
    broker_.set_listener([this](ObservationChange change) {
        if (cluster_ && change.kind == ObservationChange::Kind::created)
            cluster_->subscription_created(change.observation.uri, change.observation.match);
        if (cluster_ && change.kind == ObservationChange::Kind::deleted)
            cluster_->subscription_deleted(change.observation.uri, change.observation.match);
        changes_.emplace_back(true, std::move(change));
    });
    dealer_.set_listener([this](ObservationChange change) {
        // The router's own procedures (the meta API) are every node's, never the
        // cluster's. A leaving session has left sessions_ when its registrations go.
        if (auto it = sessions_.find(change.session);
            cluster_ && (it == sessions_.end() || !it->second->peer()->router_internal))
            cluster_->registration_changed(change);
        changes_.emplace_back(false, std::move(change));
    });
    testaments_.set_listener([this](SessionId session) {
        if (cluster_) cluster_->testaments_changed(session);
    });
    for (const auto& topic : config.store.event_history) broker_.keep_history(topic.uri, topic.match, topic.limit);
    if (DynamicAuthorization::needed(config))
        dynamic_ = std::make_unique<DynamicAuthorization>(
            config, timers, [this] { return trusted_session_ ? trusted_session_() : nullptr; },
            [this](SessionId id, const wamp::Message& message) {
                if (auto it = sessions_.find(id); it != sessions_.end()) route(*it->second, message);
            });
}

void Realm::set_cluster_link(ClusterLink* link) {
    cluster_ = link;
    if (cluster_) {
        // Ids every node names alike, for the meta API across nodes (SCALE-OUT.md §2.5).
        broker_.use_observation_ids(name_);
        dealer_.use_observation_ids(name_);
    }
    if (cluster_)
        broker_.for_each_subscription([this](const Broker::Subscription& subscription) {
            cluster_->subscription_created(subscription.uri, subscription.match);
        });
}

void Realm::publish_remote(const PeerInfo& publisher, const wamp::Message& publish, bool disclose_publisher,
                           std::optional<PublicationId> publication) {
    // Its node authorized it and ran the inbound hooks; here the outbound rules apply
    // as for a local publisher on the same serializer (shared/E2E.md, SCALE-OUT.md §2.4).
    OutboundGate gate(hooks_, publisher, publish, plugin_options_);
    wamp::Publish view(publish);
    dispatch_publication(publisher, view, broker_.publish(publisher, view, disclose_publisher, nullptr, publication),
                         gate);
}

bool Realm::publish_testament(const PeerInfo& publisher, const wamp::Message& publish) {
    wamp::Publish view(publish);
    const auto& topic = view.topic();
    if (!wamp::is_valid_uri(topic) || (wamp::is_reserved_uri(topic) && publisher.authrole != trusted_role))
        return false;
    auto granted = permission(publisher, topic);
    if (!granted.allowed(auth::Action::publish)) return false;
    bool disclose = granted.disclose(auth::Action::publish) || publisher.authrole == trusted_role;
    auto publication = broker_.next_publication_id();
    if (cluster_ && !cluster_->forward_publication(publisher, publish, disclose, publication).passes()) return false;
    OutboundGate gate(hooks_, publisher, publish, plugin_options_);
    auto result = broker_.publish(publisher, view, disclose, &gate.notes(), publication);
    retain_in_cluster(publisher, publish, disclose, result);
    dispatch_publication(publisher, view, std::move(result), gate);
    return true;
}

void Realm::serve_dynamic_authorizers(DynamicAuthorization::ServiceSource trusted_session) {
    trusted_session_ = std::move(trusted_session);
}

std::optional<auth::Permission> Realm::authorize(Session& sender, const wamp::Message& request, std::string_view uri,
                                                 auth::Action action) {
    const auto& peer = *sender.peer();
    if (!dynamic_ || !dynamic_->governs(peer.authrole)) return permission(peer, uri);
    auto decision = dynamic_->authorize(peer, request, uri, action);
    if (!decision) return std::nullopt;
    using Kind = AuthorizationDecision::Kind;
    if (decision->kind == Kind::failed) {
        refuse(sender, request, wamp::error_uri::authorization_failed, std::move(decision->failure));
        return std::nullopt;
    }
    return decision->kind == Kind::granted ? auth::Permission::granted(action, decision->disclose) : auth::Permission{};
}

void Realm::report_changes() {
    if (changes_.empty()) return;
    auto changes = std::move(changes_);
    changes_.clear();
    if (!observer_) return;
    // The observer publishes, which may change nothing here: the list is ours now.
    for (const auto& [subscription, change] : changes) {
        if (subscription) observer_->subscription_changed(change);
        else observer_->registration_changed(change);
    }
}

const PeerInfo* Realm::find_peer(SessionId session) const {
    auto it = sessions_.find(session);
    return it == sessions_.end() ? nullptr : it->second->peer().get();
}

bool Realm::kill(SessionId session, std::string_view reason, std::optional<std::string_view> message) {
    auto it = sessions_.find(session);
    if (it == sessions_.end()) return false;
    auto killed = it->second;  // it leaves sessions_ as it goes
    killed->kill(reason, message);
    return true;
}

bool Realm::remove_subscriber(SubscriptionId subscription, SessionId subscriber,
                              const std::optional<std::string>& reason) {
    RouteResult result;
    if (!broker_.revoke(subscription, subscriber, reason, result)) return false;
    deliver(result);
    report_changes();
    return true;
}

bool Realm::remove_callee(RegistrationId registration, SessionId callee, const std::optional<std::string>& reason) {
    RouteResult result;
    if (!dealer_.revoke(registration, callee, reason, result)) return false;
    deliver(result);
    report_changes();
    return true;
}

void Realm::deliver(const RouteResult& result) {
    for (const auto& delivery : result.deliveries) send_to(delivery.to, delivery.message);
}

void Realm::join(const std::shared_ptr<Session>& session) {
    if (sessions_.emplace(session->id(), session).second && !session->peer()->router_internal) ++client_sessions_;
    if (observer_ && !session->peer()->router_internal) observer_->joined(*session->peer());
}

bool Realm::admits_client() const { return client_sessions_ < limits_.max_sessions; }

void Realm::for_each_peer(const std::function<void(const PeerInfo&)>& visit) const {
    for (const auto& [id, session] : sessions_)
        if (session->peer()) visit(*session->peer());
}

auth::Permission Realm::permission(const PeerInfo& peer, std::string_view uri) const {
    // The built-in role allows everything; a role of that name in the config replaces
    // it, as Crossbar's add_role replaces the entry (cb:router/router.py Router.__init__).
    if (peer.authrole == trusted_role && !authorizer_.has_role(trusted_role)) return auth::Permission::allow_all();
    return authorizer_.lookup(peer.authrole, uri);
}

void Realm::leave(SessionId session) {
    if (dynamic_) dynamic_->leave(session);
    auto it = sessions_.find(session);
    if (it == sessions_.end()) return;
    auto leaving = it->second;
    sessions_.erase(it);
    if (!leaving->peer()->router_internal) --client_sessions_;
    broker_.detach(session);
    if (cluster_) cluster_->session_left(session);
    dispatch(*leaving, dealer_.detach(session));
    report_changes();
    if (observer_ && !leaving->peer()->router_internal) observer_->left(*leaving->peer());
    // Published as the session itself would, under its role's permissions (Crossbar
    // feeds them to router.process with the leaving session), once it is no receiver.
    for (auto& testament : testaments_.take(session)) on_publish(*leaving, wamp::Publish(testament), true);
}

void Realm::handle(Session& sender, const wamp::Message& message) {
    if (dynamic_) {
        std::string refusal;
        switch (dynamic_->hold(*sender.peer(), message, refusal)) {
            case DynamicAuthorization::Hold::pass: break;
            case DynamicAuthorization::Hold::held: return;
            case DynamicAuthorization::Hold::refused:
                if (message.type == MessageType::cancel) {
                    if (auto note = warnings_.admit(ClientWarning::request_dropped))
                        spdlog::info("session {}: CANCEL dropped: {}{}", sender.id(), wamp::log_text(refusal), *note);
                    return;
                }
                return refuse(sender, message, wamp::error_uri::authorization_failed, std::move(refusal));
        }
    }
    route(sender, message);
}

void Realm::route(Session& sender, const wamp::Message& message) {
    switch (message.type) {
        case MessageType::publish: return on_publish(sender, wamp::Publish(message));
        case MessageType::subscribe: return on_subscribe(sender, wamp::Subscribe(message));
        case MessageType::unsubscribe: return on_unsubscribe(sender, wamp::Unsubscribe(message));
        case MessageType::call: return on_call(sender, wamp::Call(message));
        case MessageType::reg: return on_register(sender, wamp::Register(message));
        case MessageType::unregister: return on_unregister(sender, wamp::Unregister(message));
        case MessageType::yield: return on_yield(sender, wamp::Yield(message));
        case MessageType::error: return on_error(sender, wamp::Error(message));
        case MessageType::cancel: return on_cancel(sender, wamp::Cancel(message));
        default:
            return sender.protocol_violation(std::string(wamp::message_name(message.type)) +
                                             " is not routed by a realm");
    }
}

bool Realm::admitted(Session& sender, const wamp::Message& message, std::string_view uri,
                     const wamp::Dict* permission_options, hooks::MessageNotes& notes, bool may_abort) {
    if (hooks_.empty()) return true;
    auto carrier = wamp::Carrier::of(message);
    if (!carrier) return true;
    hooks::InboundContext context{*sender.peer(), uri, plugin_options_, permission_options};
    auto verdict = hooks_.inbound(context, *carrier, &notes);
    switch (verdict.kind) {
        case hooks::Verdict::Kind::pass:
            return true;
        case hooks::Verdict::Kind::abort:
            if (!may_abort) {
                if (auto note = warnings_.admit(ClientWarning::hook_verdict))
                    spdlog::info("session {}: {} dropped by hook: {}{}", sender.id(), wamp::message_name(message.type),
                                 wamp::log_text(verdict.message), *note);
                return false;
            }
            if (auto note = warnings_.admit(ClientWarning::hook_verdict))
                spdlog::warn("session {}: aborted by hook: {}{}", sender.id(), wamp::log_text(verdict.message), *note);
            sender.abort(verdict.uri, verdict.message, CloseReason::protocol_error);
            return false;
        case hooks::Verdict::Kind::error:
            refuse(sender, message, verdict);
            return false;
    }
    return false;
}

void Realm::refuse(Session& sender, const wamp::Message& request, std::string_view error_uri, std::string text) {
    refuse(sender, request, hooks::Verdict::error(std::string(error_uri), std::move(text)));
}

void Realm::refuse(Session& sender, const wamp::Message& request, const hooks::Verdict& verdict) {
    if (auto note = warnings_.admit(ClientWarning::request_refused))
        spdlog::info("session {}: {} refused with {} (uri \"{}\"){}", sender.id(), wamp::message_name(request.type),
                     wamp::log_text(verdict.uri), wamp::log_text(uri_of(request)), *note);
    // WAMP spec: a PUBLISH gets an answer only when it asked for acknowledgement.
    if (request.type == MessageType::publish) {
        OptionReader options(wamp::Publish(request).options());
        if (!options.flag("acknowledge", false)) return;
    }
    auto request_id = request_of(request);
    // A refused chunk of a progressive call ends that call: the caller has its ERROR.
    if (request.type == MessageType::call) deliver(dealer_.end_progressive_call(sender.id(), request_id));
    if (request.type == MessageType::yield || request.type == MessageType::error) {
        // A refused answer from a callee ends the call: its caller gets the same error.
        if (auto caller = dealer_.abandon(request_id, sender.id()))
            send_to(caller->session, reply::error(MessageType::call, caller->call_request, verdict));
    }
    sender.send(reply::error(request.type, request_id, verdict));
}

void Realm::send_to(SessionId receiver, const codec::SharedOutbound& message) {
    if (auto it = sessions_.find(receiver); it != sessions_.end()) it->second->send(message);
}

void Realm::log_dropped(SessionId sender, const RouteResult& result) {
    if (!result.dropped) return;
    if (auto note = warnings_.admit(ClientWarning::request_dropped))
        spdlog::info("session {}: dropped {}{}", sender, *result.dropped, *note);
}

void Realm::dispatch(Session& sender, RouteResult result) {
    if (result.protocol_violation) return sender.protocol_violation(*result.protocol_violation);
    log_dropped(sender.id(), result);
    deliver(result);
}

void Realm::dispatch_publication(const PeerInfo& publisher, wamp::Publish publish, RouteResult result,
                                 OutboundGate& gate) {
    log_dropped(publisher.session_id, result);
    std::size_t delivered = 0, skipped = 0;
    const hooks::Verdict* first_refusal = nullptr;
    for (const auto& delivery : result.deliveries) {
        auto it = sessions_.find(delivery.to);
        if (it == sessions_.end()) continue;
        Session& receiver = *it->second;
        if (delivery.message->message().type == MessageType::event) {
            const auto& verdict = gate.check(*receiver.peer(), *delivery.message);
            if (!verdict.passes()) {
                ++skipped;
                if (metrics_) metrics_->receiver_skipped(publisher.serializer, receiver.peer()->serializer);
                if (!first_refusal) first_refusal = &verdict;
                continue;
            }
            ++delivered;
        } else if (first_refusal) {
            // PUBLISHED of a publication that skipped receivers: the refusal answers
            // it instead, with what the hooks add (shared/E2E.md §3).
            auto answer = *first_refusal;
            if (auto carrier = wamp::Carrier::of(publish.message()))
                hooks_.publication_refused(*carrier, delivered, skipped, answer);
            receiver.send(reply::error(MessageType::publish, publish.request(), answer));
            continue;
        }
        receiver.send(delivery.message);
    }
    // One line per publication, whatever the number of receivers skipped.
    if (skipped > 0)
        if (auto note = warnings_.admit(ClientWarning::receivers_skipped))
            spdlog::info("session {}: publication to \"{}\" delivered to {} and skipped {} receivers ({}){}",
                         publisher.session_id, wamp::log_text(publish.topic()), delivered, skipped,
                         wamp::log_text(first_refusal->uri), *note);
}

void Realm::on_publish(Session& sender, wamp::Publish publish, bool testament) {
    const auto& topic = publish.topic();
    if (!wamp::is_valid_uri(topic))
        return refuse(sender, publish.message(), wamp::error_uri::invalid_uri, "invalid topic URI '" + topic + "'");
    const auto& peer = *sender.peer();
    if (wamp::is_reserved_uri(topic) && peer.authrole != trusted_role)
        return refuse(sender, publish.message(), wamp::error_uri::invalid_uri,
                      "publish to restricted topic URI '" + topic + "'");
    auto permission = authorize(sender, publish.message(), topic, auth::Action::publish);
    if (!permission) return;
    if (!permission->allowed(auth::Action::publish))
        return refuse(sender, publish.message(), wamp::error_uri::not_authorized,
                      "session is not authorized to publish to topic '" + topic + "'");
    OutboundGate gate(hooks_, *sender.peer(), publish.message(), plugin_options_);
    if (!admitted(sender, publish.message(), topic, permission->plugin_options, gate.notes(), !testament)) return;
    bool disclose = permission->disclose(auth::Action::publish) || peer.authrole == trusted_role;
    auto publication = broker_.next_publication_id();
    if (cluster_) {
        auto verdict = cluster_->forward_publication(peer, publish.message(), disclose, publication);
        if (!verdict.passes()) return refuse(sender, publish.message(), verdict);
    }
    auto result = broker_.publish(peer, publish, disclose, &gate.notes(), publication);
    retain_in_cluster(peer, publish.message(), disclose, result);
    dispatch_publication(peer, publish, std::move(result), gate);
}

void Realm::retain_in_cluster(const PeerInfo& publisher, const wamp::Message& publish, bool disclose,
                              const RouteResult& kept) {
    // Before PUBLISHED goes out: a subscriber on any node that the publisher tells
    // after its acknowledgement finds the event there.
    if (cluster_ && !kept.dropped && OptionReader(wamp::Publish(publish).options()).flag("retain", false))
        cluster_->publication_retained(publisher, publish, disclose);
}

void Realm::on_subscribe(Session& sender, wamp::Subscribe subscribe) {
    const auto& topic = subscribe.topic();
    OptionReader options(subscribe.options());
    auto match = options.match_policy();
    bool get_retained = options.flag("get_retained", false);
    if (options.fault()) return refuse(sender, subscribe.message(), wamp::error_uri::invalid_argument, *options.fault());
    if (!wamp::is_valid_uri(topic, match))
        return refuse(sender, subscribe.message(), wamp::error_uri::invalid_uri, "invalid topic URI '" + topic + "'");
    auto permission = authorize(sender, subscribe.message(), topic, auth::Action::subscribe);
    if (!permission) return;
    if (!permission->allowed(auth::Action::subscribe))
        return refuse(sender, subscribe.message(), wamp::error_uri::not_authorized,
                      "session is not authorized to subscribe to topic '" + topic + "'");
    if (auto held = broker_.subscription_count_of(sender.id());
        held >= limits_.max_subscriptions_per_session && !sender.peer()->router_internal)
        return refuse(sender, subscribe.message(), wamp::error_uri::limit_reached,
                      "the session holds " + std::to_string(held) + " subscriptions, the realm's limit");
    auto result = broker_.subscribe(sender.peer(), subscribe, match);
    auto subscription = result.subscription;
    dispatch(sender, std::move(result));
    report_changes();
    if (get_retained && subscription) send_retained(sender, subscription);
}

void Realm::send_retained(Session& subscriber, SubscriptionId subscription) {
    const auto* kept = broker_.find(subscription);
    if (auto remote = cluster_ && kept ? cluster_->retained_events(kept->uri, kept->match) : std::nullopt) {
        // The cluster's are every node's, this one's included: the broker's own copy
        // would be a second delivery.
        for (const auto& retained : *remote)
            if (auto event = broker_.retained_event(subscription, *subscriber.peer(), retained.publisher,
                                                    retained.publish, retained.disclose_publisher))
                send_retained_event(subscriber, subscription, event, retained.publish, retained.publisher);
        return;
    }
    if (auto retained = broker_.retained_event(subscription, *subscriber.peer()))
        send_retained_event(subscriber, subscription, retained->event, retained->publish, retained->publisher);
}

void Realm::send_retained_event(Session& subscriber, SubscriptionId subscription, const codec::SharedOutbound& event,
                                const wamp::Message& publish, const PeerInfo& publisher) {
    // Judged as the live event was: by the hooks against the PUBLISH as it arrived
    // and its publisher's serializer, then for an encoding in the subscriber's.
    OutboundGate gate(hooks_, publisher, publish, plugin_options_);
    const auto& verdict = gate.check(*subscriber.peer(), *event);
    if (!verdict.passes()) {
        if (metrics_) metrics_->receiver_skipped(publisher.serializer, subscriber.peer()->serializer);
        if (auto note = warnings_.admit(ClientWarning::receivers_skipped))
            spdlog::info("session {}: retained event on subscription {} not delivered ({}){}", subscriber.id(),
                         subscription, wamp::log_text(verdict.uri), *note);
        return;
    }
    subscriber.send(event);
}

void Realm::on_unsubscribe(Session& sender, wamp::Unsubscribe unsubscribe) {
    dispatch(sender, broker_.unsubscribe(*sender.peer(), unsubscribe));
    report_changes();
}

bool Realm::call_from_node(Session& proxy, const wamp::Message& call, SessionId target, bool first) {
    wamp::Call view(call);
    if (first) {
        const auto* id = dealer_.best_match(view.procedure());
        const auto* registration = id ? dealer_.find(*id) : nullptr;
        if (!registration || std::none_of(registration->callees.begin(), registration->callees.end(),
                                          [&](const SharedPeer& p) { return p->session_id == target; }))
            return false;
    }
    on_call(proxy, view, target);
    return true;
}

void Realm::on_call(Session& sender, wamp::Call call, SessionId target) {
    if (auto misuse = dealer_.misused_request(sender.id(), call)) return sender.protocol_violation(*misuse);
    const auto& procedure = call.procedure();
    if (!wamp::is_valid_uri(procedure))
        return refuse(sender, call.message(), wamp::error_uri::invalid_uri,
                      "invalid procedure URI '" + procedure + "'");
    const auto& peer = *sender.peer();
    auto permission = authorize(sender, call.message(), procedure, auth::Action::call);
    if (!permission) return;
    if (!permission->allowed(auth::Action::call))
        return refuse(sender, call.message(), wamp::error_uri::not_authorized,
                      "session is not authorized to call procedure '" + procedure + "'");
    OutboundGate gate(hooks_, peer, call.message(), plugin_options_);
    if (!admitted(sender, call.message(), procedure, permission->plugin_options, gate.notes())) return;
    // Crossbar discloses the caller to the router's own procedures and for trusted
    // callers whatever the permission says (cb:router/dealer.py:1073-1111).
    bool disclose = permission->disclose(auth::Action::call) || peer.authrole == trusted_role ||
                    procedure.starts_with("wamp.") || procedure.starts_with("crossbar.");
    if (cluster_ && !target) {
        auto route = cluster_->route_call(sender.peer(), call.message());
        if (route.protocol_violation) return sender.protocol_violation(*route.protocol_violation);
        if (route.taken) return;
        target = route.local_target;
    }
    dispatch(sender, dealer_.call(sender.peer(), call, disclose, gate, target));
}

void Realm::on_register(Session& sender, wamp::Register reg) {
    const auto& procedure = reg.procedure();
    OptionReader options(reg.options());
    auto match = options.match_policy();
    auto invoke = options.string("invoke");
    if (options.fault()) return refuse(sender, reg.message(), wamp::error_uri::invalid_argument, *options.fault());
    auto policy = invoke_policy_from_name(invoke.value_or("single"));
    if (!policy)
        return refuse(sender, reg.message(), wamp::error_uri::invalid_argument,
                      "invocation policy '" + *invoke + "' is unknown (single, roundrobin, random, first, last)");
    if (!wamp::is_valid_uri(procedure, match))
        return refuse(sender, reg.message(), wamp::error_uri::invalid_uri,
                      "invalid procedure URI '" + procedure + "'");
    if (wamp::is_reserved_uri(procedure) && sender.peer()->authrole != trusted_role)
        return refuse(sender, reg.message(), wamp::error_uri::invalid_uri,
                      "register for restricted procedure URI '" + procedure + "'");
    auto permission = authorize(sender, reg.message(), procedure, auth::Action::register_procedure);
    if (!permission) return;
    if (!permission->allowed(auth::Action::register_procedure))
        return refuse(sender, reg.message(), wamp::error_uri::not_authorized,
                      "session is not authorized to register procedure '" + procedure + "'");
    if (cluster_ && !sender.peer()->router_internal) {
        auto claim = cluster_->claim_registration(*sender.peer(), procedure, match, *policy);
        if (!claim.passes()) return refuse(sender, reg.message(), claim);
    }
    dispatch(sender, dealer_.register_procedure(sender.peer(), reg, match, *policy));
    if (cluster_ && !sender.peer()->router_internal && !dealer_.lookup(procedure, match))
        cluster_->release_registration(procedure, match);
    report_changes();
}

void Realm::on_unregister(Session& sender, wamp::Unregister unregister) {
    dispatch(sender, dealer_.unregister(*sender.peer(), unregister));
    report_changes();
}

bool Realm::admitted_answer(Session& sender, const wamp::Message& answer, RequestId invocation,
                            hooks::MessageNotes& notes) {
    // The callee's answer is judged under the permission of the procedure it answers;
    // an answer to no pending invocation goes to the dealer, which knows what it is.
    auto procedure = dealer_.invoked_procedure(invocation, sender.id());
    if (procedure.empty()) return true;
    return admitted(sender, answer, procedure, permission(*sender.peer(), procedure).plugin_options, notes);
}

void Realm::on_yield(Session& sender, wamp::Yield yield) {
    OutboundGate gate(hooks_, *sender.peer(), yield.message(), plugin_options_);
    if (!admitted_answer(sender, yield.message(), yield.request(), gate.notes())) return;
    dispatch(sender, dealer_.yield(*sender.peer(), yield, gate));
}

void Realm::on_error(Session& sender, wamp::Error error) {
    // The only ERROR a client sends to a router answers an INVOCATION (WAMP spec).
    if (error.request_type() != static_cast<std::uint64_t>(MessageType::invocation))
        return sender.protocol_violation("ERROR from a client must answer an INVOCATION");
    OutboundGate gate(hooks_, *sender.peer(), error.message(), plugin_options_);
    if (!admitted_answer(sender, error.message(), error.request(), gate.notes())) return;
    dispatch(sender, dealer_.invocation_error(*sender.peer(), error, gate));
}

void Realm::on_cancel(Session& sender, wamp::Cancel cancel) {
    if (cluster_ && cluster_->forward_cancel(*sender.peer(), cancel.message())) return;
    dispatch(sender, dealer_.cancel(*sender.peer(), cancel));
}

}  // namespace blindrouter::core
