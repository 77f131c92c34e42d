// libFuzzer target: WebSocket client frames (masks, lengths, fragments, control
// frames) into the router's frame reader, in the chunks a socket might deliver,
// and every message into the decoder of the negotiated subprotocol. The first input
// byte picks the subprotocol, the second the chunk size.
#include <algorithm>

#include "blindrouter/net/websocket_framing.hpp"
#include "fuzz_support.hpp"

namespace framing = blindrouter::net::websocket_framing;
using blindrouter::wamp::Serializer;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    static const Serializer serializers[]{Serializer::json, Serializer::msgpack, Serializer::cbor};
    auto serializer = serializers[data[0] % 3];
    std::size_t chunk = 1 + data[1];
    framing::ClientFrameReader reader(64 * 1024);
    auto on_event = [&](framing::Event&& event) {
        if (event.kind == framing::Event::Kind::message) {
            const auto& message = *event.payload;
            blindrouter::fuzz::decode_and_reencode(serializer, reinterpret_cast<const std::uint8_t*>(message.data()),
                                                   message.size());
        }
        if ((event.kind == framing::Event::Kind::ping || event.kind == framing::Event::Kind::pong) &&
            event.payload->size() > 125)
            __builtin_trap();  // control payloads are bounded
    };
    const char* bytes = reinterpret_cast<const char*>(data + 2);
    std::size_t left = size - 2;
    while (left > 0) {
        auto n = std::min(chunk, left);
        if (!reader.feed(bytes, n, on_event)) break;
        bytes += n;
        left -= n;
    }
    return 0;
}
