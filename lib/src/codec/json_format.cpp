#include "json_format.hpp"

#include <openssl/evp.h>
#include <rapidjson/encodedstream.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <limits>
#include <system_error>
#include <variant>
#include <vector>

namespace blindrouter::codec::detail {
namespace {

// Numbers arrive as text and are converted with std::from_chars, which rounds
// correctly: rapidjson 1.1.0's full-precision path calls clz(0), undefined, for
// input such as 0e+300, and its default path may be off by an ulp.
constexpr unsigned read_flags =
    rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag | rapidjson::kParseNumbersAsStringsFlag;

// A JSON number: an integer when it has no fraction or exponent and fits 64 bits,
// a double otherwise (as rapidjson makes it); nullopt beyond the double range.
std::optional<std::variant<std::int64_t, std::uint64_t, double>> json_number(std::string_view text) {
    const char* end = text.data() + text.size();
    if (text.find_first_of(".eE") == std::string_view::npos) {
        if (text.starts_with('-')) {
            std::int64_t i = 0;
            if (std::from_chars(text.data(), end, i).ec == std::errc{}) return i;
        } else {
            std::uint64_t u = 0;
            if (std::from_chars(text.data(), end, u).ec == std::errc{}) return u;
        }
    }
    double d = 0;
    auto result = std::from_chars(text.data(), end, d);
    if (result.ec == std::errc{}) return d;
    // Out of range: strtod tells underflow (a tiny or zero value, as rapidjson
    // accepts it) from overflow (infinity, which rapidjson refuses).
    d = std::strtod(std::string(text).c_str(), nullptr);
    if (std::isinf(d)) return std::nullopt;
    return d;
}

// rapidjson's SAX events, handed on as ValueSink events.
class JsonEvents : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, JsonEvents> {
public:
    JsonEvents(ValueSink& sink, std::size_t max_depth) : sink_(sink), max_depth_(max_depth) {}

    bool Null() { return pass(sink_.null()); }
    bool Bool(bool b) { return pass(sink_.boolean(b)); }
    bool Int(int i) { return Int64(i); }
    bool Uint(unsigned u) { return Uint64(u); }
    bool Int64(std::int64_t i) {
        return pass(i < 0 ? sink_.integer(i) : sink_.unsigned_integer(static_cast<std::uint64_t>(i)));
    }
    bool Uint64(std::uint64_t u) { return pass(sink_.unsigned_integer(u)); }
    bool Double(double d) { return pass(sink_.floating(d)); }
    bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
        auto number = json_number(std::string_view(s, n));
        if (!number) return fail(ReadError::Kind::malformed, "number beyond the double range");
        return std::visit([this](auto v) { return number_event(v); }, *number);
    }
    bool String(const char* s, rapidjson::SizeType n, bool) {
        if (n > 0 && s[0] == '\0') {
            auto bytes = base64_decode(std::string_view(s + 1, n - 1));
            if (!bytes) return fail(ReadError::Kind::refused, "invalid base64 in binary string");
            return pass(sink_.binary(*bytes));
        }
        return pass(sink_.string(std::string_view(s, n)));
    }
    bool Key(const char* s, rapidjson::SizeType n, bool) { return pass(sink_.string(std::string_view(s, n))); }
    bool StartObject() { return enter() && pass(sink_.begin_dict(std::nullopt)); }
    bool EndObject(rapidjson::SizeType) { return --depth_, pass(sink_.end_dict()); }
    bool StartArray() { return enter() && pass(sink_.begin_list(std::nullopt)); }
    bool EndArray(rapidjson::SizeType) { return --depth_, pass(sink_.end_list()); }

    const ReadResult& error() const { return error_; }

private:
    bool number_event(std::int64_t i) { return Int64(i); }
    bool number_event(std::uint64_t u) { return Uint64(u); }
    bool number_event(double d) { return Double(d); }
    bool enter() {
        if (depth_ == max_depth_) return fail(ReadError::Kind::too_deep, "nesting too deep");
        ++depth_;
        return true;
    }
    bool pass(bool accepted) { return accepted || fail(ReadError::Kind::refused, sink_.refusal()); }
    bool fail(ReadError::Kind kind, std::string_view detail) {
        error_ = ReadError{kind, detail};
        return false;
    }

