#include "cbor_format.hpp"

#include <cbor.h>

#include <limits>

namespace blindrouter::codec::detail {
namespace {

// libcbor's streaming decoder reports one token per call and keeps no state, so
// this reader keeps the nesting itself on an explicit stack: no recursion, and no
// allocation by a declared length (cbor_load would allocate by it).
class CborReader {
public:
    CborReader(std::string_view data, std::size_t& offset, ValueSink& sink, std::size_t max_depth)
        : data_(data), offset_(offset), sink_(sink), max_depth_(max_depth) {}

    ReadResult run();

    void unsigned_integer(std::uint64_t u) {
        if (begin_item()) deliver(sink_.unsigned_integer(u));
    }
    void negative_integer(std::uint64_t n) {  // the value is -1 - n
        if (!begin_item()) return;
        if (n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            return deliver(sink_.negative_below_int64(n));
        deliver(sink_.integer(-1 - static_cast<std::int64_t>(n)));
    }
    void floating(double d) {
        if (begin_item()) deliver(sink_.floating(d));
    }
    void boolean(bool b) {
        if (begin_item()) deliver(sink_.boolean(b));
    }
    void null() {
        if (begin_item()) deliver(sink_.null());
    }
    void undefined() {
        if (begin_item()) deliver(sink_.undefined());
    }
    void bytes(cbor_data data, std::size_t size) { string_or_chunk(Open::bytes_chunks, data, size); }
    void text(cbor_data data, std::size_t size) { string_or_chunk(Open::text_chunks, data, size); }
    void chunked_bytes_start() { start_chunks(Open::bytes_chunks); }
    void chunked_text_start() { start_chunks(Open::text_chunks); }
    void list_start(std::optional<std::size_t> size) { container_start(false, size); }
    void dict_start(std::optional<std::size_t> size) { container_start(true, size); }
    void tag() {
        if (in_chunks()) return fail(ReadError::Kind::malformed, "tag inside a chunked string");
        tag_pending_ = true;
    }
    void indefinite_break();

private:
    enum class Open : std::uint8_t { list, dict, indefinite_list, indefinite_dict, bytes_chunks, text_chunks };
    struct Frame {
        Open open;
        std::uint64_t items;  // definite: items still to come; indefinite: items seen
    };

    bool in_chunks() const {
        return !stack_.empty() && (stack_.back().open == Open::bytes_chunks || stack_.back().open == Open::text_chunks);
    }
    bool begin_item() {
        if (in_chunks()) return fail(ReadError::Kind::malformed, "chunked string holds a non-string"), false;
        tag_pending_ = false;
        return true;
    }
    void deliver(bool accepted) {
        if (!accepted) return fail(ReadError::Kind::refused, sink_.refusal());
        item_done();
    }
    void string_or_chunk(Open chunks, cbor_data data, std::size_t size);
    void start_chunks(Open chunks);
    void container_start(bool dict, std::optional<std::size_t> size);
    bool close(bool dict);
    void item_done();
    void fail(ReadError::Kind kind, std::string_view detail) {
        if (!error_) error_ = ReadError{kind, detail};
    }

    std::string_view data_;
    std::size_t& offset_;
    ValueSink& sink_;
    std::size_t max_depth_;
    std::size_t depth_ = 0;
    std::vector<Frame> stack_;
    std::string chunks_;
    bool tag_pending_ = false;
    bool done_ = false;
    ReadResult error_;
};

CborReader& reader(void* context) { return *static_cast<CborReader*>(context); }

const cbor_callbacks& callbacks() {
    static const cbor_callbacks table = [] {
        cbor_callbacks c = cbor_empty_callbacks;
        c.uint8 = [](void* r, std::uint8_t v) { reader(r).unsigned_integer(v); };
        c.uint16 = [](void* r, std::uint16_t v) { reader(r).unsigned_integer(v); };
        c.uint32 = [](void* r, std::uint32_t v) { reader(r).unsigned_integer(v); };
        c.uint64 = [](void* r, std::uint64_t v) { reader(r).unsigned_integer(v); };
        c.negint8 = [](void* r, std::uint8_t v) { reader(r).negative_integer(v); };
        c.negint16 = [](void* r, std::uint16_t v) { reader(r).negative_integer(v); };
        c.negint32 = [](void* r, std::uint32_t v) { reader(r).negative_integer(v); };
        c.negint64 = [](void* r, std::uint64_t v) { reader(r).negative_integer(v); };
        c.byte_string = [](void* r, cbor_data d, std::size_t n) { reader(r).bytes(d, n); };
        c.byte_string_start = [](void* r) { reader(r).chunked_bytes_start(); };
        c.string = [](void* r, cbor_data d, std::size_t n) { reader(r).text(d, n); };
        c.string_start = [](void* r) { reader(r).chunked_text_start(); };
        c.array_start = [](void* r, std::size_t n) { reader(r).list_start(n); };
        c.indef_array_start = [](void* r) { reader(r).list_start(std::nullopt); };
        c.map_start = [](void* r, std::size_t n) { reader(r).dict_start(n); };
        c.indef_map_start = [](void* r) { reader(r).dict_start(std::nullopt); };
        c.tag = [](void* r, std::uint64_t) { reader(r).tag(); };
        c.float2 = [](void* r, float f) { reader(r).floating(f); };
        c.float4 = [](void* r, float f) { reader(r).floating(f); };
        c.float8 = [](void* r, double d) { reader(r).floating(d); };
        c.undefined = [](void* r) { reader(r).undefined(); };
        c.null = [](void* r) { reader(r).null(); };
        c.boolean = [](void* r, bool b) { reader(r).boolean(b); };
        c.indef_break = [](void* r) { reader(r).indefinite_break(); };
        return c;
    }();
    return table;
}

ReadResult CborReader::run() {
    while (!done_ && !error_) {
        if (offset_ >= data_.size()) return ReadError{ReadError::Kind::truncated, "truncated data"};
        auto result = cbor_stream_decode(reinterpret_cast<cbor_data>(data_.data() + offset_), data_.size() - offset_,
                                         &callbacks(), this);
        if (error_) break;
        if (result.status == CBOR_DECODER_NEDATA) return ReadError{ReadError::Kind::truncated, "truncated data"};
        if (result.status != CBOR_DECODER_FINISHED) return ReadError{ReadError::Kind::malformed, "malformed data"};
        offset_ += result.read;
    }
    return error_;
}

void CborReader::string_or_chunk(Open chunks, cbor_data data, std::size_t size) {
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    if (in_chunks()) {
        if (stack_.back().open != chunks) return fail(ReadError::Kind::malformed, "chunk of the wrong string type");
        chunks_.append(bytes);
        return;
    }
    if (begin_item()) deliver(chunks == Open::bytes_chunks ? sink_.binary(bytes) : sink_.string(bytes));
}

void CborReader::start_chunks(Open chunks) {
    if (!begin_item()) return;
    stack_.push_back(Frame{chunks, 0});
    chunks_.clear();
}

void CborReader::container_start(bool dict, std::optional<std::size_t> size) {
    if (!begin_item()) return;
    // Each element takes at least one byte: a count beyond the bytes left is
    // truncation, found before anything is done with the count.
    std::size_t bytes_left = data_.size() - offset_;
    if (size && *size > (dict ? bytes_left / 2 : bytes_left))
        return fail(ReadError::Kind::truncated, "declared length beyond the data");
    if (depth_ == max_depth_) return fail(ReadError::Kind::too_deep, "nesting too deep");
    ++depth_;
    if (!(dict ? sink_.begin_dict(size) : sink_.begin_list(size)))
        return fail(ReadError::Kind::refused, sink_.refusal());
    if (!size) {
        stack_.push_back(Frame{dict ? Open::indefinite_dict : Open::indefinite_list, 0});
    } else if (*size == 0) {
        if (close(dict)) item_done();
    } else {
        stack_.push_back(Frame{dict ? Open::dict : Open::list, dict ? *size * 2 : *size});
    }
}

bool CborReader::close(bool dict) {
    --depth_;
    if (dict ? sink_.end_dict() : sink_.end_list()) return true;
    fail(ReadError::Kind::refused, sink_.refusal());
    return false;
}

void CborReader::item_done() {
    while (!stack_.empty()) {
        auto& top = stack_.back();
        if (top.open == Open::indefinite_list || top.open == Open::indefinite_dict) {
            ++top.items;
            return;
        }
        if (--top.items > 0) return;
        bool dict = top.open == Open::dict;
        stack_.pop_back();
        if (!close(dict)) return;
    }
    done_ = true;
}

void CborReader::indefinite_break() {
    if (tag_pending_) return fail(ReadError::Kind::malformed, "tag without an item");
    if (stack_.empty()) return fail(ReadError::Kind::malformed, "break outside an indefinite item");
    auto top = stack_.back();
    switch (top.open) {
        case Open::bytes_chunks:
        case Open::text_chunks:
            stack_.pop_back();
            return deliver(top.open == Open::bytes_chunks ? sink_.binary(chunks_) : sink_.string(chunks_));
        case Open::indefinite_dict:
            if (top.items % 2 != 0) return fail(ReadError::Kind::malformed, "map key without a value");
            [[fallthrough]];
        case Open::indefinite_list:
            stack_.pop_back();
            if (close(top.open == Open::indefinite_dict)) item_done();
            return;
        case Open::list:
        case Open::dict:
            return fail(ReadError::Kind::malformed, "break inside a definite-length item");
    }
}

// libcbor's cbor_encode_* write one head (or a whole scalar) into a buffer.
class CborWriter final : public ValueWriter {
public:
    bool null() override { return put(cbor_encode_null); }
    bool boolean(bool b) override { return put([b](unsigned char* o, std::size_t n) { return cbor_encode_bool(b, o, n); }); }
    bool integer(std::int64_t i) override {
        if (i >= 0) return unsigned_integer(static_cast<std::uint64_t>(i));
        return put([n = static_cast<std::uint64_t>(-1 - i)](unsigned char* o, std::size_t s) {
            return cbor_encode_negint(n, o, s);
        });
    }
    bool unsigned_integer(std::uint64_t u) override {
        return put([u](unsigned char* o, std::size_t n) { return cbor_encode_uint(u, o, n); });
    }
    bool floating(double d) override {
        return put([d](unsigned char* o, std::size_t n) { return cbor_encode_double(d, o, n); });
    }
    bool string(std::string_view s) override {
        return put([&s](unsigned char* o, std::size_t n) { return cbor_encode_string_start(s.size(), o, n); }) &&
               append(s);
    }
    bool binary(std::string_view b) override {
        return put([&b](unsigned char* o, std::size_t n) { return cbor_encode_bytestring_start(b.size(), o, n); }) &&
               append(b);
    }
    bool begin_list(std::optional<std::size_t> size) override {
        indefinite_.push_back(!size);
        if (!size) return put(cbor_encode_indef_array_start);
        return put([s = *size](unsigned char* o, std::size_t n) { return cbor_encode_array_start(s, o, n); });
    }
    bool end_list() override { return close(); }
    bool begin_dict(std::optional<std::size_t> size) override {
        indefinite_.push_back(!size);
        if (!size) return put(cbor_encode_indef_map_start);
        return put([s = *size](unsigned char* o, std::size_t n) { return cbor_encode_map_start(s, o, n); });
    }
    bool end_dict() override { return close(); }

