#include "msgpack_format.hpp"

#include <msgpack.hpp>

#include <bit>
#include <limits>

namespace blindrouter::codec::detail {
namespace {

// msgpack-cxx's parse() drives a visitor with an explicit stack, so deep nesting
// costs heap, not C++ stack; this visitor hands its events on as ValueSink events.
class MsgpackEvents {
public:
    MsgpackEvents(ValueSink& sink, std::size_t max_depth, std::size_t bytes_left)
        : sink_(sink), max_depth_(max_depth), bytes_left_(bytes_left) {}

    bool visit_nil() { return pass(sink_.null()); }
    bool visit_boolean(bool b) { return pass(sink_.boolean(b)); }
    bool visit_positive_integer(std::uint64_t u) { return pass(sink_.unsigned_integer(u)); }
    // msgpack-cxx reports every signed encoding here, non-negative ones included.
    bool visit_negative_integer(std::int64_t i) {
        return pass(i < 0 ? sink_.integer(i) : sink_.unsigned_integer(static_cast<std::uint64_t>(i)));
    }
    bool visit_float32(float f) { return pass(sink_.floating(f)); }
    bool visit_float64(double d) { return pass(sink_.floating(d)); }
    bool visit_str(const char* s, std::uint32_t n) { return pass(sink_.string(std::string_view(s, n))); }
    bool visit_bin(const char* b, std::uint32_t n) { return pass(sink_.binary(std::string_view(b, n))); }
    // `e` holds the type byte, then the data.
    bool visit_ext(const char* e, std::uint32_t n) {
        std::string_view ext(e, n);
        return pass(ext == msgpackr_undefined ? sink_.undefined() : sink_.extension(ext));
    }
    bool start_array(std::uint32_t n) {
        return enter(n) && pass(sink_.begin_list(n));
    }
    bool start_array_item() { return true; }
    bool end_array_item() { return true; }
    bool end_array() { return --depth_, pass(sink_.end_list()); }
    bool start_map(std::uint32_t n) { return enter(std::size_t{n} * 2) && pass(sink_.begin_dict(n)); }
    bool start_map_key() { return true; }
    bool end_map_key() { return true; }
    bool start_map_value() { return true; }
    bool end_map_value() { return true; }
    bool end_map() { return --depth_, pass(sink_.end_dict()); }
    void parse_error(std::size_t, std::size_t) { fail(ReadError::Kind::malformed, "malformed data"); }
    void insufficient_bytes(std::size_t, std::size_t) { fail(ReadError::Kind::truncated, "truncated data"); }
    bool referenced() const { return false; }
    void set_referenced(bool) {}

    const ReadResult& error() const { return error_; }

private:
    // How msgpackr (the encoder of wampy 8) writes JavaScript's undefined: type 0, one zero byte.
    static constexpr std::string_view msgpackr_undefined{"\0\0", 2};

    // Each element takes at least one byte: a count beyond the bytes left is
    // truncation, found before anything is done with the count.
    bool enter(std::size_t elements) {
        if (elements > bytes_left_) return fail(ReadError::Kind::truncated, "declared length beyond the data");
        if (depth_ == max_depth_) return fail(ReadError::Kind::too_deep, "nesting too deep");
        ++depth_;
        return true;
    }
    bool pass(bool accepted) { return accepted || fail(ReadError::Kind::refused, sink_.refusal()); }
    bool fail(ReadError::Kind kind, std::string_view detail) {
        if (!error_) error_ = ReadError{kind, detail};
        return false;
    }

    ValueSink& sink_;
    std::size_t max_depth_;
    std::size_t bytes_left_;
    std::size_t depth_ = 0;
    ReadResult error_;
};

// msgpack-cxx's packer writes to any stream with write(); this one appends to a string.
struct Appender {
    std::string& out;
    void write(const char* data, std::size_t size) { out.append(data, size); }
};

constexpr std::size_t max_length = std::numeric_limits<std::uint32_t>::max();

class MsgpackWriter final : public ValueWriter {
public:
    bool null() override { return pack([](auto& p) { p.pack_nil(); }); }
    bool boolean(bool b) override { return pack([b](auto& p) { b ? p.pack_true() : p.pack_false(); }); }
    bool integer(std::int64_t i) override { return pack([i](auto& p) { p.pack_int64(i); }); }
    bool unsigned_integer(std::uint64_t u) override { return pack([u](auto& p) { p.pack_uint64(u); }); }
    // Written by hand: msgpack-cxx's pack_double writes an integral double as an
    // integer, which loses the type and -0.0 (and converts 2^64 to uint64, undefined).
    bool floating(double d) override {
        auto bits = std::bit_cast<std::uint64_t>(d);
        out_ += static_cast<char>(0xcb);  // float 64, big-endian
        for (int shift = 56; shift >= 0; shift -= 8) out_ += static_cast<char>((bits >> shift) & 0xff);
        return true;
    }
    bool string(std::string_view s) override {
        return fits(s.size()) && pack([n = static_cast<std::uint32_t>(s.size()), s](auto& p) {
                   p.pack_str(n);
                   p.pack_str_body(s.data(), n);
               });
    }
    bool binary(std::string_view b) override {
        return fits(b.size()) && pack([n = static_cast<std::uint32_t>(b.size()), b](auto& p) {
                   p.pack_bin(n);
                   p.pack_bin_body(b.data(), n);
               });
    }
    bool begin_list(std::optional<std::size_t> size) override {
        return sized(size) && pack([n = *size](auto& p) { p.pack_array(static_cast<std::uint32_t>(n)); });
    }
    bool end_list() override { return true; }
    bool begin_dict(std::optional<std::size_t> size) override {
        return sized(size) && pack([n = *size](auto& p) { p.pack_map(static_cast<std::uint32_t>(n)); });
    }
    bool end_dict() override { return true; }

    wamp::Serializer serializer() const override { return wamp::Serializer::msgpack; }
    bool raw(std::string_view bytes, wamp::ElementKind) override {
        out_.append(bytes);
        return true;
    }
    std::size_t size() const override { return out_.size(); }
    std::string take() override { return std::move(out_); }

private:
    bool fits(std::size_t length) { return length <= max_length || refuse("length beyond MsgPack's 2^32-1"); }
    bool sized(std::optional<std::size_t> size) { return size ? fits(*size) : refuse("container size unknown"); }
    template <typename Pack>
    bool pack(Pack&& pack_into) {
        Appender appender{out_};
        msgpack::packer<Appender> packer(appender);
        pack_into(packer);
        return true;
    }

    std::string out_;
};

}  // namespace

ReadResult read_msgpack(std::string_view data, std::size_t& offset, ValueSink& sink, std::size_t max_depth) {
    MsgpackEvents events(sink, max_depth, data.size() - std::min(offset, data.size()));
    if (msgpack::parse(data.data(), data.size(), offset, events)) return std::nullopt;
    if (events.error()) return events.error();
    return ReadError{ReadError::Kind::malformed, "malformed data"};
}

std::unique_ptr<ValueWriter> make_msgpack_writer() { return std::make_unique<MsgpackWriter>(); }

}  // namespace blindrouter::codec::detail
