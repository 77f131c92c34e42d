#pragma once
// The two WAMP transports as the bench speaks them after the opening handshake:
// RawSocket framing (WAMP spec, "RawSocket Transport") and WebSocket data framing
// (RFC 6455 §5). Written by hand rather than with Beast's websocket::stream on purpose:
// the load client reads hundreds of sockets on one thread and must not be the
// bottleneck (one buffer per connection, frames parsed in place, many per read), and
// the relay builds one frame and writes those bytes to every receiver (a
// websocket::stream frames each write itself, one message per operation). The HTTP
// upgrade is Beast's (ws_handshake.hpp).
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/buffer.hpp>

namespace bench {

enum class Transport { rawsocket, websocket };
enum class Serializer { json, msgpack };

std::string_view transport_name(Transport t);
std::string_view serializer_name(Serializer s);

// The WebSocket subprotocol for a serializer: "wamp.2.json", "wamp.2.msgpack".
std::string_view websocket_subprotocol(Serializer s);

namespace rawsocket {
inline constexpr unsigned char magic = 0x7F;
// Serializer ids of the WAMP spec: 1 JSON, 2 MsgPack.
unsigned char serializer_id(Serializer s);
// The 4-byte opening: magic, (length exponent << 4) | serializer, 0, 0. Exponent 15
// announces 2^24 bytes, the largest message RawSocket can carry.
std::array<unsigned char, 4> handshake(Serializer s);
enum class FrameType : std::uint8_t { message = 0, ping = 1, pong = 2 };
}  // namespace rawsocket

namespace websocket {
enum Opcode : std::uint8_t { continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 };
}

// A byte buffer that does not zero what it grows by (the next read overwrites it).
template <class T>
struct UninitializedAllocator : std::allocator<T> {
    template <class U>
    struct rebind {
        using other = UninitializedAllocator<U>;
    };
    template <class U>
    void construct(U* p) noexcept {
        ::new (static_cast<void*>(p)) U;
    }
    template <class U, class... Args>
    void construct(U* p, Args&&... args) {
        ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
};
using Bytes = std::vector<char, UninitializedAllocator<char>>;

// One message taken out of the stream. `kind` is the RawSocket frame type or the
// WebSocket opcode; `payload` points into the reader's buffer until the next prepare().
struct Frame {
    std::uint8_t kind;
    std::string_view payload;
    bool joined = false;  // a fragmented WebSocket message, joined outside the read buffer
};

// XORs WebSocket data with a 4-byte masking key as it lies in the frame (RFC 6455 §5.3),
// a machine word at a time (a 1 MiB publish is masked once).
void apply_mask(char* data, std::size_t size, std::uint32_t key);

// Header (and, from a client, masking) for one outgoing frame. The result is the
// whole frame: header followed by the payload.
std::string encode_frame(Transport t, std::uint8_t kind, std::string_view payload, bool masked);
// The largest header write_frame_header writes (a WebSocket frame with a 64-bit length).
inline constexpr std::size_t max_frame_header = 10;
// Writes the header of one frame to `out` and returns its size. A masked WebSocket header
// has the mask bit set; its 4-byte key is the caller's to append.
std::size_t write_frame_header(Transport t, std::uint8_t kind, std::size_t payload_size, bool masked, char* out);
// Only the header, for a receiver that writes header and payload as two buffers.
std::string frame_header(Transport t, std::uint8_t kind, std::size_t payload_size);
// The frame kind that carries a WAMP message of this serializer.
std::uint8_t message_kind(Transport t, Serializer s);
std::uint8_t ping_kind(Transport t);
std::uint8_t pong_kind(Transport t);
bool is_message(Transport t, std::uint8_t kind);

// What the bytes at the start of a buffer hold: the head of one frame.
struct FrameHead {
    enum class Status { complete, need_more, error };
    Status status = Status::need_more;
    std::size_t total = 0;   // complete: header + payload; need_more: at least this many bytes
    std::size_t header = 0;  // header bytes (a client's mask key included)
    std::uint8_t kind = 0;   // RawSocket frame type or WebSocket opcode
    bool fin = true;
    bool masked = false;
    std::string_view error;  // on Status::error
    FrameHead& fail(std::string_view why) {
        status = Status::error;
        error = why;
        return *this;
    }
};
// `from_client`: the sender is a WebSocket client, whose frames must be masked (RFC 6455 §5.1).
FrameHead parse_frame_head(Transport t, const char* data, std::size_t size, bool from_client, std::size_t max_message);

// Frames out of the bytes read from one socket. Reads go straight into the buffer; a
// frame is returned in place. A WebSocket message in several frames is joined (rare:
// neither the router nor Beast nor `ws` fragment by default).
class FrameReader {
public:
    // `from_client`: the peer is a WebSocket client, so its frames are masked (RFC 6455 §5.3).
    FrameReader(Transport transport, bool from_client, std::size_t max_message);

    // Space for the next read: at least the rest of the frame being read. The read size
    // starts small (an idle connection holds 4 KiB) and doubles while reads fill it.
    boost::asio::mutable_buffer prepare();
    void commit(std::size_t n);
    // Frees a small buffer once every byte in it was taken (an idle connection then
    // holds no read buffer; a busy one keeps its large buffer).
    void release_if_empty();
    // Hands over the buffer holding the frame last returned, so that its payload can be
    // forwarded without a copy; the reader goes on with a new buffer.
    std::shared_ptr<const Bytes> take_buffer();

    enum class Status { frame, need_more, error };
    // The next complete frame; `error()` says why on Status::error.
    Status next(Frame& frame);
    const std::string& error() const { return error_; }

private:
    Status fail(std::string why);

    Transport transport_;
    bool from_client_;
    std::size_t max_message_;
    Bytes buffer_;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    std::size_t wanted_ = 0;  // bytes the next frame needs in total (header + payload)
    std::size_t read_size_ = 4 * 1024;
    std::size_t offered_ = 0;  // the size of the last prepared space
    std::string fragments_;   // a fragmented WebSocket message being joined
    std::uint8_t fragments_opcode_ = 0;
    std::string joined_;      // the last joined message, valid until the next call
    std::string error_;
};

}  // namespace bench