    wamp::Serializer serializer() const override { return wamp::Serializer::cbor; }
    bool raw(std::string_view bytes, wamp::ElementKind) override { return append(bytes); }
    std::size_t size() const override { return out_.size(); }
    std::string take() override { return std::move(out_); }
    std::string_view view() const override { return out_; }

protected:
    void clear() override {
        if (out_.capacity() > writer_kept_capacity) std::string{}.swap(out_);
        out_.clear();
        indefinite_.clear();
    }

private:
    template <typename Encode>
    bool put(Encode encode) {
        unsigned char head[9];  // the longest: initial byte and an 8-byte argument
        std::size_t size = encode(head, sizeof head);
        out_.append(reinterpret_cast<const char*>(head), size);
        return size > 0 || refuse("CBOR head does not fit");
    }
    bool append(std::string_view bytes) {
        out_.append(bytes);
        return true;
    }
    bool close() {
        bool indefinite = indefinite_.back();
        indefinite_.pop_back();
        return !indefinite || put(cbor_encode_break);
    }

    std::string out_;
    std::vector<bool> indefinite_;
};

}  // namespace

ReadResult read_cbor(std::string_view data, std::size_t& offset, ValueSink& sink, std::size_t max_depth) {
    return CborReader(data, offset, sink, max_depth).run();
}

std::unique_ptr<ValueWriter> make_cbor_writer() { return std::make_unique<CborWriter>(); }

}  // namespace blindrouter::codec::detail
