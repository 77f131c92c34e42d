#pragma once
// Byte scans over string text on the decode path, where a 1 KiB base64 payload is
// most of a JSON frame's bytes (it was the top entry of the ws/json profile, see
// bench/README.md, "round 3"). Both return a count of leading bytes: the caller
// handles the byte that stopped the scan (and validates it) exactly as before.
#include <cstddef>
#include <string_view>

namespace blindrouter::codec::detail {

// How many leading bytes of `text` are plain JSON string text: none of '"', '\\',
// a control character (below 0x20) or a byte >= 0x80 (the start of a UTF-8
// sequence, which the caller validates).
std::size_t plain_json_text_length(std::string_view text);

// How many leading bytes of `text` are ASCII (below 0x80).
std::size_t ascii_length(std::string_view text);

}  // namespace blindrouter::codec::detail
