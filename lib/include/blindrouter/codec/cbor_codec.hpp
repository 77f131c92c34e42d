#pragma once
// WAMP CBOR serialization (wamp.2.cbor): routing fields are decoded, Arguments and
// ArgumentsKw are validated and kept as byte ranges of the frame.
#include <memory>
#include <optional>
#include <string>

#include "blindrouter/codec/decode_result.hpp"
#include "blindrouter/wamp/message.hpp"

namespace blindrouter::codec {

// The whole frame must be one CBOR array (definite or indefinite length, tags
// before it are skipped) and nothing after it. In routing fields, map keys must be
// UTF-8 strings; byte strings become wamp::Binary. A legacy binary payload in place
// of Arguments is a byte string.
DecodeResult decode_cbor(std::shared_ptr<const std::string> frame);
// nullopt when the message cannot be expressed in CBOR (see element_translation.hpp).
std::optional<std::string> encode_cbor(const wamp::Message& message);

}  // namespace blindrouter::codec
