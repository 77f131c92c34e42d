#include <boost/test/unit_test.hpp>

#include "blindrouter/wamp/log_text.hpp"

using namespace blindrouter::wamp;
using namespace std::string_literals;

BOOST_AUTO_TEST_SUITE(log_text_helpers)

BOOST_AUTO_TEST_CASE(utf8_validity) {
    BOOST_TEST(is_valid_utf8("plain ascii"));
    BOOST_TEST(is_valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));  // é € 😀
    BOOST_TEST(valid_utf8_length("ab\xFF" "cd") == 2u);
    BOOST_TEST(valid_utf8_length("ab\xC3") == 2u);              // truncated sequence
    BOOST_TEST(valid_utf8_length("\xC0\xAF") == 0u);            // overlong '/'
    BOOST_TEST(valid_utf8_length("\xE0\x80\xAF") == 0u);        // overlong, three bytes
    BOOST_TEST(valid_utf8_length("x\xED\xA0\x80") == 1u);       // a UTF-16 surrogate
    BOOST_TEST(valid_utf8_length("\xF4\x90\x80\x80") == 0u);    // above U+10FFFF
    BOOST_TEST(valid_utf8_length("\xE2\x82" "a") == 0u);        // bad continuation
}

// ASCII is passed a word at a time: a bad byte is found at every offset of a word,
// and a sequence that starts in one word and ends in the next is whole.
BOOST_AUTO_TEST_CASE(utf8_validity_across_ascii_words) {
    for (std::size_t at = 0; at < 24; ++at) {
        std::string text(32, 'a');
        text[at] = '\xFF';
        BOOST_TEST(valid_utf8_length(text) == at);
        std::string split(32, 'a');
        split.replace(at, 3, "\xE2\x82\xAC");
        BOOST_TEST(is_valid_utf8(split));
        BOOST_TEST(valid_utf8_length(split.substr(0, at + 2)) == at);  // the sequence cut short
    }
}

BOOST_AUTO_TEST_CASE(cut_on_a_code_point_boundary) {
    std::string euros;
    for (int i = 0; i < 50; ++i) euros += "\xE2\x82\xAC";  // 150 bytes
    auto cut = cut_utf8(euros, 123);
    BOOST_TEST(cut.size() == 123u);  // 41 whole euro signs
    BOOST_TEST(is_valid_utf8(cut));
    BOOST_TEST(cut_utf8(euros, 124).size() == 123u);
    BOOST_TEST(cut_utf8(euros, 2).size() == 0u);
    BOOST_TEST(cut_utf8("short", 123) == "short");
}

BOOST_AUTO_TEST_CASE(control_characters_and_bad_bytes_are_escaped) {
    BOOST_TEST(log_text("wamp.2.json") == "wamp.2.json");
    BOOST_TEST(log_text("a\nforged line\r\t") == "a\\nforged line\\r\\t");
    BOOST_TEST(log_text("back\\slash") == "back\\\\slash");
    BOOST_TEST(log_text("\x1B[31mred\x7F"s) == "\\x1B[31mred\\x7F");
    BOOST_TEST(log_text("nul\0x"s) == "nul\\x00x");
    BOOST_TEST(log_text("bad \xFF\xC3") == "bad \\xFF\\xC3");
    BOOST_TEST(log_text("caf\xC3\xA9") == "caf\xC3\xA9");  // UTF-8 stays readable
    BOOST_TEST(log_text("c1 \xC2\x85") == "c1 \\u0085");
}

BOOST_AUTO_TEST_CASE(length_is_capped) {
    BOOST_TEST(log_text(std::string(300, 'a')) == std::string(200, 'a') + "...(+100 bytes)");
    BOOST_TEST(log_text("abcdef", 3) == "abc...(+3 bytes)");
    BOOST_TEST(log_text("\xE2\x82\xAC", 2) == "\\xE2\\x82...(+1 bytes)");  // a sequence the cap cut
}

BOOST_AUTO_TEST_CASE(throttle_lets_one_line_per_interval_through_with_a_count) {
    using namespace std::chrono_literals;
    LogThrottle throttle(10s);
    LogThrottle::Clock::time_point t0{};
    BOOST_TEST(throttle.admit(t0).value() == 0u);
    BOOST_TEST(!throttle.admit(t0 + 1s));
    BOOST_TEST(!throttle.admit(t0 + 9s));
    auto next = throttle.admit(t0 + 10s);
    BOOST_REQUIRE(next);
    BOOST_TEST(*next == 2u);
    BOOST_TEST(suppressed_note(*next) == " (2 more like this suppressed)");
    BOOST_TEST(suppressed_note(0) == "");
    BOOST_TEST(throttle.admit(t0 + 25s).value() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
