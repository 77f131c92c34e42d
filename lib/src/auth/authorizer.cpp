#include "blindrouter/auth/authorizer.hpp"

#include <algorithm>

namespace blindrouter::auth {
namespace {
bool lowercase_or_digit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// autobahn Pattern._URI_COMPONENT: ^[a-z0-9][a-z0-9_\-]*$
bool is_pattern_literal(std::string_view text) {
    auto rest = [](char c) { return lowercase_or_digit(c) || c == '_' || c == '-'; };
    return !text.empty() && lowercase_or_digit(text[0]) && std::all_of(text.begin() + 1, text.end(), rest);
}

// autobahn Pattern._URI_NAMED_COMPONENT / _URI_NAMED_CONVERTED_COMPONENT: "<name>" or
// "<name:type>", name ^[a-z][a-z0-9_]*$, type ^[a-z]*$. False when `text` is neither.
bool named_component(std::string_view text, std::string_view& name, std::string_view& type) {
    if (text.size() < 3 || text.front() != '<' || text.back() != '>') return false;
    auto inner = text.substr(1, text.size() - 2);
    auto colon = inner.find(':');
    name = inner.substr(0, colon);
    type = colon == std::string_view::npos ? std::string_view{} : inner.substr(colon + 1);
    if (name.empty() || !(name[0] >= 'a' && name[0] <= 'z')) return false;
    if (!std::all_of(name.begin(), name.end(), [](char c) { return lowercase_or_digit(c) || c == '_'; })) return false;
    return std::all_of(type.begin(), type.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

// What Python's int() accepts once the pattern has matched [^\s.#]+ (ASCII digits only).
bool is_python_int(std::string_view text) {
    if (!text.empty() && (text[0] == '+' || text[0] == '-')) text.remove_prefix(1);
    if (text.empty() || text.front() == '_' || text.back() == '_') return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '_' ? text[i + 1] == '_' : !(text[i] >= '0' && text[i] <= '9')) return false;
    }
    return true;
}

// Calls f(component, is_last) for each '.'-separated component of `uri`.
template <class F>
void for_each_component(std::string_view uri, F&& f) {
    for (std::size_t position = 0; position != core::uri_index_detail::end_of_uri;) {
        auto [component, next] = core::uri_index_detail::component_at(uri, position);
        f(component, next == core::uri_index_detail::end_of_uri);
        position = next;
    }
}
}  // namespace

Permission::Permission(const config::Permission& p) : plugin_options(&p.plugin_options) {
    auto set = [](std::uint8_t& bits, Action action, bool on) {
        if (on) bits |= bit(action);
    };
    set(allow_, Action::call, p.allow_call);
    set(allow_, Action::register_procedure, p.allow_register);
    set(allow_, Action::publish, p.allow_publish);
    set(allow_, Action::subscribe, p.allow_subscribe);
    set(disclose_, Action::call, p.disclose_caller);
    set(disclose_, Action::publish, p.disclose_publisher);
}

Permission Permission::allow_all() {
    Permission p;
    p.allow_ = bit(Action::call) | bit(Action::register_procedure) | bit(Action::publish) | bit(Action::subscribe);
    return p;
}

Permission Permission::granted(Action action, bool disclose) {
    Permission p;
    p.allow_ = bit(action);
    if (disclose) p.disclose_ = bit(action);
    return p;
}

Authorizer::Authorizer(const config::Realm& realm) {
    for (const auto& role : realm.roles) {
        auto [it, added] = roles_.try_emplace(role.name);
        if (added) compile(role, it->second);
    }
}

void Authorizer::compile(const config::Role& role, Role& into) {
    into.has_permissions = role.has_permissions;
    into.allow_by_default = role.allow_by_default;
    into.configured = role.permissions;  // never resized again: the indexes point into it
    // Crossbar stores each permission under a key of a trie (role.py RouterRoleStaticAuth
    // __init__), so a later
    // permission with the same key replaces an earlier one: insert from the last, since
    // UriIndex keeps the first value inserted under a key.
    for (auto p = into.configured.rbegin(); p != into.configured.rend(); ++p) {
        // Any URI with ".." is a wildcard permission whatever its `match`, keyed by the
        // text before the first ".." (same place).
        if (auto wild = p->uri.find(".."); wild != std::string::npos)
            into.wildcards.insert(std::string_view(p->uri).substr(0, wild), wamp::MatchPolicy::prefix,
                                  compile_wildcard(*p));
        else
            into.entries.insert(p->uri, wamp::MatchPolicy::prefix, Entry{Permission(*p), p->match, p->uri.size()});
    }
}

// autobahn's Pattern(uri, URI_TARGET_ENDPOINT) (ab:wamp/uri.py): a constructor that
// raises makes role.py treat the wildcard as not matching (`except (KeyError, Exception)`).
Authorizer::Wildcard Authorizer::compile_wildcard(const config::Permission& configured) {
    Wildcard wildcard{Permission(configured), {}, true};
    std::vector<std::string_view> names;
    for_each_component(configured.uri, [&](std::string_view component, bool last) {
        std::string_view name, type;
        if (component.empty()) {
            wildcard.components.push_back({Wildcard::Kind::any, {}});
        } else if (named_component(component, name, type)) {
            bool known = type.empty() || type == "str" || type == "string" || type == "int" || type == "suffix";
            if (!known || (type == "suffix" && !last) || std::find(names.begin(), names.end(), name) != names.end())
                wildcard.valid = false;
            names.push_back(name);
            wildcard.components.push_back({type == "int" ? Wildcard::Kind::integer : Wildcard::Kind::any, {}});
        } else if (is_pattern_literal(component)) {
            wildcard.components.push_back({Wildcard::Kind::literal, std::string(component)});
        } else {
            wildcard.valid = false;
        }
    });
    return wildcard;
}

// The regular expression autobahn builds: literals as written, every other component
// [^\s\.#]+ (so an empty URI component never matches), int components converted by int().
bool Authorizer::Wildcard::matches(std::string_view uri) const {
    if (!valid) return false;
    std::size_t index = 0;
    bool matched = true;
    for_each_component(uri, [&](std::string_view component, bool) {
        if (!matched || index == components.size()) {
            matched = false;
            return;
        }
        const auto& expected = components[index++];
        switch (expected.kind) {
            case Kind::literal: matched = component == expected.text; break;
            case Kind::any: matched = wamp::is_valid_uri(component); break;
            case Kind::integer: matched = wamp::is_valid_uri(component) && is_python_int(component); break;
        }
    });
    return matched && index == components.size();
}

bool Authorizer::has_role(std::string_view role) const { return roles_.find(role) != roles_.end(); }

// cb:router/role.py:284-364, RouterRoleStaticAuth.authorize.
Permission Authorizer::lookup(std::string_view role_name, std::string_view uri) const {
    auto it = roles_.find(role_name);
    // An authrole with no role object on the realm is denied everything (router.py:421-494).
    if (it == roles_.end()) return {};
    const Role& role = it->second;
    // A role with neither permissions nor an authorizer (router.py:794-802).
    if (!role.has_permissions) return role.allow_by_default ? Permission::allow_all() : Permission{};

    // The entry with the longest key that is a string prefix of the URI;
    // unless it is a prefix permission, it governs only its own URI, and otherwise the
    // default (deny all) does: a shorter prefix entry is not tried. "" is a prefix of every
    // URI (pytrie's longest_prefix_value starts at the root), so role.py's KeyError fallback
    // (`self._permissions.get('', self._default)`) only ever yields the default.
    Permission chosen;
    bool chosen_exact = false;
    if (const Entry* entry = role.entries.longest_prefix(uri)) {
        if (entry->match == wamp::MatchPolicy::prefix || entry->length == uri.size()) {
            chosen = entry->permission;
            chosen_exact = entry->match == wamp::MatchPolicy::exact;
        }
    }
    // Unless an exact entry governs (the default counts as not exact),
    // the wildcard with the longest key that is a prefix of the URI overrides, if its
    // pattern matches; shorter keys are not tried.
    if (!chosen_exact) {
        if (const Wildcard* wildcard = role.wildcards.longest_prefix(uri); wildcard && wildcard->matches(uri))
            chosen = wildcard->permission;
    }
    return chosen;
}

Grant Authorizer::authorize(std::string_view role, std::string_view uri, Action action) const {
    auto permission = lookup(role, uri);
    return {permission.allowed(action), permission.disclose(action)};
}


}  // namespace blindrouter::auth
