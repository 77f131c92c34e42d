#pragma once
// The parts of a Crossbar.io node configuration (config.json, version 2) that
// blindrouter serves, after checking. See config/node_config_loader.hpp.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "blindrouter/wamp/serializer.hpp"
#include "blindrouter/wamp/uri.hpp"

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
};

struct Role {
    std::string name;
    std::vector<Permission> permissions;
};

struct Realm {
    std::string name;
    std::vector<Role> roles;
};

// WAMP-Anonymous on a transport (Crossbar: auth.anonymous, type static).
struct AnonymousAuth {
    std::string role = "anonymous";
    std::optional<std::string> authid;  // generated per session when absent
};

struct TransportAuth {
    // Crossbar lets anonymous sessions in when a transport has no auth block at all.
    std::optional<AnonymousAuth> anonymous = AnonymousAuth{};
};

// A listening WebSocket endpoint (Crossbar transport "websocket", or a "web"
// transport's path of type "websocket").
struct WebSocketTransport {
    std::string id;            // transport id or JSON path, for logs
    std::string interface;     // address to bind; Crossbar's default is all interfaces
    std::uint16_t port = 0;
    int ip_version = 4;
    int backlog = 50;
    std::optional<std::string> path;  // the ws path on a web transport; any path otherwise
    std::vector<wamp::Serializer> serializers;
    // Crossbar's websocket option max_message_size; it is unlimited there by default,
    // we cap at 16 MiB so that one client cannot make the router buffer without bound.
    std::size_t max_message_size = 16 * 1024 * 1024;
    std::chrono::milliseconds open_handshake_timeout{10000};
    TransportAuth auth;
};

struct NodeConfig {
    std::vector<Realm> realms;
    std::vector<WebSocketTransport> websocket_transports;
    // Fields Crossbar knows that blindrouter does not serve yet: reported at start.
    std::vector<std::string> warnings;
};

}  // namespace blindrouter::config
