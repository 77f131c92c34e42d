#include "wamp_messages.hpp"

#include <openssl/evp.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstring>
#include <msgpack.hpp>
#include <random>

namespace bench::wamp {

static_assert(sizeof(PayloadHeader) == payload_header_size);

namespace {

constexpr std::string_view json_binary_prefix = "\"\\u0000";  // the JSON text "\u0000 opening a binary

std::string base64(std::string_view raw) {
    std::string out(4 * ((raw.size() + 2) / 3), '\0');
    EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(raw.data()),
                    static_cast<int>(raw.size()));
    return out;
}

std::string header_bytes(const PayloadHeader& header) {
    std::string bytes(payload_header_size, '\0');
    std::memcpy(bytes.data(), &header, payload_header_size);
    return bytes;
}

// One message, element after element, in either serializer. The payload goes in
// as bytes already encoded (`raw`), so a large one is copied, never re-escaped.
class Writer {
public:
    explicit Writer(Serializer s) : serializer_(s), json_(json_buffer_), packer_(msgpack_buffer_) {}

    Writer& array(std::uint32_t n) {
        if (json()) json_.StartArray();
        else packer_.pack_array(n);
        return *this;
    }
    Writer& end_array() {
        if (json()) json_.EndArray();
        return *this;
    }
    Writer& map(std::uint32_t n) {
        if (json()) json_.StartObject();
        else packer_.pack_map(n);
        return *this;
    }
    Writer& end_map() {
        if (json()) json_.EndObject();
        return *this;
    }
    Writer& type(MessageType t) { return integer(static_cast<std::uint64_t>(t)); }
    Writer& integer(std::uint64_t v) {
        if (json()) json_.Uint64(v);
        else packer_.pack_uint64(v);
        return *this;
    }
    Writer& string(std::string_view s) {
        if (json()) json_.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
        else packer_.pack_str(static_cast<std::uint32_t>(s.size())).pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
        return *this;
    }
    Writer& empty_map() { return map(0).end_map(); }
    Writer& boolean(bool v) {
        if (json()) json_.Bool(v);
        else packer_.pack(v);
        return *this;
    }
    // An encoded element appended as it is (a payload element taken from a received message).
    Writer& raw(std::string_view encoded) {
        if (json()) json_.RawValue(encoded.data(), encoded.size(), rapidjson::kStringType);
        else msgpack_buffer_.write(encoded.data(), encoded.size());
        return *this;
    }
    Writer& payload(const PayloadHeader& header, const PayloadBody& body) {
        auto head = header_bytes(header);
        if (json()) {
            std::string text;
            text.reserve(json_binary_prefix.size() + 32 + body.base64.size() + 1);
            text.append(json_binary_prefix).append(base64(head)).append(body.base64).push_back('"');
            return raw(text);
        }
        packer_.pack_bin(static_cast<std::uint32_t>(body.payload_size));
        msgpack_buffer_.write(head.data(), head.size());
        msgpack_buffer_.write(body.raw.data(), body.raw.size());
        return *this;
    }
    // The enc_* options of the legacy encrypted form, or the ppt_* options of the spec
    // form with the same meaning (a cryptobox is XSalsa20-Poly1305; `x_` names an
    // application's own scheme, which Autobahn's cryptobox is to the spec).
    Writer& encrypted_options(PayloadForm form) {
        if (form == PayloadForm::spec)
            return map(3).string("ppt_scheme").string("x_cryptobox").string("ppt_serializer").string(serializer_name(serializer_))
                .string("ppt_cipher").string("xsalsa20poly1305").end_map();
        return map(2).string("enc_algo").string("cryptobox").string("enc_serializer").string(serializer_name(serializer_)).end_map();
    }
    std::string take() {
        if (json()) return std::string(json_buffer_.GetString(), json_buffer_.GetSize());
        return std::string(msgpack_buffer_.data(), msgpack_buffer_.size());
    }

private:
    bool json() const { return serializer_ == Serializer::json; }
    Serializer serializer_;
    rapidjson::StringBuffer json_buffer_;
    rapidjson::Writer<rapidjson::StringBuffer> json_;
    msgpack::sbuffer msgpack_buffer_;
    msgpack::packer<msgpack::sbuffer> packer_;
};

void collect(const rapidjson::Value& array, Decoded& out) {
    for (rapidjson::SizeType i = 1; i < array.Size(); ++i) {
        const auto& v = array[i];
        if (v.IsInt64()) out.integers.push_back(v.GetInt64());
        else if (v.IsUint64()) out.integers.push_back(static_cast<std::int64_t>(v.GetUint64()));
        else if (v.IsString()) out.strings.emplace_back(v.GetString(), v.GetStringLength());
    }
}

void collect(const msgpack::object& array, Decoded& out) {
    for (std::uint32_t i = 1; i < array.via.array.size; ++i) {
        const auto& v = array.via.array.ptr[i];
        if (v.type == msgpack::type::POSITIVE_INTEGER) out.integers.push_back(static_cast<std::int64_t>(v.via.u64));
        else if (v.type == msgpack::type::NEGATIVE_INTEGER) out.integers.push_back(v.via.i64);
        else if (v.type == msgpack::type::STR) out.strings.emplace_back(v.via.str.ptr, v.via.str.size);
    }
}

}  // namespace

