#include "blindrouter/hooks/message_hook.hpp"

namespace blindrouter::hooks {

Verdict HookChain::inbound(const core::PeerInfo& sender, const wamp::Message& message) const {
    for (const auto& hook : hooks_) {
        auto verdict = hook->inbound(sender, message);
        if (verdict.kind != Verdict::Kind::pass) return verdict;
    }
    return Verdict::pass();
}

Verdict HookChain::outbound(const core::PeerInfo& sender, const core::PeerInfo& receiver,
                            const wamp::Message& message) const {
    for (const auto& hook : hooks_) {
        auto verdict = hook->outbound(sender, receiver, message);
        if (verdict.kind != Verdict::Kind::pass) return verdict;
    }
    return Verdict::pass();
}

void HookChain::announce_features(wamp::Dict& broker_features, wamp::Dict& dealer_features) const {
    for (const auto& hook : hooks_) hook->announce_features(broker_features, dealer_features);
}

}  // namespace blindrouter::hooks
