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

// One hand-written scanner reads all JSON: whole frames (validated and split into
// their elements without decoding anything), routing fields and elements to
// translate (as ValueSink events), and the payload shape the plugin checks. It
// accepts exactly what rapidjson 1.1.0 (iterative, validating UTF-8) accepts.

// Reads the one JSON value that `text` holds (surrounding whitespace allowed).
ReadResult read_json(std::string_view text, ValueSink& sink, std::size_t max_depth);

// Why a text is no valid frame; `detail` is a fixed text, never input bytes.
struct JsonError {
    std::string_view detail;
    std::size_t offset = 0;
    bool not_an_array = false;  // valid or not, the text does not start with '['
};

// Validates a text whose root is an array and locates the array's elements, in one
// pass over the bytes; nullopt, and `error` filled when given, for invalid text.
std::optional<FrameElements> scan_json_frame(std::string_view text, JsonError* error = nullptr);

// What one element of a frame's root array is, from its first bytes.
std::optional<wamp::ElementKind> json_element_kind(std::string_view element);

// Writes compact JSON; refuses what JSON cannot express (a non-string key, NaN, a
// string that starts with NUL, text that is not UTF-8).
std::unique_ptr<ValueWriter> make_json_writer();

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace blindrouter::codec::detail
