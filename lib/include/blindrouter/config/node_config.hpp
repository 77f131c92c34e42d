#pragma once
// The parts of a Crossbar.io node configuration (config.json, version 2) that
// blindrouter serves, after checking. See config/node_config_loader.hpp.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "blindrouter/wamp/serializer.hpp"
#include "blindrouter/wamp/uri.hpp"
#include "blindrouter/wamp/value.hpp"

namespace blindrouter::config {

struct Permission {
    std::string uri;
    wamp::MatchPolicy match = wamp::MatchPolicy::exact;
    bool allow_call = false;
    bool allow_register = false;
    bool allow_publish = false;
    bool allow_subscribe = false;
    bool disclose_caller = false;
    bool disclose_publisher = false;
    // Attributes that plugins registered (see Extensions), as written; checked by the plugin.
    wamp::Dict plugin_options;
    std::string json_path;  // where it stands in the config file, for fault messages
};

// A role whose actions a component's procedure decides (Crossbar's dynamic
// authorizer, cb:router/role.py RouterRoleDynamicAuth), with blindrouter's bounds on
// it: the role's key "authorizer_limits", which Crossbar's role check never reads
// (cb:common/checkconfig.py check_router_realm_role). Crossbar bounds none of these.
struct DynamicAuthorizer {
    std::string procedure;
    // The procedure must answer within this, or the client gets authorization_failed.
    std::chrono::milliseconds timeout{10000};
    // Decisions the procedure marked `cache`, kept for the role; the least recently
    // used goes when full. Crossbar keeps every one forever.
    std::size_t cache_entries = 10000;
    // A kept decision is asked again after this long.
    std::chrono::milliseconds cache_ttl{60000};
    // Calls to the procedure waiting for an answer, for all sessions of the role.
    std::size_t max_pending = 1000;
    // Messages of one session held while its authorization is pending (the one being
    // authorized included).
    std::size_t max_held_per_session = 100;
};

struct Role {
    std::string name;
    std::optional<DynamicAuthorizer> authorizer;
    std::vector<Permission> permissions;
    // Crossbar: a role with neither permissions nor an authorizer allows or denies
    // every action by its "allow-by-default" (default false).
    bool has_permissions = false;
    bool allow_by_default = false;
};

// What one realm holds, in the realm's "limits" dict (blindrouter only). Crossbar
// bounds none of these (ADVANCED.md §9) and does not check realm keys it does not
// know, so a config with "limits" stays valid for Crossbar. Sessions the router runs
// itself (the meta API's service session) are not limited.
struct RealmLimits {
    // Client sessions joined at once; a HELLO beyond it is answered with ABORT
    // wamp.error.limit_reached. As many as the router's default connections, so only
    // a lowered value or several realms make it matter.
    std::size_t max_sessions = 50000;
    // Beyond these, SUBSCRIBE / REGISTER get ERROR wamp.error.limit_reached.
    std::size_t max_subscriptions_per_session = 10000;
    std::size_t max_registrations_per_session = 10000;
    // Calls a session waits on as caller: beyond it a CALL gets wamp.error.limit_reached.
    std::size_t max_pending_calls_per_caller = 10000;
    // Invocations a callee has not answered yet (also those whose caller gave up):
    // a callee at the limit is passed over, and a CALL no callee can take gets
    // wamp.error.limit_reached.
    std::size_t max_pending_invocations_per_callee = 10000;
};

// A topic whose events the realm keeps for wamp.subscription.get_events (Crossbar's
// store `event-history` item; cb:router/realmstore.py).
struct HistoryTopic {
    std::string uri;
    wamp::MatchPolicy match = wamp::MatchPolicy::exact;
    std::size_t limit = 0;  // events kept; the store's `limit` when the item has none
};

// The realm `store` (Crossbar: type "memory"), and blindrouter's bounds on what a realm
// keeps for its clients. The max_* keys are ours; Crossbar's checker does not look
// inside `store` and its memory store ignores keys it does not know, so a config
// with them stays valid for Crossbar.
struct RealmStore {
    bool configured = false;  // the realm has a `store`: wamp.subscription.get_events is served
    std::size_t limit = 100;  // Crossbar's GLOBAL_HISTORY_LIMIT
    std::vector<HistoryTopic> event_history;
    std::size_t max_retained_events = 10000;                // retained events in the realm
    std::size_t max_retained_bytes = 64 * 1024 * 1024;      // their topics and arguments
    std::size_t max_history_bytes = 64 * 1024 * 1024;       // events kept for the history
    std::size_t max_testaments_per_session = 100;
};

struct Realm {
    std::string name;
    RealmLimits limits;
    std::vector<Role> roles;
    RealmStore store;
    wamp::Dict plugin_options;  // realm keys that plugins registered, as written
    std::string json_path;
};

// Keys that plugins add to Crossbar's config objects; the loader accepts them and
// keeps their values for the plugin instead of refusing them as unknown.
struct Extensions {
    std::vector<std::string> realm_keys;
    std::vector<std::string> permission_keys;
};

// WAMP-Anonymous on a transport (Crossbar: auth.anonymous, type static).
struct AnonymousAuth {
    std::string role = "anonymous";
    std::optional<std::string> authid;  // generated per session when absent
};

// WAMP-Ticket, static principals (Crossbar: auth.ticket, type static). A principal's
// ticket is absent when it names an environment variable that is not set: Crossbar
// keeps such a principal and denies every ticket it is offered.
struct TicketPrincipal {
    std::optional<std::string> ticket;
    std::optional<std::string> role;
};
struct TicketAuth {
    std::map<std::string, TicketPrincipal, std::less<>> principals;
    std::optional<std::string> default_role;  // Crossbar's "default-role", for principals without a role
};

// WAMP-CRA, static users (Crossbar: auth.wampcra, type static). Salted when salt,
// iterations and keylen are all given (see auth/wampcra_method.hpp for what the
// secret then means).
struct WampCraUser {
    std::optional<std::string> secret;  // absent: named an unset environment variable
    std::optional<std::string> role;
    std::optional<std::string> salt;
    std::optional<std::int64_t> iterations;
    std::optional<std::int64_t> keylen;
};
struct WampCraAuth {
    std::map<std::string, WampCraUser, std::less<>> users;
    std::optional<std::string> default_role;
};

// The methods a transport serves. Crossbar lets anonymous sessions in when a transport
// has no auth block at all (or an empty one); a method warned about at load time is
// absent here, so selection skips it as "not configured".
// WAMP-Cryptosign with static principals (Crossbar: auth.cryptosign, type static).
struct CryptosignPrincipal {
    std::string authid;
    std::vector<std::string> authorized_keys;  // hex Ed25519 public keys, compared as written (Crossbar)
    std::optional<std::string> role;
    std::optional<std::string> realm;
};
struct CryptosignAuth {
    std::vector<CryptosignPrincipal> principals;  // in config order
    std::optional<std::string> default_role;      // Crossbar's "default-role"
};

// WAMP-SCRAM with static principals (Crossbar: auth.scram, type static). The config
// holds the verifier, never the password.
struct ScramPrincipal {
    std::string authid;
    std::string kdf;  // "argon2id-13" or "pbkdf2" (Crossbar's and Autobahn's names)
    std::int64_t iterations = 0;
    std::int64_t memory = 0;
    std::string salt;        // bytes (hex in the config)
    std::string stored_key;  // 32 bytes (hex in the config)
    std::string server_key;  // 32 bytes (hex in the config)
    std::optional<std::string> role;
};
struct ScramAuth {
    std::vector<ScramPrincipal> principals;  // in config order
    std::optional<std::string> default_role;
};

// WAMP-TLS with static principals (Crossbar: auth.tls, type static;
// cb:router/auth/tls.py): a client is known by the SHA-1 fingerprint of its verified
// TLS client certificate, written as pyOpenSSL prints it ("E0:01:...:5F") and compared
// as written, as Crossbar does.
struct TlsPrincipal {
    std::string authid;
    std::string role;
};
struct TlsAuth {
    std::map<std::string, TlsPrincipal, std::less<>> principals_by_sha1;
};

// A method served by a dynamic authenticator (Crossbar: `type: dynamic`): a procedure
// a component registers, called at login with (realm, authid, details) on `realm`
// (default: the realm the client asked for) under `role` (default: "trusted", the
// role of Crossbar's realm service session; cb:worker/router.py get_service_session).
struct DynamicAuthenticator {
    std::string procedure;                    // "authenticator"
    std::optional<std::string> realm;         // "authenticator-realm"
    std::optional<std::string> role;          // "authenticator-role"
    std::optional<std::string> default_role;  // "default-role": for an answer without a role
};

struct TransportAuth {
    bool has_auth_block = false;
    // Methods served by an authenticator procedure, by method name; a method listed
    // here has no static form configured beside it.
    std::map<std::string, DynamicAuthenticator, std::less<>> dynamic;
    std::optional<AnonymousAuth> anonymous = AnonymousAuth{};
    std::optional<TicketAuth> ticket;
    std::optional<WampCraAuth> wampcra;
    std::optional<CryptosignAuth> cryptosign;
    std::optional<ScramAuth> scram;
    std::optional<TlsAuth> tls;
    // auth.cookie (Crossbar's WAMP-Cookie, no keys): a session offering "cookie" whose
    // tracking cookie was bound by an earlier login is welcomed at HELLO (auth/cookie_store.hpp).
    bool cookie = false;
};

// Crossbar's endpoint.tls block; file paths are relative to the node directory.
struct Tls {
    std::string key;
    std::string certificate;
    std::vector<std::string> chain_certificates;
    std::optional<std::string> ciphers;
    std::optional<std::string> dhparam;
    // Client certificates are required and verified against these CAs when any is
    // given (Crossbar: Twisted's CertificateOptions with verify and caCerts, which
    // requires a certificate: a client without one fails the TLS handshake).
    std::vector<std::string> ca_certificates;
};

struct Endpoint {
    enum class Kind : unsigned char { tcp, unix_socket };
    Kind kind = Kind::tcp;
    std::string interface;  // tcp: address to bind; Crossbar's default is all interfaces
    std::uint16_t port = 0;
    int ip_version = 4;
    std::string path;  // unix: socket file, relative to the node directory
    int backlog = 50;
    std::optional<Tls> tls;
    // Connections open at once on this endpoint (blindrouter only: Crossbar has no
    // such limit); absent: only NodeConfig::max_connections applies.
    std::optional<std::size_t> max_connections;

