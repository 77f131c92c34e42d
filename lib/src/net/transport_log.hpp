#pragma once
// Warnings a client can provoke at will, once per connection, are rate-limited per
// kind across all connections (wamp::LogThrottle): a flood of bad clients costs a
// line every few seconds with a count, not a line each.
#include <spdlog/spdlog.h>

#include <utility>

#include "blindrouter/wamp/log_text.hpp"

namespace blindrouter::net {

enum class WarningKind : unsigned char {
    bad_frame,
    too_big,
    send_queue_full,
    accept_failed,
    connection_limit,
    cookie_store_full,
    count
};

inline wamp::LogThrottle& throttle_for(WarningKind kind) {
    static wamp::LogThrottle throttles[static_cast<int>(WarningKind::count)];
    return throttles[static_cast<int>(kind)];
}

template <class... Args>
void throttled_warn(WarningKind kind, spdlog::format_string_t<Args...> format, Args&&... args) {
    auto held_back = throttle_for(kind).admit();
    if (!held_back) return;
    spdlog::warn("{}{}", spdlog::fmt_lib::format(format, std::forward<Args>(args)...), wamp::suppressed_note(*held_back));
}

}  // namespace blindrouter::net
