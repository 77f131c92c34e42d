#pragma once
// The message model: the routing fields a router must read are decoded into
// Values; Arguments and ArgumentsKw stay encoded bytes of the received frame.
#include <boost/container/small_vector.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "blindrouter/wamp/serializer.hpp"
#include "blindrouter/wamp/value.hpp"

namespace blindrouter::codec {
struct ElementAccess;
}

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
    uri_or_null,  // uri, or null for "not given" (HELLO.Realm only, see the table)
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

// The one schema table. It lives in the header so that the typed views
// (wamp/messages.hpp) find their fields' positions in it at compile time: a
// field's position is written down here and nowhere else.
namespace schema_table {
using K = FieldKind;
// HELLO.Realm may be null: Autobahn sends realm=None so, and Crossbar lets the
// authentication method assign the realm (cb:router/auth/pending.py, _assign_principal).
inline constexpr FieldSpec hello[]{{K::uri_or_null, "Realm"}, {K::dict, "Details"}};
inline constexpr FieldSpec welcome[]{{K::id, "Session"}, {K::dict, "Details"}};
inline constexpr FieldSpec abort_[]{{K::dict, "Details"}, {K::uri, "Reason"}};
inline constexpr FieldSpec challenge[]{{K::uri, "AuthMethod"}, {K::dict, "Extra"}};
// AUTHENTICATE's Signature is a string, not a URI; the router treats kind uri as "string".
inline constexpr FieldSpec authenticate[]{{K::uri, "Signature"}, {K::dict, "Extra"}};
inline constexpr FieldSpec goodbye[]{{K::dict, "Details"}, {K::uri, "Reason"}};
inline constexpr FieldSpec error[]{{K::integer, "REQUEST.Type"}, {K::id, "REQUEST.Request"}, {K::dict, "Details"},
                                   {K::uri, "Error"}};
inline constexpr FieldSpec publish[]{{K::id, "Request"}, {K::dict, "Options"}, {K::uri, "Topic"}};
inline constexpr FieldSpec published[]{{K::id, "PUBLISH.Request"}, {K::id, "Publication"}};
inline constexpr FieldSpec subscribe[]{{K::id, "Request"}, {K::dict, "Options"}, {K::uri, "Topic"}};
inline constexpr FieldSpec subscribed[]{{K::id, "SUBSCRIBE.Request"}, {K::id, "Subscription"}};
inline constexpr FieldSpec unsubscribe[]{{K::id, "Request"}, {K::id, "SUBSCRIBED.Subscription"}};
inline constexpr FieldSpec unsubscribed[]{{K::id, "UNSUBSCRIBE.Request"}, {K::dict, "Details"}};
inline constexpr FieldSpec event[]{{K::id, "SUBSCRIBED.Subscription"}, {K::id, "PUBLISHED.Publication"},
                                   {K::dict, "Details"}};
inline constexpr FieldSpec call[]{{K::id, "Request"}, {K::dict, "Options"}, {K::uri, "Procedure"}};
inline constexpr FieldSpec cancel[]{{K::id, "CALL.Request"}, {K::dict, "Options"}};
inline constexpr FieldSpec result[]{{K::id, "CALL.Request"}, {K::dict, "Details"}};
inline constexpr FieldSpec register_[]{{K::id, "Request"}, {K::dict, "Options"}, {K::uri, "Procedure"}};
inline constexpr FieldSpec registered[]{{K::id, "REGISTER.Request"}, {K::id, "Registration"}};
inline constexpr FieldSpec unregister[]{{K::id, "Request"}, {K::id, "REGISTERED.Registration"}};
inline constexpr FieldSpec unregistered[]{{K::id, "UNREGISTER.Request"}, {K::dict, "Details"}};
inline constexpr FieldSpec invocation[]{{K::id, "Request"}, {K::id, "REGISTERED.Registration"}, {K::dict, "Details"}};
inline constexpr FieldSpec interrupt[]{{K::id, "CANCEL.Request"}, {K::dict, "Options"}};
inline constexpr FieldSpec yield[]{{K::id, "INVOCATION.Request"}, {K::dict, "Options"}};

using T = MessageType;
inline constexpr std::array<MessageSchema, 24> rows{{
    {T::hello, "HELLO", hello, 2, false, true},
    {T::welcome, "WELCOME", welcome, 2, false, false},
    {T::abort, "ABORT", abort_, 2, false, true},
    {T::challenge, "CHALLENGE", challenge, 2, false, false},
    {T::authenticate, "AUTHENTICATE", authenticate, 2, false, true},
    {T::goodbye, "GOODBYE", goodbye, 2, false, true},
    {T::error, "ERROR", error, 4, true, true},
    {T::publish, "PUBLISH", publish, 3, true, true},
    {T::published, "PUBLISHED", published, 2, false, false},
    {T::subscribe, "SUBSCRIBE", subscribe, 3, false, true},
    {T::subscribed, "SUBSCRIBED", subscribed, 2, false, false},
    {T::unsubscribe, "UNSUBSCRIBE", unsubscribe, 2, false, true},
    {T::unsubscribed, "UNSUBSCRIBED", unsubscribed, 1, false, false},
    {T::event, "EVENT", event, 3, true, false},
    {T::call, "CALL", call, 3, true, true},
    {T::cancel, "CANCEL", cancel, 2, false, true},
    {T::result, "RESULT", result, 2, true, false},
    {T::reg, "REGISTER", register_, 3, false, true},
    {T::registered, "REGISTERED", registered, 2, false, false},
    {T::unregister, "UNREGISTER", unregister, 2, false, true},
    {T::unregistered, "UNREGISTERED", unregistered, 1, false, false},
    {T::invocation, "INVOCATION", invocation, 3, true, false},
    {T::interrupt, "INTERRUPT", interrupt, 2, false, false},
    {T::yield, "YIELD", yield, 2, true, true},
}};
}  // namespace schema_table

