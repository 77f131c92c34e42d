#pragma once
// A message on its way out: encoded at most once per serializer, and the same
// immutable bytes are handed to every receiver on that serializer.
#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "blindrouter/wamp/message.hpp"

namespace blindrouter::codec {

// The bytes glibc's malloc on 64-bit takes for a request: the request and an 8-byte
// size field, rounded up to 16 bytes, at least 32.
constexpr std::size_t malloc_chunk(std::size_t request) {
    return std::max<std::size_t>(32, (request + 8 + 15) / 16 * 16);
}

// The bytes of one encoded message. An element that arrived in the receiver's
// serializer is not copied into it: the frame holds the bytes the encoder wrote
// around it and the element itself, a slice of the frame it was received in, so
// every receiver's gather write sends the payload from that one received buffer
// (STYLE.md, the fast path). Written as up to three pieces, in order.
class EncodedFrame {
public:
    EncodedFrame() = default;
    // Bytes written whole (control frames, a message with nothing spliced).
    EncodedFrame(std::shared_ptr<const std::string> bytes)  // NOLINT: a whole buffer is a frame
        : EncodedFrame(bytes ? std::shared_ptr<const char>(bytes, bytes->data()) : nullptr,
                       bytes ? bytes->size() : 0) {
        if (bytes) written_kept_ = shared_string_kept(bytes->capacity());
    }
    // `size` bytes at `written`, which keeps alive whatever owns them (encode_frame: one
    // block that holds the bytes and their reference count).
    EncodedFrame(std::shared_ptr<const char> written, std::size_t size)
        : written_(std::move(written)), written_size_(size), written_kept_(shared_block_kept(size)), splice_at_(size) {}
    // `spliced` goes between written[0, splice_at) and written[splice_at, end).
    EncodedFrame(std::shared_ptr<const char> written, std::size_t size, std::size_t splice_at,
                 wamp::EncodedElement spliced)
        : written_(std::move(written)),
          written_size_(size),
          written_kept_(shared_block_kept(size)),
          splice_at_(splice_at),
          spliced_(std::move(spliced)) {}

    // False for "cannot be expressed in this serializer" (OutboundMessage::encoded).
    explicit operator bool() const { return written_ != nullptr; }
    // The bytes written.
    std::size_t size() const { return written_size_ + (spliced_ ? spliced_->size() : 0); }
    // What holding the frame keeps allocated: the written bytes' block(s) and a
    // spliced element's whole received frame by its capacity (the PUBLISH's header,
    // options and spare room besides the element), each with its shared owner's
    // blocks. What a send queue charges for the frame (net/send_queue.hpp).
    std::size_t kept_bytes() const;
    // One shared std::string's blocks besides its characters: a pooled received frame
    // (net/frame_buffers.cpp) is a string object of its own (32 bytes: a 48-byte chunk)
    // and a control block holding the pointer and the deleter (vtable pointer, two
    // counts, two pointers: 32 bytes, a 48-byte chunk).
    static constexpr std::size_t shared_string_blocks =
        malloc_chunk(sizeof(std::string)) + malloc_chunk(sizeof(void*) + 2 * sizeof(int) + 2 * sizeof(void*));
    // What a string's shared characters keep: its blocks and its capacity's chunk (the
    // characters are charged a chunk even where they fit in the string object, under
    // 16 bytes: a few bytes too many for a control frame, never too few).
    static constexpr std::size_t shared_string_kept(std::size_t capacity) {
        return shared_string_blocks + malloc_chunk(capacity + 1);
    }
    // The pieces to write one after another; some may be empty.
    std::array<std::string_view, 3> pieces() const;
    // The pieces joined, where one buffer is needed (tests, inspection): a copy.
    std::string bytes() const;

private:
    // One std::make_shared_for_overwrite<char[]> block of `size` characters (encode_frame):
    // the control block (vtable pointer, two counts) and the characters in one chunk.
    static constexpr std::size_t shared_block_kept(std::size_t size) {
        return malloc_chunk(sizeof(void*) + 2 * sizeof(int) + size);
    }

    std::shared_ptr<const char> written_;
    std::size_t written_size_ = 0;
    std::size_t written_kept_ = 0;  // what written_ keeps allocated (kept_bytes)
    std::size_t splice_at_ = 0;
    std::optional<wamp::EncodedElement> spliced_;
};

class OutboundMessage {
public:
    explicit OutboundMessage(wamp::Message message) : message_(std::move(message)) {}
    const wamp::Message& message() const { return message_; }
    // The router runs one io_context thread, so the memo needs no lock.
    // A null frame means the message cannot be expressed in that serializer (its
    // arguments hold e.g. a non-string map key for JSON, see element_translation.hpp):
    // callers skip a null frame, which is not sent to that receiver.
    const EncodedFrame& encoded(wamp::Serializer serializer) const;

private:
    wamp::Message message_;
    mutable std::array<EncodedFrame, wamp::serializer_count> encoded_;
    mutable std::array<bool, wamp::serializer_count> attempted_{};
};

using SharedOutbound = std::shared_ptr<const OutboundMessage>;

inline SharedOutbound make_outbound(wamp::Message message) {
    return std::make_shared<const OutboundMessage>(std::move(message));
}

// The decoder for a serializer, used by transports.
class DecodeResult;
DecodeResult decode(wamp::Serializer serializer, std::shared_ptr<const std::string> frame);

}  // namespace blindrouter::codec