    std::string describe() const;
};

// Crossbar leaves max_message_size unlimited by default; we cap at 16 MiB so that
// one client cannot make the router buffer without bound.
inline constexpr std::size_t default_max_message_size = 16 * 1024 * 1024;

// How a connection notices a peer that is gone or never speaks, per WebSocket or
// RawSocket service (the service's `options`, in milliseconds as in Crossbar).
// Every default is here. Crossbar's defaults never time anything out once the
// WebSocket handshake is done (ADVANCED.md §9); ours drop a dead peer within about
// a minute. README.md ("Liveness") lists each against Crossbar's and says why.
struct Liveness {
    // HTTP upgrade or RawSocket handshake. Crossbar: 0, never.
    std::chrono::milliseconds open_handshake_timeout{10000};
    // Our close frame sent → the client's close frame (WebSocket). Crossbar: 0, never.
    std::chrono::milliseconds close_handshake_timeout{2000};
    // A PING when nothing arrived for this long; 0: no pings. Crossbar: 0.
    std::chrono::milliseconds auto_ping_interval{30000};
    // After a PING, the peer must answer within this or be dropped; 0: never dropped.
    std::chrono::milliseconds auto_ping_timeout{30000};
    // PING payload bytes (Crossbar's default and range, 12..125).
    std::size_t auto_ping_size = 12;
    // Any frame from the peer counts as an answer and restarts the interval
    // (Crossbar's default); false: only a PONG does.
    bool auto_ping_restart_on_any_traffic = true;
    // Transport open → session established (WELCOME); 0: no deadline. blindrouter only.
    std::chrono::milliseconds hello_timeout{30000};
    // While frames wait, the socket must accept some bytes within this, however short
    // the queue; 0: only the queue limit applies. blindrouter only.
    std::chrono::milliseconds write_timeout{30000};

