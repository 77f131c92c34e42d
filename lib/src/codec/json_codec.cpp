#include "blindrouter/codec/json_codec.hpp"

#include "json_format.hpp"
#include "message_elements.hpp"

namespace blindrouter::codec {

DecodeResult decode_json(std::shared_ptr<const std::string> frame) {
    // One pass that validates and locates; Arguments and ArgumentsKw are never read again.
    detail::JsonError error;
    if (auto elements = detail::scan_json_frame(*frame, &error))
        return detail::decode_elements(wamp::Serializer::json, frame, *elements);
    if (error.not_an_array) return DecodeResult::fail("message is not a JSON array");
    return DecodeResult::fail(std::string("invalid JSON: ").append(error.detail).append(" at offset ") +
                              std::to_string(error.offset));
}

std::optional<std::string> encode_json(const wamp::Message& message) {
    return detail::encode_message(wamp::Serializer::json, message);
}

}  // namespace blindrouter::codec
