#pragma once
// The relay's framing, apart from its sockets so that a test can feed it bytes: a
// client's WebSocket frame turned into the server's frame in place, and the answer to
// the WebSocket upgrade (RFC 6455 §4.2.2). Frame boundaries are wire.hpp's
// parse_frame_head, shared with the load client.
#include <cstddef>
#include <string>
#include <string_view>

#include "wire.hpp"

namespace bench::relay {

// Unmasks a complete client frame in place and writes the server's unmasked header right
// in front of its payload, over the mask key (a server header is 4 bytes shorter than a
// client's for the same length, RFC 6455 §5.2). Returns the offset at which the server
// frame starts: from there to `head.total` are the bytes every WebSocket receiver gets.
std::size_t rewrite_client_frame(char* frame, const FrameHead& head);

// The answer to a WebSocket upgrade request.
struct Upgrade {
    enum class Status { complete, need_more, error };
    Status status = Status::need_more;
    std::size_t request_size = 0;  // complete: bytes of the request head, blank line included
    Serializer serializer = Serializer::json;
    std::string response;  // complete: 101 Switching Protocols; error: 400 Bad Request
};
// Needs the whole request head (at most `max_request` bytes) offering a WAMP subprotocol.
Upgrade answer_upgrade(std::string_view request, std::size_t max_request);

}  // namespace bench::relay