    // TCP keepalive on every accepted TCP socket, not configurable: the first probe
    // after this much silence, then one per interval; dropped after `count` unanswered.
    static constexpr std::chrono::seconds tcp_keepalive_idle{30};
    static constexpr std::chrono::seconds tcp_keepalive_interval{10};
    static constexpr int tcp_keepalive_count = 3;
};

// Bytes waiting to be written to one connection before it is dropped, unless the
// service's `send_queue_limit` option says otherwise (blindrouter only; Crossbar's
// queue is unbounded): room for a burst of the largest messages.
inline std::size_t default_send_queue_limit(std::size_t max_message_size) {
    return std::max<std::size_t>(4 * max_message_size, 16 * 1024 * 1024);
}

// Entries a cookie store holds (cookie.store.limit; blindrouter only: Crossbar's
// store is unbounded). At the limit the oldest entry without a login (or with an
// anonymous one) is evicted; when every entry carries a login by credentials, no new
// cookie is handed out (auth/cookie_store.hpp).
inline constexpr std::size_t default_cookie_store_limit = 100000;

// A WebSocket service's `cookie` option: Crossbar's cookie tracking
// (cb:router/cookiestore.py; keys and ranges from cb:common/checkconfig.py:870-945).
struct CookieTracking {
    std::string name = "cbtid";
    std::size_t length = 24;                      // characters of the random id
    std::chrono::seconds max_age{86400 * 7};      // Crossbar's code (its docs say one day)
    bool secure = false;                          // Set-Cookie attributes Crossbar adds
    bool http_only = false;                       // Crossbar's `http_strict`
    std::optional<std::string> same_site;         // Strict, Lax or None
    std::size_t limit = default_cookie_store_limit;
};

struct WebSocketService {
    std::optional<std::string> path;  // "/ws" on a web or universal transport; any path otherwise
    std::vector<wamp::Serializer> serializers;
    std::size_t max_message_size = default_max_message_size;
    std::optional<std::size_t> send_queue_limit;  // default_send_queue_limit(max_message_size) when absent
    Liveness liveness;
    TransportAuth auth;
    std::optional<CookieTracking> cookie;
};

struct RawSocketService {
    std::vector<wamp::Serializer> serializers;
    std::size_t max_message_size = default_max_message_size;
    std::optional<std::size_t> send_queue_limit;  // as in WebSocketService
    Liveness liveness;
    TransportAuth auth;
};

template <class Service>
std::size_t send_queue_limit(const Service& service) {
    return service.send_queue_limit.value_or(default_send_queue_limit(service.max_message_size));
}

// One listening endpoint and what it serves: WebSocket paths, RawSocket, or both
// (Crossbar's "universal" transport, told apart by the first byte).
struct Transport {
    std::string id;  // transport id or JSON path, for logs
    Endpoint endpoint;
    std::vector<WebSocketService> websocket;
    std::optional<RawSocketService> rawsocket;
};

// Sessions between HELLO and WELCOME that wait on a client's AUTHENTICATE or on a
// dynamic authenticator, router-wide. Crossbar has no such bound; beyond it a HELLO
// that needs a challenge is refused with ABORT wamp.error.authentication_failed.
inline constexpr std::size_t default_max_pending_authentications = 1000;
// Connections open at once across all transports of the router (the router
// worker's options.max_connections; blindrouter only: Crossbar has no such limit).
// Far below what a file descriptor limit raised to its hard maximum allows, far
// above what one router worker serves well.
inline constexpr std::size_t default_max_connections = 50000;

struct NodeConfig {
    std::vector<Realm> realms;
    std::size_t max_pending_authentications = default_max_pending_authentications;
    std::vector<Transport> transports;
    std::size_t max_connections = default_max_connections;
    // Fields Crossbar knows that blindrouter does not serve yet: reported at start.
    std::vector<std::string> warnings;
};

}  // namespace blindrouter::config
