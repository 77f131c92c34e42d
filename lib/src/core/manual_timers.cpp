#include "blindrouter/core/manual_timers.hpp"

#include <algorithm>

namespace blindrouter::core {

namespace {
struct ManualTimerHandle final : TimerHandle {
    std::shared_ptr<bool> alive = std::make_shared<bool>(true);
    ~ManualTimerHandle() override { *alive = false; }
};
}  // namespace

std::unique_ptr<TimerHandle> ManualTimers::schedule(std::chrono::milliseconds delay, std::function<void()> fire) {
    // Cancelled entries go now, not when their due time passes: what their callbacks
    // hold (sessions, realms) is then released when the owner cancels, as with the
    // real timers, and a long fuzzing run does not pile up far-off deadlines.
    std::erase_if(entries_, [](const Entry& e) { return !*e.alive; });
    auto handle = std::make_unique<ManualTimerHandle>();
    entries_.push_back({now_ + delay, std::move(fire), handle->alive});
    return handle;
}

void ManualTimers::advance(std::chrono::milliseconds by) {
    auto until = now_ + by;
    for (;;) {
        auto next = std::min_element(entries_.begin(), entries_.end(),
                                     [](const Entry& a, const Entry& b) { return a.due < b.due; });
        if (next == entries_.end() || next->due > until) break;
        auto entry = std::move(*next);
        entries_.erase(next);
        now_ = entry.due;
        if (*entry.alive) entry.fire();
    }
    now_ = until;
}

std::size_t ManualTimers::scheduled() const {
    return static_cast<std::size_t>(
        std::count_if(entries_.begin(), entries_.end(), [](const Entry& e) { return *e.alive; }));
}

}  // namespace blindrouter::core
