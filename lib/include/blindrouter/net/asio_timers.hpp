#pragma once
// core::TimerService on the router's io_context.
#include <boost/asio/io_context.hpp>

#include "blindrouter/core/timers.hpp"

namespace blindrouter::net {

class AsioTimers final : public core::TimerService {
public:
    explicit AsioTimers(boost::asio::io_context& io) : io_(io) {}
    Clock::time_point now() const override { return Clock::now(); }
    std::unique_ptr<core::TimerHandle> schedule(std::chrono::milliseconds delay, std::function<void()> fire) override;

private:
    boost::asio::io_context& io_;
};

}  // namespace blindrouter::net
