#include "blindrouter/codec/outbound_message.hpp"

#include <stdexcept>

#include "blindrouter/codec/json_codec.hpp"

namespace blindrouter::codec {

const EncodedFrame& OutboundMessage::encoded(wamp::Serializer serializer) const {
    auto& slot = encoded_[static_cast<std::size_t>(serializer)];
    if (!slot) {
        switch (serializer) {
            case wamp::Serializer::json:
                slot = std::make_shared<const std::string>(encode_json(message_));
                break;
            default:
                throw std::logic_error("serializer not available: " + std::string(serializer_name(serializer)));
        }
    }
    return slot;
}

DecodeResult decode(wamp::Serializer serializer, std::shared_ptr<const std::string> frame) {
    switch (serializer) {
        case wamp::Serializer::json:
            return decode_json(std::move(frame));
        default:
            return DecodeResult::fail("serializer not available: " + std::string(serializer_name(serializer)));
    }
}

}  // namespace blindrouter::codec
