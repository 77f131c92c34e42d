#pragma once
// A message on its way out: encoded at most once per serializer, and the same
// immutable bytes are handed to every receiver on that serializer.
#include <array>
#include <memory>
#include <string>

#include "blindrouter/wamp/message.hpp"

namespace blindrouter::codec {

using EncodedFrame = std::shared_ptr<const std::string>;

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
