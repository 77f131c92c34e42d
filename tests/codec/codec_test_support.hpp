#pragma once
// Helpers for the codec tests: frames written as hex, exact error assertions, and
// a probe of the largest single allocation a piece of code makes.
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "blindrouter/codec/decode_result.hpp"
#include "blindrouter/wamp/message.hpp"

namespace blindrouter::testing {

// "96 10 07" or "961007": the bytes those hex digits spell.
std::string from_hex(std::string_view hex);
std::string bytes_of(const wamp::EncodedElement& element);
// An element that is the whole of `bytes`, as a decoder would have made it.
wamp::EncodedElement element_of(wamp::Serializer serializer, wamp::ElementKind kind, const std::string& bytes);

// EVENT [36, 11, 12, {}] carrying the Arguments and ArgumentsKw of `source`.
wamp::Message event_carrying(const wamp::Message& source);
// RESULT [50, 3, {}] carrying only the ArgumentsKw of `source`.
wamp::Message result_carrying_kwargs(const wamp::Message& source);
// ERROR [8, 48, 2, {}, "wamp.error.y", ["why"], {"n": -1, "b": b"\x01\x02"}], as the router writes one.
wamp::Message router_error();

using Decoder = codec::DecodeResult (*)(std::shared_ptr<const std::string>);
codec::DecodeResult decode_with(Decoder decoder, const std::string& frame);
// Decoding fails with a reason that contains `reason_part`.
void expect_violation(Decoder decoder, const std::string& frame, const std::string& reason_part);

// The largest single operator new request `run` makes (the test binary replaces
// the global operator new to record it).
std::size_t largest_allocation_during(const std::function<void()>& run);
// How many operator new requests `run` makes.
std::size_t allocations_during(const std::function<void()>& run);
// expect_violation, and no single allocation while decoding above a few KiB.
void expect_violation_in_small_allocations(Decoder decoder, const std::string& frame, const std::string& reason_part);

}  // namespace blindrouter::testing
