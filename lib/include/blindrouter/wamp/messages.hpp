#pragma once
// Typed views of messages: `Publish(m).topic()`, `Call(m).options()`. Each accessor
// names its field as the schema table does, and the table (wamp/message.hpp) gives
// its position at compile time, so no position is written anywhere else. Builders
// (`Event::make(...)`) place fields the same way.
//
// A view holds a reference: it lives no longer than the message it views. The
// codec has validated every routing field's kind before a message exists, so the
// accessors do not fail; an optional field that is absent reads as empty.
#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "blindrouter/wamp/message.hpp"

namespace blindrouter::wamp {

// A field name as a template argument.
template <std::size_t N>
struct FieldName {
    char text[N]{};
    consteval FieldName(const char (&name)[N]) {
        for (std::size_t i = 0; i < N; ++i) text[i] = name[i];
    }
    constexpr std::string_view view() const { return {text, N - 1}; }
};

template <MessageType T>
class View {
public:
    static constexpr MessageType type = T;
    explicit View(const Message& message) : message_(&message) { assert(message.type == T); }

    const Message& message() const { return *message_; }
    // Opaque: see EncodedElement. Absent when the message carries none.
    const std::optional<EncodedElement>& arguments() const { return message_->arguments; }
    const std::optional<EncodedElement>& arguments_kw() const { return message_->arguments_kw; }
    bool carries_arguments() const { return message_->arguments || message_->arguments_kw; }

protected:
    template <FieldName Name>
    const Value* field() const {
        constexpr auto index = field_index(T, Name.view());
        return index < message_->fields.size() ? &message_->fields[index] : nullptr;
    }
    template <FieldName Name>
    std::uint64_t id() const {
        const auto* v = field<Name>();
        return v ? v->as_unsigned().value_or(0) : 0;
    }
    template <FieldName Name>
    const Dict& dict() const {
        static const Dict empty;
        const auto* v = field<Name>();
        const auto* d = v ? v->as_dict() : nullptr;
        return d ? *d : empty;
    }
    template <FieldName Name>
    const std::string& string() const {
        static const std::string empty;
        const auto* v = field<Name>();
        const auto* s = v ? v->as_string() : nullptr;
        return s ? *s : empty;
    }
    // A field of kind uri_or_null: nothing when it is null.
    template <FieldName Name>
    std::optional<std::string_view> string_or_null() const {
        const auto* v = field<Name>();
        const auto* s = v ? v->as_string() : nullptr;
        if (!s) return std::nullopt;
        return std::string_view(*s);
    }

private:
    const Message* message_;
};

// Builds a message of type T field by field, by name. Trailing optional fields
// that were never set are left out (UNSUBSCRIBED without Details).
template <MessageType T>
class Builder {
public:
    Builder() {
        message_.type = T;
        message_.fields.resize(schema_for(T).fields.size());
    }
    template <FieldName Name>
    Builder& set(Value value) {
        constexpr auto index = field_index(T, Name.view());
        message_.fields[index] = std::move(value);
        if (index + 1 > used_) used_ = index + 1;
        return *this;
    }
    // The arguments of the message this one is built from, spliced as they arrived,
    // or, when the router itself wrote that message (core/service_session.hpp), its
    // router-written arguments.
    Builder& arguments_from(const Message& source) {
        message_.arguments = source.arguments;
        message_.arguments_kw = source.arguments_kw;
        message_.router_arguments = source.router_arguments;
        message_.router_arguments_kw = source.router_arguments_kw;
        return *this;
    }
    // Arguments the router writes itself (never client data).
    Builder& router_arguments(List args, Dict kwargs) {
        if (!args.empty() || !kwargs.empty()) message_.router_arguments = std::move(args);
        if (!kwargs.empty()) message_.router_arguments_kw = std::move(kwargs);
        return *this;
    }
    Message take() {
        message_.fields.resize(std::max(used_, schema_for(T).required_fields));
        return std::move(message_);
    }

private:
    Message message_;
    std::size_t used_ = 0;
};

struct Hello : View<MessageType::hello> {
    using View::View;
    // Nothing when the client named no realm (Autobahn's realm=None).
    std::optional<std::string_view> realm() const { return string_or_null<"Realm">(); }
    const Dict& details() const { return dict<"Details">(); }
};

struct Welcome : View<MessageType::welcome> {
    using View::View;
    std::uint64_t session() const { return id<"Session">(); }
    const Dict& details() const { return dict<"Details">(); }
    static Message make(std::uint64_t session, Dict details) {
        return Builder<type>().set<"Session">(session).set<"Details">(std::move(details)).take();
    }
};

struct Abort : View<MessageType::abort> {
    using View::View;
    const Dict& details() const { return dict<"Details">(); }
    const std::string& reason() const { return string<"Reason">(); }
    static Message make(Dict details, std::string reason) {
        return Builder<type>().set<"Details">(std::move(details)).set<"Reason">(std::move(reason)).take();
    }
};

struct Challenge : View<MessageType::challenge> {
    using View::View;
    const std::string& authmethod() const { return string<"AuthMethod">(); }
    const Dict& extra() const { return dict<"Extra">(); }
    static Message make(std::string authmethod, Dict extra) {
        return Builder<type>().set<"AuthMethod">(std::move(authmethod)).set<"Extra">(std::move(extra)).take();
    }
};

struct Authenticate : View<MessageType::authenticate> {
    using View::View;
    const std::string& signature() const { return string<"Signature">(); }
    const Dict& extra() const { return dict<"Extra">(); }
};

struct Goodbye : View<MessageType::goodbye> {
    using View::View;
    const Dict& details() const { return dict<"Details">(); }
    const std::string& reason() const { return string<"Reason">(); }
    static Message make(Dict details, std::string reason) {
        return Builder<type>().set<"Details">(std::move(details)).set<"Reason">(std::move(reason)).take();
    }
};

struct Error : View<MessageType::error> {
    using View::View;
    std::uint64_t request_type() const { return id<"REQUEST.Type">(); }
    std::uint64_t request() const { return id<"REQUEST.Request">(); }
    const Dict& details() const { return dict<"Details">(); }
    const std::string& error() const { return string<"Error">(); }
    static Builder<MessageType::error> build(MessageType request_type, std::uint64_t request, Dict details,
                                            std::string error) {
        Builder<type> b;
        b.set<"REQUEST.Type">(static_cast<std::uint64_t>(request_type))
            .set<"REQUEST.Request">(request)
            .set<"Details">(std::move(details))
            .set<"Error">(std::move(error));
        return b;
    }
};

struct Publish : View<MessageType::publish> {
    using View::View;
    std::uint64_t request() const { return id<"Request">(); }
    const Dict& options() const { return dict<"Options">(); }
    const std::string& topic() const { return string<"Topic">(); }
    static Builder<MessageType::publish> build(std::uint64_t request, Dict options, std::string topic) {
        Builder<type> b;
        b.set<"Request">(request).set<"Options">(std::move(options)).set<"Topic">(std::move(topic));
        return b;
    }
};

struct Published : View<MessageType::published> {
    using View::View;
    std::uint64_t request() const { return id<"PUBLISH.Request">(); }
    std::uint64_t publication() const { return id<"Publication">(); }
    static Message make(std::uint64_t request, std::uint64_t publication) {
        return Builder<type>().set<"PUBLISH.Request">(request).set<"Publication">(publication).take();
    }
};

struct Subscribe : View<MessageType::subscribe> {
    using View::View;
    std::uint64_t request() const { return id<"Request">(); }
    const Dict& options() const { return dict<"Options">(); }
    const std::string& topic() const { return string<"Topic">(); }
};

struct Subscribed : View<MessageType::subscribed> {
    using View::View;
    std::uint64_t request() const { return id<"SUBSCRIBE.Request">(); }
    std::uint64_t subscription() const { return id<"Subscription">(); }
    static Message make(std::uint64_t request, std::uint64_t subscription) {
        return Builder<type>().set<"SUBSCRIBE.Request">(request).set<"Subscription">(subscription).take();
    }
};

struct Unsubscribe : View<MessageType::unsubscribe> {
    using View::View;
    std::uint64_t request() const { return id<"Request">(); }
    std::uint64_t subscription() const { return id<"SUBSCRIBED.Subscription">(); }
};

struct Unsubscribed : View<MessageType::unsubscribed> {
    using View::View;
    std::uint64_t request() const { return id<"UNSUBSCRIBE.Request">(); }
    const Dict& details() const { return dict<"Details">(); }
    static Message make(std::uint64_t request) { return Builder<type>().set<"UNSUBSCRIBE.Request">(request).take(); }
    // A router-initiated notice (revocation, WAMP spec): request 0, with details.
    static Message make(std::uint64_t request, Dict details) {
        return Builder<type>().set<"UNSUBSCRIBE.Request">(request).set<"Details">(std::move(details)).take();
    }
};

struct Event : View<MessageType::event> {
    using View::View;
    std::uint64_t subscription() const { return id<"SUBSCRIBED.Subscription">(); }
    std::uint64_t publication() const { return id<"PUBLISHED.Publication">(); }
    const Dict& details() const { return dict<"Details">(); }
    static Builder<MessageType::event> build(std::uint64_t subscription, std::uint64_t publication, Dict details) {
        Builder<type> b;
        b.set<"SUBSCRIBED.Subscription">(subscription)
            .set<"PUBLISHED.Publication">(publication)
            .set<"Details">(std::move(details));
        return b;
    }
};

struct Call : View<MessageType::call> {
    using View::View;
    std::uint64_t request() const { return id<"Request">(); }
    const Dict& options() const { return dict<"Options">(); }
    const std::string& procedure() const { return string<"Procedure">(); }
    static Builder<MessageType::call> build(std::uint64_t request, Dict options, std::string procedure) {
        Builder<type> b;
        b.set<"Request">(request).set<"Options">(std::move(options)).set<"Procedure">(std::move(procedure));
        return b;
    }
};

struct Cancel : View<MessageType::cancel> {
    using View::View;
    std::uint64_t request() const { return id<"CALL.Request">(); }
    const Dict& options() const { return dict<"Options">(); }
    static Message make(std::uint64_t request, Dict options) {
        return Builder<type>().set<"CALL.Request">(request).set<"Options">(std::move(options)).take();
    }
};

struct Result : View<MessageType::result> {
    using View::View;
    std::uint64_t request() const { return id<"CALL.Request">(); }
    const Dict& details() const { return dict<"Details">(); }
    static Builder<MessageType::result> build(std::uint64_t request, Dict details) {
        Builder<type> b;
        b.set<"CALL.Request">(request).set<"Details">(std::move(details));
        return b;
    }
};

struct Register : View<MessageType::reg> {
    using View::View;
    std::uint64_t request() const { return id<"Request">(); }
    const Dict& options() const { return dict<"Options">(); }
    const std::string& procedure() const { return string<"Procedure">(); }
    static Message make(std::uint64_t request, Dict options, std::string procedure) {
        return Builder<type>()
            .set<"Request">(request)
            .set<"Options">(std::move(options))
            .set<"Procedure">(std::move(procedure))
            .take();
    }
};

struct Registered : View<MessageType::registered> {
    using View::View;
    std::uint64_t request() const { return id<"REGISTER.Request">(); }
    std::uint64_t registration() const { return id<"Registration">(); }
    static Message make(std::uint64_t request, std::uint64_t registration) {
        return Builder<type>().set<"REGISTER.Request">(request).set<"Registration">(registration).take();
    }
};

struct Unregister : View<MessageType::unregister> {
    using View::View;
    std::uint64_t request() const { return id<"Request">(); }
    std::uint64_t registration() const { return id<"REGISTERED.Registration">(); }
};

struct Unregistered : View<MessageType::unregistered> {
    using View::View;
    std::uint64_t request() const { return id<"UNREGISTER.Request">(); }
    const Dict& details() const { return dict<"Details">(); }
    static Message make(std::uint64_t request) { return Builder<type>().set<"UNREGISTER.Request">(request).take(); }
    // A router-initiated notice (revocation, WAMP spec): request 0, with details.
    static Message make(std::uint64_t request, Dict details) {
        return Builder<type>().set<"UNREGISTER.Request">(request).set<"Details">(std::move(details)).take();
    }
};

struct Invocation : View<MessageType::invocation> {
    using View::View;
    std::uint64_t request() const { return id<"Request">(); }
    std::uint64_t registration() const { return id<"REGISTERED.Registration">(); }
    const Dict& details() const { return dict<"Details">(); }
    static Builder<MessageType::invocation> build(std::uint64_t request, std::uint64_t registration, Dict details) {
        Builder<type> b;
        b.set<"Request">(request).set<"REGISTERED.Registration">(registration).set<"Details">(std::move(details));
        return b;
    }
};

struct Interrupt : View<MessageType::interrupt> {
    using View::View;
    std::uint64_t request() const { return id<"CANCEL.Request">(); }
    const Dict& options() const { return dict<"Options">(); }
    static Message make(std::uint64_t request, Dict options) {
        return Builder<type>().set<"CANCEL.Request">(request).set<"Options">(std::move(options)).take();
    }
};

struct Yield : View<MessageType::yield> {
    using View::View;
    std::uint64_t request() const { return id<"INVOCATION.Request">(); }
    const Dict& options() const { return dict<"Options">(); }
    static Builder<MessageType::yield> build(std::uint64_t request, Dict options) {
        Builder<type> b;
        b.set<"INVOCATION.Request">(request).set<"Options">(std::move(options));
        return b;
    }
};

// The four messages a client sends with arguments that the router forwards
// (PUBLISH, CALL, YIELD, ERROR): their options or details and their arguments,
// whichever kind they are. This is what hooks see of an inbound message.
class Carrier {
public:
    // nullopt for a message kind that carries no forwarded arguments.
    static std::optional<Carrier> of(const Message& message);

    MessageType type() const { return message_->type; }
    const Message& message() const { return *message_; }
    // PUBLISH/CALL/YIELD Options, ERROR Details.
    const Dict& options() const { return *options_; }
    const std::optional<EncodedElement>& arguments() const { return message_->arguments; }
    const std::optional<EncodedElement>& arguments_kw() const { return message_->arguments_kw; }
    bool carries_arguments() const { return message_->arguments || message_->arguments_kw; }

private:
    Carrier(const Message& message, const Dict& options) : message_(&message), options_(&options) {}
    const Message* message_;
    const Dict* options_;
};

inline std::optional<Carrier> Carrier::of(const Message& message) {
    switch (message.type) {
        case MessageType::publish: return Carrier(message, Publish(message).options());
        case MessageType::call: return Carrier(message, Call(message).options());
        case MessageType::yield: return Carrier(message, Yield(message).options());
        case MessageType::error: return Carrier(message, Error(message).details());
        default: return std::nullopt;
    }
}

}  // namespace blindrouter::wamp
