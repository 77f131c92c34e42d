#pragma once
// A message on its way out: encoded at most once per serializer, and the same
// immutable bytes are handed to every receiver on that serializer.
#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "blindrouter/wamp/message.hpp"

namespace blindrouter::codec {

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
                       bytes ? bytes->size() : 0) {}
    // `size` bytes at `written`, which keeps alive whatever owns them (encode_frame: one
    // block that holds the bytes and their reference count).
    EncodedFrame(std::shared_ptr<const char> written, std::size_t size)
        : written_(std::move(written)), written_size_(size), splice_at_(size) {}
    // `spliced` goes between written[0, splice_at) and written[splice_at, end).
    EncodedFrame(std::shared_ptr<const char> written, std::size_t size, std::size_t splice_at,
                 wamp::EncodedElement spliced)
        : written_(std::move(written)), written_size_(size), splice_at_(splice_at), spliced_(std::move(spliced)) {}

    // False for "cannot be expressed in this serializer" (OutboundMessage::encoded).
    explicit operator bool() const { return written_ != nullptr; }
    std::size_t size() const { return written_size_ + (spliced_ ? spliced_->size() : 0); }
    // The pieces to write one after another; some may be empty.
    std::array<std::string_view, 3> pieces() const;
    // The pieces joined, where one buffer is needed (tests, inspection): a copy.
    std::string bytes() const;

private:
    std::shared_ptr<const char> written_;
    std::size_t written_size_ = 0;
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
