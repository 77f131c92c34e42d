#include "blindrouter/net/asio_timers.hpp"

#include <boost/asio/steady_timer.hpp>

namespace blindrouter::net {
namespace {

// Owns the timer; destroying it cancels the wait, whose handler then does nothing.
// The handler keeps its own copy of `fire`, so a handle may be destroyed from
// inside its own callback.
class AsioTimerHandle final : public core::TimerHandle {
public:
    AsioTimerHandle(boost::asio::io_context& io, std::chrono::milliseconds delay, std::function<void()> fire)
        : timer_(io, delay) {
        timer_.async_wait([fire = std::move(fire)](const boost::system::error_code& ec) {
            if (!ec) fire();
        });
    }
    ~AsioTimerHandle() override { timer_.cancel(); }

private:
    boost::asio::steady_timer timer_;
};

}  // namespace

std::unique_ptr<core::TimerHandle> AsioTimers::schedule(std::chrono::milliseconds delay, std::function<void()> fire) {
    return std::make_unique<AsioTimerHandle>(io_, delay, std::move(fire));
}

}  // namespace blindrouter::net