    ValueSink& sink_;
    std::size_t max_depth_;
    std::size_t depth_ = 0;
    ReadResult error_;
};

constexpr std::string_view base64_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

ReadResult read_json(std::string_view text, ValueSink& sink, std::size_t max_depth) {
    // rapidjson's memory stream reads NUL as the end of input; JSON text never holds a raw NUL.
    if (std::memchr(text.data(), '\0', text.size()) != nullptr)
        return ReadError{ReadError::Kind::malformed, "raw NUL byte"};
    rapidjson::MemoryStream memory(text.data(), text.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> in(memory);
    JsonEvents events(sink, max_depth);
    rapidjson::Reader reader;
    if (!reader.Parse<read_flags>(in, events).IsError()) return std::nullopt;
    if (events.error()) return events.error();
    return ReadError{ReadError::Kind::malformed, "invalid JSON"};
}

namespace {

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// One bit per open container, set for a dict. Arguments may nest 100,000 deep:
// that costs 12.5 KB here, and neither recursion nor a parser state per level.
class NestingStack {
public:
    bool empty() const { return depth_ == 0; }
    void push(bool dict) {
        std::size_t word = depth_ / 64;
        if (word >= inline_.size() && word - inline_.size() == more_.size()) more_.push_back(0);
        std::uint64_t bit = std::uint64_t{1} << (depth_ % 64);
        word_at(word) = dict ? (word_at(word) | bit) : (word_at(word) & ~bit);
        ++depth_;
    }
    void pop() { --depth_; }
    bool top_is_dict() {
        std::size_t top = depth_ - 1;
        return ((word_at(top / 64) >> (top % 64)) & 1) != 0;
    }

private:
    std::uint64_t& word_at(std::size_t word) {
        return word < inline_.size() ? inline_[word] : more_[word - inline_.size()];
    }
    std::array<std::uint64_t, 4> inline_{};
    std::vector<std::uint64_t> more_;
    std::size_t depth_ = 0;
};

// Written by hand: rapidjson validates but cannot skip a value without a full parse
// (its ParseString copies every string, a megabyte payload included, and its SAX
// events carry no source offsets), and Arguments and ArgumentsKw need only be
// validated and located. Every check follows rapidjson's reader, so that what this
// accepts rapidjson accepts too; where matching it exactly is not worth the code,
// this refuses and leaves the decision to rapidjson.
class FrameScanner {
public:
    explicit FrameScanner(std::string_view text) : begin_(text.data()), p_(begin_), end_(begin_ + text.size()) {}

    std::optional<FrameElements> scan() {
        FrameElements elements;
        skip_space();
        if (!take('[')) return std::nullopt;
        skip_space();
        if (!take(']')) {
            for (;;) {
                const char* start = p_;
                if (!value()) return std::nullopt;
                auto size = static_cast<std::size_t>(p_ - start);
                elements.add(FrameElement{static_cast<std::size_t>(start - begin_), size,
                                          json_element_kind(std::string_view(start, size))});
                skip_space();
                if (take(']')) break;
                if (!take(',')) return std::nullopt;
                skip_space();
            }
        }
        skip_space();
        if (p_ != end_) return std::nullopt;
        return elements;
    }

private:
    // One value at p_, containers and all, without recursion.
    bool value() {
        NestingStack nesting;
        for (;;) {
            if (p_ == end_) return false;
            if (*p_ == '[' || *p_ == '{') {
                bool dict = *p_++ == '{';
                skip_space();
                if (!take(dict ? '}' : ']')) {
                    nesting.push(dict);
                    if (dict && !key()) return false;
                    skip_space();
                    continue;
                }
            } else if (!scalar()) {
                return false;
            }
            // After a value: close containers until one continues with ','.
            for (;;) {
                if (nesting.empty()) return true;
                skip_space();
                if (take(',')) {
                    skip_space();
                    if (nesting.top_is_dict() && !key()) return false;
                    skip_space();
                    break;
                }
                if (!take(nesting.top_is_dict() ? '}' : ']')) return false;
                nesting.pop();
            }
        }
    }

    // A dict's key and its colon.
    bool key() {
        if (p_ == end_ || *p_ != '"' || !string()) return false;
        skip_space();
        return take(':');
    }

    bool scalar() {
        switch (*p_) {
            case '"':
                return string();
            case 't':
                return word("true");
            case 'f':
                return word("false");
            case 'n':
                return word("null");
            default:
                return number();
        }
    }

    bool word(std::string_view w) {
        if (static_cast<std::size_t>(end_ - p_) < w.size() || std::memcmp(p_, w.data(), w.size()) != 0) return false;
        p_ += w.size();
        return true;
    }

    // rapidjson's grammar. It refuses as too big an integer part that reaches
    // DBL_MAX / 10 and a positive exponent above 308 plus the fraction's digits;
    // refused here already from 301 integer digits and exponents above 308.
    bool number() {
        take('-');
        if (p_ == end_ || !is_digit(*p_)) return false;
        if (!take('0')) {
            const char* digits = p_;
            while (p_ != end_ && is_digit(*p_)) ++p_;
            if (p_ - digits > 300) return false;
        }
        if (take('.')) {
            if (p_ == end_ || !is_digit(*p_)) return false;
            while (p_ != end_ && is_digit(*p_)) ++p_;
        }
        if (take('e') || take('E')) {
            bool negative = take('-');
            if (!negative) take('+');
            if (p_ == end_ || !is_digit(*p_)) return false;
            int exponent = 0;
            for (; p_ != end_ && is_digit(*p_); ++p_) exponent = std::min(exponent * 10 + (*p_ - '0'), 1000);
            if (!negative && exponent > 308) return false;
        }
        return true;
    }

    // The bytes that end a run of plain string text, marked by the top bit of their
    // byte in the result: '"', '\\', control characters and bytes >= 0x80. Each
    // byte is computed apart (no carry crosses bytes), so the lowest mark is exact.
    static std::uint64_t string_stops(std::uint64_t w) {
        constexpr std::uint64_t ones = 0x0101010101010101;
        constexpr std::uint64_t high = ones * 0x80;
        constexpr std::uint64_t low7 = ones * 0x7f;
        auto zero_bytes = [](std::uint64_t v) { return ~(((v & low7) + low7) | v) & high; };
        std::uint64_t control = ~((w & low7) + ones * 0x60) & high;  // below 0x20 in the low 7 bits
        return (w & high) | control | zero_bytes(w ^ (ones * '"')) | zero_bytes(w ^ (ones * '\\'));
    }

    // A string at p_ (its opening quote), moving past its closing quote. Plain
    // ASCII is skipped 8 bytes at a time: a binary payload's base64 is all of it.
    bool string() {
        ++p_;
        for (;;) {
            while (end_ - p_ >= 8) {
                std::uint64_t w;
                std::memcpy(&w, p_, sizeof w);
                std::uint64_t stops = string_stops(w);
                if (stops != 0) {
                    p_ += (std::endian::native == std::endian::little ? std::countr_zero(stops)
                                                                       : std::countl_zero(stops)) / 8;
                    break;
                }
                p_ += 8;
            }
            if (p_ == end_) return false;
            auto c = static_cast<unsigned char>(*p_);
            if (c == '"') {
                ++p_;
                return true;
            }
            if (c == '\\') {
                if (!escape()) return false;
            } else if (c >= 0x80) {
                if (!utf8_sequence()) return false;
            } else if (c < 0x20) {
                return false;  // RFC 8259 §7: control characters must be escaped
            } else {
                ++p_;
            }
        }
    }

    bool escape() {
        if (end_ - p_ < 2) return false;
        char c = p_[1];
        p_ += 2;
        if (c != 'u') return std::string_view("\"\\/bfnrt").find(c) != std::string_view::npos;
        auto unit = hex4();
        if (!unit || (*unit >= 0xdc00 && *unit <= 0xdfff)) return false;  // a lone low surrogate: rapidjson's call
        if (*unit < 0xd800 || *unit > 0xdbff) return true;
        // A high surrogate: rapidjson wants "\u" and a low surrogate right after it.
        if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
        p_ += 2;
        auto low = hex4();
        return low && *low >= 0xdc00 && *low <= 0xdfff;
    }

    std::optional<unsigned> hex4() {
        if (end_ - p_ < 4) return std::nullopt;
        unsigned unit = 0;
        auto result = std::from_chars(p_, p_ + 4, unit, 16);
        if (result.ec != std::errc{} || result.ptr != p_ + 4 || p_[0] == '+' || p_[0] == '-') return std::nullopt;
        p_ += 4;
        return unit;
    }

    // One UTF-8 sequence, checked as rapidjson checks it; the stream reads NUL, never
    // past the frame, when the frame ends inside the sequence.
    bool utf8_sequence() {
        struct Discard {
            void Put(char) {}
        } discard;
        rapidjson::MemoryStream in(p_, static_cast<std::size_t>(end_ - p_));
        if (!rapidjson::UTF8<>::Validate(in, discard)) return false;
        p_ += in.Tell();
        return true;
    }

    bool take(char c) {
        if (p_ == end_ || *p_ != c) return false;
        ++p_;
        return true;
    }
    void skip_space() {
        while (p_ != end_ && is_json_space(*p_)) ++p_;
    }

    const char* begin_;
    const char* p_;
    const char* end_;
};

}  // namespace

std::optional<FrameElements> scan_json_frame(std::string_view text) { return FrameScanner(text).scan(); }

std::optional<wamp::ElementKind> json_element_kind(std::string_view element) {
    if (element.starts_with('[')) return wamp::ElementKind::list;
    if (element.starts_with('{')) return wamp::ElementKind::dict;
    // "\u0000..." : binary by the WAMP spec's JSON rule, the legacy transparent payload form.
    if (element.size() >= 8 && element.starts_with("\"\\u0000")) return wamp::ElementKind::binary;
    return std::nullopt;
}

// OpenSSL's EVP_EncodeBlock and EVP_DecodeBlock. Best of 300 runs on 1 MiB:
// encode 0.67 ms, decode 1.26 ms (alphabet check included), against 0.99 / 2.02 ms
// for the hand-written code they replaced and 5.0 / 6.8 ms for libsodium's
// constant-time sodium_bin2base64 / sodium_base642bin (no secret is encoded here).
std::string base64_encode(std::string_view in) {
    std::string out((in.size() + 2) / 3 * 4 + 1, '\0');  // EVP_EncodeBlock ends with a NUL
    auto size = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
    out.resize(static_cast<std::size_t>(size));
    return out;
}

// Accepts padded and unpadded text; anything outside the alphabet is refused.
// EVP_DecodeBlock alone is too lenient for that: it skips surrounding whitespace
// and reads '=' anywhere as zero bits, so the text is checked here first.
std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 == 0 && text.ends_with('=')) text.remove_suffix(text.ends_with("==") ? 2 : 1);
    if (text.size() % 4 == 1 || text.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
        return std::nullopt;
    static constexpr auto in_alphabet = [] {
        std::array<bool, 256> table{};
        for (char c : base64_alphabet) table[static_cast<unsigned char>(c)] = true;
        return table;
    }();
    for (char c : text)
        if (!in_alphabet[static_cast<unsigned char>(c)]) return std::nullopt;

    auto whole = text.size() / 4 * 4;  // whole quads; a tail of 2 or 3 characters is padded below
    auto tail = text.substr(whole);
    std::string out(whole / 4 * 3 + (tail.empty() ? 0 : tail.size() - 1), '\0');
    auto* to = reinterpret_cast<unsigned char*>(out.data());
    if (whole > 0 && EVP_DecodeBlock(to, reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(whole)) < 0)
        return std::nullopt;
    if (!tail.empty()) {
        std::array<unsigned char, 4> quad{'=', '=', '=', '='};
        std::memcpy(quad.data(), tail.data(), tail.size());
        std::array<unsigned char, 3> bytes{};
        if (EVP_DecodeBlock(bytes.data(), quad.data(), 4) < 0) return std::nullopt;
        std::memcpy(to + whole / 4 * 3, bytes.data(), tail.size() - 1);
    }
    return out;
}

namespace {

class JsonWriter final : public ValueWriter {
public:
    bool null() override { return !at_key() ? written(writer_.Null()) : refuse(non_string_key); }
    bool boolean(bool b) override { return !at_key() ? written(writer_.Bool(b)) : refuse(non_string_key); }
    bool integer(std::int64_t i) override { return !at_key() ? written(writer_.Int64(i)) : refuse(non_string_key); }
    bool unsigned_integer(std::uint64_t u) override {
        return !at_key() ? written(writer_.Uint64(u)) : refuse(non_string_key);
    }
    // rapidjson refuses NaN and infinities, which JSON cannot express.
    bool floating(double d) override { return !at_key() ? written(writer_.Double(d)) : refuse(non_string_key); }
    bool string(std::string_view s) override {
        // Checked here, not by rapidjson's writer: it reads every byte a UTF-8 lead byte
        // announces, past the end of a string that ends inside a sequence.
        if (!is_valid_utf8(s)) return refuse("string is not valid UTF-8");
        auto size = static_cast<rapidjson::SizeType>(s.size());
        if (at_key()) return written(writer_.Key(s.data(), size));
        // A leading NUL would make JSON peers read the string as binary.
        if (!s.empty() && s[0] == '\0') return refuse("string starting with NUL in JSON");
        return written(writer_.String(s.data(), size));
    }
    bool binary(std::string_view bytes) override {
        if (at_key()) return refuse(non_string_key);
        // Built with append: GCC 12 warns falsely (-Wrestrict) on operator+ here.
        std::string text(1, '\0');
        text.append(base64_encode(bytes));
        return written(writer_.String(text.data(), static_cast<rapidjson::SizeType>(text.size())));
    }
    bool begin_list(std::optional<std::size_t>) override { return open(false) && writer_.StartArray(); }
    bool end_list() override { return close(writer_.EndArray()); }
    bool begin_dict(std::optional<std::size_t>) override { return open(true) && writer_.StartObject(); }
    bool end_dict() override { return close(writer_.EndObject()); }

