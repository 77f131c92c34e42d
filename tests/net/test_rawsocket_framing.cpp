#include <boost/test/unit_test.hpp>

#include "blindrouter/net/rawsocket_framing.hpp"

using namespace blindrouter;
using namespace blindrouter::net::rawsocket;

namespace {
const std::vector<wamp::Serializer> all{wamp::Serializer::json, wamp::Serializer::msgpack, wamp::Serializer::cbor};
}

BOOST_AUTO_TEST_SUITE(rawsocket_framing)

BOOST_AUTO_TEST_CASE(client_handshake) {
    auto r = parse_client_handshake({0x7F, 0xF2, 0, 0}, all);
    BOOST_REQUIRE(std::holds_alternative<ClientHello>(r));
    BOOST_TEST(std::get<ClientHello>(r).max_length == (1u << 24));
    BOOST_TEST((std::get<ClientHello>(r).serializer == wamp::Serializer::msgpack));
    auto small = std::get<ClientHello>(parse_client_handshake({0x7F, 0x01, 0, 0}, all));
    BOOST_TEST(small.max_length == 512u);
    BOOST_TEST((std::get<ClientHello>(parse_client_handshake({0x7F, 0x13, 0, 0}, all)).serializer == wamp::Serializer::cbor));
}

BOOST_AUTO_TEST_CASE(handshake_errors) {
    BOOST_TEST(std::holds_alternative<NotRawSocket>(parse_client_handshake({'G', 'E', 'T', ' '}, all)));
    BOOST_TEST((std::get<HandshakeError>(parse_client_handshake({0x7F, 0xF4, 0, 0}, all)) ==
                HandshakeError::serializer_unsupported));  // UBJSON is not served
    BOOST_TEST((std::get<HandshakeError>(parse_client_handshake({0x7F, 0xF0, 0, 0}, all)) ==
                HandshakeError::serializer_unsupported));  // 0 is illegal
    std::vector<wamp::Serializer> json_only{wamp::Serializer::json};
    BOOST_TEST((std::get<HandshakeError>(parse_client_handshake({0x7F, 0xF2, 0, 0}, json_only)) ==
                HandshakeError::serializer_unsupported));
    BOOST_TEST((std::get<HandshakeError>(parse_client_handshake({0x7F, 0xF1, 1, 0}, all)) ==
                HandshakeError::reserved_bits_used));
    BOOST_TEST((refuse_handshake(HandshakeError::serializer_unsupported) == Bytes4{0x7F, 0x10, 0, 0}));
    BOOST_TEST((refuse_handshake(HandshakeError::max_length_unacceptable) == Bytes4{0x7F, 0x20, 0, 0}));
}

BOOST_AUTO_TEST_CASE(router_reply_announces_its_limit) {
    BOOST_TEST((accept_handshake(1u << 24, wamp::Serializer::json) == Bytes4{0x7F, 0xF1, 0, 0}));
    BOOST_TEST((accept_handshake(1048576, wamp::Serializer::cbor) == Bytes4{0x7F, 0xB3, 0, 0}));
    BOOST_TEST((accept_handshake(1000, wamp::Serializer::msgpack) == Bytes4{0x7F, 0x02, 0, 0}));
    BOOST_TEST(announced_max_length(1048576) == 1048576u);
    BOOST_TEST(announced_max_length(1000000) == 524288u);
    BOOST_TEST(announced_max_length(64 * 1024 * 1024) == (1u << 24));
    BOOST_TEST(announced_max_length(1) == 512u);
}

BOOST_AUTO_TEST_CASE(frame_headers) {
    auto h = parse_frame_header({0x00, 0x01, 0x02, 0x03});
    BOOST_REQUIRE(h);
    BOOST_TEST((h->type == FrameType::message));
    BOOST_TEST(h->length == 0x010203u);
    BOOST_TEST((parse_frame_header({0x01, 0, 0, 4})->type == FrameType::ping));
    BOOST_TEST((parse_frame_header({0x02, 0, 0, 4})->type == FrameType::pong));
    BOOST_TEST(!parse_frame_header({0x03, 0, 0, 4}));  // unknown type
    BOOST_TEST(!parse_frame_header({0x08, 0, 0, 4}));  // reserved bit
    BOOST_TEST((frame_header(FrameType::pong, 0xABCDEF) == Bytes4{0x02, 0xAB, 0xCD, 0xEF}));
}

BOOST_AUTO_TEST_CASE(a_frame_longer_than_the_length_field_has_no_header) {
    // 2^24 is what exponent 15 announces, but the field holds 2^24 - 1 at most; the
    // old header wrote length 0 for it, and the frame's bytes as the next headers.
    BOOST_TEST((frame_header(FrameType::message, max_frame_length) == Bytes4{0x00, 0xFF, 0xFF, 0xFF}));
    BOOST_TEST(!frame_header(FrameType::message, std::size_t{1} << 24));
    BOOST_TEST(!frame_header(FrameType::message, std::size_t{1} << 32));
}

BOOST_AUTO_TEST_SUITE_END()
