#include "blindrouter/codec/json_codec.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstring>
#include <stdexcept>

#include "blindrouter/codec/message_schema_check.hpp"

namespace blindrouter::codec {
namespace {

constexpr unsigned parse_flags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
// Options and details are shallow in every WAMP message; deeper nesting is refused
// so that converting them cannot exhaust the stack.
constexpr int max_routing_depth = 32;

// Validates the frame as JSON and checks that its root is a non-empty array.
struct RootShape : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, RootShape> {
    int depth = 0;
    bool root_is_array = false;
    bool Default() { return depth > 0; }  // a bare scalar is no WAMP message
    bool StartObject() { return depth++ > 0; }
    bool EndObject(rapidjson::SizeType) { return --depth, true; }
    bool StartArray() {
        if (depth++ == 0) root_is_array = true;
        return true;
    }
    bool EndArray(rapidjson::SizeType) { return --depth, true; }
};

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The byte ranges of the root array's elements. Runs only on text rapidjson has
// validated, so it need only skip strings and balance brackets; rapidjson's SAX
// API reports no source offsets it documents, hence this small scanner.
std::vector<std::pair<std::size_t, std::size_t>> root_elements(const std::string& text) {
    std::vector<std::pair<std::size_t, std::size_t>> elements;
    std::size_t pos = text.find('[') + 1;
    auto skip_space = [&] {
        while (pos < text.size() && is_json_space(text[pos])) ++pos;
    };
    auto skip_string = [&] {
        for (++pos; text[pos] != '"'; ++pos)
            if (text[pos] == '\\') ++pos;
        ++pos;
    };
    for (;;) {
        skip_space();
        if (text[pos] == ']') break;
        auto start = pos;
        if (text[pos] == '"') {
            skip_string();
        } else if (text[pos] == '[' || text[pos] == '{') {
            int depth = 0;
            do {
                char c = text[pos];
                if (c == '"') {
                    skip_string();
                    continue;
                }
                if (c == '[' || c == '{') ++depth;
                else if (c == ']' || c == '}') --depth;
                ++pos;
            } while (depth > 0);
        } else {
            while (text[pos] != ',' && text[pos] != ']' && !is_json_space(text[pos])) ++pos;
        }
        elements.emplace_back(start, pos - start);
        skip_space();
        if (text[pos] == ',') ++pos;
    }
    return elements;
}

std::optional<wamp::Value> to_value(const rapidjson::Value& v, int depth) {
    if (depth > max_routing_depth) return std::nullopt;
    switch (v.GetType()) {
        case rapidjson::kNullType:
            return wamp::Value{};
        case rapidjson::kFalseType:
            return wamp::Value{false};
        case rapidjson::kTrueType:
            return wamp::Value{true};
        case rapidjson::kNumberType:
            if (v.IsUint64()) return wamp::Value{static_cast<std::uint64_t>(v.GetUint64())};
            if (v.IsInt64()) return wamp::Value{static_cast<std::int64_t>(v.GetInt64())};
            return wamp::Value{v.GetDouble()};
        case rapidjson::kStringType:
            return wamp::Value{std::string(v.GetString(), v.GetStringLength())};
        case rapidjson::kArrayType: {
            wamp::List list;
            list.reserve(v.Size());
            for (const auto& item : v.GetArray()) {
                auto converted = to_value(item, depth + 1);
                if (!converted) return std::nullopt;
                list.push_back(std::move(*converted));
            }
            return wamp::Value{std::move(list)};
        }
        case rapidjson::kObjectType: {
            wamp::Dict dict;
            dict.reserve(v.MemberCount());
            for (const auto& m : v.GetObject()) {
                auto converted = to_value(m.value, depth + 1);
                if (!converted) return std::nullopt;
                dict.emplace_back(std::string(m.name.GetString(), m.name.GetStringLength()), std::move(*converted));
            }
            return wamp::Value{std::move(dict)};
        }
    }
    return std::nullopt;
}

std::optional<wamp::Value> parse_span(const char* begin, std::size_t size) {
    rapidjson::Document doc;
    doc.Parse<parse_flags>(begin, size);
    if (doc.HasParseError()) return std::nullopt;
    return to_value(doc, 0);
}

// WAMP spec, binary in JSON: a string whose first character is NUL, then base64.
std::string base64_encode(std::string_view in) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        unsigned n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                     static_cast<unsigned char>(in[i + 2]);
        out += {alphabet[(n >> 18) & 63], alphabet[(n >> 12) & 63], alphabet[(n >> 6) & 63], alphabet[n & 63]};
    }
    if (i + 1 == in.size()) {
        unsigned n = static_cast<unsigned char>(in[i]) << 16;
        out += {alphabet[(n >> 18) & 63], alphabet[(n >> 12) & 63], '=', '='};
    } else if (i + 2 == in.size()) {
        unsigned n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
        out += {alphabet[(n >> 18) & 63], alphabet[(n >> 12) & 63], alphabet[(n >> 6) & 63], '='};
    }
    return out;
}

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_value(Writer& w, const wamp::Value& value) {
    std::visit(
        [&w](const auto& v) {
            using V = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<V, std::monostate>) w.Null();
            else if constexpr (std::is_same_v<V, bool>) w.Bool(v);
            else if constexpr (std::is_same_v<V, std::int64_t>) w.Int64(v);
            else if constexpr (std::is_same_v<V, std::uint64_t>) w.Uint64(v);
            else if constexpr (std::is_same_v<V, double>) w.Double(v);
            else if constexpr (std::is_same_v<V, std::string>)
                w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
            else if constexpr (std::is_same_v<V, wamp::Binary>) {
                auto s = std::string(1, '\0') + base64_encode(v.bytes);
                w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
            } else if constexpr (std::is_same_v<V, wamp::List>) {
                w.StartArray();
                for (const auto& item : v) write_value(w, item);
                w.EndArray();
            } else if constexpr (std::is_same_v<V, wamp::Dict>) {
                w.StartObject();
                for (const auto& [key, item] : v) {
                    w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
                    write_value(w, item);
                }
                w.EndObject();
            }
        },
        value.data);
}

