#include "blindrouter/net/rawsocket_framing.hpp"

#include <algorithm>

namespace blindrouter::net::rawsocket {
namespace {
// RawSocket serializer ids (WAMP spec; 3 is CBOR as Autobahn and Crossbar use it).
std::optional<wamp::Serializer> serializer_for_id(unsigned id) {
    switch (id) {
        case 1: return wamp::Serializer::json;
        case 2: return wamp::Serializer::msgpack;
        case 3: return wamp::Serializer::cbor;
        default: return std::nullopt;
    }
}
unsigned id_for(wamp::Serializer s) {
    switch (s) {
        case wamp::Serializer::json: return 1;
        case wamp::Serializer::msgpack: return 2;
        case wamp::Serializer::cbor: return 3;
    }
    return 0;
}
}  // namespace

HandshakeResult parse_client_handshake(const Bytes4& bytes, std::span<const wamp::Serializer> served) {
    if (bytes[0] != magic) return NotRawSocket{};
    if (bytes[2] != 0 || bytes[3] != 0) return HandshakeError::reserved_bits_used;
    auto serializer = serializer_for_id(bytes[1] & 0x0F);
    if (!serializer || std::find(served.begin(), served.end(), *serializer) == served.end())
        return HandshakeError::serializer_unsupported;
    std::size_t exponent = bytes[1] >> 4;
    return ClientHello{std::size_t{1} << (9 + exponent), *serializer};
}

Bytes4 accept_handshake(std::size_t router_max_length, wamp::Serializer serializer) {
    unsigned exponent = 0;
    while (exponent < 15 && (std::size_t{1} << (9 + exponent + 1)) <= router_max_length) ++exponent;
    return {magic, static_cast<unsigned char>((exponent << 4) | id_for(serializer)), 0, 0};
}

Bytes4 refuse_handshake(HandshakeError error) {
    return {magic, static_cast<unsigned char>(static_cast<unsigned>(error) << 4), 0, 0};
}

std::size_t announced_max_length(std::size_t max_message_size) {
    std::size_t length = 512;
    while (length < (std::size_t{1} << 24) && length * 2 <= max_message_size) length *= 2;
    return length;
}

std::optional<FrameHeader> parse_frame_header(const Bytes4& bytes) {
    if (bytes[0] & 0xF8) return std::nullopt;  // reserved bits
    auto type = bytes[0] & 0x07;
    if (type > 2) return std::nullopt;
    std::uint32_t length = (std::uint32_t{bytes[1]} << 16) | (std::uint32_t{bytes[2]} << 8) | bytes[3];
    return FrameHeader{static_cast<FrameType>(type), length};
}

std::optional<Bytes4> frame_header(FrameType type, std::size_t length) {
    if (length > max_frame_length) return std::nullopt;
    return Bytes4{static_cast<unsigned char>(type), static_cast<unsigned char>(length >> 16),
            static_cast<unsigned char>(length >> 8), static_cast<unsigned char>(length)};
}

}  // namespace blindrouter::net::rawsocket
