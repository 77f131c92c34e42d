// libFuzzer target: decode a json frame; re-encode what decodes in every serializer.
// Also checks the hand-written JSON scanner against rapidjson 1.1.0, which it
// replaced: each accepts a frame exactly when the other does.
#include <rapidjson/encodedstream.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "fuzz_support.hpp"
#include "lib/src/codec/json_format.hpp"

namespace {

// nullopt when the two may rightly differ: rapidjson reads NUL as the end of the
// text, and its input stream skips a byte order mark's first byte or two alone.
std::optional<bool> rapidjson_accepts_array(std::string_view text) {
    if (text.find('\0') != std::string_view::npos) return std::nullopt;
    bool full_mark = text.starts_with("\xef\xbb\xbf");
    if (!full_mark && !text.empty() && std::string_view("\xef\xbb\xbf").find(text[0]) != std::string_view::npos)
        return std::nullopt;
    rapidjson::MemoryStream memory(text.data(), text.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> in(memory);
    rapidjson::BaseReaderHandler<> ignore;
    rapidjson::Reader reader;
    constexpr unsigned flags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
    if (reader.Parse<flags>(in, ignore).IsError()) return false;
    auto root = text.find_first_not_of(" \t\r\n", full_mark ? 3 : 0);
    return text[root] == '[';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto expected = rapidjson_accepts_array(text);
    if (expected && blindrouter::codec::detail::scan_json_frame(text).has_value() != *expected) {
        std::fprintf(stderr, "fuzz expectation broken: the JSON scanner and rapidjson disagree\n");
        std::abort();
    }
    blindrouter::fuzz::decode_and_reencode(blindrouter::wamp::Serializer::json, data, size);
    return 0;
}
