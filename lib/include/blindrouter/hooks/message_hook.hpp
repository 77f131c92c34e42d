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
        error,  // do not route; answer the sender with ERROR `uri` (inbound), or skip this receiver (outbound)
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

class MessageHook {
public:
    virtual ~MessageHook() = default;
    virtual std::string_view name() const = 0;
    // Each message a joined session sends, before authorization and routing.
    virtual Verdict inbound(const core::PeerInfo& sender, const wamp::Message& message) = 0;
    // Each message that carries a sender's arguments (EVENT, INVOCATION, RESULT,
    // ERROR), once per receiver, before it is queued for that receiver.
    virtual Verdict outbound(const core::PeerInfo& sender, const core::PeerInfo& receiver,
                             const wamp::Message& message) = 0;
    // Features the hook adds to WELCOME's Details.roles.<broker|dealer>.features.
    virtual void announce_features(wamp::Dict& broker_features, wamp::Dict& dealer_features) const = 0;
};

// The installed hooks, consulted in order; the first verdict other than pass wins.
class HookChain {
public:
    void add(std::unique_ptr<MessageHook> hook) { hooks_.push_back(std::move(hook)); }
    bool empty() const { return hooks_.empty(); }
    Verdict inbound(const core::PeerInfo& sender, const wamp::Message& message) const;
    Verdict outbound(const core::PeerInfo& sender, const core::PeerInfo& receiver,
                     const wamp::Message& message) const;
    void announce_features(wamp::Dict& broker_features, wamp::Dict& dealer_features) const;

private:
    std::vector<std::unique_ptr<MessageHook>> hooks_;
};

}  // namespace blindrouter::hooks
