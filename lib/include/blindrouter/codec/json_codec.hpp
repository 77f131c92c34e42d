#pragma once
// WAMP JSON serialization (wamp.2.json): routing fields are parsed, Arguments and
// ArgumentsKw are located in the frame and kept as byte ranges, never parsed into a DOM.
#include <memory>
#include <string>

#include "blindrouter/codec/decode_result.hpp"
#include "blindrouter/wamp/message.hpp"

namespace blindrouter::codec {

DecodeResult decode_json(std::shared_ptr<const std::string> frame);
std::string encode_json(const wamp::Message& message);

}  // namespace blindrouter::codec
