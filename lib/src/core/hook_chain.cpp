#include "blindrouter/hooks/message_hook.hpp"

#include <stdexcept>

namespace blindrouter::hooks {
namespace {
// receiver_key: the serializer in the low bits, then one bit per hook.
constexpr unsigned serializer_bits = 2;
static_assert(serializer_bits + max_hooks <= 32);
}  // namespace

std::string_view receiving_role(wamp::MessageType type) {
    switch (type) {
        case wamp::MessageType::event: return "subscriber";
        case wamp::MessageType::invocation: return "callee";
        default: return "caller";
    }
}

void HookChain::add(std::unique_ptr<MessageHook> hook) {
    if (hooks_.size() == max_hooks) throw std::logic_error("too many message hooks");
    hooks_.push_back(std::move(hook));
}

Verdict HookChain::inbound(const InboundContext& context, const wamp::Carrier& message, MessageNotes* notes) const {
    for (std::size_t i = 0; i < hooks_.size(); ++i) {
        InboundContext own = context;
        own.note = notes ? &(*notes)[i] : nullptr;
        auto verdict = hooks_[i]->inbound(own, message);
        if (!verdict.passes()) return verdict;
    }
    return Verdict::pass();
}

std::uint32_t HookChain::receiver_key(const core::PeerInfo& receiver, std::string_view role) const {
    std::uint32_t key = static_cast<std::uint32_t>(receiver.serializer);
    for (std::size_t i = 0; i < hooks_.size(); ++i) {
        auto feature = hooks_[i]->receiver_feature();
        if (!feature.empty() && receiver.announces(role, feature)) key |= 1u << (serializer_bits + i);
    }
    return key;
}

Verdict HookChain::outbound(const wamp::Carrier& inbound, wamp::Serializer sender_serializer,
                            wamp::MessageType outgoing, std::uint32_t receiver_key,
                            const wamp::Dict& realm_options, const MessageNotes* notes) const {
    auto receiver_serializer = static_cast<wamp::Serializer>(receiver_key & ((1u << serializer_bits) - 1));
    for (std::size_t i = 0; i < hooks_.size(); ++i) {
        OutboundContext context{inbound,
                                sender_serializer,
                                outgoing,
                                receiver_serializer,
                                (receiver_key >> (serializer_bits + i) & 1u) != 0,
                                realm_options,
                                notes ? (*notes)[i] : MessageNote{0}};
        auto verdict = hooks_[i]->outbound(context);
        if (!verdict.passes()) return verdict;
    }
    return Verdict::pass();
}

void HookChain::publication_refused(const wamp::Carrier& publish, std::size_t delivered, std::size_t skipped,
                                    Verdict& answer) const {
    for (const auto& hook : hooks_) hook->publication_refused(publish, delivered, skipped, answer);
}

void HookChain::forward_details(const wamp::Carrier& inbound, wamp::Dict& outgoing_details,
                                const MessageNotes* notes) const {
    for (std::size_t i = 0; i < hooks_.size(); ++i)
        hooks_[i]->forward_details(inbound, notes ? (*notes)[i] : MessageNote{0}, outgoing_details);
}

void HookChain::announce_features(wamp::Dict& broker_features, wamp::Dict& dealer_features) const {
    for (const auto& hook : hooks_) hook->announce_features(broker_features, dealer_features);
}

ConfigKeys HookChain::config_keys() const {
    ConfigKeys all;
    for (const auto& hook : hooks_) {
        auto keys = hook->config_keys();
        all.realm_keys.insert(all.realm_keys.end(), keys.realm_keys.begin(), keys.realm_keys.end());
        all.permission_keys.insert(all.permission_keys.end(), keys.permission_keys.begin(),
                                   keys.permission_keys.end());
    }
    return all;
}

std::vector<std::string> HookChain::check_config(const ConfigView& config) const {
    std::vector<std::string> faults;
    for (const auto& hook : hooks_) {
        auto found = hook->check_config(config);
        faults.insert(faults.end(), found.begin(), found.end());
    }
    return faults;
}

}  // namespace blindrouter::hooks
