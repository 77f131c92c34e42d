#pragma once
// The router's plugins: installed into the hook chain at start, with the config
// keys they add. Plugins reach the core only through the public hook headers
// (lib/include/blindrouter/hooks/message_hook.hpp).
#include <string>
#include <vector>

#include "blindrouter/config/node_config.hpp"
#include "blindrouter/hooks/message_hook.hpp"

namespace blindrouter::plugin {

config::Extensions config_extensions();
// Faults in the plugins' config keys ("<json path>: <what is wrong>").
std::vector<std::string> check_config(const config::NodeConfig& node);
void install(hooks::HookChain& hooks);

}  // namespace blindrouter::plugin
