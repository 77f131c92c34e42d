#pragma once
// What a client sends reaches our logs only through these: strings it chose
// (subprotocol names, HTTP paths, close reasons, URIs, realm names) are escaped and
// capped, so that a line cannot be forged, split or made huge; and a warning a client
// can provoke at will is rate-limited, so that it cannot flood the log either.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace blindrouter::wamp {

// How many leading bytes of `text` are well-formed UTF-8 (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF). Written by hand: the checks we need
// (a prefix length, for cutting and for RFC 6455 §8.1) are not in a public API of
// the libraries we link (Beast's checker is in `detail`).
std::size_t valid_utf8_length(std::string_view text);
inline bool is_valid_utf8(std::string_view text) { return valid_utf8_length(text) == text.size(); }

// The longest prefix of `text` of at most `max_bytes` bytes that does not end inside
// a UTF-8 sequence (only continuation bytes are dropped: `text` is assumed UTF-8).
std::string_view cut_utf8(std::string_view text, std::size_t max_bytes);

// `text` for a log line: at most `cap` bytes of it, control characters (C0, DEL, C1),
// backslash and bytes that are not UTF-8 escaped (\n, \t, \\, \xNN, \u0085), and what
// was cut off said as "...(+N bytes)".
std::string log_text(std::string_view text, std::size_t cap = 200);

// Lets one line of a kind through per interval and counts the others; the next line
// let through says how many were held back. One per kind of warning, on the I/O
// thread (not thread-safe).
class LogThrottle {
public:
    using Clock = std::chrono::steady_clock;
    explicit LogThrottle(Clock::duration interval = std::chrono::seconds(10)) : interval_(interval) {}

    // nullopt: hold this line back. Otherwise log it, with `suppressed_note(*n)`:
    // n lines of this kind were held back before it.
    std::optional<std::uint64_t> admit(Clock::time_point now = Clock::now());

private:
    Clock::duration interval_;
    std::optional<Clock::time_point> last_;
    std::uint64_t held_back_ = 0;
};

// "" for 0, otherwise " (N more like this suppressed)".
std::string suppressed_note(std::uint64_t held_back);

}  // namespace blindrouter::wamp
