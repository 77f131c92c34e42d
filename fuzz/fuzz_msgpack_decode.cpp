// libFuzzer target: decode a msgpack frame; re-encode what decodes in every serializer.
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    blindrouter::fuzz::decode_and_reencode(blindrouter::wamp::Serializer::msgpack, data, size);
    return 0;
}
