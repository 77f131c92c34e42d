#pragma once
// Private to the codecs: what the three serializers share once a frame is split
// into the elements of its top-level array, and the writing of a whole message.
#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "blindrouter/codec/decode_result.hpp"
#include "blindrouter/codec/outbound_message.hpp"
#include "blindrouter/wamp/message.hpp"
#include "value_sink.hpp"

namespace blindrouter::codec::detail {

// Options and details are shallow in every WAMP message; deeper nesting is refused
// so that building and writing them cannot exhaust the stack.
inline constexpr std::size_t max_routing_depth = 32;

// Reads the one value that `bytes` holds in `serializer`; bytes after it are an error.
ReadResult read_value(wamp::Serializer serializer, std::string_view bytes, ValueSink& sink, std::size_t max_depth);

// One element of a frame's top-level array, already validated by the serializer.
struct FrameElement {
    std::size_t offset = 0;
    std::size_t size = 0;
    std::optional<wamp::ElementKind> kind;  // nullopt: neither list, dict nor binary
};

// The elements of a frame's top-level array. A frame may hold millions of tiny
// elements, so only as many are kept as the longest message has (ERROR: type code,
// four routing fields, Arguments, ArgumentsKw); the count is kept in full.
class FrameElements {
public:
    static constexpr std::size_t kept = 7;
    void add(const FrameElement& element) {
        if (count_ < kept) kept_[count_] = element;
        ++count_;
    }
    std::size_t size() const { return count_; }
    const FrameElement& operator[](std::size_t i) const { return kept_.at(i); }

private:
    std::array<FrameElement, kept> kept_{};
    std::size_t count_ = 0;
};

// MsgPack and CBOR: reads the top-level array's elements from `offset`, `count` of
// them, or up to the CBOR break stop code when `count` is nullopt (indefinite
// length), checking each whole; the frame must end there. Then decode_elements.
DecodeResult decode_array_items(wamp::Serializer serializer, const std::shared_ptr<const std::string>& frame,
                                std::size_t offset, std::optional<std::size_t> count);

// "invalid MsgPack: truncated data": a frame-level protocol violation.
DecodeResult frame_error(wamp::Serializer serializer, std::string_view detail);

// Checks the elements against the schema table and builds the message: routing
// fields become Values, Arguments and ArgumentsKw stay byte ranges of `frame`.
DecodeResult decode_elements(wamp::Serializer serializer, const std::shared_ptr<const std::string>& frame,
                             const FrameElements& elements);

// Writes an element in the writer's serializer: its bytes as they are when the
// serializers match, translated otherwise. False when it cannot be expressed.
bool write_element(ValueWriter& writer, const wamp::EncodedElement& element);

std::unique_ptr<ValueWriter> make_writer(wamp::Serializer serializer);

// The whole message in `serializer`; nullopt when part of it cannot be expressed.
std::optional<std::string> encode_message(wamp::Serializer serializer, const wamp::Message& message);

// Arguments or ArgumentsKw of at least this many bytes, already in the serializer
// written, are spliced into an EncodedFrame by reference; below it a copy costs
// less than another piece in every receiver's gather write.
inline constexpr std::size_t splice_threshold = 256;

// The same bytes as encode_message, as an EncodedFrame that holds the first large
// element in `serializer` by reference; a null frame when it cannot be expressed.
EncodedFrame encode_frame(wamp::Serializer serializer, const wamp::Message& message);

}  // namespace blindrouter::codec::detail
