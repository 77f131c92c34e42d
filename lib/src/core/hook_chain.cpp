#include "blindrouter/hooks/message_hook.hpp"

namespace blindrouter::hooks {

Verdict HookChain::inbound(const InboundContext& context, const wamp::Message& message) const {
    for (const auto& hook : hooks_) {
        auto verdict = hook->inbound(context, message);
        if (verdict.kind != Verdict::Kind::pass) return verdict;
    }
    return Verdict::pass();
}

Verdict HookChain::outbound(const OutboundContext& context, const wamp::Message& outgoing) const {
    for (const auto& hook : hooks_) {
        auto verdict = hook->outbound(context, outgoing);
        if (verdict.kind != Verdict::Kind::pass) return verdict;
    }
    return Verdict::pass();
}

void HookChain::forward_details(const wamp::Message& inbound, wamp::Dict& outgoing_details) const {
    for (const auto& hook : hooks_) hook->forward_details(inbound, outgoing_details);
}

void HookChain::announce_features(wamp::Dict& broker_features, wamp::Dict& dealer_features) const {
    for (const auto& hook : hooks_) hook->announce_features(broker_features, dealer_features);
}

}  // namespace blindrouter::hooks
