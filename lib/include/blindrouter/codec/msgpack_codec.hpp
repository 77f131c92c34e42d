#pragma once
// WAMP MessagePack serialization (wamp.2.msgpack): routing fields are decoded,
// Arguments and ArgumentsKw are validated and kept as byte ranges of the frame.
#include <memory>
#include <optional>
#include <string>

#include "blindrouter/codec/decode_result.hpp"
#include "blindrouter/wamp/message.hpp"

namespace blindrouter::codec {

// The whole frame must be one MsgPack array and nothing after it. In routing
// fields, map keys must be UTF-8 strings and ext types are refused; bin becomes
// wamp::Binary. A legacy binary payload in place of Arguments is a bin.
DecodeResult decode_msgpack(std::shared_ptr<const std::string> frame);
// nullopt when the message cannot be expressed in MsgPack (see element_translation.hpp).
std::optional<std::string> encode_msgpack(const wamp::Message& message);

}  // namespace blindrouter::codec
