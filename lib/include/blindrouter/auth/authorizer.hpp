#pragma once
// Static authorization from a realm's roles and permissions, as Crossbar's
// static role authorizer decides it.
#include <map>
#include <string>
#include <string_view>

#include "blindrouter/config/node_config.hpp"

namespace blindrouter::auth {

enum class Action : unsigned char { call, register_procedure, publish, subscribe };

struct Grant {
    bool allowed = false;
    bool disclose = false;  // disclose.caller for call, disclose.publisher for publish
};

// What governs (role, uri); default-constructed: deny all.
struct Permission {
    bool allow[4]{};
    bool disclose_caller = false, disclose_publisher = false;
    const wamp::Dict* plugin_options = nullptr;
    bool allowed(Action action) const { return allow[static_cast<int>(action)]; }
    bool disclose(Action action) const {
        return action == Action::call ? disclose_caller : action == Action::publish && disclose_publisher;
    }
};

class Authorizer {
public:
    explicit Authorizer(const config::Realm& realm);

    bool has_role(std::string_view role) const;
    Permission lookup(std::string_view role, std::string_view uri) const;
    Grant authorize(std::string_view role, std::string_view uri, Action action) const;
    // The plugin attributes of the permission that governs `uri` for `role`; nullptr when none governs.
    const wamp::Dict* plugin_options(std::string_view role, std::string_view uri) const;

private:
    // The permission that governs `uri` (Crossbar precedence: an exact permission,
    // then a matching wildcard, then the longest matching prefix); nullptr: none.
    static const config::Permission* governing(const config::Role& role, std::string_view uri);
    std::map<std::string, config::Role, std::less<>> roles_;
};

}  // namespace blindrouter::auth
