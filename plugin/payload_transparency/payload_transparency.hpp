#pragma once
// The payload-transparency plugin: everything blindrouter does with end-to-end
// encrypted payloads (shared/E2E.md). It sees messages only through the hook API;
// a payload is an opaque EncodedElement that this plugin forwards and never reads.
#include <string>
#include <vector>

#include "blindrouter/hooks/message_hook.hpp"
#include "blindrouter/wamp/log_text.hpp"

namespace blindrouter::plugin {

namespace error_uri {
inline constexpr std::string_view serializer_mismatch = "blindrouter.error.serializer_mismatch";
inline constexpr std::string_view encryption_required = "blindrouter.error.encryption_required";
}  // namespace error_uri

// Config keys this plugin adds to Crossbar's objects (E2E.md §3, §5):
//   realm:      "payload_transparency": {"serializer_mismatch": "reject" | "translate"}
//   permission: "require_encryption": true
class PayloadTransparency final : public hooks::MessageHook {
public:
    std::string_view name() const override { return "payload_transparency"; }
    hooks::Verdict inbound(const hooks::InboundContext& context, const wamp::Carrier& message) override;
    hooks::Verdict outbound(const hooks::OutboundContext& context) override;
    std::string_view receiver_feature() const override { return "payload_passthru_mode"; }
    void publication_refused(const wamp::Carrier& publish, std::size_t delivered, std::size_t skipped,
                             hooks::Verdict& answer) const override;
    void forward_details(const wamp::Carrier& inbound, hooks::MessageNote note,
                         wamp::Dict& outgoing_details) const override;
    void announce_features(wamp::Dict& broker_features, wamp::Dict& dealer_features) const override;
    hooks::ConfigKeys config_keys() const override;
    std::vector<std::string> check_config(const hooks::ConfigView& config) const override;

private:
    // A client can repeat either refusal at will: one line per interval, with a count.
    wamp::LogThrottle malformed_log_;
    wamp::LogThrottle plaintext_log_;
};

}  // namespace blindrouter::plugin
