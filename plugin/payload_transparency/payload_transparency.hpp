#pragma once
// The payload-transparency plugin: everything blindrouter does with end-to-end
// encrypted payloads (shared/E2E.md). It sees messages only through the hook API;
// a payload is an opaque EncodedElement that this plugin forwards and never reads.
#include <string>
#include <vector>

#include "blindrouter/config/node_config.hpp"
#include "blindrouter/hooks/message_hook.hpp"

namespace blindrouter::plugin {

namespace error_uri {
inline constexpr std::string_view serializer_mismatch = "blindrouter.error.serializer_mismatch";
inline constexpr std::string_view encryption_required = "blindrouter.error.encryption_required";
}  // namespace error_uri

// Config keys this plugin adds to Crossbar's objects (E2E.md §3, §5):
//   realm:      "payload_transparency": {"serializer_mismatch": "reject" | "translate"}
//   permission: "require_encryption": true
config::Extensions payload_transparency_config_keys();
// Faults in those keys, each with its JSON path.
std::vector<std::string> check_payload_transparency_config(const config::NodeConfig& node);

class PayloadTransparency final : public hooks::MessageHook {
public:
    std::string_view name() const override { return "payload_transparency"; }
    hooks::Verdict inbound(const hooks::InboundContext& context, const wamp::Message& message) override;
    hooks::Verdict outbound(const hooks::OutboundContext& context, const wamp::Message& outgoing) override;
    void forward_details(const wamp::Message& inbound, wamp::Dict& outgoing_details) const override;
    void announce_features(wamp::Dict& broker_features, wamp::Dict& dealer_features) const override;
};

}  // namespace blindrouter::plugin
