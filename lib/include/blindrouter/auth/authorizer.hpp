#pragma once
// Static authorization from a realm's roles and permissions, as Crossbar's static role
// authorizer decides it (cb:router/role.py RouterRoleStaticAuth). Each role's permissions
// are compiled once into URI indexes; a lookup probes them and scans nothing.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "blindrouter/config/node_config.hpp"
#include "blindrouter/core/uri_index.hpp"

namespace blindrouter::auth {

enum class Action : unsigned char { call, register_procedure, publish, subscribe };

// What governs (role, uri). Default-constructed: deny everything.
class Permission {
public:
    Permission() = default;
    explicit Permission(const config::Permission& configured);
    static Permission allow_all();
    // Allows `action` alone: what a dynamic authorizer granted.
    static Permission granted(Action action, bool disclose);

    bool allowed(Action action) const { return (allow_ & bit(action)) != 0; }
    // disclose.caller for call, disclose.publisher for publish; false for the others.
    bool disclose(Action action) const { return (disclose_ & bit(action)) != 0; }

    // The plugin attributes of the governing permission; nullptr when none governs.
    const wamp::Dict* plugin_options = nullptr;

private:
    static std::uint8_t bit(Action action) { return static_cast<std::uint8_t>(1u << static_cast<unsigned>(action)); }
    std::uint8_t allow_ = 0;
    std::uint8_t disclose_ = 0;
};

struct Grant {
    bool allowed = false;
    bool disclose = false;  // disclose.caller for call, disclose.publisher for publish
};

class Authorizer {
public:
    explicit Authorizer(const config::Realm& realm);
    // The compiled permissions point into the copies of the configured ones.
    Authorizer(const Authorizer&) = delete;
    Authorizer& operator=(const Authorizer&) = delete;
    Authorizer(Authorizer&&) = default;
    Authorizer& operator=(Authorizer&&) = default;

    bool has_role(std::string_view role) const;
    // One lookup per message: the grant for every action and the plugin options.
    Permission lookup(std::string_view role, std::string_view uri) const;

    Grant authorize(std::string_view role, std::string_view uri, Action action) const;

private:
    // A permission without ".." in its URI (cb:router/role.py: _permissions).
    struct Entry {
        Permission permission;
        wamp::MatchPolicy match;
        std::size_t length;  // of its URI
    };
    // A permission with ".." in its URI (cb:router/role.py: _wild_permissions), checked
    // as autobahn's Pattern checks it (ab:wamp/uri.py Pattern).
    struct Wildcard {
        enum class Kind : unsigned char { literal, any, integer };
        struct Component {
            Kind kind;
            std::string text;  // literal only
        };
        Permission permission;
        std::vector<Component> components;
        bool valid = true;  // false: autobahn refuses the pattern, so it never matches
        bool matches(std::string_view uri) const;
    };
    struct Role {
        bool has_permissions = false;
        bool allow_by_default = false;
        std::vector<config::Permission> configured;
        // Every entry is a string prefix here, whatever its match (role.py StringTrie).
        core::UriIndex<Entry> entries;
        // Keyed by the text before the first "..".
        core::UriIndex<Wildcard> wildcards;
    };
    static void compile(const config::Role& role, Role& into);
    static Wildcard compile_wildcard(const config::Permission& configured);

    std::map<std::string, Role, std::less<>> roles_;
};

}  // namespace blindrouter::auth
