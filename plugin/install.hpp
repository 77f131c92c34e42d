#pragma once
// The router's plugins, installed into the hook chain at start. The plugins talk
// to the core only through lib/include/blindrouter/hooks/message_hook.hpp.
#include "blindrouter/hooks/message_hook.hpp"

namespace blindrouter::plugin {

void install(hooks::HookChain& hooks);

}  // namespace blindrouter::plugin
