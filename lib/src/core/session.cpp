#include "blindrouter/core/session.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "blindrouter/auth/cookie_store.hpp"
#include "blindrouter/auth/byte_encoding.hpp"
#include "blindrouter/auth/methods.hpp"
#include "blindrouter/auth/tls_method.hpp"
#include "blindrouter/core/realm.hpp"
#include "blindrouter/core/reply.hpp"
#include "blindrouter/core/router.hpp"
#include "blindrouter/wamp/error_uri.hpp"
#include "blindrouter/wamp/log_text.hpp"
#include "blindrouter/wamp/messages.hpp"

namespace blindrouter::core {
using wamp::MessageType;
using wamp::Value;

namespace {

wamp::Dict features(std::initializer_list<std::string_view> names) {
    wamp::Dict dict;
    for (auto name : names) dict.emplace_back(std::string(name), Value{true});
    return dict;
}
}  // namespace

Session::Session(Router& router, SessionTransport& transport, const config::TransportAuth& auth, SessionId id)
    : router_(router), transport_(&transport), auth_(auth), id_(id) {}

void Session::send(const codec::SharedOutbound& message) {
    if (!transport_ || state_ == State::closed) return;
    // The router's own sessions are answered by the router: no client was refused.
    if (message->message().type == MessageType::error && !(peer_ && peer_->router_internal))
        router_.metrics().error_sent(wamp::Error(message->message()).error());
    transport_->send(message);
}

void Session::close_transport(CloseReason reason, std::string_view text) {
    end_authentication();
    release_cookie();
    if (state_ == State::established && realm_) realm_->leave(id_);
    realm_ = nullptr;
    state_ = State::closed;
    if (transport_) transport_->close(reason, text);
}

void Session::abort(std::string_view reason_uri, std::string_view message, CloseReason close_reason) {
    if (state_ == State::closed) return;
    send(reply::abort(reason_uri, message));
    close_transport(close_reason, message);
}

void Session::protocol_violation(std::string_view reason) {
    if (state_ == State::closed) return;
    if (auto note = router_.client_warnings().admit(ClientWarning::protocol_violation))
        spdlog::warn("session {}: protocol violation: {}{}", id_, wamp::log_text(reason), *note);
    abort(wamp::error_uri::protocol_violation, reason, CloseReason::protocol_error);
}

void Session::receive_malformed(std::string_view reason) { protocol_violation(reason); }

void Session::receive(const wamp::Message& message) {
    const auto& schema = wamp::schema_for(message.type);
    switch (state_) {
        case State::closed:
            return;
        case State::awaiting_hello:
            if (message.type == MessageType::hello) return on_hello(message);
            if (message.type == MessageType::abort) return close_transport(CloseReason::normal, "client aborted");
            return protocol_violation(std::string(schema.name) + " received before session was established");
        case State::authenticating:
            if (message.type == MessageType::authenticate) return on_authenticate(message);
            if (message.type == MessageType::abort) return close_transport(CloseReason::normal, "client aborted");
            return protocol_violation(std::string(schema.name) + " received during authentication");
        case State::goodbye_sent:
            // Waiting for the peer's GOODBYE reply; anything else in flight is dropped.
            if (message.type == MessageType::goodbye || message.type == MessageType::abort)
                close_transport(CloseReason::normal, "closed");
            return;
        case State::established:
            break;
    }
    if (!schema.sent_by_client)
        return protocol_violation(std::string(schema.name) + " is not a message a client may send");
    switch (message.type) {
        case MessageType::hello:
            return protocol_violation("HELLO received after session was established");
        case MessageType::authenticate:
            return protocol_violation("AUTHENTICATE received without CHALLENGE");
        case MessageType::goodbye:
            return on_goodbye(message);
        case MessageType::abort:
            spdlog::info("session {} aborted by client: {}", id_, wamp::log_text(wamp::Abort(message).reason()));
            return close_transport(CloseReason::normal, "client aborted");
        // --metrics-uri-labels counts what clients send; the meta API's own events are not theirs.
        case MessageType::publish:
            if (router_.metrics().counts_uris() && !peer_->router_internal)
                router_.metrics().uri_used(message.type, wamp::Publish(message).topic());
            return realm_->handle(*this, message);
        case MessageType::call:
            if (router_.metrics().counts_uris() && !peer_->router_internal)
                router_.metrics().uri_used(message.type, wamp::Call(message).procedure());
            return realm_->handle(*this, message);
        default:
            realm_->handle(*this, message);
    }
}

void Session::on_hello(const wamp::Message& hello) {
    wamp::Hello view(hello);
    // A null realm is "not given": the method or authenticator may assign one.
    std::optional<std::string> realm_name;
    if (auto requested = view.realm()) realm_name.emplace(*requested);
    const auto& details = view.details();

    const auto* roles = wamp::find(details, "roles");
    if (!roles || !roles->as_dict() || roles->as_dict()->empty())
        return protocol_violation("HELLO.Details.roles must be a non-empty dict of client roles");

    if (realm_name && !wamp::is_valid_uri(*realm_name)) {
        spdlog::info("session {}: HELLO for invalid realm name \"{}\"", id_, wamp::log_text(*realm_name));
        return abort(wamp::error_uri::invalid_uri, "invalid realm name \"" + *realm_name + "\"", CloseReason::normal);
    }
    // Autobahn refuses a HELLO whose authentication details have the wrong types
    // (ab:wamp/message.py, Hello.parse).
    std::vector<std::string> offered;
    if (const auto* methods = wamp::find(details, "authmethods")) {
        const auto* list = methods->as_list();
        if (!list) return protocol_violation("HELLO.Details.authmethods must be a list");
        for (const auto& m : *list) {
            if (!m.as_string()) return protocol_violation("HELLO.Details.authmethods must be a list of strings");
            offered.push_back(*m.as_string());
        }
    }
    auth::HelloInfo info;
    info.session_id = id_;
    info.realm = realm_name;
    if (transport_) info.transport = transport_->details();
    for (auto [key, into] : {std::pair{"authid", &info.authid}, std::pair{"authrole", &info.authrole}}) {
        const auto* value = wamp::find(details, key);
        if (!value || value->is_null()) continue;
        if (!value->as_string()) return protocol_violation(std::string("HELLO.Details.") + key + " must be a string");
        *into = *value->as_string();
    }
    if (const auto* extra = wamp::find(details, "authextra"); extra && !extra->is_null()) {
        if (!extra->as_dict()) return protocol_violation("HELLO.Details.authextra must be a dict");
        info.authextra = *extra->as_dict();
    }
    if (const auto* tls = transport_ ? transport_->tls_channel() : nullptr) {
        info.tls_unique = tls->tls_unique;
        info.peer_certificate = tls->peer_certificate;
        // Autobahn's TransportDetails as Crossbar hands them to dynamic authenticators:
        // the verified client certificate and the channel binding.
        if (info.peer_certificate)
            wamp::set(info.transport, "peer_cert", auth::peer_certificate_details(*info.peer_certificate));
        wamp::set(info.transport, "channel_id", wamp::Dict{{"tls-unique", auth::to_hex(tls->tls_unique)}});
    }
    if (cookie_store_ && !auth_.has_auth_block) info.tracking_id = cookie_id_;
    requested_realm_ = realm_name;
    client_roles_ = *roles->as_dict();
    if (cookie_login(offered)) return;

    std::weak_ptr<Session> weak = weak_from_this();
    auth::MethodContext context{router_, [weak](auth::Outcome outcome) {
                                    if (auto self = weak.lock(); self && self->state_ == State::authenticating)
                                        self->on_auth_outcome(std::move(outcome));
                                },
                                router_.node_key(), &router_};
    auto selection = auth::select_method(offered, auth_, context);
    if (!selection.method) return on_auth_outcome(std::move(*selection.denial));
    // Without an auth block nothing can assign a realm (cb:router/session.py:956-957).
    if (!auth_.has_auth_block && !realm_name)
        return on_auth_outcome(auth::Outcome::deny(std::string(wamp::error_uri::no_such_realm), "no realm requested"));
    authentication_ = std::move(selection.method);
    auth_method_ = authentication_method_index(selection.method_name);
    state_ = State::authenticating;
    on_auth_outcome(authentication_->hello(info));
}

// cb:router/session.py:885-935. The login bound to the cookie is used when the client
// offers "cookie" anywhere in its list, before any method is looked at; it keeps its
// original authmethod, with authprovider "cookie", and the realm it was made on. A
// client that does not offer "cookie" revokes the binding (a new login binds again).
bool Session::cookie_login(const std::vector<std::string>& offered) {
    if (!cookie_store_ || !auth_.cookie) return false;
    const auto* bound = cookie_store_->binding(cookie_id_);
    if (!bound) return false;
    if (std::find(offered.begin(), offered.end(), "cookie") == offered.end()) {
        cookie_store_->unbind(cookie_id_);
        return false;
    }
    // Crossbar asks the realm's router for the role, where only "trusted" is implicit.
    if (bound->authrole != "trusted" && router_.has_realm(bound->realm) &&
        !router_.has_role(bound->realm, bound->authrole)) {
        auth_method_ = authentication_method_index("cookie");
        on_auth_outcome(auth::Outcome::deny(std::string(wamp::error_uri::no_such_role),
                                            "session was previously authenticated (via transport), but role \"" +
                                                bound->authrole + "\" no longer exists on realm \"" + bound->realm + "\""));
        return true;
    }
    auth::Principal principal;
    principal.authid = bound->authid;
    principal.authrole = bound->authrole;
    principal.authmethod = bound->authmethod;
    principal.authprovider = "cookie";
    principal.authextra = bound->authextra;
    principal.realm = bound->realm;
    on_auth_outcome(auth::Outcome::welcome(std::move(principal)));
    return true;
}

void Session::track_cookie(std::shared_ptr<auth::CookieStore> store, std::string id) {
    cookie_store_ = std::move(store);
    cookie_id_ = std::move(id);
    std::weak_ptr<Session> weak = weak_from_this();
    cookie_store_->attach(cookie_id_, id_, [weak] {
        if (auto self = weak.lock(); self && self->state_ != State::closed)
            self->close_transport(CloseReason::normal, "logged out on another connection");
    });
}

void Session::release_cookie() {
    if (cookie_store_) cookie_store_->detach(cookie_id_, id_);
    cookie_store_ = nullptr;
}

void Session::on_authenticate(const wamp::Message& authenticate) {
    if (!challenge_sent_) return protocol_violation("AUTHENTICATE received without CHALLENGE");
    challenge_sent_ = false;
    wamp::Authenticate view(authenticate);
    on_auth_outcome(authentication_->authenticate(view.signature(), view.extra()));
}

void Session::end_authentication() {
    authentication_.reset();
    challenge_sent_ = false;
    if (holds_pending_slot_) router_.release_pending_authentication();
    holds_pending_slot_ = false;
}

void Session::on_auth_outcome(auth::Outcome outcome) {
    using Kind = auth::Outcome::Kind;
    if (outcome.kind == Kind::welcome) {
        // Whatever the method, the principal passes Crossbar's checks before WELCOME.
        if (auto denial = auth::check_principal(outcome.principal, requested_realm_, router_))
            return on_auth_outcome(std::move(*denial));
        return welcome(outcome.principal);
    }
    if (outcome.kind == Kind::deny) {
        router_.metrics().authentication_failed(auth_method_);
        // The message never holds a secret (auth/authenticator.hpp), so it may be logged,
        // unless it is a dynamic authenticator's payload.
        if (auto note = router_.client_warnings().admit(ClientWarning::authentication_refused))
            spdlog::info("session {}: authentication refused: {} ({}){}", id_, wamp::log_text(outcome.error_uri),
                         outcome.message_is_payload ? "the authenticator's message is not logged"
                                                    : wamp::log_text(outcome.message),
                         *note);
        return abort(outcome.error_uri, outcome.message, CloseReason::normal);
    }
    if (!holds_pending_slot_) {
        if (!router_.reserve_pending_authentication()) {
            if (auto note = router_.client_warnings().admit(ClientWarning::router_busy))
                spdlog::warn("session {}: refused, {} authentications are already in progress{}", id_,
                             router_.pending_authentications(), *note);
            return abort(wamp::error_uri::authentication_failed,
                         "too many authentications in progress on this router; try again later", CloseReason::normal);
        }
        holds_pending_slot_ = true;
    }
    if (outcome.kind == Kind::challenge) {
        challenge_sent_ = true;
        send(codec::make_outbound(
            wamp::Challenge::make(std::move(outcome.challenge_method), std::move(outcome.challenge_extra))));
    }
}

// WELCOME is built here alone, from the principal the method assigned.
void Session::welcome(const auth::Principal& principal) {
    // check_principal made sure there is a realm and that it exists.
    const auto& realm_name = principal.realm ? *principal.realm : *requested_realm_;
    auto* realm = router_.find_realm(realm_name);
    if (!realm->admits_client()) {
        if (auto note = router_.client_warnings().admit(ClientWarning::router_busy))
            spdlog::warn("session {}: refused, realm \"{}\" is at its session limit{}", id_, wamp::log_text(realm_name),
                         *note);
        return abort(wamp::error_uri::limit_reached, "the realm has reached its limit of sessions", CloseReason::normal);
    }
    end_authentication();

    auto peer = std::make_shared<PeerInfo>();
    peer->session_id = id_;
    peer->realm = realm_name;
    peer->authid = principal.authid;
    peer->authrole = principal.authrole;
    peer->authmethod = principal.authmethod;
    peer->authprovider = principal.authprovider;
    peer->authextra = principal.authextra;
    if (transport_) peer->transport = transport_->details();
    peer->serializer = transport_ ? transport_->serializer() : wamp::Serializer::json;
    peer->client_roles = std::move(client_roles_);
    const auto& hooks = router_.hooks();
    peer->subscriber_key = hooks.receiver_key(*peer, "subscriber");
    peer->callee_key = hooks.receiver_key(*peer, "callee");
    peer->caller_key = hooks.receiver_key(*peer, "caller");
    peer_ = std::move(peer);

    // Announce only what is served (WAMP spec, feature announcement).
    auto broker_features = features({"publisher_identification", "publisher_exclusion",
                                     "subscriber_blackwhite_listing", "pattern_based_subscription"});
    auto dealer_features =
        features({"caller_identification", "pattern_based_registration", "shared_registration", "call_canceling",
                  "progressive_call_results", "progressive_call_invocations"});
    if (router_.serves_meta_api(realm_name)) {
        for (auto name : {"session_meta_api", "subscription_meta_api", "subscription_revocation"})
            broker_features.emplace_back(name, Value{true});
        for (auto name : {"session_meta_api", "registration_meta_api", "registration_revocation"})
            dealer_features.emplace_back(name, Value{true});
    }
    if (router_.enforces_call_timeouts()) dealer_features.emplace_back("call_timeout", Value{true});
    // Retained events and testaments (core/broker.hpp, core/event_store.hpp); Crossbar
    // announces the testament API under the dealer (cb:router/dealer.py:154-166).
    broker_features.emplace_back("event_retention", Value{true});
    dealer_features.emplace_back("testament_meta_api", Value{true});
    router_.hooks().announce_features(broker_features, dealer_features);

    wamp::Dict welcome_details{
        {"realm", Value{realm_name}},
        {"authid", Value{principal.authid}},
        {"authrole", Value{principal.authrole}},
        {"authmethod", Value{principal.authmethod}},
        {"authprovider", Value{principal.authprovider}},
        {"authextra", Value{principal.authextra}},
        {"roles", Value{wamp::Dict{{"broker", Value{wamp::Dict{{"features", Value{std::move(broker_features)}}}}},
                                   {"dealer", Value{wamp::Dict{{"features", Value{std::move(dealer_features)}}}}}}}},
    };
    auto welcome = wamp::Welcome::make(id_, std::move(welcome_details));

    state_ = State::established;
    realm_ = realm;
    realm->join(shared_from_this());
    send(codec::make_outbound(std::move(welcome)));
    // Crossbar binds the cookie to every login, the cookie login included (session.py:1144-1160).
    if (cookie_store_)
        cookie_store_->bind(cookie_id_, {principal.authid, principal.authrole, principal.authmethod, realm_name,
                                         principal.authextra});
    const bool authid_is_cookie = cookie_store_ && principal.authid == cookie_id_;
    spdlog::info("session {} joined realm \"{}\" as authid \"{}\" role \"{}\" ({}{})", id_, wamp::log_text(realm_name),
                 authid_is_cookie ? "(tracking cookie)" : wamp::log_text(peer_->authid), wamp::log_text(peer_->authrole),
                 wamp::log_text(peer_->authmethod),
                 principal.authprovider == "cookie" ? ", by cookie" : "");
}

void Session::on_goodbye(const wamp::Message& goodbye) {
    const auto& reason = wamp::Goodbye(goodbye).reason();
    spdlog::info("session {} said goodbye ({})", id_, wamp::log_text(reason));
    // Crossbar answers with Autobahn's default GOODBYE reason, wamp.close.normal, not the
    // spec's wamp.close.goodbye_and_out; Crossbar's example clients exit with an error
    // on any other reason, so we send what Crossbar sends.
    send(reply::goodbye(wamp::error_uri::normal));
    // Crossbar's logout deletes the cookie and closes every other connection that
    // carries it (cb:router/session.py:1309-1335).
    std::vector<std::function<void()>> kicks;
    if (reason == "wamp.close.logout" && cookie_store_) {
        kicks = cookie_store_->remove(cookie_id_, id_);
        spdlog::info("session {} logged out: its cookie is forgotten, {} other connection(s) carrying it closed", id_,
                     kicks.size());
    }
    close_transport(CloseReason::normal, "goodbye");
    for (auto& kick : kicks) kick();
}

void Session::kill(std::string_view reason, std::optional<std::string_view> message) {
    if (state_ != State::established) return;
    send(reply::goodbye(reason, message));
    state_ = State::goodbye_sent;
    auto* realm = std::exchange(realm_, nullptr);
    if (realm) realm->leave(id_);
}

void Session::shut_down() {
    switch (state_) {
        case State::established:
            kill(wamp::error_uri::system_shutdown, "router is shutting down");
            break;
        case State::awaiting_hello:
        case State::authenticating:
            close_transport(CloseReason::going_away, "router is shutting down");
            break;
        default:
            break;
    }
}

void Session::join_internal(Realm& realm, SharedPeer peer) {
    peer_ = std::move(peer);
    state_ = State::established;
    realm_ = &realm;
    realm.join(shared_from_this());
}

void Session::transport_closed() {
    end_authentication();
    release_cookie();
    if (state_ == State::established && realm_) realm_->leave(id_);
    realm_ = nullptr;
    state_ = State::closed;
    transport_ = nullptr;
    router_.session_closed(id_);
}

}  // namespace blindrouter::core
