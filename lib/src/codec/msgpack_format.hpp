#pragma once
// Private to the codecs: MsgPack as a reader and a writer of ValueSink events.
#include <cstddef>
#include <memory>
#include <string_view>

#include "value_sink.hpp"

namespace blindrouter::codec::detail {

// Reads one MsgPack object starting at `offset` and moves `offset` past it.
// Never allocates by a declared length: a length beyond the bytes left is truncation.
ReadResult read_msgpack(std::string_view data, std::size_t& offset, ValueSink& sink, std::size_t max_depth);

// Writes MsgPack with the shortest integer forms and float 64; containers need
// their sizes up front (MsgPack has no indefinite length).
std::unique_ptr<ValueWriter> make_msgpack_writer();

}  // namespace blindrouter::codec::detail
