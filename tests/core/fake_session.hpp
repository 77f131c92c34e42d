#pragma once
// Test doubles and helpers: messages written as JSON text, peers, and a transport
// that records what a session sends.
#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <vector>

#include "blindrouter/codec/outbound_message.hpp"
#include "blindrouter/core/peer.hpp"
#include "blindrouter/core/session.hpp"
#include "blindrouter/wamp/message.hpp"

namespace blindrouter::testing {

// Decodes WAMP JSON text; the test fails if it does not decode.
wamp::Message parse(const std::string& json);
// The JSON bytes of an outbound message.
std::string json_of(const codec::SharedOutbound& message);
// A DOM of JSON text, to assert on fields.
rapidjson::Document dom(const std::string& json);

core::SharedPeer make_peer(core::SessionId id, std::string authid = "authid", std::string authrole = "anonymous");

class FakeTransport : public core::SessionTransport {
public:
    void send(const codec::SharedOutbound& message) override { sent.push_back(json_of(message)); }
    void close(core::CloseReason reason, std::string_view text) override {
        closed = reason;
        close_text = std::string(text);
    }
    wamp::Serializer serializer() const override { return wamp::Serializer::json; }

    std::vector<std::string> sent;
    std::optional<core::CloseReason> closed;
    std::string close_text;
};

}  // namespace blindrouter::testing
