#include "blindrouter/codec/element_value.hpp"

#include "blindrouter/codec/element_access.hpp"
#include "message_elements.hpp"

namespace blindrouter::codec {

ElementValue decode_element(const wamp::EncodedElement& element, const ElementLimits& limits) {
    if (element.size() > limits.max_bytes)
        return ElementValue::fail("larger than " + std::to_string(limits.max_bytes) + " bytes");
    detail::ValueBuilder builder;
    if (auto error = detail::read_value(element.serializer(), ElementAccess::bytes(element), builder, limits.max_depth)) {
        if (error->kind == detail::ReadError::Kind::too_deep)
            return ElementValue::fail("nesting deeper than " + std::to_string(limits.max_depth));
        return ElementValue::fail(std::string(error->detail));
    }
    return ElementValue::ok(builder.take());
}

}  // namespace blindrouter::codec
