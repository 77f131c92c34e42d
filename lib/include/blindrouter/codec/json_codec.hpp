#pragma once
// WAMP JSON serialization (wamp.2.json): routing fields are parsed, Arguments and
// ArgumentsKw are located in the frame and kept as byte ranges, never parsed into a DOM.
#include <memory>
#include <optional>
#include <string>

#include "blindrouter/codec/decode_result.hpp"
#include "blindrouter/wamp/message.hpp"

namespace blindrouter::codec {

// Routing strings that start with NUL are binary (WAMP spec, "Binary conversion
// of JSON strings") and become wamp::Binary.
DecodeResult decode_json(std::shared_ptr<const std::string> frame);
// nullopt when the message cannot be expressed in JSON (see element_translation.hpp).
std::optional<std::string> encode_json(const wamp::Message& message);

}  // namespace blindrouter::codec
