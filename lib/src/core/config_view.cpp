#include "blindrouter/hooks/config_view.hpp"

namespace blindrouter::hooks {

config::Extensions config_extensions(const HookChain& hooks) {
    auto keys = hooks.config_keys();
    return {std::move(keys.realm_keys), std::move(keys.permission_keys)};
}

ConfigView config_view(const config::NodeConfig& node) {
    ConfigView view;
    for (const auto& realm : node.realms) {
        view.realms.push_back({realm.json_path, &realm.plugin_options});
        for (const auto& role : realm.roles)
            for (const auto& permission : role.permissions)
                view.permissions.push_back({permission.json_path, &permission.plugin_options});
    }
    return view;
}

}  // namespace blindrouter::hooks
