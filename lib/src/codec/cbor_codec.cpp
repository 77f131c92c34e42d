#include "blindrouter/codec/cbor_codec.hpp"

#include <cbor.h>

#include "message_elements.hpp"

namespace blindrouter::codec {
namespace {

// The top-level array's head. Read token by token with libcbor's streaming decoder
// because the elements are then read one by one, which gives their byte ranges.
struct ArrayHead {
    enum class Token : std::uint8_t { other, tag, array, indefinite_array } token = Token::other;
    std::size_t count = 0;
};

const cbor_callbacks& head_callbacks() {
    static const cbor_callbacks table = [] {
        cbor_callbacks c = cbor_empty_callbacks;
        c.tag = [](void* h, std::uint64_t) { static_cast<ArrayHead*>(h)->token = ArrayHead::Token::tag; };
        c.array_start = [](void* h, std::size_t n) { *static_cast<ArrayHead*>(h) = {ArrayHead::Token::array, n}; };
        c.indef_array_start = [](void* h) { static_cast<ArrayHead*>(h)->token = ArrayHead::Token::indefinite_array; };
        return c;
    }();
    return table;
}

}  // namespace

DecodeResult decode_cbor(std::shared_ptr<const std::string> frame) {
    std::string_view data(*frame);
    std::size_t offset = 0;
    ArrayHead head;
    do {  // tags before the array, e.g. the self-described CBOR tag 55799, are skipped
        head = ArrayHead{};
        auto result = cbor_stream_decode(reinterpret_cast<cbor_data>(data.data() + offset), data.size() - offset,
                                         &head_callbacks(), &head);
        if (result.status != CBOR_DECODER_FINISHED) return DecodeResult::fail("message is not a CBOR array");
        offset += result.read;
    } while (head.token == ArrayHead::Token::tag && offset < data.size());
    if (head.token == ArrayHead::Token::indefinite_array)
        return detail::decode_array_items(wamp::Serializer::cbor, frame, offset, std::nullopt);
    if (head.token != ArrayHead::Token::array) return DecodeResult::fail("message is not a CBOR array");
    return detail::decode_array_items(wamp::Serializer::cbor, frame, offset, head.count);
}

std::optional<std::string> encode_cbor(const wamp::Message& message) {
    return detail::encode_message(wamp::Serializer::cbor, message);
}

}  // namespace blindrouter::codec
