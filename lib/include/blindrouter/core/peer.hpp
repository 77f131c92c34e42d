#pragma once
#include <memory>
#include <string>
#include <string_view>

#include "blindrouter/core/ids.hpp"
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
    wamp::Serializer serializer = wamp::Serializer::json;
    wamp::Dict client_roles;  // HELLO.Details.roles as announced

    // Whether the client announced `feature` for `role` ("caller", "subscriber", ...).
    bool announces(std::string_view role, std::string_view feature) const;
};

using SharedPeer = std::shared_ptr<const PeerInfo>;

}  // namespace blindrouter::core
