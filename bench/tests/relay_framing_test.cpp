#define BOOST_TEST_MODULE bench_relay_framing
#include <boost/test/unit_test.hpp>

#include <string>

#include "relay_framing.hpp"
#include "wire.hpp"

using namespace bench;

namespace {

FrameHead head_of(const std::string& frame, Transport t, bool from_client) {
    return parse_frame_head(t, frame.data(), frame.size(), from_client, 1 << 20);
}

// A client frame rewritten in place is exactly the frame a server writes for that payload.
void check_rewrite(std::size_t payload_size) {
    std::string payload(payload_size, '\0');
    for (std::size_t i = 0; i < payload_size; ++i) payload[i] = static_cast<char>(i * 7 + 3);
    auto client = encode_frame(Transport::websocket, websocket::binary, payload, true);
    auto head = head_of(client, Transport::websocket, true);
    BOOST_REQUIRE(head.status == FrameHead::Status::complete);
    BOOST_TEST(head.total == client.size());
    auto start = relay::rewrite_client_frame(client.data(), head);
    BOOST_TEST(client.substr(start) == encode_frame(Transport::websocket, websocket::binary, payload, false));
}

}  // namespace

BOOST_AUTO_TEST_CASE(rewrites_client_frames_of_every_length_form) {
    for (std::size_t size : {0, 5, 125, 126, 1024, 65535, 65536, 300000}) check_rewrite(size);
}

BOOST_AUTO_TEST_CASE(frame_boundaries_need_the_whole_frame) {
    auto frame = encode_frame(Transport::rawsocket, 0, std::string(1000, 'x'), false);
    auto partial = parse_frame_head(Transport::rawsocket, frame.data(), 500, false, 1 << 20);
    BOOST_TEST((partial.status == FrameHead::Status::need_more));
    BOOST_TEST(partial.total == 1004u);
    BOOST_TEST(head_of(frame + frame, Transport::rawsocket, false).total == 1004u);
}

BOOST_AUTO_TEST_CASE(refuses_unmasked_client_frames_and_oversized_frames) {
    auto unmasked = encode_frame(Transport::websocket, websocket::text, "x", false);
    BOOST_TEST(head_of(unmasked, Transport::websocket, true).error == "unmasked frame from a client");
    auto big = encode_frame(Transport::rawsocket, 0, std::string(2000, 'x'), false);
    auto head = parse_frame_head(Transport::rawsocket, big.data(), big.size(), false, 1000);
    BOOST_TEST(head.error == "RawSocket frame over the maximum message size");
}

BOOST_AUTO_TEST_CASE(answers_the_upgrade_with_the_rfc_accept_key) {
    // The example of RFC 6455 §1.3.
    std::string request =
        "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: wamp.2.msgpack, wamp.2.json\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n";
    auto u = relay::answer_upgrade(request + "rest", 8192);
    BOOST_REQUIRE(u.status == relay::Upgrade::Status::complete);
    BOOST_TEST(u.request_size == request.size());
    BOOST_TEST((u.serializer == Serializer::msgpack));
    BOOST_TEST(u.response.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") != std::string::npos);
    BOOST_TEST(u.response.find("Sec-WebSocket-Protocol: wamp.2.msgpack\r\n") != std::string::npos);
    BOOST_TEST((relay::answer_upgrade(request.substr(0, 40), 8192).status == relay::Upgrade::Status::need_more));
    auto refused = relay::answer_upgrade("GET / HTTP/1.1\r\nSec-WebSocket-Key: a\r\n\r\n", 8192);
    BOOST_TEST((refused.status == relay::Upgrade::Status::error));
    BOOST_TEST(refused.response.starts_with("HTTP/1.1 400 "));
}
