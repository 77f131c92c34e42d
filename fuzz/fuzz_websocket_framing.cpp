// libFuzzer target: WebSocket frames, as a router's Beast server stream receives them
// after a valid opening handshake, decoded as the negotiated subprotocol. The first
// input byte picks the subprotocol; the rest is what the client sends after the
// upgrade request (frame headers, masks, fragments, control frames).
#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <string>

#include "fuzz_support.hpp"

namespace beast = boost::beast;
namespace websocket = beast::websocket;
using blindrouter::wamp::Serializer;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    static const Serializer serializers[]{Serializer::json, Serializer::msgpack, Serializer::cbor};
    static const char* names[]{"wamp.2.json", "wamp.2.msgpack", "wamp.2.cbor"};
    auto choice = data[0] % 3;

    boost::asio::io_context io;
    beast::test::stream wire(io);
    beast::test::stream client(io);  // receives the router's replies (handshake, pongs, close)
    wire.connect(client);
    std::string request =
        "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: " + std::string(names[choice]) + "\r\n\r\n";
    wire.append(request);
    wire.append(beast::string_view(reinterpret_cast<const char*>(data + 1), size - 1));

    websocket::stream<beast::test::stream&> ws(wire);
    ws.read_message_max(64 * 1024);
    ws.set_option(websocket::stream_base::decorator([&](websocket::response_type& response) {
        response.set(beast::http::field::sec_websocket_protocol, names[choice]);
    }));
    beast::error_code ec;
    ws.accept(ec);
    if (ec) __builtin_trap();  // the handshake above is valid
    client.clear();
    // Reads see end of input once the fuzz bytes are consumed instead of blocking;
    // the router's replies (pongs, close) may then fail, which ends the loop too.
    wire.close_remote();
    beast::flat_buffer buffer;
    for (;;) {
        ws.read(buffer, ec);
        if (ec) break;  // malformed frame, close, too big, or end of input: the router closes
        auto bytes = static_cast<const std::uint8_t*>(buffer.data().data());
        blindrouter::fuzz::decode_and_reencode(serializers[choice], bytes, buffer.size());
        buffer.consume(buffer.size());
    }
    return 0;
}
