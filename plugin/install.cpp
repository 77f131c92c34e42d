#include "plugin/install.hpp"

namespace blindrouter::plugin {

// No plugin is installed yet: the payload-transparency plugin lands here, and
// until then every message passes the (empty) chain unchanged.
void install(hooks::HookChain& hooks) { (void)hooks; }

}  // namespace blindrouter::plugin
