#pragma once
// The router's plugins, installed into the hook chain at start. Plugins reach the
// core only through the public hook API (lib/include/blindrouter/hooks/) and the
// message model (lib/include/blindrouter/wamp/); their config keys come with them
// (hooks::MessageHook::config_keys).
#include "blindrouter/hooks/message_hook.hpp"

namespace blindrouter::plugin {

void install(hooks::HookChain& hooks);

}  // namespace blindrouter::plugin
