#pragma once
// One open connection counted against its listener's limit and the router's total
// (endpoint.max_connections, the router worker's options.max_connections). The
// connection object holds its slot: the count falls when the connection is gone,
// however it ended.
#include <memory>
#include <utility>

#include "blindrouter/net/listener.hpp"

namespace blindrouter::net {

class ConnectionSlot {
public:
    ConnectionSlot(std::shared_ptr<ConnectionCount> listener, std::shared_ptr<ConnectionCount> total)
        : listener_(std::move(listener)), total_(std::move(total)) {
        ++listener_->open;
        ++total_->open;
    }
    ConnectionSlot(ConnectionSlot&&) noexcept = default;
    ConnectionSlot& operator=(ConnectionSlot&&) = delete;
    ConnectionSlot(const ConnectionSlot&) = delete;
    ConnectionSlot& operator=(const ConnectionSlot&) = delete;
    ~ConnectionSlot() {
        if (!listener_) return;  // moved from
        --listener_->open;
        --total_->open;
    }

private:
    std::shared_ptr<ConnectionCount> listener_;
    std::shared_ptr<ConnectionCount> total_;
};

}  // namespace blindrouter::net