constexpr const MessageSchema* schema_for(std::uint64_t type_code) {
    for (const auto& s : schema_table::rows)
        if (static_cast<std::uint64_t>(s.type) == type_code) return &s;
    return nullptr;
}
const MessageSchema& schema_for(MessageType type);
std::string_view message_name(MessageType type);

// The position of the field `name` in messages of `type`; a name the table does not
// have for that type stops the compilation.
consteval std::size_t field_index(MessageType type, std::string_view name) {
    // Walks the rows by value: GCC's UBSan instrumentation makes a pointer to a row
    // (schema_for) unusable in a constant expression.
    for (const auto& row : schema_table::rows) {
        if (row.type != type) continue;
        for (std::size_t i = 0; i < row.fields.size(); ++i)
            if (row.fields[i].name == name) return i;
    }
    throw "no such field in this message type";
}

// Where an element came from, for the codec that must splice or translate it.
enum class ElementKind : std::uint8_t { list, dict, binary };

// Arguments, ArgumentsKw or an opaque payload: a byte range of a received,
// immutable frame, in that frame's serializer. Nothing outside the codec can read
// its bytes (only codec::ElementAccess, which the encoder uses to splice them):
// the router, its hooks and plugins see a size and a shape, never content, and
// there is deliberately no conversion to text.
class EncodedElement {
public:
    EncodedElement(Serializer serializer, ElementKind kind, std::shared_ptr<const std::string> frame,
                   std::size_t offset, std::size_t size);
    Serializer serializer() const { return serializer_; }
    ElementKind kind() const { return kind_; }
    std::size_t size() const { return size_; }
    // The capacity of the received frame this is a slice of: holding the element keeps
    // that whole buffer allocated, the message around the element and any spare room
    // included (what a send queue charges for it, codec::EncodedFrame::kept_bytes).
    std::size_t frame_capacity() const { return frame_->capacity(); }

    // Structural questions, answered from container and item headers only (codec/element_shape.cpp):
    // a list holding exactly one binary item (the spec's Payload PassThru Mode Arguments)...
    bool is_single_binary_list() const;
    // ...and an empty dict (an ArgumentsKw that carries nothing).
    bool is_empty_dict() const;

private:
    friend struct blindrouter::codec::ElementAccess;
    std::span<const char> bytes() const { return {frame_->data() + offset_, size_}; }

    Serializer serializer_;
    ElementKind kind_;
    std::shared_ptr<const std::string> frame_;
    std::size_t offset_;
    std::size_t size_;
};

// A decoded message. `fields` holds the routing fields in wire order; only the
// codec and the typed views of wamp/messages.hpp index it: everything else reads
// `Publish(m).topic()`, never a position.
struct Message {
    MessageType type{};
    // Inline: no message has more than four routing fields (ERROR), so decoding one
    // allocates nothing for them.
    boost::container::small_vector<Value, 4> fields;
    std::optional<EncodedElement> arguments;
    std::optional<EncodedElement> arguments_kw;
    // Arguments written by the router itself (an error's explanation, error kwargs);
    // never client data. Used only when the encoded counterpart is absent.
    std::optional<List> router_arguments;
    std::optional<Dict> router_arguments_kw;
    // The bytes this message was decoded from, exactly as received (a WebSocket
    // message payload, a RawSocket frame body), so that a clustered realm can forward
    // the sender's own frame (SCALE-OUT.md §2.4); null for a message the router built.
    // Set by the decoder alone. A copy kept beyond the message's handling (retained
    // events, history) drops it: those stores count only what they read.
    std::shared_ptr<const std::string> received_frame;
};

}  // namespace blindrouter::wamp
