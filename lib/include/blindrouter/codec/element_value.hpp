#pragma once
// The content of an encoded element as a wamp::Value, for the one reader that may
// look inside: the router's own service session (core/service_session.hpp), reading
// arguments addressed to the router itself. A component's answer to a call the
// router made (an authenticator's verdict, an authorizer's decision) or a client's
// call of a procedure the router serves (the meta API) is not a routed payload:
// nobody else receives it, so reading it does not break the router's blindness.
// Routed Arguments and ArgumentsKw never come here, but for one service that answers
// them back as Crossbar does: wamp.subscription.get_events (core/event_history.hpp)
// reads a kept plaintext event's arguments; an end-to-end encrypted one it never reads.
#include <cstddef>
#include <optional>
#include <string>
#include <utility>

#include "blindrouter/wamp/message.hpp"
#include "blindrouter/wamp/value.hpp"

namespace blindrouter::codec {

// What an element to decode may be: beyond either bound it is refused unread.
struct ElementLimits {
    std::size_t max_bytes = 64 * 1024;
    std::size_t max_depth = 32;
};

// A Value, or why the element cannot be one (a fixed text, never element bytes).
class ElementValue {
public:
    static ElementValue ok(wamp::Value value) { return ElementValue(std::move(value), {}); }
    static ElementValue fail(std::string reason) { return ElementValue(std::nullopt, std::move(reason)); }

    explicit operator bool() const { return value_.has_value(); }
    wamp::Value& value() { return *value_; }
    const std::string& error() const { return error_; }

private:
    ElementValue(std::optional<wamp::Value> v, std::string e) : value_(std::move(v)), error_(std::move(e)) {}
    std::optional<wamp::Value> value_;
    std::string error_;
};

// The element's content under the routing fields' rules: UTF-8 strings, string
// map keys, no repeated key, no MsgPack extension type.
ElementValue decode_element(const wamp::EncodedElement& element, const ElementLimits& limits = {});

}  // namespace blindrouter::codec
