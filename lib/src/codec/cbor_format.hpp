#pragma once
// Private to the codecs: CBOR (RFC 8949) as a reader and a writer of ValueSink events.
#include <cstddef>
#include <memory>
#include <string_view>

#include "value_sink.hpp"

namespace blindrouter::codec::detail {

// Reads one CBOR data item (with any tags before it, which are skipped) starting at
// `offset` and moves `offset` past it. Definite and indefinite lengths, half, single
// and double floats; undefined reads as null. Never allocates by a declared length.
ReadResult read_cbor(std::string_view data, std::size_t& offset, ValueSink& sink, std::size_t max_depth);

// Writes CBOR with the shortest heads and float 64; a container without a stated
// size is written with indefinite length.
std::unique_ptr<ValueWriter> make_cbor_writer();

}  // namespace blindrouter::codec::detail
