#include "blindrouter/wamp/message.hpp"

#include <array>
#include <stdexcept>

namespace blindrouter::wamp {
namespace {
using K = FieldKind;
constexpr FieldSpec hello[]{{K::uri, "Realm"}, {K::dict, "Details"}};
constexpr FieldSpec welcome[]{{K::id, "Session"}, {K::dict, "Details"}};
constexpr FieldSpec abort_[]{{K::dict, "Details"}, {K::uri, "Reason"}};
constexpr FieldSpec challenge[]{{K::uri, "AuthMethod"}, {K::dict, "Extra"}};
constexpr FieldSpec authenticate[]{{K::uri, "Signature"}, {K::dict, "Extra"}};
constexpr FieldSpec goodbye[]{{K::dict, "Details"}, {K::uri, "Reason"}};
constexpr FieldSpec error[]{{K::integer, "REQUEST.Type"}, {K::id, "REQUEST.Request"}, {K::dict, "Details"},
                            {K::uri, "Error"}};
constexpr FieldSpec publish[]{{K::id, "Request"}, {K::dict, "Options"}, {K::uri, "Topic"}};
constexpr FieldSpec published[]{{K::id, "PUBLISH.Request"}, {K::id, "Publication"}};
constexpr FieldSpec subscribe[]{{K::id, "Request"}, {K::dict, "Options"}, {K::uri, "Topic"}};
constexpr FieldSpec subscribed[]{{K::id, "SUBSCRIBE.Request"}, {K::id, "Subscription"}};
constexpr FieldSpec unsubscribe[]{{K::id, "Request"}, {K::id, "SUBSCRIBED.Subscription"}};
constexpr FieldSpec unsubscribed[]{{K::id, "UNSUBSCRIBE.Request"}, {K::dict, "Details"}};
constexpr FieldSpec event[]{{K::id, "SUBSCRIBED.Subscription"}, {K::id, "PUBLISHED.Publication"}, {K::dict, "Details"}};
constexpr FieldSpec call[]{{K::id, "Request"}, {K::dict, "Options"}, {K::uri, "Procedure"}};
constexpr FieldSpec cancel[]{{K::id, "CALL.Request"}, {K::dict, "Options"}};
constexpr FieldSpec result[]{{K::id, "CALL.Request"}, {K::dict, "Details"}};
constexpr FieldSpec register_[]{{K::id, "Request"}, {K::dict, "Options"}, {K::uri, "Procedure"}};
constexpr FieldSpec registered[]{{K::id, "REGISTER.Request"}, {K::id, "Registration"}};
constexpr FieldSpec unregister[]{{K::id, "Request"}, {K::id, "REGISTERED.Registration"}};
constexpr FieldSpec unregistered[]{{K::id, "UNREGISTER.Request"}, {K::dict, "Details"}};
constexpr FieldSpec invocation[]{{K::id, "Request"}, {K::id, "REGISTERED.Registration"}, {K::dict, "Details"}};
constexpr FieldSpec interrupt[]{{K::id, "CANCEL.Request"}, {K::dict, "Options"}};
constexpr FieldSpec yield[]{{K::id, "INVOCATION.Request"}, {K::dict, "Options"}};

using T = MessageType;
// AUTHENTICATE's Signature is a string, not a URI; the router treats kind uri as "string".
constexpr std::array<MessageSchema, 24> schemas{{
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
}  // namespace

const MessageSchema* schema_for(std::uint64_t type_code) {
    for (const auto& s : schemas)
        if (static_cast<std::uint64_t>(s.type) == type_code) return &s;
    return nullptr;
}

const MessageSchema& schema_for(MessageType type) {
    const auto* s = schema_for(static_cast<std::uint64_t>(type));
    if (!s) throw std::logic_error("message type without schema");
    return *s;
}

std::string_view message_name(MessageType type) { return schema_for(type).name; }

EncodedElement::EncodedElement(Serializer serializer, ElementKind kind, std::shared_ptr<const std::string> frame,
                               std::size_t offset, std::size_t size)
    : serializer_(serializer), kind_(kind), frame_(std::move(frame)), offset_(offset), size_(size) {}

std::uint64_t Message::id_at(std::size_t index) const { return fields.at(index).as_unsigned().value(); }

const Dict& Message::dict_at(std::size_t index) const {
    static const Dict empty;
    const Dict* d = index < fields.size() ? fields[index].as_dict() : nullptr;
    return d ? *d : empty;
}

const std::string& Message::string_at(std::size_t index) const {
    static const std::string empty;
    const std::string* s = index < fields.size() ? fields[index].as_string() : nullptr;
    return s ? *s : empty;
}

}  // namespace blindrouter::wamp
