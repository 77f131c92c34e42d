#include "blindrouter/codec/outbound_message.hpp"

#include "blindrouter/codec/cbor_codec.hpp"
#include "blindrouter/codec/json_codec.hpp"
#include "blindrouter/codec/msgpack_codec.hpp"

namespace blindrouter::codec {
namespace {

std::optional<std::string> encode(wamp::Serializer serializer, const wamp::Message& message) {
    switch (serializer) {
        case wamp::Serializer::json:
            return encode_json(message);
        case wamp::Serializer::msgpack:
            return encode_msgpack(message);
        case wamp::Serializer::cbor:
            return encode_cbor(message);
    }
    return std::nullopt;
}

}  // namespace

const EncodedFrame& OutboundMessage::encoded(wamp::Serializer serializer) const {
    auto index = static_cast<std::size_t>(serializer);
    if (!attempted_[index]) {
        attempted_[index] = true;
        if (auto bytes = encode(serializer, message_)) encoded_[index] = std::make_shared<const std::string>(std::move(*bytes));
    }
    return encoded_[index];
}

DecodeResult decode(wamp::Serializer serializer, std::shared_ptr<const std::string> frame) {
    switch (serializer) {
        case wamp::Serializer::json:
            return decode_json(std::move(frame));
        case wamp::Serializer::msgpack:
            return decode_msgpack(std::move(frame));
        case wamp::Serializer::cbor:
            return decode_cbor(std::move(frame));
    }
    return DecodeResult::fail("unknown serializer");
}

}  // namespace blindrouter::codec