PayloadBody::PayloadBody(std::size_t size) : payload_size(size) {
    if (size < payload_header_size) throw std::invalid_argument("payload smaller than its 24-byte header");
    raw.resize(size - payload_header_size);
    std::mt19937_64 generator(size);
    for (std::size_t i = 0; i < raw.size(); i += 8) {
        auto word = generator();
        std::memcpy(raw.data() + i, &word, std::min<std::size_t>(8, raw.size() - i));
    }
    base64 = bench::wamp::base64(raw);
}

std::optional<Decoded> decode(Serializer s, std::string_view message, std::string* error) {
    Decoded out;
    if (s == Serializer::json) {
        rapidjson::Document doc;
        doc.Parse(message.data(), message.size());
        if (doc.HasParseError() || !doc.IsArray() || doc.Empty() || !doc[0].IsInt()) {
            if (error) *error = "not a JSON WAMP message";
            return std::nullopt;
        }
        out.type = static_cast<MessageType>(doc[0].GetInt());
        collect(doc, out);
        return out;
    }
    try {
        auto handle = msgpack::unpack(message.data(), message.size());
        const auto& root = handle.get();
        if (root.type != msgpack::type::ARRAY || root.via.array.size == 0 ||
            root.via.array.ptr[0].type != msgpack::type::POSITIVE_INTEGER) {
            if (error) *error = "not a MsgPack WAMP message";
            return std::nullopt;
        }
        out.type = static_cast<MessageType>(root.via.array.ptr[0].via.u64);
        collect(root, out);
        return out;
    } catch (const std::exception& e) {
        if (error) *error = std::string("MsgPack: ") + e.what();
        return std::nullopt;
    }
}

namespace {
int peek_code(Serializer s, std::string_view m) {
    std::size_t i = 0;
    if (s == Serializer::json) {
        while (i < m.size() && (m[i] == ' ' || m[i] == '\n' || m[i] == '\t' || m[i] == '\r')) ++i;
        if (i >= m.size() || m[i] != '[') return 0;
        ++i;
        while (i < m.size() && m[i] == ' ') ++i;
        int type = 0;
        std::size_t digits = 0;
        for (; i < m.size() && m[i] >= '0' && m[i] <= '9' && digits < 4; ++i, ++digits) type = type * 10 + (m[i] - '0');
        return digits ? type : 0;
    }
    if (m.empty()) return 0;
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(m[k]); };
    if ((byte(0) & 0xF0) == 0x90) i = 1;
    else if (byte(0) == 0xDC) i = 3;
    else if (byte(0) == 0xDD) i = 5;
    else return 0;
    if (i >= m.size()) return 0;
    if (byte(i) < 0x80) return byte(i);
    if (byte(i) == 0xCC && i + 1 < m.size()) return byte(i + 1);
    return 0;
}
}  // namespace

MessageType peek_type(Serializer s, std::string_view m) {
    return static_cast<MessageType>(peek_code(s, m));
}

std::string_view form_name(PayloadForm form) {
    return form == PayloadForm::transparent ? "enc" : form == PayloadForm::spec ? "ppt" : "list";
}

std::string MessageBuilder::hello(std::string_view realm) const {
    Writer w(serializer_);
    w.array(3).type(MessageType::hello).string(realm).map(1).string("roles").map(4);
    for (auto role : {"publisher", "subscriber", "caller", "callee"}) {
        w.string(role);
        // The spec form needs the announcement (WAMP spec, Payload PassThru Mode); the
        // legacy form's HELLO is Autobahn's, which announces nothing for it.
        if (form_ == PayloadForm::spec) w.map(1).string("features").map(1).string("payload_passthru_mode").boolean(true).end_map().end_map();
        else w.empty_map();
    }
    return w.end_map().end_map().end_array().take();
}

std::string MessageBuilder::goodbye() const {
    Writer w(serializer_);
    return w.array(3).type(MessageType::goodbye).empty_map().string("wamp.close.close_realm").end_array().take();
}

std::string MessageBuilder::subscribe(std::uint64_t request, std::string_view topic) const {
    Writer w(serializer_);
    return w.array(4).type(MessageType::subscribe).integer(request).empty_map().string(topic).end_array().take();
}

std::string MessageBuilder::register_procedure(std::uint64_t request, std::string_view procedure,
                                               std::string_view invoke) const {
    Writer w(serializer_);
    w.array(4).type(MessageType::reg).integer(request);
    w.map(1).string("invoke").string(invoke).end_map();
    return w.string(procedure).end_array().take();
}

