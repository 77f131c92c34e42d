#pragma once
// One WAMP session: its state machine (HELLO → authenticating → established →
// GOODBYE/ABORT) and its link to the connection that carries it. Routing is the
// realm's job; authentication methods are auth/'s (auth/methods.hpp).
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "blindrouter/auth/authenticator.hpp"
#include "blindrouter/codec/outbound_message.hpp"
#include "blindrouter/config/node_config.hpp"
#include "blindrouter/core/peer.hpp"
#include "blindrouter/wamp/message.hpp"

namespace blindrouter::auth {
class CookieStore;
}

namespace blindrouter::core {

class Router;
class Realm;

enum class CloseReason : unsigned char { normal, protocol_error, going_away };

// What a TLS connection tells its session once the handshake is done.
struct TlsChannel {
    // RFC 5929 tls-unique as Autobahn and Crossbar compute it: SHA-256 of the client's
    // Finished message (see net/listener.cpp for TLS 1.3), 32 bytes.
    std::string tls_unique;
    // The client certificate, verified against the endpoint's ca_certificates; null
    // when the endpoint requests none. Its size is bounded by OpenSSL's limit on a
    // peer's certificate list (SSL_CTX_set_max_cert_list, default 100 KiB).
    std::shared_ptr<const auth::PeerCertificate> peer_certificate;
};

// The connection as a session sees it. Implemented by net/ transports and by fake
// transports in tests.
class SessionTransport {
public:
    virtual ~SessionTransport() = default;
    virtual void send(const codec::SharedOutbound& message) = 0;
    // Flush what was sent, then close the connection.
    virtual void close(CloseReason reason, std::string_view text) = 0;
    virtual wamp::Serializer serializer() const = 0;
    // Null unless the connection is TLS.
    virtual const TlsChannel* tls_channel() const { return nullptr; }
    // Autobahn's TransportDetails.marshal() as Crossbar gives it to dynamic
    // authenticators and shows it in the session meta API (channel_type,
    // channel_framing, peer, ...), never a header or certificate that could hold a
    // secret; empty when unknown.
    virtual wamp::Dict details() const { return {}; }
};

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(Router& router, SessionTransport& transport, const config::TransportAuth& auth, SessionId id);

    void receive(const wamp::Message& message);
    // The decoder refused a frame: ABORT with protocol_violation and close.
    void receive_malformed(std::string_view reason);
    // The connection is gone: leave the realm; nothing is sent any more.
    void transport_closed();
    // Router shutdown: GOODBYE wamp.close.system_shutdown, then close.
    void shut_down();
    // The router ends an established session (wamp.session.kill): GOODBYE `reason`
    // with `message`, the session leaves its realm at once and the connection closes
    // when the client answers.
    void kill(std::string_view reason, std::optional<std::string_view> message);
    // A router-internal session (core/service_session.hpp) joins `realm` as `peer`,
    // without HELLO or WELCOME: the router vouches for its identity.
    void join_internal(Realm& realm, SharedPeer peer);
    // The connection carries tracking cookie `id` of `store` (a WebSocket service with
    // the `cookie` option): the session logs in with it, binds it, or logs it out.
    void track_cookie(std::shared_ptr<auth::CookieStore> store, std::string id);

    void send(const codec::SharedOutbound& message);
    void abort(std::string_view reason_uri, std::string_view message, CloseReason close_reason);
    void protocol_violation(std::string_view reason);

    SessionId id() const { return id_; }
    bool established() const { return state_ == State::established; }
    const SharedPeer& peer() const { return peer_; }

private:
    // authenticating: a method was chosen and has not answered with WELCOME or ABORT
    // yet (a CHALLENGE is out, or a dynamic authenticator is being asked).
    enum class State : unsigned char { awaiting_hello, authenticating, established, goodbye_sent, closed };

    void on_hello(const wamp::Message& hello);
    void on_authenticate(const wamp::Message& authenticate);
    // A method's answer to HELLO or AUTHENTICATE, now or (dynamic) later.
    void on_auth_outcome(auth::Outcome outcome);
    void welcome(const auth::Principal& principal);
    // Leaves the authenticating state: drops the method and its pending slot.
    void end_authentication();
    void on_goodbye(const wamp::Message& goodbye);
    void close_transport(CloseReason reason, std::string_view text);
    // Crossbar's login by a bound cookie, checked before method selection; false when
    // the HELLO is left to the methods.
    bool cookie_login(const std::vector<std::string>& offered);
    void release_cookie();

    Router& router_;
    SessionTransport* transport_;  // nullptr once the connection is gone
    const config::TransportAuth& auth_;
    SessionId id_;
    State state_ = State::awaiting_hello;
    SharedPeer peer_;
    Realm* realm_ = nullptr;
    // Between HELLO and WELCOME: the chosen method and what the client asked for.
    std::unique_ptr<auth::PendingAuthentication> authentication_;
    std::optional<std::string> requested_realm_;  // nothing: HELLO.Realm was null
    wamp::Dict client_roles_;
    bool challenge_sent_ = false;
    std::size_t auth_method_ = 0;  // the chosen method, as core::authentication_method_index
    bool holds_pending_slot_ = false;  // counted in Router's bound on pending authentications
    std::shared_ptr<auth::CookieStore> cookie_store_;  // null: the connection is not tracked
    std::string cookie_id_;                            // a credential once bound: never logged
};

}  // namespace blindrouter::core
