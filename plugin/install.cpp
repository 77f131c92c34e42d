#include "plugin/install.hpp"

#include "payload_transparency/payload_transparency.hpp"

namespace blindrouter::plugin {

config::Extensions config_extensions() { return payload_transparency_config_keys(); }

std::vector<std::string> check_config(const config::NodeConfig& node) {
    return check_payload_transparency_config(node);
}

void install(hooks::HookChain& hooks) { hooks.add(std::make_unique<PayloadTransparency>()); }

}  // namespace blindrouter::plugin
