#pragma once
// Private to the codecs: the events a serializer's reader produces and a sink
// consumes. One reader per serializer and one writer per serializer then serve
// decoding routing fields, validating arguments and translating between
// serializers, instead of a converter for every pair.
#include <boost/container/small_vector.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "blindrouter/wamp/message.hpp"
#include "blindrouter/wamp/value.hpp"

namespace blindrouter::codec::detail {

class ValueSink {
public:
    virtual ~ValueSink() = default;
    // Each returns false to stop the reader; refusal() then says why.
    virtual bool null() = 0;
    virtual bool boolean(bool b) = 0;
    virtual bool integer(std::int64_t i) = 0;  // readers send non-negative values as unsigned_integer
    virtual bool unsigned_integer(std::uint64_t u) = 0;
    virtual bool floating(double d) = 0;
    virtual bool string(std::string_view s) = 0;
    virtual bool binary(std::string_view bytes) = 0;
    // JavaScript's undefined: CBOR's simple value 23, and in MsgPack the extension
    // msgpackr writes for it (fixext 1, type 0, data 0). JSON has none. Written as
    // null when translated.
    virtual bool undefined() { return null(); }
    // Values only one serializer has; only opaque validation (KindProbe) accepts them.
    virtual bool extension(std::string_view) { return refuse("MsgPack extension type"); }
    virtual bool negative_below_int64(std::uint64_t) { return refuse("negative integer below -2^63"); }
    // size: the element count (pairs for a dict) when the serializer states it up front.
    virtual bool begin_list(std::optional<std::size_t> size) = 0;
    virtual bool end_list() = 0;
    virtual bool begin_dict(std::optional<std::size_t> size) = 0;
    virtual bool end_dict() = 0;

    // A fixed text, never input bytes: it ends up in ABORT details and logs.
    std::string_view refusal() const { return refusal_; }

protected:
    bool refuse(std::string_view why) {
        refusal_ = why;
        return false;
    }
    void clear_refusal() { refusal_ = {}; }

private:
    std::string_view refusal_;
};

// Why a reader stopped; `detail` is a fixed text, never input bytes.
struct ReadError {
    enum class Kind : std::uint8_t { truncated, malformed, too_deep, refused };
    Kind kind;
    std::string_view detail;
};
using ReadResult = std::optional<ReadError>;  // nullopt: one complete value was read

inline constexpr std::size_t unlimited_depth = std::numeric_limits<std::size_t>::max();

// A sink that writes one serializer's bytes. raw() splices one complete value that
// is already in this serializer, as the next item.
class ValueWriter : public ValueSink {
public:
    virtual wamp::Serializer serializer() const = 0;
    virtual bool raw(std::string_view bytes, wamp::ElementKind kind) = 0;
    // Bytes written so far.
    virtual std::size_t size() const = 0;
    virtual std::string take() = 0;
    // The bytes written so far, valid until the next write or reset().
    virtual std::string_view view() const = 0;
    // Empty again for the next message, whatever state a refused write left. Keeps its
    // buffer (a thread reuses one writer per serializer, encode_frame) unless the last
    // message took more than writer_kept_capacity.
    void reset() {
        clear_refusal();
        clear();
    }

protected:
    virtual void clear() = 0;
};

// Bytes of buffer a writer keeps between messages: EVENTs and INVOCATIONs around a
// spliced payload take a few hundred, so the buffer is reused; a larger one (a
// translated payload) is freed, so a thread keeps at most this much per serializer.
inline constexpr std::size_t writer_kept_capacity = 64 * 1024;

// Builds a routing Value. Strings must be UTF-8 and dict keys strings, so that
// every Value it builds can be written in every serializer; a dict's keys must be
// distinct, at any depth, so that every reader of the Value sees the same thing.
// Arguments and ArgumentsKw never come here (the router does not read them), so
// their dicts are not checked.
class ValueBuilder final : public ValueSink {
public:
    bool null() override { return place(wamp::Value{}); }
    bool boolean(bool b) override { return place(wamp::Value{b}); }
    bool integer(std::int64_t i) override { return place(wamp::Value{i}); }
    bool unsigned_integer(std::uint64_t u) override { return place(wamp::Value{u}); }
    bool floating(double d) override { return place(wamp::Value{d}); }
    bool string(std::string_view s) override;
    bool binary(std::string_view bytes) override { return place(wamp::Value{wamp::Binary{std::string(bytes)}}); }
    bool undefined() override;
    // Reserved up to a few entries only: a few bytes may declare billions of elements.
    // Options and details hold a handful of keys, which then take one allocation.
    bool begin_list(std::optional<std::size_t>) override { return open(wamp::Value{wamp::List{}}); }
    bool end_list() override { return close(); }
    bool begin_dict(std::optional<std::size_t> size) override {
        wamp::Dict dict;
        dict.reserve(std::min<std::size_t>(size.value_or(0), dict_max_reserved));
        return open(wamp::Value{std::move(dict)});
    }
    bool end_dict() override { return close(); }

    wamp::Value take() { return std::move(root_); }

    static constexpr std::size_t dict_max_reserved = 8;
    static constexpr std::size_t dict_first_capacity = 4;

private:
    struct Open {
        wamp::Value container;
        std::optional<std::string> key;  // a dict's key waiting for its value
    };
    bool expecting_key() const;
    bool place(wamp::Value value);
    bool open(wamp::Value container);
    bool close();

    // Routing fields nest a few levels: those are built without a heap stack.
    boost::container::small_vector<Open, 4> open_;
    wamp::Value root_;
};

// Accepts any value and notes what its root is: how a decoder checks the kind of
// Arguments and ArgumentsKw without building them.
class KindProbe final : public ValueSink {
public:
    bool null() override { return note(std::nullopt); }
    bool boolean(bool) override { return note(std::nullopt); }
    bool integer(std::int64_t) override { return note(std::nullopt); }
    bool unsigned_integer(std::uint64_t) override { return note(std::nullopt); }
    bool floating(double) override { return note(std::nullopt); }
    bool string(std::string_view) override { return note(std::nullopt); }
    bool binary(std::string_view) override { return note(wamp::ElementKind::binary); }
    bool extension(std::string_view) override { return note(std::nullopt); }
    bool negative_below_int64(std::uint64_t) override { return note(std::nullopt); }
    bool begin_list(std::optional<std::size_t>) override { return note(wamp::ElementKind::list); }
    bool end_list() override { return true; }
    bool begin_dict(std::optional<std::size_t>) override { return note(wamp::ElementKind::dict); }
    bool end_dict() override { return true; }

    std::optional<wamp::ElementKind> kind() const { return kind_; }

private:
    bool note(std::optional<wamp::ElementKind> kind) {
        if (!seen_) kind_ = kind;
        seen_ = true;
        return true;
    }
    bool seen_ = false;
    std::optional<wamp::ElementKind> kind_;
};

// Sends a Value's events to a sink. Recursive: Values are routing fields, whose
// depth the decoders bound, or built by the router itself.
bool emit(const wamp::Value& value, ValueSink& sink);
bool emit(const wamp::List& list, ValueSink& sink);
bool emit(const wamp::Dict& dict, ValueSink& sink);

bool is_valid_utf8(std::string_view text);

// Keys compared as decoded strings: JSON "a" and "\u0061" are the same key.
bool has_duplicate_key(const wamp::Dict& dict);

}  // namespace blindrouter::codec::detail
