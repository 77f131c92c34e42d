#include "blindrouter/core/session.hpp"

#include <spdlog/spdlog.h>

#include <random>

#include "blindrouter/core/realm.hpp"
#include "blindrouter/core/reply.hpp"
#include "blindrouter/core/router.hpp"
#include "blindrouter/wamp/error_uri.hpp"
#include "blindrouter/wamp/messages.hpp"

namespace blindrouter::core {
using wamp::MessageType;
using wamp::Value;

namespace {

// Crossbar's anonymous authid: six groups of four characters from an alphabet
// without look-alikes, e.g. "YRAC-EL4X-FQQE-AW4T-WNUV-VN6T".
std::string generate_authid() {
    static constexpr std::string_view alphabet = "345679ACEFGHJKLMNPQRSTUVWXY";
    static thread_local std::mt19937_64 engine{std::random_device{}()};
    std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
    std::string id;
    for (int group = 0; group < 6; ++group) {
        if (group) id += '-';
        for (int i = 0; i < 4; ++i) id += alphabet[pick(engine)];
    }
    return id;
}

wamp::Dict features(std::initializer_list<std::string_view> names) {
    wamp::Dict dict;
    for (auto name : names) dict.emplace_back(std::string(name), Value{true});
    return dict;
}
}  // namespace

Session::Session(Router& router, SessionTransport& transport, const config::TransportAuth& auth, SessionId id)
    : router_(router), transport_(&transport), auth_(auth), id_(id) {}

void Session::send(const codec::SharedOutbound& message) {
    if (transport_ && state_ != State::closed) transport_->send(message);
}

void Session::close_transport(CloseReason reason, std::string_view text) {
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
    spdlog::warn("session {}: protocol violation: {}", id_, reason);
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
            spdlog::info("session {} aborted by client: {}", id_, wamp::Abort(message).reason());
            return close_transport(CloseReason::normal, "client aborted");
        default:
            realm_->handle(*this, message);
    }
}

void Session::on_hello(const wamp::Message& hello) {
    wamp::Hello view(hello);
    const auto& realm_name = view.realm();
    const auto& details = view.details();

    const auto* roles = wamp::find(details, "roles");
    if (!roles || !roles->as_dict() || roles->as_dict()->empty())
        return protocol_violation("HELLO.Details.roles must be a non-empty dict of client roles");

    if (!wamp::is_valid_uri(realm_name)) {
        spdlog::info("session {}: HELLO for invalid realm name", id_);
        return abort(wamp::error_uri::invalid_uri, "invalid realm name \"" + realm_name + "\"", CloseReason::normal);
    }
    auto* realm = router_.find_realm(realm_name);
    if (!realm) {
        spdlog::info("session {}: no such realm \"{}\"", id_, realm_name);
        return abort(wamp::error_uri::no_such_realm, "no realm \"" + realm_name + "\" exists on this router",
                     CloseReason::normal);
    }

    // WAMP-Anonymous is the one method served (Crossbar: a client that names
    // authmethods must include "anonymous" to be let in without credentials).
    bool offers_anonymous = true;
    if (const auto* methods = wamp::find(details, "authmethods")) {
        const auto* list = methods->as_list();
        if (!list) return protocol_violation("HELLO.Details.authmethods must be a list");
        offers_anonymous = false;
        for (const auto& m : *list)
            if (m.as_string() && *m.as_string() == "anonymous") offers_anonymous = true;
    }
    if (!offers_anonymous || !auth_.anonymous) {
        spdlog::info("session {}: no acceptable authmethod for realm \"{}\"", id_, realm_name);
        return abort(wamp::error_uri::no_auth_method, "cannot authenticate using any of the offered authmethods",
                     CloseReason::normal);
    }
    const auto& role = auth_.anonymous->role;
    if (!realm->authorizer().has_role(role)) {
        spdlog::warn("session {}: role \"{}\" does not exist on realm \"{}\"", id_, role, realm_name);
        return abort(wamp::error_uri::no_such_role,
                     "role \"" + role + "\" does not exist on realm \"" + realm_name + "\"", CloseReason::normal);
    }

    auto peer = std::make_shared<PeerInfo>();
    peer->session_id = id_;
    peer->realm = realm_name;
    peer->authid = auth_.anonymous->authid ? *auth_.anonymous->authid : generate_authid();
    peer->authrole = role;
    peer->authmethod = "anonymous";
    peer->serializer = transport_ ? transport_->serializer() : wamp::Serializer::json;
    peer->client_roles = *roles->as_dict();
    const auto& hooks = router_.hooks();
    peer->subscriber_key = hooks.receiver_key(*peer, "subscriber");
    peer->callee_key = hooks.receiver_key(*peer, "callee");
    peer->caller_key = hooks.receiver_key(*peer, "caller");
    peer_ = std::move(peer);

    // Announce only what is served (WAMP spec, feature announcement).
    auto broker_features = features({"publisher_identification", "publisher_exclusion",
                                     "subscriber_blackwhite_listing", "pattern_based_subscription"});
    auto dealer_features =
        features({"caller_identification", "pattern_based_registration", "shared_registration",
                  "progressive_call_results"});
    router_.hooks().announce_features(broker_features, dealer_features);

    wamp::Dict authextra;
    if (const auto* extra = wamp::find(details, "authextra"); extra && extra->as_dict()) authextra = *extra->as_dict();
    wamp::Dict welcome_details{
        {"realm", Value{realm_name}},
        {"authid", Value{peer_->authid}},
        {"authrole", Value{peer_->authrole}},
        {"authmethod", Value{"anonymous"}},
        {"authprovider", Value{"static"}},
        {"authextra", Value{std::move(authextra)}},
        {"roles", Value{wamp::Dict{{"broker", Value{wamp::Dict{{"features", Value{std::move(broker_features)}}}}},
                                   {"dealer", Value{wamp::Dict{{"features", Value{std::move(dealer_features)}}}}}}}},
    };
    auto welcome = wamp::Welcome::make(id_, std::move(welcome_details));

    state_ = State::established;
    realm_ = realm;
    realm->join(shared_from_this());
    send(codec::make_outbound(std::move(welcome)));
    spdlog::info("session {} joined realm \"{}\" as authid \"{}\" role \"{}\"", id_, realm_name, peer_->authid, role);
}

void Session::on_goodbye(const wamp::Message& goodbye) {
    spdlog::info("session {} said goodbye ({})", id_, wamp::Goodbye(goodbye).reason());
    send(reply::goodbye(wamp::error_uri::goodbye_and_out));
    close_transport(CloseReason::normal, "goodbye");
}

void Session::shut_down() {
    switch (state_) {
        case State::established:
            send(reply::goodbye(wamp::error_uri::system_shutdown, "router is shutting down"));
            if (realm_) realm_->leave(id_);
            realm_ = nullptr;
            state_ = State::goodbye_sent;
            break;
        case State::awaiting_hello:
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
    if (state_ == State::established && realm_) realm_->leave(id_);
    realm_ = nullptr;
    state_ = State::closed;
    transport_ = nullptr;
    router_.session_closed(id_);
}

}  // namespace blindrouter::core
