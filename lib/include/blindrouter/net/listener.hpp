#pragma once
// Accepts connections on one configured endpoint (TCP or Unix socket, with or
// without TLS) and serves WAMP over WebSocket, RawSocket, or both on the same
// port, told apart by the first byte. Asio, Beast and OpenSSL stay behind this
// header, in one translation unit.
#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

#include "blindrouter/config/node_config.hpp"
#include "blindrouter/core/router.hpp"

namespace blindrouter::net {

// Connections open at once, and how many may be.
struct ConnectionCount {
    explicit ConnectionCount(std::size_t limit) : limit(limit) {}
    std::size_t limit;
    std::size_t open = 0;
    bool full() const { return open >= limit; }
};

class Listener {
public:
    // `node_directory` resolves relative paths (TLS files, Unix sockets) as Crossbar does.
    // `total` is shared by every listener of the router (NodeConfig::max_connections).
    Listener(boost::asio::io_context& io, core::Router& router, const config::Transport& transport,
             std::filesystem::path node_directory, std::shared_ptr<ConnectionCount> total);
    ~Listener();
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;

    // Binds and starts accepting; the error says what failed (TLS files, address in use, ...).
    std::string listen();
    void stop();
    // What the listener serves and where, for the start-up log.
    std::string describe() const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace blindrouter::net
