#pragma once
// Private to the codecs: JSON as a reader and a writer of ValueSink events.
// WAMP spec "Binary conversion of JSON strings": binary is a string whose first
// character is NUL, followed by the base64 of the bytes.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "message_elements.hpp"
#include "value_sink.hpp"

namespace blindrouter::codec::detail {

// Reads the one JSON value that `text` holds (surrounding whitespace allowed).
ReadResult read_json(std::string_view text, ValueSink& sink, std::size_t max_depth);

// Validates a whole frame whose root is an array and locates the array's elements, in
// one pass over the bytes. Accepts only text that rapidjson (iterative, validating
// UTF-8) accepts; nullopt for everything else, and also for a few valid rarities
// (a byte order mark, a lone low surrogate escape, a number near the limits of a
// double): the caller then parses with rapidjson, which gives the exact error.
std::optional<FrameElements> scan_json_frame(std::string_view text);

// What one element of a frame's root array is, from its first bytes.
std::optional<wamp::ElementKind> json_element_kind(std::string_view element);

// Writes compact JSON; refuses what JSON cannot express (a non-string key, NaN, a
// string that starts with NUL, text that is not UTF-8).
std::unique_ptr<ValueWriter> make_json_writer();

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace blindrouter::codec::detail