std::string MessageBuilder::publish(std::uint64_t request, std::string_view topic, const PayloadHeader& header,
                                    const PayloadBody& body) const {
    Writer w(serializer_);
    w.array(5).type(MessageType::publish).integer(request).encrypted_options(form_).string(topic);
    if (form_ != PayloadForm::transparent) w.array(1).payload(header, body).end_array();
    else w.payload(header, body);
    return w.end_array().take();
}

std::string MessageBuilder::call(std::uint64_t request, std::string_view procedure, const PayloadHeader& header,
                                 const PayloadBody& body) const {
    Writer w(serializer_);
    w.array(5).type(MessageType::call).integer(request).encrypted_options(form_).string(procedure);
    if (form_ != PayloadForm::transparent) w.array(1).payload(header, body).end_array();
    else w.payload(header, body);
    return w.end_array().take();
}

std::string MessageBuilder::call_plain(std::uint64_t request, std::string_view procedure) const {
    Writer w(serializer_);
    return w.array(4).type(MessageType::call).integer(request).empty_map().string(procedure).end_array().take();
}

std::string MessageBuilder::unregister(std::uint64_t request, std::uint64_t registration) const {
    Writer w(serializer_);
    return w.array(3).type(MessageType::unregister).integer(request).integer(registration).end_array().take();
}

std::string MessageBuilder::yield(std::uint64_t request, std::string_view payload_element) const {
    Writer w(serializer_);
    w.array(4).type(MessageType::yield).integer(request).encrypted_options(form_);
    if (form_ != PayloadForm::transparent) w.array(1).raw(payload_element).end_array();
    else w.raw(payload_element);
    return w.end_array().take();
}

PayloadLocator::PayloadLocator(Serializer s, std::size_t payload_size)
    : serializer_(s),
      payload_size_(payload_size),
      base64_size_(4 * ((payload_size + 2) / 3)),
      bin_header_size_(payload_size < 0x100 ? 2 : payload_size < 0x10000 ? 3 : 5) {}

std::size_t PayloadLocator::locate(std::string_view m) const {
    if (serializer_ == Serializer::json) {
        auto at = m.find(json_binary_prefix);
        if (at == std::string_view::npos) return at;
        auto text = at + json_binary_prefix.size();
        if (text + base64_size_ >= m.size() || m[text + base64_size_] != '"') return std::string_view::npos;
        return text;
    }
    // MsgPack: [..., bin] or [..., [bin]]: the payload ends the message.
    if (m.size() < payload_size_ + bin_header_size_) return std::string_view::npos;
    std::size_t start = m.size() - payload_size_;
    const auto* h = reinterpret_cast<const unsigned char*>(m.data() + start - bin_header_size_);
    std::size_t declared = 0;
    if (bin_header_size_ == 2 && h[0] == 0xC4) declared = h[1];
    else if (bin_header_size_ == 3 && h[0] == 0xC5) declared = (std::size_t{h[1]} << 8) | h[2];
    else if (bin_header_size_ == 5 && h[0] == 0xC6)
        declared = (std::size_t{h[1]} << 24) | (std::size_t{h[2]} << 16) | (std::size_t{h[3]} << 8) | h[4];
    return declared == payload_size_ ? start : std::string_view::npos;
}

std::optional<PayloadHeader> PayloadLocator::header(std::string_view m) const {
    auto at = locate(m);
    if (at == std::string_view::npos) return std::nullopt;
    PayloadHeader header;
    if (serializer_ == Serializer::json) {
        unsigned char raw[payload_header_size + 2];  // EVP_DecodeBlock writes whole 3-byte groups
        if (EVP_DecodeBlock(raw, reinterpret_cast<const unsigned char*>(m.data() + at), 32) != 24) return std::nullopt;
        std::memcpy(&header, raw, payload_header_size);
    } else {
        std::memcpy(&header, m.data() + at, payload_header_size);
    }
    if (header.magic != payload_magic) return std::nullopt;
    return header;
}

bool PayloadLocator::body_intact(std::string_view m, const PayloadBody& body) const {
    auto at = locate(m);
    if (at == std::string_view::npos) return false;
    if (serializer_ == Serializer::json) return m.substr(at + 32, body.base64.size()) == body.base64;
    return m.substr(at + payload_header_size, body.raw.size()) == body.raw;
}

std::optional<std::string_view> PayloadLocator::element(std::string_view m) const {
    auto at = locate(m);
    if (at == std::string_view::npos) return std::nullopt;
    if (serializer_ == Serializer::json)
        return m.substr(at - json_binary_prefix.size(), json_binary_prefix.size() + base64_size_ + 1);
    return m.substr(at - bin_header_size_, bin_header_size_ + payload_size_);
}

}  // namespace bench::wamp
