#include "blindrouter/wamp/log_text.hpp"

#include <cstdint>
#include <cstdio>
#include <cstring>

namespace blindrouter::wamp {
namespace {
// The length of the well-formed UTF-8 sequence at `p`, or 0 (RFC 3629 §4 table).
std::size_t sequence_length(const unsigned char* p, std::size_t available) {
    unsigned b0 = p[0];
    if (b0 < 0x80) return 1;
    std::size_t n;
    unsigned low = 0x80, high = 0xBF;  // the allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) n = 2;
    else if (b0 >= 0xE0 && b0 <= 0xEF) {
        n = 3;
        if (b0 == 0xE0) low = 0xA0;   // overlong
        if (b0 == 0xED) high = 0x9F;  // surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        n = 4;
        if (b0 == 0xF0) low = 0x90;   // overlong
        if (b0 == 0xF4) high = 0x8F;  // above U+10FFFF
    } else {
        return 0;
    }
    if (available < n || p[1] < low || p[1] > high) return 0;
    for (std::size_t i = 2; i < n; ++i)
        if ((p[i] & 0xC0) != 0x80) return 0;
    return n;
}

const char* escape_name(unsigned char c) {
    switch (c) {
        case '\\': return "\\\\";
        case '\n': return "\\n";
        case '\r': return "\\r";
        case '\t': return "\\t";
        default: return nullptr;
    }
}

void append_hex_escape(std::string& out, unsigned char byte) {
    char buffer[8];
    std::snprintf(buffer, sizeof buffer, "\\x%02X", byte);
    out += buffer;
}
}  // namespace

std::size_t valid_utf8_length(std::string_view text) {
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    std::size_t i = 0, size = text.size();
    // ASCII, the common case (a JSON frame's base64 payload is all of it), is passed
    // eight bytes at a time while no byte has its top bit set.
    auto ascii_word_at = [p](std::size_t at) {
        std::uint64_t word;
        std::memcpy(&word, p + at, sizeof word);
        return (word & 0x8080808080808080u) == 0;
    };
    while (i < size) {
        while (size - i >= 8 && ascii_word_at(i)) i += 8;
        if (i == size) break;
        if (p[i] < 0x80) {
            ++i;
            continue;
        }
        auto n = sequence_length(p + i, size - i);
        if (n == 0) return i;
        i += n;
    }
    return i;
}

std::string_view cut_utf8(std::string_view text, std::size_t max_bytes) {
    if (text.size() <= max_bytes) return text;
    std::size_t end = max_bytes;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    return text.substr(0, end);
}

std::string log_text(std::string_view text, std::size_t cap) {
    auto shown = text.substr(0, cap);
    std::string out;
    out.reserve(shown.size() + 16);
    const auto* p = reinterpret_cast<const unsigned char*>(shown.data());
    std::size_t i = 0;
    while (i < shown.size()) {
        unsigned char c = p[i];
        if (c >= 0x20 && c < 0x7F && c != '\\') {
            out += static_cast<char>(c);
            ++i;
        } else if (c < 0x80) {
            if (auto name = escape_name(c)) out += name;
            else append_hex_escape(out, c);
            ++i;
        } else if (auto n = sequence_length(p + i, shown.size() - i); n == 0) {
            append_hex_escape(out, c);  // not UTF-8, or a sequence the cap cut
            ++i;
        } else if (n == 2 && c == 0xC2 && p[i + 1] < 0xA0) {
            char buffer[8];  // a C1 control character, U+0080..U+009F
            std::snprintf(buffer, sizeof buffer, "\\u%04X", static_cast<unsigned>(p[i + 1]));
            out += buffer;
            i += 2;
        } else {
            out.append(shown.data() + i, n);
            i += n;
        }
    }
    if (text.size() > cap) out += "...(+" + std::to_string(text.size() - cap) + " bytes)";
    return out;
}

std::optional<std::uint64_t> LogThrottle::admit(Clock::time_point now) {
    if (last_ && now - *last_ < interval_) {
        ++held_back_;
        return std::nullopt;
    }
    last_ = now;
    auto held_back = held_back_;
    held_back_ = 0;
    return held_back;
}

std::string suppressed_note(std::uint64_t held_back) {
    if (held_back == 0) return {};
    return " (" + std::to_string(held_back) + " more like this suppressed)";
}

}  // namespace blindrouter::wamp
