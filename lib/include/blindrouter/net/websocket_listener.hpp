#pragma once
// Accepts TCP connections on one endpoint and serves WAMP over WebSocket on the
// configured paths. Beast stays behind this header, in one translation unit.
#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>
#include <memory>
#include <vector>

#include "blindrouter/config/node_config.hpp"
#include "blindrouter/core/router.hpp"

namespace blindrouter::net {

class WebSocketListener {
public:
    // `services` share one interface and port; each serves its path (or any path).
    WebSocketListener(boost::asio::io_context& io, core::Router& router,
                      std::vector<const config::WebSocketTransport*> services);
    ~WebSocketListener();
    WebSocketListener(const WebSocketListener&) = delete;
    WebSocketListener& operator=(const WebSocketListener&) = delete;

    boost::system::error_code listen();
    void stop();
    unsigned short bound_port() const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace blindrouter::net
