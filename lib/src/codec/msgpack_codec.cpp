#include "blindrouter/codec/msgpack_codec.hpp"

#include "message_elements.hpp"

namespace blindrouter::codec {
namespace {

struct ArrayHead {
    std::size_t count;
    std::size_t size;  // beyond the frame's size when the head itself is cut short
};

// The top-level array's head, read here because msgpack-cxx's parse() reads whole
// objects: the elements are then parsed one by one, which gives their byte ranges.
std::optional<ArrayHead> array_head(std::string_view data) {
    auto byte = [&data](std::size_t i) { return static_cast<std::size_t>(static_cast<unsigned char>(data[i])); };
    if (data.empty()) return std::nullopt;
    if ((byte(0) & 0xf0) == 0x90) return ArrayHead{byte(0) & 0x0f, 1};
    if (byte(0) == 0xdc) return data.size() < 3 ? ArrayHead{0, 3} : ArrayHead{byte(1) << 8 | byte(2), 3};
    if (byte(0) == 0xdd)
        return data.size() < 5 ? ArrayHead{0, 5} : ArrayHead{byte(1) << 24 | byte(2) << 16 | byte(3) << 8 | byte(4), 5};
    return std::nullopt;
}

}  // namespace

DecodeResult decode_msgpack(std::shared_ptr<const std::string> frame) {
    auto head = array_head(*frame);
    if (!head) return DecodeResult::fail("message is not a MsgPack array");
    if (head->size > frame->size()) return detail::frame_error(wamp::Serializer::msgpack, "truncated data");
    return detail::decode_array_items(wamp::Serializer::msgpack, frame, head->size, head->count);
}

std::optional<std::string> encode_msgpack(const wamp::Message& message) {
    return detail::encode_message(wamp::Serializer::msgpack, message);
}

}  // namespace blindrouter::codec
