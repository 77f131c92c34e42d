#include "msgpack_format.hpp"

#include <boost/container/small_vector.hpp>
#include <msgpack.hpp>

#include <bit>
#include <limits>

namespace blindrouter::codec::detail {
namespace {

// Read by hand rather than with msgpack-cxx's parse(): that allocates its container
// stack (a vector of 32 entries) on every call, and a PUBLISH reads seven values (each
// top-level element, then the routing fields): seven mallocs per message on the fast
// path. MsgPack's item headers are a table of fixed forms (msgpack spec, "Formats").
// Iterative, with the open containers on an explicit stack: Arguments may nest
// 100,000 deep, which costs heap here, never C++ stack.
class MsgpackReader {
public:
    MsgpackReader(std::string_view data, std::size_t& offset, ValueSink& sink, std::size_t max_depth)
        : data_(data), offset_(offset), sink_(sink), max_depth_(max_depth) {}

    ReadResult read() {
        do {
            if (!item()) return error_;
            if (opened_) {  // a container's first item comes next
                opened_ = false;
                continue;
            }
            // An item is complete: it counts against its container, which may end too.
            while (!open_.empty() && --open_.back().remaining == 0) {
                bool dict = open_.back().dict;
                open_.pop_back();
                if (!pass(dict ? sink_.end_dict() : sink_.end_list())) return error_;
            }
        } while (!open_.empty());
        return std::nullopt;
    }

private:
    struct Open {
        std::uint64_t remaining;  // items still to come; a dict counts keys and values
        bool dict;
    };

    // How msgpackr (the encoder of wampy 8) writes JavaScript's undefined: type 0, one zero byte.
    static constexpr std::string_view msgpackr_undefined{"\0\0", 2};

    // Reads one item's header and, for a scalar, its value; a container is opened.
    bool item() {
        if (!need(1)) return false;
        auto b = byte(offset_++);
        if (b <= 0x7f) return pass(sink_.unsigned_integer(b));
        if (b >= 0xe0) return pass(sink_.integer(static_cast<std::int8_t>(b)));
        if (b <= 0x8f) return container(b & 0x0f, true);
        if (b <= 0x9f) return container(b & 0x0f, false);
        if (b <= 0xbf) return text(b & 0x1f);
        switch (b) {
            case 0xc0: return pass(sink_.null());
            case 0xc2: return pass(sink_.boolean(false));
            case 0xc3: return pass(sink_.boolean(true));
            case 0xc4: case 0xc5: case 0xc6: {
                std::uint64_t n = 0;
                return big_endian(std::size_t{1} << (b - 0xc4), n) && bytes(n, [this](std::string_view v) {
                           return sink_.binary(v);
                       });
            }
            case 0xc7: case 0xc8: case 0xc9: {
                std::uint64_t n = 0;
                return big_endian(std::size_t{1} << (b - 0xc7), n) && extension(n);
            }
            case 0xca: {
                std::uint64_t bits = 0;
                return big_endian(4, bits) &&
                       pass(sink_.floating(std::bit_cast<float>(static_cast<std::uint32_t>(bits))));
            }
            case 0xcb: {
                std::uint64_t bits = 0;
                return big_endian(8, bits) && pass(sink_.floating(std::bit_cast<double>(bits)));
            }
            case 0xcc: case 0xcd: case 0xce: case 0xcf: {
                std::uint64_t u = 0;
                return big_endian(std::size_t{1} << (b - 0xcc), u) && pass(sink_.unsigned_integer(u));
            }
            case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
                std::size_t width = std::size_t{1} << (b - 0xd0);
                std::uint64_t u = 0;
                if (!big_endian(width, u)) return false;
                // Sign-extended from its width; a non-negative value is unsigned to the sink.
                auto shift = static_cast<int>(64 - 8 * width);
                auto i = static_cast<std::int64_t>(u << shift) >> shift;
                return pass(i < 0 ? sink_.integer(i) : sink_.unsigned_integer(static_cast<std::uint64_t>(i)));
            }
            case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
                return extension(std::uint64_t{1} << (b - 0xd4));
            case 0xd9: case 0xda: case 0xdb: {
                std::uint64_t n = 0;
                return big_endian(std::size_t{1} << (b - 0xd9), n) && text(n);
            }
            case 0xdc: case 0xdd: {
                std::uint64_t n = 0;
                return big_endian(std::size_t{2} << (b - 0xdc), n) && container(n, false);
            }
            case 0xde: case 0xdf: {
                std::uint64_t n = 0;
                return big_endian(std::size_t{2} << (b - 0xde), n) && container(n, true);
            }
            default:  // 0xc1, the one byte MsgPack never uses
                return fail(ReadError::Kind::malformed, "malformed data");
        }
    }