    wamp::Serializer serializer() const override { return wamp::Serializer::json; }
    bool raw(std::string_view bytes, wamp::ElementKind kind) override {
        if (at_key()) return refuse(non_string_key);
        auto type = kind == wamp::ElementKind::dict   ? rapidjson::kObjectType
                    : kind == wamp::ElementKind::list ? rapidjson::kArrayType
                                                      : rapidjson::kStringType;
        return written(writer_.RawValue(bytes.data(), bytes.size(), type));
    }
    std::string take() override { return std::string(buffer_.GetString(), buffer_.GetSize()); }

private:
    static constexpr std::string_view non_string_key = "map key is not a string";

    // JSON object keys are strings: a key position takes nothing else.
    struct Level {
        bool dict;
        bool expect_key;
    };
    bool at_key() const { return !levels_.empty() && levels_.back().dict && levels_.back().expect_key; }
    // rapidjson answers false for a NaN or an infinity.
    bool written(bool ok) {
        if (!ok) return refuse("NaN or infinity in JSON");
        if (!levels_.empty() && levels_.back().dict) levels_.back().expect_key = !levels_.back().expect_key;
        return true;
    }
    bool open(bool dict) {
        if (at_key()) return refuse(non_string_key);
        levels_.push_back(Level{dict, dict});
        return true;
    }
    bool close(bool ok) {
        levels_.pop_back();
        return written(ok);
    }

    rapidjson::StringBuffer buffer_;
    rapidjson::Writer<rapidjson::StringBuffer> writer_{buffer_};
    std::vector<Level> levels_;
};

}  // namespace

std::unique_ptr<ValueWriter> make_json_writer() { return std::make_unique<JsonWriter>(); }

}  // namespace blindrouter::codec::detail
