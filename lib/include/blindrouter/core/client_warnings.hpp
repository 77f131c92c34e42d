#pragma once
// Lines a client can provoke at will, once per message or per login attempt, are
// rate-limited per kind (wamp::LogThrottle, as the transports do in
// net/transport_log.hpp): a client looping on a refused call or a bad login costs a
// line every few seconds with a count of the others, not a line each. Their client
// strings still go through wamp::log_text.
#include <array>
#include <cstddef>
#include <optional>
#include <string>

#include "blindrouter/core/timers.hpp"
#include "blindrouter/wamp/log_text.hpp"

namespace blindrouter::core {

enum class ClientWarning : unsigned char {
    protocol_violation,
    authentication_refused,
    router_busy,        // a router-wide or realm-wide limit refused a login or a request
    request_refused,    // an ERROR answering a request the client may repeat
    request_dropped,    // a message dropped without an answer
    hook_verdict,       // a message hook refused or dropped a message
    receivers_skipped,  // receivers an event or retained event could not be sent to
    count
};

class ClientWarnings {
public:
    // `timers` (may be null: the steady clock then) gives the time the intervals are
    // measured in, so that a test can step over an interval.
    explicit ClientWarnings(const TimerService* timers) : timers_(timers) {}

    // nullopt: hold this line back. Otherwise log it, ending with the returned
    // note (wamp::suppressed_note: "" or how many were held back before it).
    std::optional<std::string> admit(ClientWarning kind);

private:
    const TimerService* timers_;
    std::array<wamp::LogThrottle, static_cast<std::size_t>(ClientWarning::count)> throttles_;
};

}  // namespace blindrouter::core
