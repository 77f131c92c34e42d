#include "blindrouter/codec/json_codec.hpp"

#include <rapidjson/encodedstream.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <cstring>

#include "json_format.hpp"
#include "message_elements.hpp"

namespace blindrouter::codec {
namespace {

constexpr unsigned parse_flags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;

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

// The byte ranges of the root array's elements, for frames scan_json_frame leaves to
// rapidjson. Runs only on text rapidjson has validated, so it need only skip strings
// and balance brackets; rapidjson's SAX API reports no source offsets it documents.
detail::FrameElements root_elements(const std::string& text) {
    detail::FrameElements elements;
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
        auto element = std::string_view(text).substr(start, pos - start);
        elements.add(detail::FrameElement{start, element.size(), detail::json_element_kind(element)});
        skip_space();
        if (text[pos] == ',') ++pos;
    }
    return elements;
}

}  // namespace

DecodeResult decode_json(std::shared_ptr<const std::string> frame) {
    // One pass that validates and locates; Arguments and ArgumentsKw are never read again.
    if (auto elements = detail::scan_json_frame(*frame))
        return detail::decode_elements(wamp::Serializer::json, frame, *elements);

    // Refused or out of the scanner's reach: rapidjson decides, and words the error.
    const std::string& text = *frame;
    if (std::memchr(text.data(), '\0', text.size()) != nullptr)
        return DecodeResult::fail("invalid JSON: raw NUL byte in message");

    // A bounded stream: rapidjson's validation reads every byte a UTF-8 lead byte
    // announces, and a NUL-terminated stream would let it read past the frame's end.
    rapidjson::MemoryStream memory(text.data(), text.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> stream(memory);
    RootShape shape;
    rapidjson::Reader reader;
    auto parsed = reader.Parse<parse_flags>(stream, shape);
    if (parsed.IsError()) {
        if (parsed.Code() == rapidjson::kParseErrorTermination) return DecodeResult::fail("message is not a JSON array");
        return DecodeResult::fail(std::string("invalid JSON: ") + rapidjson::GetParseError_En(parsed.Code()) +
                                  " at offset " + std::to_string(parsed.Offset()));
    }
    if (!shape.root_is_array) return DecodeResult::fail("message is not a JSON array");
    return detail::decode_elements(wamp::Serializer::json, frame, root_elements(text));
}

std::optional<std::string> encode_json(const wamp::Message& message) {
    return detail::encode_message(wamp::Serializer::json, message);
}

}  // namespace blindrouter::codec
