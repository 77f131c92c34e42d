#include "blindrouter/core/peer.hpp"

namespace blindrouter::core {

bool PeerInfo::announces(std::string_view role, std::string_view feature) const {
    const auto* r = wamp::find(client_roles, role);
    const auto* role_dict = r ? r->as_dict() : nullptr;
    const auto* features = role_dict ? wamp::find(*role_dict, "features") : nullptr;
    const auto* feature_dict = features ? features->as_dict() : nullptr;
    const auto* flag = feature_dict ? wamp::find(*feature_dict, feature) : nullptr;
    return flag && flag->as_bool() && *flag->as_bool();
}

}  // namespace blindrouter::core
