#include <rapidjson/encodings.h>
#include <rapidjson/memorystream.h>

#include <boost/test/unit_test.hpp>
#include <string>

#include "blindrouter/wamp/log_text.hpp"
#include "lib/src/codec/text_scan.hpp"
#include "lib/src/codec/value_sink.hpp"

using namespace blindrouter::codec::detail;

namespace {
bool json_stop(unsigned char c) { return c == '"' || c == '\\' || c < 0x20 || c >= 0x80; }

// Every byte that stops plain JSON text, and neighbours of each class that do not.
const std::string stop_bytes = std::string("\"\\\x1f\x80\xbf\xc3\xff\x01", 8) + std::string(1, '\0');
const std::string plain_bytes = " !#[]/~\x7f" "AZaz09+=";

// The byte-at-a-time scan rapidjson did before (one sequence per step).
bool rapidjson_valid_utf8(std::string_view text) {
    struct Discard {
        void Put(char) {}
    } discard;
    rapidjson::MemoryStream in(text.data(), text.size());
    while (in.Tell() < text.size())
        if (!rapidjson::UTF8<>::Validate(in, discard)) return false;
    return true;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(text_scan)

// A stop at every offset of a 64-byte step, a 16-byte vector and an 8-byte word, in
// texts of every length up to two and a half steps, starting at several alignments
// of the buffer.
BOOST_AUTO_TEST_CASE(plain_json_text_stops_at_the_first_stop_byte_at_every_offset) {
    std::string buffer(256, 'x');
    for (std::size_t align : {0, 1, 3, 7, 8, 15})
        for (std::size_t length = 0; length <= 160; ++length) {
            for (std::size_t i = 0; i < length; ++i) buffer[align + i] = plain_bytes[(i + length) % plain_bytes.size()];
            std::string_view text(buffer.data() + align, length);
            BOOST_TEST(plain_json_text_length(text) == length);
            for (std::size_t at = 0; at < length; ++at)
                for (char stop : stop_bytes) {
                    char kept = buffer[align + at];
                    buffer[align + at] = stop;
                    // A second stop after the first must not be the one found.
                    if (at + 3 < length) buffer[align + at + 3] = '"';
                    BOOST_TEST_CONTEXT("align " << align << " length " << length << " at " << at << " byte "
                                                << int(static_cast<unsigned char>(stop))) {
                        BOOST_TEST(plain_json_text_length(text) == at);
                    }
                    buffer[align + at] = kept;
                    if (at + 3 < length) buffer[align + at + 3] = plain_bytes[(at + 3 + length) % plain_bytes.size()];
                }
        }
}

BOOST_AUTO_TEST_CASE(plain_json_text_classifies_every_byte_value) {
    for (int c = 0; c < 256; ++c)
        for (std::size_t at : {0u, 5u, 8u, 15u, 16u, 23u, 31u, 40u, 63u, 64u, 100u, 127u, 128u, 135u}) {
            std::string text(140, 'a');
            text[at] = static_cast<char>(c);
            BOOST_TEST_CONTEXT("byte " << c << " at " << at) {
                BOOST_TEST(plain_json_text_length(text) == (json_stop(static_cast<unsigned char>(c)) ? at : text.size()));
            }
        }
}

BOOST_AUTO_TEST_CASE(ascii_length_stops_at_the_first_high_byte_at_every_offset) {
    std::string buffer(128, '\x7f');
    for (std::size_t align = 0; align < 16; ++align)
        for (std::size_t length = 0; length <= 48; ++length) {
            std::string_view text(buffer.data() + align, length);
            BOOST_TEST(ascii_length(text) == length);
            for (std::size_t at = 0; at < length; ++at)
                for (char high : {'\x80', '\xc3', '\xff'}) {
                    buffer[align + at] = high;
                    BOOST_TEST(ascii_length(text) == at);
                    buffer[align + at] = at % 2 ? '\0' : '\x7f';
                }
            std::fill(buffer.begin(), buffer.end(), '\x7f');
        }
}

// The ASCII runs are skipped without changing what is refused: the same answer as
// rapidjson's scan, one sequence at a time, and as RFC 3629 (wamp::valid_utf8_length).
BOOST_AUTO_TEST_CASE(utf8_validation_with_ascii_runs_decides_as_rapidjson_at_every_offset) {
    for (std::string sequence : {"\xc3\xbc", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf", "\xed\x9f\xbf",
                                 // overlong, surrogate, beyond U+10FFFF, lone continuation, cut, never UTF-8
                                 "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\x80", "\xe2\x82",
                                 "\xff", "\xf8\x88\x80\x80\x80", "\xc3"})
        for (std::size_t at = 0; at <= 40; ++at)
            for (std::size_t after : {0u, 1u, 20u}) {
                std::string text = std::string(at, 'a') + sequence + std::string(after, 'b');
                BOOST_TEST_CONTEXT("sequence at " << at << " then " << after) {
                    BOOST_TEST(is_valid_utf8(text) == rapidjson_valid_utf8(text));
                    BOOST_TEST(is_valid_utf8(text) == blindrouter::wamp::is_valid_utf8(text));
                }
            }
    BOOST_TEST(is_valid_utf8(""));
    BOOST_TEST(is_valid_utf8(std::string(100, '\0')));
    BOOST_TEST(!is_valid_utf8(std::string(1000, 'a') + "\xc3\xbc" + std::string(33, 'a') + "\xe2\x82"));
}

BOOST_AUTO_TEST_SUITE_END()
