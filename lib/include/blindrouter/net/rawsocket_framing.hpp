#pragma once
// WAMP RawSocket framing (WAMP spec, "RawSocket Transport"): the 4-byte opening
// handshake and the 4-byte frame headers. Pure functions, no I/O, fuzzed.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <variant>

#include "blindrouter/wamp/serializer.hpp"

namespace blindrouter::net::rawsocket {

inline constexpr unsigned char magic = 0x7F;
using Bytes4 = std::array<unsigned char, 4>;

// Error codes a router answers a handshake with (upper nibble of the second octet).
enum class HandshakeError : unsigned char {
    serializer_unsupported = 1,
    max_length_unacceptable = 2,
    reserved_bits_used = 3,
    connection_limit_reached = 4,
};

struct ClientHello {
    std::size_t max_length;  // the longest message the client accepts, 2^(9+exp)
    wamp::Serializer serializer;
};

// Not RawSocket at all: the first octet is not the magic. The connection is dropped
// without an answer (the spec's error replies are for RawSocket peers).
struct NotRawSocket {};

using HandshakeResult = std::variant<ClientHello, HandshakeError, NotRawSocket>;

// `served` lists the serializers this transport offers.
HandshakeResult parse_client_handshake(const Bytes4& bytes, std::span<const wamp::Serializer> served);
Bytes4 accept_handshake(std::size_t router_max_length, wamp::Serializer serializer);
Bytes4 refuse_handshake(HandshakeError error);

// The largest 2^(9+exp), exp in [0, 15], not above `max_message_size` (at least 512).
std::size_t announced_max_length(std::size_t max_message_size);

enum class FrameType : unsigned char { message = 0, ping = 1, pong = 2 };

struct FrameHeader {
    FrameType type;
    std::uint32_t length;  // 24 bits
};

// Refuses reserved bits and unknown frame types (both protocol errors).
std::optional<FrameHeader> parse_frame_header(const Bytes4& bytes);

// The length field has 24 bits, yet a peer may announce 2^24 as its maximum
// (exponent 15): a frame of exactly 2^24 bytes fits the announcement and not the
// header, so even a peer's maximum is capped by this.
inline constexpr std::size_t max_frame_length = (1u << 24) - 1;

// nullopt when `length` does not fit the 24-bit field: such a frame cannot be sent.
std::optional<Bytes4> frame_header(FrameType type, std::size_t length);

}  // namespace blindrouter::net::rawsocket
