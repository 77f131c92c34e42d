#include "blindrouter/net/websocket_framing.hpp"

#include <algorithm>
#include <cstring>

#include "blindrouter/wamp/log_text.hpp"
#include "frame_buffers.hpp"

namespace blindrouter::net::websocket_framing {
namespace {
bool is_control(Opcode op) { return static_cast<unsigned>(op) >= 8; }
bool is_known(unsigned op) { return op <= 2 || (op >= 8 && op <= 10); }

// XORs `size` bytes with the mask starting at `offset`, eight at a time where it can.
void unmask(unsigned char* p, std::size_t size, const std::array<unsigned char, 4>& mask, std::size_t offset) {
    std::size_t i = 0;
    if (size >= 16) {
        unsigned char rotated[8];
        for (int k = 0; k < 8; ++k) rotated[k] = mask[(offset + k) % 4];
        std::uint64_t word_mask;
        std::memcpy(&word_mask, rotated, 8);
        for (; i + 8 <= size; i += 8) {
            std::uint64_t word;
            std::memcpy(&word, p + i, 8);
            word ^= word_mask;
            std::memcpy(p + i, &word, 8);
        }
    }
    for (; i < size; ++i) p[i] ^= mask[(offset + i) % 4];
}
}  // namespace

FrameHeader server_frame_header(Opcode opcode, std::uint64_t payload_size) {
    FrameHeader h;
    h.bytes[0] = static_cast<unsigned char>(0x80 | static_cast<unsigned>(opcode));
    if (payload_size < 126) {
        h.bytes[1] = static_cast<unsigned char>(payload_size);
        h.length = 2;
    } else if (payload_size <= 0xFFFF) {
        h.bytes[1] = 126;
        h.bytes[2] = static_cast<unsigned char>(payload_size >> 8);
        h.bytes[3] = static_cast<unsigned char>(payload_size);
        h.length = 4;
    } else {
        h.bytes[1] = 127;
        for (int i = 0; i < 8; ++i) h.bytes[2 + i] = static_cast<unsigned char>(payload_size >> (56 - 8 * i));
        h.length = 10;
    }
    return h;
}

std::string close_payload(std::uint16_t code, std::string_view reason) {
    std::string payload;
    payload += static_cast<char>(code >> 8);
    payload += static_cast<char>(code & 0xFF);
    // RFC 6455 §5.5: a control frame carries at most 125 bytes, and §5.5.1: the reason
    // is UTF-8, so it is cut where a character begins.
    payload += wamp::cut_utf8(reason, 123);
    return payload;
}

void ClientFrameReader::fail(std::uint16_t code, std::string reason) {
    pending_ = std::make_unique<Event>(Event{Event::Kind::error, Opcode::binary, nullptr, code, std::move(reason)});
}

std::size_t ClientFrameReader::step(const char* data, std::size_t size) {
    if (!in_payload_) return header_step(data, size);
    auto take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, size));
    auto start = destination_->size();
    destination_->append(data, take);
    unmask(reinterpret_cast<unsigned char*>(destination_->data() + start), take, mask_, mask_offset_);
    mask_offset_ = (mask_offset_ + take) % 4;
    remaining_ -= take;
    if (remaining_ == 0) frame_complete();
    return take;
}

