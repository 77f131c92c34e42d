#pragma once
// Between the config loader and the hooks: which keys the installed hooks add to
// Crossbar's objects, and the values the loader kept for them. Not for plugins.
#include "blindrouter/config/node_config.hpp"
#include "blindrouter/hooks/message_hook.hpp"

namespace blindrouter::hooks {

config::Extensions config_extensions(const HookChain& hooks);
// The hooks' values in a loaded config; refers into `node`.
ConfigView config_view(const config::NodeConfig& node);

}  // namespace blindrouter::hooks
