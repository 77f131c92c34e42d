#include "blindrouter/wamp/message.hpp"

#include <stdexcept>

namespace blindrouter::wamp {
const MessageSchema& schema_for(MessageType type) {
    const auto* s = schema_for(static_cast<std::uint64_t>(type));
    if (!s) throw std::logic_error("message type without schema");
    return *s;
}

std::string_view message_name(MessageType type) { return schema_for(type).name; }

EncodedElement::EncodedElement(Serializer serializer, ElementKind kind, std::shared_ptr<const std::string> frame,
                               std::size_t offset, std::size_t size)
    : serializer_(serializer), kind_(kind), frame_(std::move(frame)), offset_(offset), size_(size) {}

}  // namespace blindrouter::wamp
