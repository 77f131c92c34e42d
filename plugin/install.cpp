#include "plugin/install.hpp"

#include "payload_transparency/payload_transparency.hpp"

namespace blindrouter::plugin {

void install(hooks::HookChain& hooks) { hooks.add(std::make_unique<PayloadTransparency>()); }

}  // namespace blindrouter::plugin
