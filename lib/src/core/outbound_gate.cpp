#include "blindrouter/core/outbound_gate.hpp"

#include "blindrouter/wamp/error_uri.hpp"

namespace blindrouter::core {
namespace {
const hooks::Verdict passing;
}  // namespace

OutboundGate::OutboundGate(const hooks::HookChain& hooks, const PeerInfo& sender, const wamp::Message& inbound,
                           const wamp::Dict& realm_options)
    : hooks_(hooks), sender_serializer_(sender.serializer), realm_options_(realm_options) {
    // Hooks judge only what carries the sender's arguments.
    if (!hooks.empty()) {
        inbound_ = wamp::Carrier::of(inbound);
        if (inbound_ && !inbound_->carries_arguments()) inbound_.reset();
    }
}

const hooks::Verdict& OutboundGate::keep(hooks::Verdict verdict) {
    if (verdict.passes()) return passing;
    if (!refusals_) refusals_ = std::make_unique<std::deque<hooks::Verdict>>();
    return refusals_->emplace_back(std::move(verdict));
}

const hooks::Verdict& OutboundGate::verdict(const PeerInfo& receiver, wamp::MessageType outgoing) {
    if (!inbound_) return passing;
    auto key = (static_cast<std::uint64_t>(outgoing) << 32) | receiver.outbound_key(outgoing);
    for (std::size_t i = 0; i < verdict_count_; ++i)
        if (verdicts_[i].first == key) return *verdicts_[i].second;
    if (more_verdicts_)
        for (const auto& [known, verdict] : *more_verdicts_)
            if (known == key) return *verdict;
    const auto& verdict =
        keep(hooks_.outbound(*inbound_, sender_serializer_, outgoing, receiver.outbound_key(outgoing), realm_options_,
                                &notes_));
    if (verdict_count_ < verdicts_.size()) {
        verdicts_[verdict_count_++] = {key, &verdict};
    } else {
        if (!more_verdicts_) more_verdicts_ = std::make_unique<std::vector<Cached>>();
        more_verdicts_->emplace_back(key, &verdict);
    }
    return verdict;
}

const hooks::Verdict& OutboundGate::encodable(const PeerInfo& receiver, const codec::OutboundMessage& outgoing) {
    if (outgoing.encoded(receiver.serializer)) return passing;
    auto& refusal = unencodable_[static_cast<std::size_t>(receiver.serializer)];
    if (!refusal) {
        std::string text = "the message cannot be expressed in the receiver's serializer (";
        text.append(wamp::serializer_name(receiver.serializer)).append(")");
        refusal = &keep(hooks::Verdict::error(std::string(wamp::error_uri::invalid_argument), std::move(text)));
    }
    return *refusal;
}

const hooks::Verdict& OutboundGate::check(const PeerInfo& receiver, const codec::OutboundMessage& outgoing) {
    auto type = outgoing.message().type;
    // The verdict depends on the receiver's key, encodability on its serializer.
    auto kind = (static_cast<std::uint64_t>(receiver.outbound_key(type)) << 16) |
                (static_cast<std::uint64_t>(type) << 8) | static_cast<std::uint64_t>(receiver.serializer);
    if (last_message_ == &outgoing && last_kind_ == kind) return *last_verdict_;
    const auto* v = &verdict(receiver, type);
    if (v->passes()) v = &encodable(receiver, outgoing);
    last_message_ = &outgoing;
    last_kind_ = kind;
    last_verdict_ = v;
    return *v;
}

}  // namespace blindrouter::core
