#include "message_elements.hpp"

#include <cstring>

#include "blindrouter/codec/message_schema_check.hpp"
#include "cbor_format.hpp"
#include "json_format.hpp"
#include "msgpack_format.hpp"

namespace blindrouter::codec::detail {
namespace {

// One MsgPack or CBOR item at `offset`; moves `offset` past it.
ReadResult read_item(wamp::Serializer serializer, std::string_view data, std::size_t& offset, ValueSink& sink,
                     std::size_t max_depth) {
    return serializer == wamp::Serializer::msgpack ? read_msgpack(data, offset, sink, max_depth)
                                                   : read_cbor(data, offset, sink, max_depth);
}

}  // namespace

ReadResult read_value(wamp::Serializer serializer, std::string_view bytes, ValueSink& sink, std::size_t max_depth) {
    if (serializer == wamp::Serializer::json) return read_json(bytes, sink, max_depth);
    std::size_t offset = 0;
    auto error = read_item(serializer, bytes, offset, sink, max_depth);
    if (!error && offset != bytes.size()) return ReadError{ReadError::Kind::malformed, "trailing bytes"};
    return error;
}

DecodeResult frame_error(wamp::Serializer serializer, std::string_view detail) {
    std::string reason = "invalid ";
    reason.append(serializer == wamp::Serializer::msgpack ? "MsgPack" : "CBOR").append(": ").append(detail);
    return DecodeResult::fail(std::move(reason));
}

DecodeResult decode_array_items(wamp::Serializer serializer, const std::shared_ptr<const std::string>& frame,
                                std::size_t offset, std::optional<std::size_t> count) {
    constexpr char cbor_break = static_cast<char>(0xff);
    std::string_view data(*frame);
    // Each element takes at least one byte: a count beyond the bytes left is
    // refused before anything is done with it.
    if (count && *count > data.size() - offset) return frame_error(serializer, "declared length beyond the data");
    FrameElements elements;
    for (std::size_t i = 0; count ? i < *count : true; ++i) {
        if (!count && offset < data.size() && data[offset] == cbor_break) {
            ++offset;
            break;
        }
        KindProbe probe;
        auto start = offset;
        if (auto error = read_item(serializer, data, offset, probe, unlimited_depth))
            return frame_error(serializer, error->detail);
        elements.add(FrameElement{start, offset - start, probe.kind()});
    }
    if (offset != data.size()) return frame_error(serializer, "trailing bytes after the message array");
    return decode_elements(serializer, frame, elements);
}

DecodeResult decode_elements(wamp::Serializer serializer, const std::shared_ptr<const std::string>& frame,
                             const FrameElements& elements) {
    if (elements.size() == 0) return DecodeResult::fail("empty message");
    auto read = [&](const FrameElement& element, ValueSink& sink) {
        return read_value(serializer, std::string_view(*frame).substr(element.offset, element.size), sink,
                          max_routing_depth);
    };

    ValueBuilder type_code;
    auto code = read(elements[0], type_code) ? std::nullopt : type_code.take().as_unsigned();
    if (!code) return DecodeResult::fail("message type is not an integer");
    const auto* schema = wamp::schema_for(*code);
    if (!schema) return DecodeResult::fail("unknown message type " + std::to_string(*code));

    auto layout = layout_for(*schema, elements.size() - 1);
    if (!layout || elements.size() > FrameElements::kept)
        return DecodeResult::fail("invalid message length " + std::to_string(elements.size()) + " for " +
                                  std::string(schema->name));

    wamp::Message message;
    message.type = schema->type;
    message.fields.reserve(layout->routing_fields);
    for (std::size_t i = 0; i < layout->routing_fields; ++i) {
        const auto& field = schema->fields[i];
        ValueBuilder builder;
        if (auto error = read(elements[i + 1], builder)) {
            std::string reason;
            reason.append("'").append(field.name).append("' in ").append(schema->name).append(": ");
            if (error->kind == ReadError::Kind::too_deep)
                reason.append("nesting deeper than ").append(std::to_string(max_routing_depth));
            else
                reason.append(error->detail);
            return DecodeResult::fail(std::move(reason));
        }
        auto value = builder.take();
        if (auto problem = check_field(*schema, field, value)) return DecodeResult::fail(*problem);
        message.fields.push_back(std::move(value));
    }

    for (std::size_t i = 0; i < layout->argument_elements; ++i) {
        const auto& element = elements[1 + layout->routing_fields + i];
        bool is_kwargs = i == 1;
        bool acceptable = is_kwargs ? element.kind == wamp::ElementKind::dict
                                    : (element.kind == wamp::ElementKind::list ||
                                       (element.kind == wamp::ElementKind::binary && layout->argument_elements == 1));
        if (!acceptable)
            return DecodeResult::fail(std::string(is_kwargs ? "'ArgumentsKw'" : "'Arguments'") + " in " +
                                      std::string(schema->name) + ": invalid type, expected " +
                                      (is_kwargs ? "dict" : "list or binary payload"));
        (is_kwargs ? message.arguments_kw : message.arguments)
            .emplace(serializer, *element.kind, frame, element.offset, element.size);
    }
    message.received_frame = frame;
    return DecodeResult::ok(std::move(message));
}

std::unique_ptr<ValueWriter> make_writer(wamp::Serializer serializer) {
    switch (serializer) {
        case wamp::Serializer::msgpack:
            return make_msgpack_writer();
        case wamp::Serializer::cbor:
            return make_cbor_writer();
        case wamp::Serializer::json:
            break;
    }
    return make_json_writer();
}

namespace {

// Where an element left out of the written bytes goes back (encode_frame).
struct Splice {
    const wamp::EncodedElement* element;
    std::size_t at;
};

// Writes Arguments or ArgumentsKw; with `splice`, the first large element already in
// the writer's serializer is left out and its place recorded.
bool write_argument(ValueWriter& writer, const wamp::EncodedElement& element, std::optional<Splice>* splice) {
    if (splice && !*splice && element.serializer() == writer.serializer() && element.size() >= splice_threshold) {
        // An empty raw value: the writer puts the separator before it (JSON's ',').
        if (!writer.raw({}, element.kind())) return false;
        splice->emplace(Splice{&element, writer.size()});
        return true;
    }
    return write_element(writer, element);
}

bool write_message(ValueWriter& writer, const wamp::Message& message, std::optional<Splice>* splice) {
    bool has_kwargs = message.arguments_kw || message.router_arguments_kw;
    bool has_args = message.arguments || message.router_arguments || has_kwargs;
    std::size_t count = 1 + message.fields.size() + (has_args ? 1 : 0) + (has_kwargs ? 1 : 0);
    if (!writer.begin_list(count)) return false;
    if (!writer.unsigned_integer(static_cast<std::uint64_t>(message.type))) return false;
    for (const auto& field : message.fields)
        if (!emit(field, writer)) return false;

    if (message.arguments) {
        if (!write_argument(writer, *message.arguments, splice)) return false;
    } else if (message.router_arguments) {
        if (!emit(*message.router_arguments, writer)) return false;
    } else if (has_kwargs) {
        if (!writer.begin_list(0) || !writer.end_list()) return false;
    }
    if (message.arguments_kw) {
        if (!write_argument(writer, *message.arguments_kw, splice)) return false;
    } else if (message.router_arguments_kw) {
        if (!emit(*message.router_arguments_kw, writer)) return false;
    }
    return writer.end_list();
}

}  // namespace

namespace {

// This thread's writer for `serializer`, emptied when the lease ends: encoding a
// message then allocates only for the bytes it hands out, not for a writer and
// its growing buffer each time (bench/README.md, "Issue 16: round 5"). Nothing
// encodes while a message is being encoded, so one writer per serializer serves.
class WriterLease {
public:
    explicit WriterLease(wamp::Serializer serializer) : writer_(writer_for(serializer)) {}
    ~WriterLease() { writer_.reset(); }
    WriterLease(const WriterLease&) = delete;
    WriterLease& operator=(const WriterLease&) = delete;
    ValueWriter& operator*() const { return writer_; }

private:
    static ValueWriter& writer_for(wamp::Serializer serializer) {
        thread_local std::array<std::unique_ptr<ValueWriter>, wamp::serializer_count> writers;
        auto& writer = writers[static_cast<std::size_t>(serializer)];
        if (!writer) writer = make_writer(serializer);
        return *writer;
    }
    ValueWriter& writer_;
};

}  // namespace

std::optional<std::string> encode_message(wamp::Serializer serializer, const wamp::Message& message) {
    WriterLease writer(serializer);
    if (!write_message(*writer, message, nullptr)) return std::nullopt;
    return std::string((*writer).view());
}

EncodedFrame encode_frame(wamp::Serializer serializer, const wamp::Message& message) {
    WriterLease writer(serializer);
    std::optional<Splice> splice;
    if (!write_message(*writer, message, &splice)) return {};
    // The bytes and their reference count in one allocation.
    auto bytes = (*writer).view();
    auto block = std::make_shared_for_overwrite<char[]>(bytes.size());
    auto* data = block.get();
    std::memcpy(data, bytes.data(), bytes.size());
    std::shared_ptr<const char> shared(std::move(block), data);
    if (!splice) return EncodedFrame(std::move(shared), bytes.size());
    return EncodedFrame(std::move(shared), bytes.size(), splice->at, *splice->element);
}

}  // namespace blindrouter::codec::detail
