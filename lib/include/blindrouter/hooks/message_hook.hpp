#pragma once
// The public hook API through which plugins (plugin/) see and steer messages.
// The core calls the hooks; it knows nothing of what a plugin does with them.
// A plugin includes this header and the message model (wamp/), nothing else of
// the core: what it may know of a message is a typed view whose arguments are
// opaque (wamp::EncodedElement has no public accessor for its bytes).
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "blindrouter/core/peer.hpp"
#include "blindrouter/wamp/messages.hpp"

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

    bool passes() const { return kind == Kind::pass; }
    static Verdict pass() { return {}; }
    static Verdict error(std::string uri, std::string message, wamp::Dict kwargs = {}) {
        return {Kind::error, std::move(uri), std::move(message), std::move(kwargs)};
    }
    static Verdict abort(std::string uri, std::string message) {
        return {Kind::abort, std::move(uri), std::move(message), {}};
    }
};

// What a hook noted about one inbound message in inbound(), handed back to its
// forward_details() and outbound() for the messages built from it, so that a hook
// reads a message's options once, not once per call. 0: nothing noted; a hook then
// reads the message itself (a retained event, or an answer to no pending
// invocation, meets those calls without inbound()).
using MessageNote = std::uint32_t;
inline constexpr std::size_t max_hooks = 30;  // receiver keys hold one bit per hook
// One note per installed hook, in chain order, for one inbound message.
using MessageNotes = std::array<MessageNote, max_hooks>;

// A message a joined session sent (PUBLISH, CALL, YIELD, ERROR), after its URI and
// authorization were checked, before routing.
struct InboundContext {
    const core::PeerInfo& sender;
    // The topic or procedure the message concerns; for YIELD and ERROR, the
    // procedure of the invocation answered ("" when unknown).
    std::string_view uri;
    const wamp::Dict& realm_options;       // the realm's plugin options from the node config
    const wamp::Dict* permission_options;  // the plugin attributes of the sender's governing permission, or nullptr
    MessageNote* note = nullptr;           // this hook's note on the message, or nullptr: none is kept
};

// A message built from a sender's message (EVENT, INVOCATION, RESULT, ERROR), about
// to go to receivers. An outbound verdict depends on this and nothing else: of the
// receiver, only its serializer and whether it announced the hook's
// receiver_feature() for the role that takes `outgoing`. The realm therefore asks
// once per kind of receiver, not once per receiver.
struct OutboundContext {
    const wamp::Carrier& inbound;  // what the sender sent
    wamp::Serializer sender_serializer;
    wamp::MessageType outgoing;
    wamp::Serializer receiver_serializer;
    bool receiver_announces;  // receiver_feature() for the receiving role
    const wamp::Dict& realm_options;
    MessageNote note = 0;  // what this hook noted on `inbound` (0: nothing)
};

// The client role that receives a message of `type` (EVENT: subscriber,
// INVOCATION: callee, RESULT and ERROR: caller).
std::string_view receiving_role(wamp::MessageType type);

// Config keys a plugin adds to Crossbar's objects, and the values written there.
struct ConfigKeys {
    std::vector<std::string> realm_keys;       // in realms[]
    std::vector<std::string> permission_keys;  // in realms[].roles[].permissions[]
};
struct ConfiguredOptions {
    std::string json_path;  // where in the config file, for fault messages
    const wamp::Dict* options;
};
struct ConfigView {
    std::vector<ConfiguredOptions> realms, permissions;
};

class MessageHook {
public:
    virtual ~MessageHook() = default;
    virtual std::string_view name() const = 0;
    virtual Verdict inbound(const InboundContext& context, const wamp::Carrier& message) = 0;
    // Called only for messages that carry the sender's arguments.
    virtual Verdict outbound(const OutboundContext& context) = 0;
    // The client feature outbound verdicts depend on ("" when none).
    virtual std::string_view receiver_feature() const = 0;
    // A publication skipped `skipped` receivers (answer: the first refusal); the hook
    // may add to the answer the publisher gets when it asked for acknowledgement.
    virtual void publication_refused(const wamp::Carrier& publish, std::size_t delivered, std::size_t skipped,
                                     Verdict& answer) const = 0;
    // Adds what the hook forwards from an inbound message's options to the details of
    // the message built from it (EVENT from PUBLISH, INVOCATION from CALL, ...).
    // `note`: what this hook noted on `inbound` (0: nothing).
    virtual void forward_details(const wamp::Carrier& inbound, MessageNote note, wamp::Dict& outgoing_details) const = 0;
    // Features the hook adds to WELCOME's Details.roles.<broker|dealer>.features.
    virtual void announce_features(wamp::Dict& broker_features, wamp::Dict& dealer_features) const = 0;
    virtual ConfigKeys config_keys() const = 0;
    // Faults in those keys' values ("<json path>: <what is wrong>").
    virtual std::vector<std::string> check_config(const ConfigView& config) const = 0;
};

// The installed hooks, consulted in order; the first verdict other than pass wins.
class HookChain {
public:
    void add(std::unique_ptr<MessageHook> hook);
    bool empty() const { return hooks_.empty(); }
    // `notes` (may be null) keeps what each hook notes on the message for the calls below.
    Verdict inbound(const InboundContext& context, const wamp::Carrier& message, MessageNotes* notes = nullptr) const;

    // Receivers with the same key get the same outbound verdicts: their serializer
    // and which hooks' receiver features they announced for the receiving role.
    // Computed once per session (core::PeerInfo::outbound_keys).
    std::uint32_t receiver_key(const core::PeerInfo& receiver, std::string_view role) const;
    Verdict outbound(const wamp::Carrier& inbound, wamp::Serializer sender_serializer, wamp::MessageType outgoing,
                     std::uint32_t receiver_key, const wamp::Dict& realm_options,
                     const MessageNotes* notes = nullptr) const;

    void publication_refused(const wamp::Carrier& publish, std::size_t delivered, std::size_t skipped,
                             Verdict& answer) const;
    void forward_details(const wamp::Carrier& inbound, wamp::Dict& outgoing_details,
                         const MessageNotes* notes = nullptr) const;
    void announce_features(wamp::Dict& broker_features, wamp::Dict& dealer_features) const;
    ConfigKeys config_keys() const;
    std::vector<std::string> check_config(const ConfigView& config) const;

private:
    std::vector<std::unique_ptr<MessageHook>> hooks_;
};

}  // namespace blindrouter::hooks
