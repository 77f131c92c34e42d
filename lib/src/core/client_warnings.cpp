#include "blindrouter/core/client_warnings.hpp"

namespace blindrouter::core {

std::optional<std::string> ClientWarnings::admit(ClientWarning kind) {
    auto& throttle = throttles_[static_cast<std::size_t>(kind)];
    auto held_back = timers_ ? throttle.admit(timers_->now()) : throttle.admit();
    if (!held_back) return std::nullopt;
    return wamp::suppressed_note(*held_back);
}

}  // namespace blindrouter::core
