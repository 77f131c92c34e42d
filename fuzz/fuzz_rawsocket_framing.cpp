// libFuzzer target: a RawSocket byte stream as a router receives it. The first four
// bytes are the client's opening handshake; then frames (4-byte header, payload)
// follow, whose message payloads go to the decoder the handshake chose.
#include <algorithm>
#include <array>

#include "blindrouter/net/rawsocket_framing.hpp"
#include "fuzz_support.hpp"

namespace rawsocket = blindrouter::net::rawsocket;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::array served{blindrouter::wamp::Serializer::json, blindrouter::wamp::Serializer::msgpack,
                                   blindrouter::wamp::Serializer::cbor};
    if (size < 4) return 0;
    rawsocket::Bytes4 handshake{data[0], data[1], data[2], data[3]};
    auto result = rawsocket::parse_client_handshake(handshake, served);
    const auto* hello = std::get_if<rawsocket::ClientHello>(&result);
    if (!hello) return 0;
    auto reply = rawsocket::accept_handshake(rawsocket::announced_max_length(65536), hello->serializer);
    if (reply[0] != rawsocket::magic || (reply[1] & 0x0F) != (data[1] & 0x0F)) __builtin_trap();

    std::size_t pos = 4;
    while (pos + 4 <= size) {
        rawsocket::Bytes4 bytes{data[pos], data[pos + 1], data[pos + 2], data[pos + 3]};
        auto header = rawsocket::parse_frame_header(bytes);
        if (!header) return 0;  // the router closes the connection here
        if (rawsocket::frame_header(header->type, header->length) != std::optional(bytes)) __builtin_trap();
        pos += 4;
        std::size_t length = std::min<std::size_t>(header->length, size - pos);
        if (header->type == rawsocket::FrameType::message)
            blindrouter::fuzz::decode_and_reencode(hello->serializer, data + pos, length);
        pos += length;
    }
    return 0;
}
