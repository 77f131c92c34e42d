#pragma once
// Structural questions about an encoded element, answered without decoding the
// values inside it.
#include "blindrouter/wamp/message.hpp"

namespace blindrouter::codec {

// True when the element is a list holding exactly one binary item (the spec's
// Payload PassThru Mode Arguments: [payload]). Reads only the container and item
// headers; the binary bytes are neither copied nor decoded.
bool is_single_binary_list(const wamp::EncodedElement& element);

// True when the element is an empty dict (an ArgumentsKw that carries nothing).
bool is_empty_dict(const wamp::EncodedElement& element);

}  // namespace blindrouter::codec
