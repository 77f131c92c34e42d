#pragma once
// Private to the codecs: JSON as a reader and a writer of ValueSink events.
// WAMP spec "Binary conversion of JSON strings": binary is a string whose first
// character is NUL, followed by the base64 of the bytes.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "value_sink.hpp"

namespace blindrouter::codec::detail {

// Reads the one JSON value that `text` holds (surrounding whitespace allowed).
ReadResult read_json(std::string_view text, ValueSink& sink, std::size_t max_depth);

// Writes compact JSON; refuses what JSON cannot express (a non-string key, NaN, a
// string that starts with NUL, text that is not UTF-8).
std::unique_ptr<ValueWriter> make_json_writer();

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace blindrouter::codec::detail