void write_element(Writer& w, const wamp::EncodedElement& element) {
    if (element.serializer() != wamp::Serializer::json)
        throw std::logic_error("translation of arguments between serializers is not available");
    auto bytes = element.bytes();
    w.RawValue(bytes.data(), bytes.size(),
               element.kind() == wamp::ElementKind::dict ? rapidjson::kObjectType : rapidjson::kArrayType);
}

std::optional<wamp::ElementKind> kind_of_element(const char* begin, std::size_t size) {
    if (size == 0) return std::nullopt;
    if (*begin == '[') return wamp::ElementKind::list;
    if (*begin == '{') return wamp::ElementKind::dict;
    // "\u0000..." : binary by the WAMP spec's JSON rule, the legacy transparent payload form.
    if (size >= 8 && std::memcmp(begin, "\"\\u0000", 7) == 0) return wamp::ElementKind::binary;
    return std::nullopt;
}

}  // namespace

DecodeResult decode_json(std::shared_ptr<const std::string> frame) {
    const std::string& text = *frame;
    if (std::memchr(text.data(), '\0', text.size()) != nullptr)
        return DecodeResult::fail("invalid JSON: raw NUL byte in message");

    rapidjson::StringStream stream(text.c_str());
    RootShape shape;
    rapidjson::Reader reader;
    auto parsed = reader.Parse<parse_flags>(stream, shape);
    if (parsed.IsError()) {
        if (parsed.Code() == rapidjson::kParseErrorTermination) return DecodeResult::fail("message is not a JSON array");
        return DecodeResult::fail(std::string("invalid JSON: ") + rapidjson::GetParseError_En(parsed.Code()) +
                                  " at offset " + std::to_string(parsed.Offset()));
    }
    if (!shape.root_is_array) return DecodeResult::fail("message is not a JSON array");
    auto elements = root_elements(text);
    if (elements.empty()) return DecodeResult::fail("empty message");

    auto type_code = parse_span(text.data() + elements[0].first, elements[0].second);
    auto code = type_code ? type_code->as_unsigned() : std::nullopt;
    if (!code) return DecodeResult::fail("message type is not an integer");
    const auto* schema = wamp::schema_for(*code);
    if (!schema) return DecodeResult::fail("unknown message type " + std::to_string(*code));

    auto layout = layout_for(*schema, elements.size() - 1);
    if (!layout)
        return DecodeResult::fail("invalid message length " + std::to_string(elements.size()) + " for " +
                                  std::string(schema->name));

    wamp::Message message;
    message.type = schema->type;
    message.fields.reserve(layout->routing_fields);
    for (std::size_t i = 0; i < layout->routing_fields; ++i) {
        const auto& field = schema->fields[i];
        auto [offset, size] = elements[i + 1];
        auto value = parse_span(text.data() + offset, size);
        if (!value)
            return DecodeResult::fail("'" + std::string(field.name) + "' in " + std::string(schema->name) +
                                      ": nesting deeper than " + std::to_string(max_routing_depth));
        if (auto problem = check_field(*schema, field, *value)) return DecodeResult::fail(*problem);
        message.fields.push_back(std::move(*value));
    }

    for (std::size_t i = 0; i < layout->argument_elements; ++i) {
        auto [offset, size] = elements[1 + layout->routing_fields + i];
        auto kind = kind_of_element(text.data() + offset, size);
        bool is_kwargs = i == 1;
        bool acceptable = is_kwargs ? kind == wamp::ElementKind::dict
                                    : (kind == wamp::ElementKind::list ||
                                       (kind == wamp::ElementKind::binary && layout->argument_elements == 1));
        if (!acceptable)
            return DecodeResult::fail(std::string(is_kwargs ? "'ArgumentsKw'" : "'Arguments'") + " in " +
                                      std::string(schema->name) + ": invalid type, expected " +
                                      (is_kwargs ? "dict" : "list or binary payload"));
        (is_kwargs ? message.arguments_kw : message.arguments)
            .emplace(wamp::Serializer::json, *kind, frame, offset, size);
    }
    return DecodeResult::ok(std::move(message));
}

std::string encode_json(const wamp::Message& message) {
    rapidjson::StringBuffer buffer;
    Writer writer(buffer);
    writer.StartArray();
    writer.Uint(static_cast<unsigned>(message.type));
    for (const auto& field : message.fields) write_value(writer, field);
    bool has_kwargs = message.arguments_kw || message.router_arguments_kw;
    if (message.arguments) write_element(writer, *message.arguments);
    else if (message.router_arguments) write_value(writer, wamp::Value{*message.router_arguments});
    else if (has_kwargs) {
        writer.StartArray();
        writer.EndArray();
    }
    if (message.arguments_kw) write_element(writer, *message.arguments_kw);
    else if (message.router_arguments_kw) write_value(writer, wamp::Value{*message.router_arguments_kw});
    writer.EndArray();
    return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace blindrouter::codec
