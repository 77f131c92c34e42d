#pragma once
// The one way to an encoded element's bytes: for the encoders that splice or
// translate it (lib/src/codec) and for tests that check bytes arrived unchanged.
// Plugins never include this (tests/plugin_boundary checks that).
#include <string_view>

#include "blindrouter/wamp/message.hpp"

namespace blindrouter::codec {

struct ElementAccess {
    static std::string_view bytes(const wamp::EncodedElement& element) {
        auto span = element.bytes();
        return {span.data(), span.size()};
    }
};

}  // namespace blindrouter::codec
