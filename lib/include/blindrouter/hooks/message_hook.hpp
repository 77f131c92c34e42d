#pragma once
// The public hook API through which plugins (plugin/) see and steer messages.
// The core calls the hooks; it knows nothing of what a plugin does with them.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "blindrouter/core/peer.hpp"
#include "blindrouter/wamp/message.hpp"

namespace blindrouter::hooks {

// What a hook decides about a message.
struct Verdict {
    enum class Kind : unsigned char {
        pass,   // route as usual
        error,  // do not route (inbound) or do not deliver to this receiver (outbound); the sender gets ERROR `uri`
        abort,  // do not route; ABORT the sender's session with reason `uri`
    };
    Kind kind = Kind::pass;
    std::string uri;
    std::string message;  // explanation for a human; never payload bytes
    wamp::Dict kwargs;    // error kwargs

    static Verdict pass() { return {}; }
    static Verdict error(std::string uri, std::string message, wamp::Dict kwargs = {}) {
        return {Kind::error, std::move(uri), std::move(message), std::move(kwargs)};
    }
    static Verdict abort(std::string uri, std::string message) {
        return {Kind::abort, std::move(uri), std::move(message), {}};
    }
};

// A message a joined session sent, before authorization and routing.
struct InboundContext {
    const core::PeerInfo& sender;
    // The topic or procedure the message concerns; for YIELD and ERROR, the
    // procedure of the invocation answered ("" when unknown).
    std::string_view uri;
    const wamp::Dict& realm_options;       // the realm's plugin options from the node config
    const wamp::Dict* permission_options;  // the plugin attributes of the sender's governing permission, or nullptr
};

// A message built from a sender's message, about to be queued for one receiver.
struct OutboundContext {
    const core::PeerInfo& sender;
    const core::PeerInfo& receiver;
    const wamp::Message& inbound;  // what the sender sent
    const wamp::Dict& realm_options;
};

class MessageHook {
public:
    virtual ~MessageHook() = default;
    virtual std::string_view name() const = 0;
    virtual Verdict inbound(const InboundContext& context, const wamp::Message& message) = 0;
    // Called for EVENT, INVOCATION, RESULT and ERROR that carry a sender's arguments.
    virtual Verdict outbound(const OutboundContext& context, const wamp::Message& outgoing) = 0;
    // Adds what the hook forwards from an inbound message's options to the details of
    // the message built from it (EVENT from PUBLISH, INVOCATION from CALL, ...).
    virtual void forward_details(const wamp::Message& inbound, wamp::Dict& outgoing_details) const = 0;
    // Features the hook adds to WELCOME's Details.roles.<broker|dealer>.features.
    virtual void announce_features(wamp::Dict& broker_features, wamp::Dict& dealer_features) const = 0;
};

// The installed hooks, consulted in order; the first verdict other than pass wins.
class HookChain {
public:
    void add(std::unique_ptr<MessageHook> hook) { hooks_.push_back(std::move(hook)); }
    bool empty() const { return hooks_.empty(); }
    Verdict inbound(const InboundContext& context, const wamp::Message& message) const;
    Verdict outbound(const OutboundContext& context, const wamp::Message& outgoing) const;
    void forward_details(const wamp::Message& inbound, wamp::Dict& outgoing_details) const;
    void announce_features(wamp::Dict& broker_features, wamp::Dict& dealer_features) const;

private:
    std::vector<std::unique_ptr<MessageHook>> hooks_;
};

}  // namespace blindrouter::hooks
