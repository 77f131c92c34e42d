#include "text_scan.hpp"

#include <bit>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace blindrouter::codec::detail {
namespace {

constexpr std::uint64_t ones = 0x0101010101010101;
constexpr std::uint64_t high = ones * 0x80;
constexpr std::uint64_t low7 = ones * 0x7f;

// The index of the lowest byte whose top bit is set in `marks` (not 0).
std::size_t first_marked_byte(std::uint64_t marks) {
    return static_cast<std::size_t>(std::endian::native == std::endian::little ? std::countr_zero(marks)
                                                                               : std::countl_zero(marks)) / 8;
}

// Per byte of a word, the top bit set where the byte stops plain JSON text. Each
// byte is computed apart (no carry crosses bytes), so the lowest mark is exact.
std::uint64_t word_stops(std::uint64_t w) {
    auto zero_bytes = [](std::uint64_t v) { return ~(((v & low7) + low7) | v) & high; };
    std::uint64_t control = ~((w & low7) + ones * 0x60) & high;  // below 0x20 in the low 7 bits
    return (w & high) | control | zero_bytes(w ^ (ones * '"')) | zero_bytes(w ^ (ones * '\\'));
}

std::uint64_t load_word(const char* p) {
    std::uint64_t w;
    std::memcpy(&w, p, sizeof w);
    return w;
}

// Bytes from `i` on, a word and then a byte at a time, until `stops` marks one.
template <typename Stops, typename StopsByte>
std::size_t scan_tail(std::string_view text, std::size_t i, Stops stops, StopsByte stops_byte) {
    for (; text.size() - i >= 8; i += 8)
        if (auto marks = stops(load_word(text.data() + i)); marks != 0) return i + first_marked_byte(marks);
    while (i < text.size() && !stops_byte(static_cast<unsigned char>(text[i]))) ++i;
    return i;
}

#if defined(__SSE2__)
// Per byte of 16, 0xff where the byte stops plain JSON text: a signed compare
// below 0x20 marks control characters and bytes >= 0x80 (negative as signed) at once.
__m128i vector_stops(const char* p) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
                        _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
}
#endif

}  // namespace

// With SSE2 (in every x86-64 CPU, so no dispatch) 64 bytes a step while none
// stops (one test for four vectors), then 16; elsewhere, and for the last 15
// bytes, 8 at a time in a word.
std::size_t plain_json_text_length(std::string_view text) {
    std::size_t i = 0;
#if defined(__SSE2__)
    const char* p = text.data();
    for (; text.size() - i >= 64; i += 64) {
        __m128i any = _mm_or_si128(_mm_or_si128(vector_stops(p + i), vector_stops(p + i + 16)),
                                   _mm_or_si128(vector_stops(p + i + 32), vector_stops(p + i + 48)));
        if (_mm_movemask_epi8(any) != 0) break;
    }
    for (; text.size() - i >= 16; i += 16)
        if (auto marks = static_cast<unsigned>(_mm_movemask_epi8(vector_stops(p + i))); marks != 0)
            return i + static_cast<std::size_t>(std::countr_zero(marks));
#endif
    return scan_tail(text, i, word_stops, [](unsigned char c) { return c == '"' || c == '\\' || c < 0x20 || c >= 0x80; });
}

std::size_t ascii_length(std::string_view text) {
    std::size_t i = 0;
#if defined(__SSE2__)
    for (; text.size() - i >= 16; i += 16) {
        __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + i));
        if (auto marks = static_cast<unsigned>(_mm_movemask_epi8(v)); marks != 0)
            return i + static_cast<std::size_t>(std::countr_zero(marks));
    }
#endif
    return scan_tail(text, i, [](std::uint64_t w) { return w & high; }, [](unsigned char c) { return c >= 0x80; });
}

}  // namespace blindrouter::codec::detail
