#include "blindrouter/core/realm.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <optional>
#include <utility>

#include "blindrouter/core/options.hpp"
#include "blindrouter/core/reply.hpp"
#include "blindrouter/core/session.hpp"
#include "blindrouter/wamp/error_uri.hpp"

namespace blindrouter::core {
using wamp::MessageType;
using wamp::Value;

namespace {
// Position of the request id and options in client requests (WAMP spec message layouts).
constexpr std::size_t request_field = 0, options_field = 1, uri_field = 2;
constexpr std::size_t error_request_field = 1;

RequestId request_id_of(const wamp::Message& m) {
    return m.id_at(m.type == MessageType::error ? error_request_field : request_field);
}

bool carries_sender_arguments(const wamp::Message& m) { return m.arguments || m.arguments_kw; }
}  // namespace

Realm::Realm(const config::Realm& config, const hooks::HookChain& hooks, IdGenerator& ids)
    : name_(config.name),
      plugin_options_(config.plugin_options),
      authorizer_(config),
      hooks_(hooks),
      broker_(ids, hooks),
      dealer_(ids, hooks) {}

void Realm::join(const std::shared_ptr<Session>& session) { sessions_[session->id()] = session; }

void Realm::leave(SessionId session) {
    auto it = sessions_.find(session);
    if (it == sessions_.end()) return;
    auto leaving = it->second;
    sessions_.erase(it);
    broker_.detach(session);
    dispatch(*leaving, wamp::Message{}, dealer_.detach(session));
}

void Realm::handle(Session& sender, const wamp::Message& message) {
    using Handler = void (Realm::*)(Session&, const wamp::Message&);
    static constexpr std::array<std::pair<MessageType, Handler>, 9> handlers{{
        {MessageType::publish, &Realm::on_publish},
        {MessageType::subscribe, &Realm::on_subscribe},
        {MessageType::unsubscribe, &Realm::on_unsubscribe},
        {MessageType::call, &Realm::on_call},
        {MessageType::reg, &Realm::on_register},
        {MessageType::unregister, &Realm::on_unregister},
        {MessageType::yield, &Realm::on_yield},
        {MessageType::error, &Realm::on_error},
        {MessageType::cancel, &Realm::on_cancel},
    }};
    for (const auto& [type, handler] : handlers) {
        if (type != message.type) continue;
        if (!hooks_.empty()) {
            std::string_view uri;
            if (message.type == MessageType::yield || message.type == MessageType::error)
                uri = dealer_.invoked_procedure(request_id_of(message), sender.id());
            else uri = message.string_at(uri_field);
            const auto& role = sender.peer()->authrole;
            hooks::InboundContext context{*sender.peer(), uri, plugin_options_, authorizer_.plugin_options(role, uri)};
            auto verdict = hooks_.inbound(context, message);
            if (verdict.kind == hooks::Verdict::Kind::abort) {
                spdlog::warn("session {}: aborted by hook: {}", sender.id(), verdict.message);
                return sender.abort(verdict.uri, verdict.message, CloseReason::protocol_error);
            }
            if (verdict.kind == hooks::Verdict::Kind::error)
                return refuse(sender, message, verdict.uri, verdict.message, std::move(verdict.kwargs));
        }
        return (this->*handler)(sender, message);
    }
    sender.protocol_violation(std::string(wamp::message_name(message.type)) + " is not routed by a realm");
}

void Realm::refuse(Session& sender, const wamp::Message& request, std::string_view error_uri, std::string_view text,
                   wamp::Dict kwargs) {
    const auto uri = request.type == MessageType::error ? std::string() : request.string_at(uri_field);
    spdlog::info("session {}: {} refused with {} (uri \"{}\")", sender.id(), wamp::message_name(request.type),
                 error_uri, uri);
    // WAMP spec: a PUBLISH gets an answer only when it asked for acknowledgement.
    if (request.type == MessageType::publish) {
        OptionReader options(request.dict_at(options_field));
        if (!options.flag("acknowledge", false)) return;
    }
    hooks::Verdict verdict = hooks::Verdict::error(std::string(error_uri), std::string(text), std::move(kwargs));
    if (request.type == MessageType::yield || request.type == MessageType::error) {
        // A refused answer from a callee ends the call: its caller gets the same error.
        if (auto caller = dealer_.abandon(request_id_of(request), sender.id()))
            send_error(caller->session, MessageType::call, caller->call_request, verdict);
    }
    send_error(sender.id(), request.type, request_id_of(request), verdict);
}

void Realm::dispatch(Session& sender, const wamp::Message& inbound, RouteResult result) {
    if (result.protocol_violation) return sender.protocol_violation(*result.protocol_violation);
    std::size_t delivered = 0, skipped = 0;
    std::optional<hooks::Verdict> first_refusal;
    for (auto& delivery : result.deliveries) {
        auto it = sessions_.find(delivery.to);
        if (it == sessions_.end()) continue;
        Session& receiver = *it->second;
        const auto& message = delivery.message->message();
        if (!hooks_.empty() && carries_sender_arguments(message) && sender.peer() && receiver.peer()) {
            hooks::OutboundContext context{*sender.peer(), *receiver.peer(), inbound, plugin_options_};
            auto verdict = hooks_.outbound(context, message);
            if (verdict.kind != hooks::Verdict::Kind::pass) {
                spdlog::info("session {}: {} not delivered to session {}: {} ({})", sender.id(),
                             wamp::message_name(message.type), receiver.id(), verdict.uri, verdict.message);
                if (message.type == MessageType::event) {
                    ++skipped;
                    if (!first_refusal) first_refusal = std::move(verdict);
                } else {
                    answer_refused_delivery(sender, inbound, message, receiver.id(), std::move(verdict));
                }
                continue;
            }
        }
        if (message.type == MessageType::event) ++delivered;
        if (message.type == MessageType::published && first_refusal) {
            // A publish that skipped receivers is answered by the refusal, not PUBLISHED
            // (shared/E2E.md §3), with the counts added to its kwargs.
            auto kwargs = first_refusal->kwargs;
            wamp::set(kwargs, "delivered", Value{static_cast<std::uint64_t>(delivered)});
            wamp::set(kwargs, "skipped", Value{static_cast<std::uint64_t>(skipped)});
            refuse(sender, inbound, first_refusal->uri, first_refusal->message, std::move(kwargs));
            continue;
        }
        receiver.send(delivery.message);
    }
    if (skipped > 0) spdlog::info("session {}: publication skipped {} receivers", sender.id(), skipped);
}

void Realm::answer_refused_delivery(Session& sender, const wamp::Message& inbound, const wamp::Message& outgoing,
                                    SessionId receiver, hooks::Verdict verdict) {
    switch (outgoing.type) {
        case MessageType::invocation:
            // The callee never sees the call; the caller gets the refusal as its outcome.
            dealer_.abandon(outgoing.id_at(0), receiver);
            send_error(sender.id(), MessageType::call, inbound.id_at(0), verdict);
            break;
        case MessageType::result:
        case MessageType::error:
            // The callee learns its answer was refused; the caller gets the refusal as
            // the outcome of its call, so that it never hangs (a progressive call ends here).
            dealer_.abandon(request_id_of(inbound), sender.id());
            send_error(sender.id(), inbound.type, request_id_of(inbound), verdict);
            send_error(receiver, MessageType::call, outgoing.id_at(outgoing.type == MessageType::error ? 1 : 0), verdict);
            break;
        default:
            break;
    }
}

void Realm::send_error(SessionId to, MessageType request_type, RequestId request, const hooks::Verdict& verdict) {
    auto it = sessions_.find(to);
    if (it == sessions_.end()) return;
    auto error = reply::error(request_type, request, verdict.uri, verdict.message);
    if (!verdict.kwargs.empty()) {
        auto message = error->message();
        message.router_arguments_kw = verdict.kwargs;
        error = codec::make_outbound(std::move(message));
    }
    it->second->send(error);
}

void Realm::on_publish(Session& sender, const wamp::Message& message) {
    const auto& topic = message.string_at(uri_field);
    if (!wamp::is_valid_uri(topic))
        return refuse(sender, message, wamp::error_uri::invalid_uri, "invalid topic URI '" + topic + "'");
    if (wamp::is_reserved_uri(topic))
        return refuse(sender, message, wamp::error_uri::invalid_uri, "publish to restricted topic URI '" + topic + "'");
    auto grant = authorizer_.authorize(sender.peer()->authrole, topic, auth::Action::publish);
    if (!grant.allowed)
        return refuse(sender, message, wamp::error_uri::not_authorized,
                      "session is not authorized to publish to topic '" + topic + "'");
    dispatch(sender, message, broker_.publish(*sender.peer(), message, grant.disclose));
}

void Realm::on_subscribe(Session& sender, const wamp::Message& message) {
    const auto& topic = message.string_at(uri_field);
    OptionReader options(message.dict_at(options_field));
    auto match = options.match_policy();
    if (options.fault()) return refuse(sender, message, wamp::error_uri::invalid_argument, *options.fault());
    if (!wamp::is_valid_uri(topic, match))
        return refuse(sender, message, wamp::error_uri::invalid_uri, "invalid topic URI '" + topic + "'");
    auto grant = authorizer_.authorize(sender.peer()->authrole, topic, auth::Action::subscribe);
    if (!grant.allowed)
        return refuse(sender, message, wamp::error_uri::not_authorized,
                      "session is not authorized to subscribe to topic '" + topic + "'");
    dispatch(sender, message, broker_.subscribe(sender.peer(), message, match));
}

void Realm::on_unsubscribe(Session& sender, const wamp::Message& message) {
    dispatch(sender, message, broker_.unsubscribe(*sender.peer(), message));
}

void Realm::on_call(Session& sender, const wamp::Message& message) {
    const auto& procedure = message.string_at(uri_field);
    if (!wamp::is_valid_uri(procedure))
        return refuse(sender, message, wamp::error_uri::invalid_uri, "invalid procedure URI '" + procedure + "'");
    auto grant = authorizer_.authorize(sender.peer()->authrole, procedure, auth::Action::call);
    if (!grant.allowed)
        return refuse(sender, message, wamp::error_uri::not_authorized,
                      "session is not authorized to call procedure '" + procedure + "'");
    // Among the callees of a shared registration, prefer one the outbound hooks would
    // let this call reach (shared/E2E.md §3: a matching callee is chosen first).
    Dealer::CalleeFilter acceptable;
    if (!hooks_.empty()) {
        acceptable = [&](const PeerInfo& callee) {
            wamp::Message invocation;
            invocation.type = MessageType::invocation;
            hooks::OutboundContext context{*sender.peer(), callee, message, plugin_options_};
            return hooks_.outbound(context, invocation).kind == hooks::Verdict::Kind::pass;
        };
    }
    dispatch(sender, message, dealer_.call(*sender.peer(), message, grant.disclose, acceptable));
}

void Realm::on_register(Session& sender, const wamp::Message& message) {
    const auto& procedure = message.string_at(uri_field);
    OptionReader options(message.dict_at(options_field));
    auto match = options.match_policy();
    auto invoke = options.string("invoke");
    if (options.fault()) return refuse(sender, message, wamp::error_uri::invalid_argument, *options.fault());
    auto policy = invoke_policy_from_name(invoke.value_or("single"));
    if (!policy)
        return refuse(sender, message, wamp::error_uri::invalid_argument,
                      "invocation policy '" + *invoke + "' is unknown (single, roundrobin, random, first, last)");
    if (!wamp::is_valid_uri(procedure, match))
        return refuse(sender, message, wamp::error_uri::invalid_uri, "invalid procedure URI '" + procedure + "'");
    if (wamp::is_reserved_uri(procedure))
        return refuse(sender, message, wamp::error_uri::invalid_uri,
                      "register for restricted procedure URI '" + procedure + "'");
    auto grant = authorizer_.authorize(sender.peer()->authrole, procedure, auth::Action::register_procedure);
    if (!grant.allowed)
        return refuse(sender, message, wamp::error_uri::not_authorized,
                      "session is not authorized to register procedure '" + procedure + "'");
    dispatch(sender, message, dealer_.register_procedure(sender.peer(), message, match, *policy));
}

void Realm::on_unregister(Session& sender, const wamp::Message& message) {
    dispatch(sender, message, dealer_.unregister(*sender.peer(), message));
}

void Realm::on_yield(Session& sender, const wamp::Message& message) {
    dispatch(sender, message, dealer_.yield(*sender.peer(), message));
}

void Realm::on_error(Session& sender, const wamp::Message& message) {
    // The only ERROR a client sends to a router answers an INVOCATION (WAMP spec).
    auto request_type = message.fields[0].as_unsigned();
    if (request_type != static_cast<std::uint64_t>(MessageType::invocation))
        return sender.protocol_violation("ERROR from a client must answer an INVOCATION");
    dispatch(sender, message, dealer_.invocation_error(*sender.peer(), message));
}

void Realm::on_cancel(Session& sender, const wamp::Message& message) {
    // call_canceling is not announced in WELCOME; a client that sends CANCEL anyway
    // learns that it is not served instead of waiting for an answer.
    sender.send(reply::error(MessageType::cancel, message.id_at(request_field), wamp::error_uri::feature_not_supported,
                             "call canceling is not supported by this router"));
}

}  // namespace blindrouter::core
