#pragma once
// Time, injected (STYLE.md): the realm and dealer schedule deadlines (call
// timeouts, later authorization cache expiry) through this service and own none
// of its timers, so that tests advance a fake clock instead of sleeping.
#include <chrono>
#include <functional>
#include <memory>

namespace blindrouter::core {

// A scheduled callback; destroying the handle cancels it.
class TimerHandle {
public:
    virtual ~TimerHandle() = default;
};

class TimerService {
public:
    using Clock = std::chrono::steady_clock;
    virtual ~TimerService() = default;
    virtual Clock::time_point now() const = 0;
    // Calls `fire` once after `delay`, on the router's thread, unless the handle is
    // destroyed first.
    virtual std::unique_ptr<TimerHandle> schedule(std::chrono::milliseconds delay, std::function<void()> fire) = 0;
};

}  // namespace blindrouter::core
