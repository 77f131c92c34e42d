#include "blindrouter/core/service_session.hpp"

#include <spdlog/spdlog.h>

#include <exception>

#include "blindrouter/core/realm.hpp"
#include "blindrouter/core/router.hpp"
#include "blindrouter/wamp/error_uri.hpp"
#include "blindrouter/wamp/log_text.hpp"
#include "blindrouter/wamp/messages.hpp"

namespace blindrouter::core {
using wamp::MessageType;
using wamp::Value;

namespace {

// A service session joins without HELLO, so no transport authentication applies.
const config::TransportAuth no_transport_auth = [] {
    config::TransportAuth none;
    none.anonymous.reset();
    return none;
}();

// Client roles as a WAMP client without advanced features announces them.
wamp::Dict plain_client_roles() {
    wamp::Dict roles;
    for (const char* role : {"caller", "callee", "publisher", "subscriber"}) roles.emplace_back(role, Value{wamp::Dict{}});
    return roles;
}

const std::string* string_in(const wamp::Dict& dict, std::string_view key) {
    const auto* v = wamp::find(dict, key);
    return v ? v->as_string() : nullptr;
}

}  // namespace

CallError CallError::with_message(std::string_view uri, std::string message) {
    return CallError{std::string(uri), wamp::List{Value{std::move(message)}}, {}};
}

ServiceSession::ServiceSession(Router& router, Realm& realm, SessionId id, std::string authid, std::string authrole,
                               Limits limits)
    : limits_(limits), inbox_(*this) {
    session_ = std::make_shared<Session>(router, inbox_, no_transport_auth, id);
    auto peer = std::make_shared<PeerInfo>();
    peer->session_id = id;
    peer->realm = realm.name();
    peer->authid = std::move(authid);
    peer->authrole = std::move(authrole);
    peer->authmethod = "trusted";
    peer->router_internal = true;
    peer->serializer = inbox_.serializer();
    peer->client_roles = plain_client_roles();
    const auto& hooks = router.hooks();
    peer->subscriber_key = hooks.receiver_key(*peer, "subscriber");
    peer->callee_key = hooks.receiver_key(*peer, "callee");
    peer->caller_key = hooks.receiver_key(*peer, "caller");
    session_->join_internal(realm, std::move(peer));
}

ServiceSession::~ServiceSession() {
    // Leaves the realm: its registrations go, and the callers of its procedures
    // are answered by the dealer. Pending callbacks are not run any more.
    pending_calls_.clear();
    closed_ = true;
    session_->transport_closed();
}

RequestId ServiceSession::next_request() {
    // Session-scope ids count up from 1 and wrap within [1, 2^53] (WAMP spec, "IDs").
    last_request_ = last_request_ >= 9007199254740992ULL ? 1 : last_request_ + 1;
    return last_request_;
}

RequestId ServiceSession::call(std::string procedure, wamp::List args, wamp::Dict kwargs, CallDone done) {
    if (closed_) {
        done(CallError::with_message(wamp::error_uri::canceled, "the router's service session is closed"));
        return 0;
    }
    if (pending_calls_.size() >= limits_.max_pending_calls) {
        if (auto held_back = pending_calls_log_.admit())
            spdlog::warn("service session {} ({}): {} calls pending, call to \"{}\" refused{}", id(),
                         wamp::log_text(peer().authrole), pending_calls_.size(), wamp::log_text(procedure),
                         wamp::suppressed_note(*held_back));
        done(CallError::with_message(wamp::error_uri::limit_reached,
                                     "too many pending calls from the router (limit " +
                                         std::to_string(limits_.max_pending_calls) + ")"));
        return 0;
    }
    RequestId request;
    do request = next_request();
    while (pending_calls_.count(request) != 0);
    pending_calls_.emplace(request, std::move(done));
    session_->receive(wamp::Call::build(request, {}, std::move(procedure))
                          .router_arguments(std::move(args), std::move(kwargs))
                          .take());
    return request;
}

void ServiceSession::abandon(RequestId call) { pending_calls_.erase(call); }

void ServiceSession::register_procedure(std::string uri, Handler handler) {
    register_async_procedure(std::move(uri), [handler = std::move(handler)](const CallArguments& arguments,
                                                                             const InvocationDetails& details,
                                                                             const Answer& answer) {
        answer(handler(arguments, details));
    });
}

void ServiceSession::register_async_procedure(std::string uri, AsyncHandler handler) {
    if (closed_) return;
    auto request = next_request();
    pending_registrations_[request] = Registration{uri, std::move(handler)};
    session_->receive(wamp::Register::make(request, {}, std::move(uri)));
}

void ServiceSession::answer_invocation(RequestId request, const CallOutcome& outcome) {
    if (closed_) return;
    if (!outcome.ok()) {
        const auto& error = outcome.error();
        session_->receive(wamp::Error::build(MessageType::invocation, request, {}, error.uri)
                              .router_arguments(error.args, error.kwargs)
                              .take());
        return;
    }
    const auto& result = outcome.result();
    session_->receive(wamp::Yield::build(request, {}).router_arguments(result.args, result.kwargs).take());
}

void ServiceSession::publish(std::string topic, wamp::List args, wamp::Dict kwargs) {
    if (closed_) return;
    session_->receive(wamp::Publish::build(next_request(), {}, std::move(topic))
                          .router_arguments(std::move(args), std::move(kwargs))
                          .take());
}

bool ServiceSession::registered(std::string_view uri) const {
    for (const auto& [id, registration] : registrations_)
        if (registration.uri == uri) return true;
    return false;
}

void ServiceSession::Inbox::close(CloseReason, std::string_view text) { owner_.closed(text); }

void ServiceSession::closed(std::string_view text) {
    if (closed_) return;
    closed_ = true;
    spdlog::error("service session {} ({}) was closed: {}", id(), wamp::log_text(peer().authrole), wamp::log_text(text));
    auto pending = std::move(pending_calls_);
    pending_calls_.clear();
    for (auto& [request, done] : pending)
        done(CallError::with_message(wamp::error_uri::canceled, "the router's service session was closed"));
}

void ServiceSession::receive(const wamp::Message& message) {
    switch (message.type) {
        case MessageType::result: return on_result(message);
        case MessageType::error: return on_error(message);
        case MessageType::registered: return on_registered(message);
        case MessageType::invocation: return on_invocation(message);
        default: return;  // EVENT (no subscriptions yet), PUBLISHED, UNREGISTERED, GOODBYE
    }
}

std::optional<CallArguments> ServiceSession::read_arguments(const wamp::Message& message,
                                                            std::string& problem) const {
    // Reading these is legitimate: they are addressed to the router itself (see
    // codec/element_value.hpp), not routed to anyone.
    if (message.arguments && message.arguments->kind() != wamp::ElementKind::list) {
        problem = "the arguments are an opaque payload";
        return std::nullopt;
    }
    // The element's content, or what the router wrote in its place.
    auto read = [&]<class T>(const std::optional<wamp::EncodedElement>& element, const std::optional<T>& written,
                             std::string_view what, T& into) {
        if (!element) {
            if (written) into = *written;
            return true;
        }
        auto value = codec::decode_element(*element, limits_.arguments);
        if (!value) problem = std::string(what) + " cannot be read: " + value.error();
        else into = std::get<T>(std::move(value.value().data));
        return static_cast<bool>(value);
    };
    CallArguments arguments;
    if (!read(message.arguments, message.router_arguments, "the arguments", arguments.args) ||
        !read(message.arguments_kw, message.router_arguments_kw, "the keyword arguments", arguments.kwargs))
        return std::nullopt;
    return arguments;
}

void ServiceSession::finish(RequestId request, CallOutcome outcome) {
    auto it = pending_calls_.find(request);
    if (it == pending_calls_.end()) return;  // abandoned
    auto done = std::move(it->second);
    pending_calls_.erase(it);
    done(std::move(outcome));
}

void ServiceSession::on_result(const wamp::Message& message) {
    wamp::Result result(message);
    if (!pending_calls_.count(result.request())) return;
    std::string problem;
    auto arguments = read_arguments(message, problem);
    if (!arguments) {
        spdlog::warn("service session {}: result of call {} refused: {}", id(), result.request(), wamp::log_text(problem));
        return finish(result.request(), CallError::with_message(wamp::error_uri::invalid_argument, problem));
    }
    finish(result.request(), std::move(*arguments));
}

void ServiceSession::on_error(const wamp::Message& message) {
    wamp::Error error(message);
    auto request_type = error.request_type();
    if (request_type == static_cast<std::uint64_t>(MessageType::reg)) {
        auto it = pending_registrations_.find(error.request());
        if (it == pending_registrations_.end()) return;
        spdlog::warn("service session {} ({}): registering \"{}\" refused: {}", id(), wamp::log_text(peer().authrole),
                     wamp::log_text(it->second.uri), wamp::log_text(error.error()));
        pending_registrations_.erase(it);
        return;
    }
    if (request_type != static_cast<std::uint64_t>(MessageType::call) || !pending_calls_.count(error.request())) return;
    std::string problem;
    auto arguments = read_arguments(message, problem);
    // An error whose arguments cannot be read still ends the call with its URI.
    if (!arguments) arguments = CallArguments{wamp::List{Value{problem}}, {}};
    finish(error.request(), CallError{error.error(), std::move(arguments->args), std::move(arguments->kwargs)});
}

void ServiceSession::on_registered(const wamp::Message& message) {
    wamp::Registered registered(message);
    auto it = pending_registrations_.find(registered.request());
    if (it == pending_registrations_.end()) return;
    registrations_[registered.registration()] = std::move(it->second);
    pending_registrations_.erase(it);
}

void ServiceSession::on_invocation(const wamp::Message& message) {
    wamp::Invocation invocation(message);
    auto request = invocation.request();
    auto answer_error = [&](CallError error) { answer_invocation(request, std::move(error)); };
    auto it = registrations_.find(invocation.registration());
    if (it == registrations_.end())
        return answer_error(CallError::with_message(wamp::error_uri::no_such_registration,
                                                    "the router's service session has no such registration"));
    const auto& details = invocation.details();
    InvocationDetails about;
    const auto* procedure = string_in(details, "procedure");
    about.procedure = procedure ? *procedure : it->second.uri;
    if (const auto* caller = wamp::find(details, "caller")) about.caller = caller->as_unsigned();
    if (const auto* authid = string_in(details, "caller_authid")) about.caller_authid = *authid;
    if (const auto* authrole = string_in(details, "caller_authrole")) about.caller_authrole = *authrole;

    std::string problem;
    auto arguments = read_arguments(message, problem);
    if (!arguments) return answer_error(CallError::with_message(wamp::error_uri::invalid_argument, problem));

    // The handler may leave the registration table changed (a registration it makes):
    // copy what is needed before running it.
    auto handler = it->second.handler;
    std::weak_ptr<const int> alive = alive_;
    auto answer = [this, alive, request](CallOutcome outcome) {
        if (!alive.expired()) answer_invocation(request, outcome);
    };
    try {
        handler(*arguments, about, answer);
    } catch (const std::exception& e) {
        // As Autobahn answers an exception raised by a procedure.
        spdlog::error("service session {}: procedure \"{}\" failed: {}", id(), wamp::log_text(about.procedure),
                      wamp::log_text(e.what()));
        answer(CallError::with_message(wamp::error_uri::runtime_error, "the router's procedure failed"));
    }
}

}  // namespace blindrouter::core
