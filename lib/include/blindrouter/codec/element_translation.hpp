#pragma once
// Arguments, ArgumentsKw or a binary payload received in one serializer, written in
// another: done once per target serializer for a message, never per receiver.
#include <optional>
#include <string>

#include "blindrouter/wamp/message.hpp"
#include "blindrouter/wamp/serializer.hpp"

namespace blindrouter::codec {

// Deeper nesting than this is not translated (the reader is iterative; the bound
// keeps the writers' work per element small and predictable).
inline constexpr std::size_t max_translation_depth = 256;

// The element's bytes in `target`; its own bytes when `target` is its serializer.
// nullopt when it cannot be expressed in `target`: a non-string map key or a NaN in
// JSON, a MsgPack extension type, a CBOR integer below -2^63, a string that
// starts with NUL in JSON (JSON peers would read it as binary), nesting deeper than
// max_translation_depth. Binary crosses losslessly: JSON "\u0000"+base64 string,
// MsgPack bin, CBOR byte string; CBOR tags are dropped and undefined becomes null.
std::optional<std::string> translate_element(const wamp::EncodedElement& element, wamp::Serializer target);

}  // namespace blindrouter::codec
