#include "blindrouter/auth/authorizer.hpp"

namespace blindrouter::auth {

Authorizer::Authorizer(const config::Realm& realm) {
    for (const auto& role : realm.roles) roles_.emplace(role.name, role);
}

bool Authorizer::has_role(std::string_view role) const { return roles_.find(role) != roles_.end(); }

const config::Permission* Authorizer::governing(const config::Role& role, std::string_view uri) {
    const config::Permission* wildcard = nullptr;
    std::size_t wildcard_literal = 0;
    const config::Permission* prefix = nullptr;
    for (const auto& p : role.permissions) {
        if (!wamp::uri_matches(p.uri, p.match, uri)) continue;
        switch (p.match) {
            case wamp::MatchPolicy::exact:
                return &p;
            case wamp::MatchPolicy::wildcard: {
                auto literal = p.uri.find("..");
                auto length = literal == std::string::npos ? p.uri.size() : literal;
                if (!wildcard || length > wildcard_literal) {
                    wildcard = &p;
                    wildcard_literal = length;
                }
                break;
            }
            case wamp::MatchPolicy::prefix:
                if (!prefix || p.uri.size() > prefix->uri.size()) prefix = &p;
                break;
        }
    }
    return wildcard ? wildcard : prefix;
}

Grant Authorizer::authorize(std::string_view role_name, std::string_view uri, Action action) const {
    auto it = roles_.find(role_name);
    if (it == roles_.end()) return {};
    if (!it->second.has_permissions) return {it->second.allow_by_default, false};
    const auto* p = governing(it->second, uri);
    if (!p) return {};
    switch (action) {
        case Action::call: return {p->allow_call, p->disclose_caller};
        case Action::register_procedure: return {p->allow_register, false};
        case Action::publish: return {p->allow_publish, p->disclose_publisher};
        case Action::subscribe: return {p->allow_subscribe, false};
    }
    return {};
}

Permission Authorizer::lookup(std::string_view role, std::string_view uri) const {
    Permission p;
    for (auto a : {Action::call, Action::register_procedure, Action::publish, Action::subscribe}) {
        auto g = authorize(role, uri, a);
        p.allow[static_cast<int>(a)] = g.allowed;
        if (a == Action::call) p.disclose_caller = g.disclose;
        if (a == Action::publish) p.disclose_publisher = g.disclose;
    }
    p.plugin_options = plugin_options(role, uri);
    return p;
}

const wamp::Dict* Authorizer::plugin_options(std::string_view role_name, std::string_view uri) const {
    auto it = roles_.find(role_name);
    if (it == roles_.end()) return nullptr;
    const auto* p = governing(it->second, uri);
    return p ? &p->plugin_options : nullptr;
}

}  // namespace blindrouter::auth