std::size_t ClientFrameReader::header_step(const char* data, std::size_t size) {
    // How long the header is, once its first two bytes are known.
    auto needed = [this]() -> std::size_t {
        if (header_have_ < 2) return 2;
        auto len7 = header_[1] & 0x7F;
        return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + 4;
    };
    std::size_t used = 0;
    while (header_have_ < 2 && used < size) header_[header_have_++] = static_cast<unsigned char>(data[used++]);
    if (header_have_ < 2) return used;
    // The first two bytes tell a broken frame at once, before its length and mask arrive.
    unsigned b0 = header_[0], b1 = header_[1];
    unsigned op = b0 & 0x0F;
    if (b0 & 0x70) return fail(close_protocol_error, "reserved bits set (no extension was negotiated)"), used;
    if (!is_known(op)) return fail(close_protocol_error, "unknown opcode"), used;
    if (!(b1 & 0x80)) return fail(close_protocol_error, "client frame not masked"), used;
    while (header_have_ < needed() && used < size) header_[header_have_++] = static_cast<unsigned char>(data[used++]);
    if (header_have_ < needed()) return used;
    fin_ = b0 & 0x80;
    opcode_ = static_cast<Opcode>(op);
    std::uint64_t length = b1 & 0x7F;
    std::size_t at = 2;
    if (length == 126) {
        length = (std::uint64_t{header_[2]} << 8) | header_[3];
        at = 4;
    } else if (length == 127) {
        length = 0;
        for (int i = 0; i < 8; ++i) length = (length << 8) | header_[2 + i];
        at = 10;
        if (length >> 63) return fail(close_protocol_error, "frame length with the most significant bit set"), used;
    }
    std::copy(header_.begin() + at, header_.begin() + at + 4, mask_.begin());
    header_have_ = 0;

    if (is_control(opcode_)) {
        if (!fin_) return fail(close_protocol_error, "fragmented control frame"), used;
        if (length > 125) return fail(close_protocol_error, "control frame longer than 125 bytes"), used;
        control_.clear();
        destination_ = &control_;
    } else {
        bool continuing = message_ != nullptr;
        if (opcode_ == Opcode::continuation && !continuing)
            return fail(close_protocol_error, "continuation frame without a message"), used;
        if (opcode_ != Opcode::continuation && continuing)
            return fail(close_protocol_error, "new message before the previous one ended"), used;
        std::size_t so_far = continuing ? message_->size() : 0;
        if (length > max_message_size_ || so_far + length > max_message_size_)
            return fail(close_too_big, "message larger than max_message_size"), used;
        if (!continuing) {
            message_ = pooled_frame_buffer();
            message_opcode_ = opcode_;
        }
        // No reserve() by the declared length: a header costs the client 14 bytes and
        // must not cost us max_message_size. append() grows the buffer geometrically
        // as bytes arrive; the buffer comes from the thread's frame pool (one that held
        // a handled frame, at most frame_pool_max_capacity), as a RawSocket frame's does.
        destination_ = message_.get();
    }
    remaining_ = length;
    mask_offset_ = 0;
    in_payload_ = true;
    if (remaining_ == 0) frame_complete();
    return used;
}

void ClientFrameReader::frame_complete() {
    in_payload_ = false;
    switch (opcode_) {
        case Opcode::ping:
        case Opcode::pong:
            pending_ = std::make_unique<Event>(Event{opcode_ == Opcode::ping ? Event::Kind::ping : Event::Kind::pong,
                                                     opcode_, std::make_shared<std::string>(control_), close_normal,
                                                     {}});
            return;
        case Opcode::close: {
            if (control_.size() == 1) return fail(close_protocol_error, "close frame with a one-byte payload");
            std::uint16_t code = close_normal;
            if (control_.size() >= 2)
                code = static_cast<std::uint16_t>((static_cast<unsigned char>(control_[0]) << 8) |
                                                  static_cast<unsigned char>(control_[1]));
            pending_ = std::make_unique<Event>(Event{Event::Kind::close, opcode_, nullptr, code, {}});
            return;
        }
        default:
            if (!fin_) return;
            // RFC 6455 §8.1: a text message that is not UTF-8 fails the connection
            // with 1007 (Crossbar's validate_utf8, on by default, does the same).
            if (check_text_ && message_opcode_ == Opcode::text && !wamp::is_valid_utf8(*message_))
                return fail(close_invalid_payload, "text message is not valid UTF-8");
            message_ready_ = true;
            return;
    }
}

}  // namespace blindrouter::net::websocket_framing
