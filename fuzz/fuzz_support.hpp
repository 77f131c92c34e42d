#pragma once
// Shared by the decode fuzzers: decode the input with one serializer and, when it
// decodes, write the message in all three and check what is written.
#include <cstddef>
#include <cstdint>

#include "blindrouter/wamp/serializer.hpp"

namespace blindrouter::fuzz {

// Decodes `data` as `serializer`. A decoded message is encoded in every serializer;
// whatever an encoder writes must decode again, and encoding that once more must
// give the same bytes. A broken expectation aborts, which libFuzzer reports.
void decode_and_reencode(wamp::Serializer serializer, const std::uint8_t* data, std::size_t size);

}  // namespace blindrouter::fuzz
