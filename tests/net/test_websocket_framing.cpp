#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "blindrouter/net/websocket_framing.hpp"
#include "lib/src/net/frame_buffers.hpp"

using namespace blindrouter::net::websocket_framing;

namespace {
// A masked client frame, as RFC 6455 §5.3 requires of clients.
std::string client_frame(unsigned first_byte, const std::string& payload, bool masked = true,
                         std::string mask = "\x37\xfa\x21\x3d") {
    std::string f(1, static_cast<char>(first_byte));
    auto n = payload.size();
    unsigned mask_bit = masked ? 0x80 : 0;
    if (n < 126) {
        f += static_cast<char>(mask_bit | n);
    } else if (n <= 0xFFFF) {
        f += static_cast<char>(mask_bit | 126);
        f += static_cast<char>(n >> 8);
        f += static_cast<char>(n & 0xFF);
    } else {
        f += static_cast<char>(mask_bit | 127);
        for (int i = 7; i >= 0; --i) f += static_cast<char>((n >> (8 * i)) & 0xFF);
    }
    if (masked) f += mask;
    for (std::size_t i = 0; i < n; ++i) f += masked ? static_cast<char>(payload[i] ^ mask[i % 4]) : payload[i];
    return f;
}

std::vector<Event> feed_all(ClientFrameReader& reader, const std::string& bytes, std::size_t chunk = 0) {
    std::vector<Event> events;
    auto sink = [&](Event&& e) { events.push_back(std::move(e)); };
    if (chunk == 0) {
        reader.feed(bytes.data(), bytes.size(), sink);
    } else {
        for (std::size_t i = 0; i < bytes.size(); i += chunk)
            reader.feed(bytes.data() + i, std::min(chunk, bytes.size() - i), sink);
    }
    return events;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(websocket_framing)

BOOST_AUTO_TEST_CASE(messages_of_every_length_class_in_any_chunking) {
    std::string small = "[1,\"realm1\",{}]", medium(300, 'm'), large(70000, 'L');
    large[12345] = '\x01';
    auto stream = client_frame(0x81, small) + client_frame(0x82, medium) + client_frame(0x82, large);
    for (std::size_t chunk : {0, 1, 3, 7, 1000}) {
        ClientFrameReader reader(1 << 20);
        auto events = feed_all(reader, stream, chunk);
        BOOST_REQUIRE_EQUAL(events.size(), 3u);
        BOOST_TEST((events[0].opcode == Opcode::text));
        BOOST_TEST(*events[0].payload == small);
        BOOST_TEST((events[1].opcode == Opcode::binary));
        BOOST_TEST(*events[1].payload == medium);
        BOOST_TEST(*events[2].payload == large);
        BOOST_TEST(!reader.done());
    }
}

BOOST_AUTO_TEST_CASE(fragments_join_and_control_frames_may_come_between) {
    ClientFrameReader reader(1024);
    auto events = feed_all(reader, client_frame(0x01, "[1,") + client_frame(0x89, "hi") + client_frame(0x00, "2") +
                                       client_frame(0x80, "]") + client_frame(0x8A, ""));
    BOOST_REQUIRE_EQUAL(events.size(), 3u);
    BOOST_TEST((events[0].kind == Event::Kind::ping));
    BOOST_TEST(*events[0].payload == "hi");
    BOOST_TEST((events[1].kind == Event::Kind::message));
    BOOST_TEST((events[1].opcode == Opcode::text));
    BOOST_TEST(*events[1].payload == "[1,2]");
    BOOST_TEST((events[2].kind == Event::Kind::pong));
}

BOOST_AUTO_TEST_CASE(close_carries_the_code_and_ends_reading) {
    ClientFrameReader reader(1024);
    auto events = feed_all(reader, client_frame(0x88, std::string("\x03\xe9", 2) + "bye") + client_frame(0x81, "x"));
    BOOST_REQUIRE_EQUAL(events.size(), 1u);
    BOOST_TEST((events[0].kind == Event::Kind::close));
    BOOST_TEST(events[0].close_code == 1001);
    BOOST_TEST(reader.done());
}

void expect_error(const std::string& bytes, std::uint16_t code, const std::string& reason_part,
                  std::size_t max_message_size = 1024) {
    ClientFrameReader reader(max_message_size);
    auto events = feed_all(reader, bytes);
    BOOST_REQUIRE(!events.empty());
    BOOST_TEST((events.back().kind == Event::Kind::error));
    BOOST_TEST(events.back().close_code == code);
    BOOST_TEST(events.back().reason.find(reason_part) != std::string::npos, events.back().reason);
    BOOST_TEST(reader.done());
}

BOOST_AUTO_TEST_CASE(protocol_errors) {
    expect_error(client_frame(0x81, "x", false), 1002, "not masked");
    expect_error(client_frame(0xC1, "x"), 1002, "reserved bits");
    expect_error(client_frame(0x83, "x"), 1002, "unknown opcode");
    expect_error(client_frame(0x80, "x"), 1002, "continuation frame without a message");
    expect_error(client_frame(0x01, "x") + client_frame(0x81, "y"), 1002, "new message before");
    expect_error(client_frame(0x09, "x"), 1002, "fragmented control frame");
    expect_error(client_frame(0x89, std::string(126, 'p')), 1002, "longer than 125");
    expect_error(client_frame(0x88, "x"), 1002, "one-byte payload");
    std::string huge_length = std::string("\x82\xff\x80\x00\x00\x00\x00\x00\x00\x00", 10) + "mask";
    expect_error(huge_length, 1002, "most significant bit");
}

BOOST_AUTO_TEST_CASE(messages_over_the_limit_are_too_big) {
    expect_error(client_frame(0x82, std::string(2000, 'x')), 1009, "max_message_size");
    // Fragments add up: each alone fits, together they do not.
    expect_error(client_frame(0x02, std::string(600, 'x')) + client_frame(0x80, std::string(600, 'x')), 1009,
                 "max_message_size");
}

BOOST_AUTO_TEST_CASE(server_frames) {
    auto h = server_frame_header(Opcode::text, 5);
    BOOST_TEST(h.size() == 2u);
    BOOST_TEST(h.bytes[0] == 0x81);
    BOOST_TEST(h.bytes[1] == 5);
    h = server_frame_header(Opcode::binary, 300);
    BOOST_TEST(h.size() == 4u);
    BOOST_TEST((h.bytes[1] == 126 && h.bytes[2] == 1 && h.bytes[3] == 44));
    h = server_frame_header(Opcode::binary, 70000);
    BOOST_TEST(h.size() == 10u);
    BOOST_TEST((h.bytes[1] == 127 && h.bytes[7] == 1 && h.bytes[8] == 0x11 && h.bytes[9] == 0x70));
    BOOST_TEST(close_payload(1002, "bad") == std::string("\x03\xea", 2) + "bad");
    BOOST_TEST(close_payload(1000, std::string(200, 'r')).size() == 125u);
}

BOOST_AUTO_TEST_CASE(close_reason_is_cut_where_a_character_begins) {
    std::string reason = std::string(122, 'r') + "\xE2\x82\xAC";  // 125 bytes, a euro sign across byte 123
    auto payload = close_payload(1000, reason);
    BOOST_TEST(payload.size() == 124u);
    BOOST_TEST(payload.substr(2) == std::string(122, 'r'));
}

BOOST_AUTO_TEST_CASE(text_message_that_is_not_utf8_fails_with_1007) {
    ClientFrameReader reader(1 << 20);
    auto events = feed_all(reader, client_frame(0x81, "[1,\"caf\xC3\xA9\"]") + client_frame(0x81, "[1,\"\xC3\x28\"]"));
    BOOST_REQUIRE_EQUAL(events.size(), 2u);
    BOOST_TEST((events[0].kind == Event::Kind::message));
    BOOST_TEST((events[1].kind == Event::Kind::error));
    BOOST_TEST(events[1].close_code == 1007);
    BOOST_TEST(events[1].reason == "text message is not valid UTF-8");
    BOOST_TEST(reader.done());
    // Checked on the whole message: a character may be split across fragments.
    ClientFrameReader split(1 << 20);
    auto joined = feed_all(split, client_frame(0x01, "caf\xC3") + client_frame(0x80, "\xA9"));
    BOOST_REQUIRE_EQUAL(joined.size(), 1u);
    BOOST_TEST((joined[0].kind == Event::Kind::message));
    // Binary messages are not text.
    ClientFrameReader binary(1 << 20);
    BOOST_TEST((feed_all(binary, client_frame(0x82, "\xFF"))[0].kind == Event::Kind::message));
}

// A JSON session's decoder validates the text, so its reader does not; stop() ends
// the reading when the connection finds the text invalid after all.
BOOST_AUTO_TEST_CASE(text_left_to_the_decoder_and_stop_ends_the_reading) {
    ClientFrameReader reader(1 << 20, false);
    std::string bytes = client_frame(0x81, "[1,\"\xC3\x28\"]") + client_frame(0x81, "[2]");
    std::vector<Event> events;
    bool more = reader.feed(bytes.data(), bytes.size(), [&](Event&& e) {
        events.push_back(std::move(e));
        reader.stop();
    });
    BOOST_TEST(!more);
    BOOST_REQUIRE_EQUAL(events.size(), 1u);
    BOOST_TEST((events[0].kind == Event::Kind::message));
    BOOST_TEST(*events[0].payload == "[1,\"\xC3\x28\"]");
    BOOST_TEST(reader.done());
}

BOOST_AUTO_TEST_CASE(buffer_grows_with_what_arrives_not_with_the_declared_length) {
    // A header declaring 16 MiB, then 10 bytes of it.
    ClientFrameReader reader(64 << 20);
    std::string frame = client_frame(0x82, std::string(16 << 20, 'x')).substr(0, 14 + 10);
    BOOST_TEST(feed_all(reader, frame).empty());
    // The buffer comes from the thread's frame pool, which may hand over one that held
    // an earlier frame: at most frame_pool_max_capacity, never the declared 16 MiB.
    BOOST_TEST(reader.buffered_capacity() <= blindrouter::net::frame_pool_max_capacity);
}

BOOST_AUTO_TEST_SUITE_END()
