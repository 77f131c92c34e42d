#pragma once
// Time moved on by hand: callbacks fire only when advance() passes their due time.
// The unit tests and the state-machine fuzzer drive the router's deadlines with it
// instead of sleeping (core/timers.hpp).
#include <cstddef>
#include <memory>
#include <vector>

#include "blindrouter/core/timers.hpp"

namespace blindrouter::core {

class ManualTimers final : public TimerService {
public:
    Clock::time_point now() const override { return now_; }
    std::unique_ptr<TimerHandle> schedule(std::chrono::milliseconds delay, std::function<void()> fire) override;
    // Moves time on, firing what falls due, in order of due time.
    void advance(std::chrono::milliseconds by);
    std::size_t scheduled() const;  // live, not yet fired

private:
    struct Entry {
        Clock::time_point due;
        std::function<void()> fire;
        std::shared_ptr<bool> alive;
    };
    Clock::time_point now_{};
    std::vector<Entry> entries_;
};

}  // namespace blindrouter::core
