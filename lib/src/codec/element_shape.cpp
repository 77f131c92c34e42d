// EncodedElement's structural questions, answered without decoding the values
// inside an element: only container and item headers are read.
#include "blindrouter/codec/element_access.hpp"
#include "blindrouter/wamp/message.hpp"

#include <cstdint>
#include <string_view>

#include "json_format.hpp"

namespace blindrouter::codec {
namespace {

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trimmed(std::string_view s) {
    while (!s.empty() && is_json_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_json_space(s.back())) s.remove_suffix(1);
    return s;
}

// JSON: ["\u0000<base64>"], one string item whose first character is NUL; the
// JSON scanner that located the element finds its items again.
bool json_single_binary(std::string_view s) {
    auto items = detail::scan_json_frame(s);
    return items && items->size() == 1 && (*items)[0].kind == wamp::ElementKind::binary;
}

std::uint64_t big_endian(std::string_view s, std::size_t offset, std::size_t width) {
    std::uint64_t n = 0;
    for (std::size_t i = 0; i < width; ++i) n = (n << 8) | static_cast<unsigned char>(s[offset + i]);
    return n;
}

// MsgPack: fixarray of 1 (0x91), then bin 8/16/32 whose length fills the rest.
bool msgpack_single_binary(std::string_view s) {
    if (s.size() < 3 || static_cast<unsigned char>(s[0]) != 0x91) return false;
    std::size_t width = 0;
    switch (static_cast<unsigned char>(s[1])) {
        case 0xc4: width = 1; break;
        case 0xc5: width = 2; break;
        case 0xc6: width = 4; break;
        default: return false;
    }
    if (s.size() < 2 + width) return false;
    return big_endian(s, 2, width) == s.size() - 2 - width;
}

// CBOR: array of 1 (0x81), then a definite byte string whose length fills the rest.
bool cbor_single_binary(std::string_view s) {
    if (s.size() < 2 || static_cast<unsigned char>(s[0]) != 0x81) return false;
    auto head = static_cast<unsigned char>(s[1]);
    if ((head >> 5) != 2) return false;
    auto info = head & 0x1f;
    std::size_t width = 0;
    std::uint64_t length = 0;
    if (info < 24) length = info;
    else if (info >= 24 && info <= 27) width = std::size_t{1} << (info - 24);
    else return false;  // indefinite or reserved
    if (s.size() < 2 + width) return false;
    if (width) length = big_endian(s, 2, width);
    return length == s.size() - 2 - width;
}

}  // namespace
}  // namespace blindrouter::codec

namespace blindrouter::wamp {
using codec::ElementAccess;
using namespace codec;

bool EncodedElement::is_single_binary_list() const {
    const auto& element = *this;
    if (element.kind() != wamp::ElementKind::list) return false;
    auto s = ElementAccess::bytes(element);
    switch (element.serializer()) {
        case wamp::Serializer::json: return json_single_binary(s);
        case wamp::Serializer::msgpack: return msgpack_single_binary(s);
        case wamp::Serializer::cbor: return cbor_single_binary(s);
    }
    return false;
}

bool EncodedElement::is_empty_dict() const {
    const auto& element = *this;
    if (element.kind() != wamp::ElementKind::dict) return false;
    auto s = ElementAccess::bytes(element);
    switch (element.serializer()) {
        case wamp::Serializer::json: {
            auto t = trimmed(s);
            return t.size() >= 2 && t.front() == '{' && trimmed(t.substr(1, t.size() - 2)).empty();
        }
        case wamp::Serializer::msgpack: return s.size() == 1 && static_cast<unsigned char>(s[0]) == 0x80;
        case wamp::Serializer::cbor:
            return (s.size() == 1 && static_cast<unsigned char>(s[0]) == 0xa0) ||
                   (s.size() == 2 && static_cast<unsigned char>(s[0]) == 0xbf && static_cast<unsigned char>(s[1]) == 0xff);
    }
    return false;
}

}  // namespace blindrouter::wamp
