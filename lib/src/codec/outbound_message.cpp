#include "blindrouter/codec/outbound_message.hpp"

#include "blindrouter/codec/cbor_codec.hpp"
#include "blindrouter/codec/element_access.hpp"
#include "blindrouter/codec/json_codec.hpp"
#include "blindrouter/codec/msgpack_codec.hpp"
#include "message_elements.hpp"

namespace blindrouter::codec {

std::array<std::string_view, 3> EncodedFrame::pieces() const {
    std::string_view written(written_.get(), written_size_);
    if (!spliced_) return {written, {}, {}};
    return {written.substr(0, splice_at_), ElementAccess::bytes(*spliced_), written.substr(splice_at_)};
}

std::size_t EncodedFrame::kept_bytes() const {
    return written_kept_ + (spliced_ ? shared_string_kept(spliced_->frame_capacity()) : 0);
}

std::string EncodedFrame::bytes() const {
    std::string joined;
    joined.reserve(size());
    for (auto piece : pieces()) joined.append(piece);
    return joined;
}

const EncodedFrame& OutboundMessage::encoded(wamp::Serializer serializer) const {
    auto index = static_cast<std::size_t>(serializer);
    if (!attempted_[index]) {
        attempted_[index] = true;
        encoded_[index] = detail::encode_frame(serializer, message_);
    }
    return encoded_[index];
}

DecodeResult decode(wamp::Serializer serializer, std::shared_ptr<const std::string> frame) {
    switch (serializer) {
        case wamp::Serializer::json:
            return decode_json(std::move(frame));
        case wamp::Serializer::msgpack:
            return decode_msgpack(std::move(frame));
        case wamp::Serializer::cbor:
            return decode_cbor(std::move(frame));
    }
    return DecodeResult::fail("unknown serializer");
}

}  // namespace blindrouter::codec
