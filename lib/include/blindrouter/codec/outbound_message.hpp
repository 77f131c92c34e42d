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
        : written_(std::move(bytes)), splice_at_(written_ ? written_->size() : 0) {}
    // `spliced` goes between written[0, splice_at) and written[splice_at, end).
    EncodedFrame(std::shared_ptr<const std::string> written, std::size_t splice_at, wamp::EncodedElement spliced)
        : written_(std::move(written)), splice_at_(splice_at), spliced_(std::move(spliced)) {}

    // False for "cannot be expressed in this serializer" (OutboundMessage::encoded).
    explicit operator bool() const { return written_ != nullptr; }
    // The bytes written.
    std::size_t size() const { return written_->size() + (spliced_ ? spliced_->size() : 0); }
    // What holding the frame keeps allocated: the written bytes by their capacity and a
    // spliced element's whole received frame (the PUBLISH's header, options and spare
    // room besides the element), each with its shared owner's blocks. What a send
    // queue charges for the frame (net/send_queue.hpp).
    std::size_t kept_bytes() const;
    // One shared std::string's blocks besides its characters, for the costlier of the
    // two ways the router makes one: a pooled received frame (net/frame_buffers.cpp)
    // is a string object of its own (32 bytes: a 48-byte chunk) and a control block
    // holding the pointer and the deleter (vtable pointer, two counts, two pointers:
    // 32 bytes, a 48-byte chunk); a std::make_shared one (an EVENT's written bytes) is
    // one 64-byte chunk of both.
    static constexpr std::size_t shared_string_blocks =
        malloc_chunk(sizeof(std::string)) + malloc_chunk(sizeof(void*) + 2 * sizeof(int) + 2 * sizeof(void*));
    // The pieces to write one after another; some may be empty.
    std::array<std::string_view, 3> pieces() const;
    // The pieces joined, where one buffer is needed (tests, inspection): a copy.
    std::string bytes() const;

private:
    std::shared_ptr<const std::string> written_;
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
