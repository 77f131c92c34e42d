#pragma once
// Whether a message built from a sender's message (EVENT, INVOCATION, RESULT,
// ERROR) may go to a receiver, decided before any state is committed for it:
//  - the hooks' verdict, asked once per kind of receiver (serializer and announced
//    hook features, core::PeerInfo::outbound_key), not once per receiver;
//  - whether the message can be written in the receiver's serializer at all (a
//    MsgPack NaN or a non-string map key has no JSON form): a sender whose message
//    cannot reach its receiver gets wamp.error.invalid_argument instead of a
//    receiver that silently never gets it (and a caller that waits forever).
#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "blindrouter/codec/outbound_message.hpp"
#include "blindrouter/core/peer.hpp"
#include "blindrouter/hooks/message_hook.hpp"

namespace blindrouter::core {

class OutboundGate {
public:
    OutboundGate(const hooks::HookChain& hooks, const PeerInfo& sender, const wamp::Message& inbound,
                 const wamp::Dict& realm_options);

    // The hooks' verdict for a message of `outgoing` type to `receiver`. The
    // reference stays valid as long as the gate.
    const hooks::Verdict& verdict(const PeerInfo& receiver, wamp::MessageType outgoing);
    // pass, or wamp.error.invalid_argument when `outgoing` has no encoding in the
    // receiver's serializer. Encodes at most once per serializer (the transport
    // reuses that encoding).
    const hooks::Verdict& encodable(const PeerInfo& receiver, const codec::OutboundMessage& outgoing);
    // verdict(), then encodable() when the verdict passes.
    const hooks::Verdict& check(const PeerInfo& receiver, const codec::OutboundMessage& outgoing);
    // What the hooks noted on the inbound message (HookChain::inbound), for their
    // verdicts here and for what they forward into the messages built from it.
    hooks::MessageNotes& notes() { return notes_; }
    const hooks::MessageNotes& notes() const { return notes_; }

private:
    const hooks::HookChain& hooks_;
    std::optional<wamp::Carrier> inbound_;  // absent: nothing of the sender's to judge
    wamp::Serializer sender_serializer_;
    const wamp::Dict& realm_options_;
    hooks::MessageNotes notes_{};
    const hooks::Verdict& keep(hooks::Verdict verdict);

    // A message meets few kinds of receivers (3 serializers × announced features):
    // their verdicts fit in place. A verdict that passes is the shared pass(); only a
    // refusal is stored, in a deque made on the first one (its references stay
    // valid), so that a gate costs no construction of a Verdict per message.
    using Cached = std::pair<std::uint64_t, const hooks::Verdict*>;
    std::array<Cached, 8> verdicts_;
    std::size_t verdict_count_ = 0;
    std::unique_ptr<std::vector<Cached>> more_verdicts_;
    std::unique_ptr<std::deque<hooks::Verdict>> refusals_;
    std::array<const hooks::Verdict*, wamp::serializer_count> unencodable_{};
    // check()'s last answer: the receivers of one subscription come one after
    // another, and most are of one kind, so a fan-out asks the caches above once.
    const codec::OutboundMessage* last_message_ = nullptr;
    std::uint64_t last_kind_ = 0;
    const hooks::Verdict* last_verdict_ = nullptr;
};

}  // namespace blindrouter::core
