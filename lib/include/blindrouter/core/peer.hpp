#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "blindrouter/core/ids.hpp"
#include "blindrouter/wamp/message.hpp"
#include "blindrouter/wamp/serializer.hpp"
#include "blindrouter/wamp/value.hpp"

namespace blindrouter::core {

// What the broker, dealer and hooks may know of a joined session: fixed at WELCOME.
struct PeerInfo {
    SessionId session_id = 0;
    std::string realm;
    std::string authid;
    std::string authrole;
    std::string authmethod;
    std::string authprovider;
    wamp::Dict authextra;  // as WELCOME gave it
    // The connection, as Crossbar's TransportDetails.marshal() describes it
    // (SessionTransport::details); empty for the router's own sessions.
    wamp::Dict transport;
    wamp::Serializer serializer = wamp::Serializer::json;
    wamp::Dict client_roles;  // HELLO.Details.roles as announced
    // The router's own service session (core/service_session.hpp): like Crossbar's,
    // it is no client, and the session meta API does not list it.
    bool router_internal = false;

    // hooks::HookChain::receiver_key for each receiving role, fixed at WELCOME so
    // that routing never searches client_roles per message.
    std::uint32_t subscriber_key = 0, callee_key = 0, caller_key = 0;

    // Whether the client announced `feature` for `role` ("caller", "subscriber", ...).
    bool announces(std::string_view role, std::string_view feature) const;
    // The receiver key for a message of `outgoing` type.
    std::uint32_t outbound_key(wamp::MessageType outgoing) const {
        switch (outgoing) {
            case wamp::MessageType::event: return subscriber_key;
            case wamp::MessageType::invocation: return callee_key;
            default: return caller_key;
        }
    }
};

using SharedPeer = std::shared_ptr<const PeerInfo>;

}  // namespace blindrouter::core
