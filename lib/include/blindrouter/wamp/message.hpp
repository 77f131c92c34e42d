#pragma once
// The message model: the routing fields a router must read are decoded into
// Values; Arguments and ArgumentsKw stay encoded bytes of the received frame.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "blindrouter/wamp/serializer.hpp"
#include "blindrouter/wamp/value.hpp"

namespace blindrouter::wamp {

enum class MessageType : std::uint8_t {
    hello = 1,
    welcome = 2,
    abort = 3,
    challenge = 4,
    authenticate = 5,
    goodbye = 6,
    error = 8,
    publish = 16,
    published = 17,
    subscribe = 32,
    subscribed = 33,
    unsubscribe = 34,
    unsubscribed = 35,
    event = 36,
    call = 48,
    cancel = 49,
    result = 50,
    reg = 64,  // REGISTER; `register` is a C++ keyword
    registered = 65,
    unregister = 66,
    unregistered = 67,
    invocation = 68,
    interrupt = 69,
    yield = 70,
};

// What a routing field must hold, as the WAMP spec's message definitions say.
enum class FieldKind : std::uint8_t {
    id,       // integer in [1, 2^53]
    integer,  // non-negative integer (ERROR's request type)
    uri,      // string; URI rules are checked by the router, which answers invalid_uri
    dict,
};

struct FieldSpec {
    FieldKind kind;
    std::string_view name;
};

// Protocol facts as data: one row per message type.
struct MessageSchema {
    MessageType type;
    std::string_view name;
    std::span<const FieldSpec> fields;
    std::size_t required_fields;  // trailing optional routing fields beyond this count
    bool carries_arguments;       // may be followed by Arguments and ArgumentsKw
    bool sent_by_client;          // a router accepts it from a client
};

const MessageSchema* schema_for(std::uint64_t type_code);
const MessageSchema& schema_for(MessageType type);
std::string_view message_name(MessageType type);

// Where an element came from, for the codec that must splice or translate it.
enum class ElementKind : std::uint8_t { list, dict, binary };

// Arguments, ArgumentsKw or an opaque payload: a byte range of a received,
// immutable frame, in that frame's serializer. It is never printed: there is
// deliberately no conversion to text here.
class EncodedElement {
public:
    EncodedElement(Serializer serializer, ElementKind kind, std::shared_ptr<const std::string> frame,
                   std::size_t offset, std::size_t size);
    Serializer serializer() const { return serializer_; }
    ElementKind kind() const { return kind_; }
    std::span<const char> bytes() const { return {frame_->data() + offset_, size_}; }
    std::size_t size() const { return size_; }

private:
    Serializer serializer_;
    ElementKind kind_;
    std::shared_ptr<const std::string> frame_;
    std::size_t offset_;
    std::size_t size_;
};

struct Message {
    MessageType type{};
    std::vector<Value> fields;  // routing fields in wire order, after the type code
    std::optional<EncodedElement> arguments;
    std::optional<EncodedElement> arguments_kw;
    // Arguments written by the router itself (an error's explanation, error kwargs);
    // never client data. Used only when the encoded counterpart is absent.
    std::optional<List> router_arguments;
    std::optional<Dict> router_arguments_kw;

    std::uint64_t id_at(std::size_t index) const;
    const Dict& dict_at(std::size_t index) const;
    const std::string& string_at(std::size_t index) const;
};

}  // namespace blindrouter::wamp
