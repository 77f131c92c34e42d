#include "fuzz_support.hpp"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "blindrouter/codec/decode_result.hpp"
#include "blindrouter/codec/outbound_message.hpp"

namespace blindrouter::fuzz {
namespace {

[[noreturn]] void broken(const char* what, wamp::Serializer serializer) {
    std::fprintf(stderr, "fuzz expectation broken: %s (%s)\n", what, std::string(wamp::serializer_name(serializer)).c_str());
    std::abort();
}

}  // namespace

void decode_and_reencode(wamp::Serializer serializer, const std::uint8_t* data, std::size_t size) {
    auto frame = std::make_shared<const std::string>(reinterpret_cast<const char*>(data), size);
    auto decoded = codec::decode(serializer, std::move(frame));
    if (!decoded) return;
    codec::OutboundMessage outbound(std::move(decoded.message()));
    for (auto target : {wamp::Serializer::json, wamp::Serializer::msgpack, wamp::Serializer::cbor}) {
        const auto& encoded = outbound.encoded(target);
        if (!encoded) continue;  // not expressible in `target`
        auto again = codec::decode(target, std::make_shared<const std::string>(encoded.bytes()));
        if (!again) broken(again.error().c_str(), target);
        codec::OutboundMessage second(std::move(again.message()));
        const auto& reencoded = second.encoded(target);
        if (!reencoded) broken("a decoded frame cannot be encoded again", target);
        if (reencoded.bytes() != encoded.bytes()) broken("encoding is not stable", target);
    }
}

}  // namespace blindrouter::fuzz