    // Each element takes at least one byte: a count beyond the bytes left is
    // truncation, found before anything is done with the count.
    bool container(std::uint64_t count, bool dict) {
        std::uint64_t items = dict ? count * 2 : count;
        if (items > data_.size() - offset_) return fail(ReadError::Kind::truncated, "declared length beyond the data");
        if (open_.size() == max_depth_) return fail(ReadError::Kind::too_deep, "nesting too deep");
        if (!pass(dict ? sink_.begin_dict(count) : sink_.begin_list(count))) return false;
        if (items == 0) return pass(dict ? sink_.end_dict() : sink_.end_list());
        open_.push_back(Open{items, dict});
        opened_ = true;
        return true;
    }
    bool text(std::uint64_t n) {
        return bytes(n, [this](std::string_view v) { return sink_.string(v); });
    }
    // The type byte, then the data, as one view.
    bool extension(std::uint64_t n) {
        return bytes(n + 1, [this](std::string_view v) {
            return v == msgpackr_undefined ? sink_.undefined() : sink_.extension(v);
        });
    }
    template <class Deliver>
    bool bytes(std::uint64_t n, Deliver&& deliver) {
        if (!need(n)) return false;
        std::string_view v(data_.data() + offset_, static_cast<std::size_t>(n));
        offset_ += static_cast<std::size_t>(n);
        return pass(deliver(v));
    }
    bool big_endian(std::size_t width, std::uint64_t& value) {
        if (!need(width)) return false;
        for (std::size_t i = 0; i < width; ++i) value = value << 8 | byte(offset_++);
        return true;
    }
    bool need(std::uint64_t n) {
        return n <= data_.size() - offset_ || fail(ReadError::Kind::truncated, "truncated data");
    }
    std::uint8_t byte(std::size_t at) const { return static_cast<std::uint8_t>(data_[at]); }
    bool pass(bool accepted) { return accepted || fail(ReadError::Kind::refused, sink_.refusal()); }
    bool fail(ReadError::Kind kind, std::string_view detail) {
        error_ = ReadError{kind, detail};
        return false;
    }

    std::string_view data_;
    std::size_t& offset_;
    ValueSink& sink_;
    std::size_t max_depth_;
    // Routing fields nest a few levels: those never touch the heap.
    boost::container::small_vector<Open, 8> open_;
    bool opened_ = false;
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
    // An EVENT or INVOCATION around a spliced payload takes well under this: one
    // allocation instead of the string's doublings.
    MsgpackWriter() { out_.reserve(initial_capacity); }
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
    std::string_view view() const override { return out_; }

protected:
    void clear() override {
        if (out_.capacity() > writer_kept_capacity) {
            std::string{}.swap(out_);
            out_.reserve(initial_capacity);
        }
        out_.clear();
    }

private:
    static constexpr std::size_t initial_capacity = 256;
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
    if (offset > data.size()) return ReadError{ReadError::Kind::truncated, "truncated data"};
    return MsgpackReader(data, offset, sink, max_depth).read();
}

std::unique_ptr<ValueWriter> make_msgpack_writer() { return std::make_unique<MsgpackWriter>(); }

}  // namespace blindrouter::codec::detail
