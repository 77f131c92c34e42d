#pragma once
// RFC 6455 framing for the data path of a server connection, after Beast has
// done the opening handshake. Beast writes one message per system call and reads
// through a 1.5 KiB buffer; a router that fans one event out to many receivers, or
// takes many small messages from one client, needs to write many frames in one
// gather write and parse every frame a read brought. Pure code, no I/O, fuzzed.
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace blindrouter::net::websocket_framing {

enum class Opcode : std::uint8_t { continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 };

// Close codes (RFC 6455 §7.4.1).
inline constexpr std::uint16_t close_normal = 1000, close_going_away = 1001, close_protocol_error = 1002,
                               close_invalid_payload = 1007, close_too_big = 1009;

// The header of an unmasked server frame carrying `size` bytes, FIN set.
struct FrameHeader {
    std::array<unsigned char, 10> bytes{};
    std::size_t length = 0;

    const unsigned char* data() const { return bytes.data(); }
    std::size_t size() const { return length; }
};
FrameHeader server_frame_header(Opcode opcode, std::uint64_t payload_size);
// A close frame's payload: the code, then at most 123 bytes of reason, cut where a
// UTF-8 character begins.
std::string close_payload(std::uint16_t code, std::string_view reason);

// What a client sent, frame by frame put together.
struct Event {
    enum class Kind : unsigned char { message, ping, pong, close, error };
    Kind kind;
    Opcode opcode = Opcode::binary;          // message: text or binary
    std::shared_ptr<std::string> payload;    // message, ping and pong payloads
    std::uint16_t close_code = close_normal;  // close: the client's code; error: the code to close with
    std::string reason;                       // error: what was wrong
};

// Parses masked client frames incrementally: fragments are joined into messages,
// control frames may come between fragments. After an error or a close, feed()
// takes nothing more.
class ClientFrameReader {
public:
    // `check_text`: whether a text message's UTF-8 is validated here (RFC 6455 §8.1).
    // A JSON session passes false: its decoder validates every byte anyway, and the
    // connection checks UTF-8 only for a text it could not decode (see stop()).
    explicit ClientFrameReader(std::size_t max_message_size, bool check_text = true)
        : max_message_size_(max_message_size), check_text_(check_text) {}

    // Calls on_event(Event&&) for every complete message or control frame in
    // `data`; returns false once the connection is to be closed.
    template <class OnEvent>
    bool feed(const char* data, std::size_t size, OnEvent&& on_event) {
        while (size > 0 && !done_) {
            auto used = step(data, size);
            data += used;
            size -= used;
            if (message_ready_) {
                message_ready_ = false;
                on_event(Event{Event::Kind::message, message_opcode_, std::move(message_), close_normal, {}});
            } else if (pending_) {
                done_ = pending_->kind == Event::Kind::close || pending_->kind == Event::Kind::error;
                auto event = std::move(*pending_);
                pending_.reset();
                on_event(std::move(event));
            }
        }
        return !done_;
    }

    bool done() const { return done_; }
    // Called from on_event: nothing more is read (the connection fails for a reason
    // found above the framing, such as a text message that is not UTF-8).
    void stop() { done_ = true; }
    // Bytes held for the message being put together (what arrived, grown geometrically).
    std::size_t buffered_capacity() const { return message_ ? message_->capacity() : 0; }

private:
    // Consumes bytes of one header or payload piece; may leave an event in pending_.
    std::size_t step(const char* data, std::size_t size);
    std::size_t header_step(const char* data, std::size_t size);
    void fail(std::uint16_t code, std::string reason);
    void frame_complete();

    std::size_t max_message_size_;
    bool check_text_;
    bool done_ = false;
    // Control frames and errors wait here; a complete message (the common case) is
    // handed over from message_ without an Event on the heap.
    std::unique_ptr<Event> pending_;
    bool message_ready_ = false;

    // The frame being read.
    std::array<unsigned char, 14> header_{};
    std::size_t header_have_ = 0;
    bool in_payload_ = false;
    bool fin_ = false;
    Opcode opcode_ = Opcode::continuation;
    std::array<unsigned char, 4> mask_{};
    std::uint64_t remaining_ = 0;
    std::size_t mask_offset_ = 0;
    std::string* destination_ = nullptr;

    // The message being put together from fragments, and the control frame's payload.
    std::shared_ptr<std::string> message_;
    Opcode message_opcode_ = Opcode::binary;
    std::string control_;
};

}  // namespace blindrouter::net::websocket_framing
