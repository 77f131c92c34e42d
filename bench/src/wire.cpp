#include "wire.hpp"

#include <cstring>
#include <random>

namespace bench {

std::string_view transport_name(Transport t) { return t == Transport::rawsocket ? "rawsocket" : "websocket"; }
std::string_view serializer_name(Serializer s) { return s == Serializer::json ? "json" : "msgpack"; }
std::string_view websocket_subprotocol(Serializer s) {
    return s == Serializer::json ? "wamp.2.json" : "wamp.2.msgpack";
}

namespace rawsocket {
unsigned char serializer_id(Serializer s) { return s == Serializer::json ? 1 : 2; }
std::array<unsigned char, 4> handshake(Serializer s) {
    return {magic, static_cast<unsigned char>(0xF0 | serializer_id(s)), 0, 0};
}
}  // namespace rawsocket

std::uint8_t message_kind(Transport t, Serializer s) {
    if (t == Transport::rawsocket) return static_cast<std::uint8_t>(rawsocket::FrameType::message);
    return s == Serializer::json ? websocket::text : websocket::binary;
}
std::uint8_t ping_kind(Transport t) {
    return t == Transport::rawsocket ? static_cast<std::uint8_t>(rawsocket::FrameType::ping)
                                     : static_cast<std::uint8_t>(websocket::ping);
}
std::uint8_t pong_kind(Transport t) {
    return t == Transport::rawsocket ? static_cast<std::uint8_t>(rawsocket::FrameType::pong)
                                     : static_cast<std::uint8_t>(websocket::pong);
}
bool is_message(Transport t, std::uint8_t kind) {
    if (t == Transport::rawsocket) return kind == static_cast<std::uint8_t>(rawsocket::FrameType::message);
    return kind == websocket::text || kind == websocket::binary;
}

void apply_mask(char* data, std::size_t size, std::uint32_t key) {
    std::uint64_t wide = (static_cast<std::uint64_t>(key) << 32) | key;
    std::size_t i = 0;
    for (; i + 8 <= size; i += 8) {
        std::uint64_t word;
        std::memcpy(&word, data + i, 8);
        word ^= wide;
        std::memcpy(data + i, &word, 8);
    }
    const auto* k = reinterpret_cast<const unsigned char*>(&key);
    for (; i < size; ++i) data[i] = static_cast<char>(data[i] ^ k[i % 4]);
}

namespace {

std::uint32_t next_mask_key() {
    thread_local std::minstd_rand generator{std::random_device{}()};
    return static_cast<std::uint32_t>(generator()) ^ (static_cast<std::uint32_t>(generator()) << 16);
}

}  // namespace

std::size_t write_frame_header(Transport t, std::uint8_t kind, std::size_t payload_size, bool masked, char* out) {
    auto byte = [](std::size_t v) { return static_cast<char>(v & 0xFF); };
    if (t == Transport::rawsocket) {
        out[0] = static_cast<char>(kind);
        for (int i = 0; i < 3; ++i) out[1 + i] = byte(payload_size >> (16 - 8 * i));
        return 4;
    }
    out[0] = static_cast<char>(0x80 | kind);  // FIN, no extension bits
    const unsigned char mask_bit = masked ? 0x80 : 0;
    if (payload_size < 126) {
        out[1] = static_cast<char>(mask_bit | payload_size);
        return 2;
    }
    if (payload_size <= 0xFFFF) {
        out[1] = static_cast<char>(mask_bit | 126);
        for (int i = 0; i < 2; ++i) out[2 + i] = byte(payload_size >> (8 - 8 * i));
        return 4;
    }
    out[1] = static_cast<char>(mask_bit | 127);
    for (int i = 0; i < 8; ++i) out[2 + i] = byte(payload_size >> (56 - 8 * i));
    return 10;
}

std::string frame_header(Transport t, std::uint8_t kind, std::size_t payload_size) {
    char header[max_frame_header];
    return std::string(header, write_frame_header(t, kind, payload_size, false, header));
}

std::string encode_frame(Transport t, std::uint8_t kind, std::string_view payload, bool masked) {
    if (t == Transport::rawsocket || !masked) {
        std::string frame = frame_header(t, kind, payload.size());
        frame.append(payload);
        return frame;
    }
    char header[max_frame_header];
    std::string frame(header, write_frame_header(t, kind, payload.size(), true, header));
    frame.reserve(payload.size() + 14);
    std::uint32_t key = next_mask_key();
    frame.append(reinterpret_cast<const char*>(&key), 4);
    std::size_t start = frame.size();
    frame.append(payload);
    apply_mask(frame.data() + start, payload.size(), key);
    return frame;
}

FrameReader::FrameReader(Transport transport, bool from_client, std::size_t max_message)
    : transport_(transport), from_client_(from_client), max_message_(max_message) {}

boost::asio::mutable_buffer FrameReader::prepare() {
    if (begin_ == end_) begin_ = end_ = 0;
    // Room for at least the rest of the frame being read, and for a good read besides.
    std::size_t need = std::max(wanted_ > end_ - begin_ ? wanted_ - (end_ - begin_) : 0, read_size_);
    if (buffer_.size() - end_ < need) {
        if (begin_ > 0) {
            std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
            end_ -= begin_;
            begin_ = 0;
        }
        if (buffer_.size() - end_ < need) buffer_.resize(end_ + std::max(need, buffer_.size()));
    }
    offered_ = buffer_.size() - end_;
    return boost::asio::buffer(buffer_.data() + end_, offered_);
}

void FrameReader::commit(std::size_t n) {
    end_ += n;
    if (n == offered_ && read_size_ < 256 * 1024) read_size_ *= 2;
}

void FrameReader::release_if_empty() {
    if (begin_ == end_ && fragments_opcode_ == 0 && buffer_.size() <= 16 * 1024) {
        Bytes().swap(buffer_);
        begin_ = end_ = 0;
    }
}

std::shared_ptr<const Bytes> FrameReader::take_buffer() {
    auto taken = std::make_shared<Bytes>(std::move(buffer_));
    // The bytes not yet parsed (the start of the next frame) stay with the reader.
    buffer_.assign(taken->begin() + static_cast<std::ptrdiff_t>(begin_), taken->begin() + static_cast<std::ptrdiff_t>(end_));
    end_ -= begin_;
    begin_ = 0;
    return taken;
}

FrameReader::Status FrameReader::fail(std::string why) {
    error_ = std::move(why);
    return Status::error;
}

FrameHead parse_frame_head(Transport t, const char* data, std::size_t size, bool from_client,
                           std::size_t max_message) {
    FrameHead head;
    const auto* h = reinterpret_cast<const unsigned char*>(data);
    if (t == Transport::rawsocket) {
        head.total = head.header = 4;
        if (size < 4) return head;
        if (h[0] > 2) return head.fail("RawSocket frame of unknown type");
        std::size_t length = (std::size_t{h[1]} << 16) | (std::size_t{h[2]} << 8) | h[3];
        if (length > max_message) return head.fail("RawSocket frame over the maximum message size");
        head.kind = h[0];
        head.total = 4 + length;
        head.status = size < head.total ? FrameHead::Status::need_more : FrameHead::Status::complete;
        return head;
    }
    head.total = head.header = 2;
    if (size < 2) return head;
    bool masked = h[1] & 0x80;
    if (h[0] & 0x70) return head.fail("WebSocket frame with reserved bits (no extension was negotiated)");
    if (masked != from_client) return head.fail(masked ? "masked frame from a server" : "unmasked frame from a client");
    std::uint64_t length = h[1] & 0x7F;
    head.header = 2 + (masked ? 4 : 0) + (length == 126 ? 2 : length == 127 ? 8 : 0);
    head.total = head.header;
    if (size < head.header) return head;
    if (length == 126) length = (std::uint64_t{h[2]} << 8) | h[3];
    else if (length == 127) {
        length = 0;
        for (int i = 0; i < 8; ++i) length = (length << 8) | h[2 + i];
    }
    if (length > max_message) return head.fail("WebSocket frame over the maximum message size");
    head.kind = h[0] & 0x0F;
    head.fin = h[0] & 0x80;
    head.masked = masked;
    head.total = head.header + static_cast<std::size_t>(length);
    head.status = size < head.total ? FrameHead::Status::need_more : FrameHead::Status::complete;
    return head;
}

FrameReader::Status FrameReader::next(Frame& frame) {
    for (;;) {
        auto head = parse_frame_head(transport_, buffer_.data() + begin_, end_ - begin_, from_client_, max_message_);
        if (head.status == FrameHead::Status::error) return fail(std::string(head.error));
        if (head.status == FrameHead::Status::need_more) {
            wanted_ = head.total;
            return Status::need_more;
        }
        char* payload = buffer_.data() + begin_ + head.header;
        std::size_t length = head.total - head.header;
        if (head.masked) {
            std::uint32_t key;
            std::memcpy(&key, payload - 4, 4);
            apply_mask(payload, length, key);
        }
        begin_ += head.total;
        wanted_ = 0;
        std::string_view data(payload, length);
        std::uint8_t opcode = head.kind;
        if (transport_ == Transport::rawsocket || opcode >= websocket::close) {
            // Control frames are never fragmented (RFC 6455 §5.4).
            frame = {opcode, data};
            return Status::frame;
        }
        if (head.fin && opcode != websocket::continuation && fragments_opcode_ == 0) {
            frame = {opcode, data};
            return Status::frame;
        }
        if (opcode != websocket::continuation) {
            if (fragments_opcode_ != 0) return fail("new WebSocket message inside a fragmented one");
            fragments_opcode_ = opcode;
            fragments_.clear();
        } else if (fragments_opcode_ == 0) {
            return fail("WebSocket continuation frame without a message");
        }
        fragments_.append(data);
        if (fragments_.size() > max_message_) return fail("fragmented WebSocket message too large");
        if (head.fin) {
            joined_.swap(fragments_);
            frame = {fragments_opcode_, joined_, true};
            fragments_opcode_ = 0;
            return Status::frame;
        }
    }
}

}  // namespace bench
