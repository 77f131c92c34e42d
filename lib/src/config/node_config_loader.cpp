#include "blindrouter/config/node_config_loader.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <map>
#include <regex>
#include <utility>
#include <set>
#include <sstream>

#include "blindrouter/auth/byte_encoding.hpp"
#include "yaml_document.hpp"

namespace blindrouter::config {
namespace {
using JsonValue = rapidjson::Value;
using Keys = std::initializer_list<std::string_view>;

std::string type_name(const JsonValue& v) {
    switch (v.GetType()) {
        case rapidjson::kNullType: return "null";
        case rapidjson::kFalseType:
        case rapidjson::kTrueType: return "bool";
        case rapidjson::kObjectType: return "dict";
        case rapidjson::kArrayType: return "list";
        case rapidjson::kStringType: return "str";
        case rapidjson::kNumberType: return v.IsInt64() ? "int" : "float";
    }
    return "?";
}

// Crossbar's _ENVPAT, r'^\$\{(.+)\}$' under Python's re (cb:common/checkconfig.py): the
// name is at least one character other than a newline, and `$` also matches before
// a final newline. The name of the variable, when `value` refers to one.
std::optional<std::string> env_reference(std::string_view value) {
    if (!value.empty() && value.back() == '\n') value.remove_suffix(1);
    if (value.size() < 4 || !value.starts_with("${") || !value.ends_with('}')) return std::nullopt;
    auto name = value.substr(2, value.size() - 3);
    if (name.find('\n') != std::string_view::npos) return std::nullopt;
    return std::string(name);
}

// Crossbar's _ENV_VAR_PAT, r'^\$([a-zA-Z_][a-zA-Z0-9_]*)$', used for a listening port.
std::optional<std::string> env_variable(std::string_view value) {
    if (!value.empty() && value.back() == '\n') value.remove_suffix(1);
    if (value.size() < 2 || value[0] != '$' || std::isdigit(static_cast<unsigned char>(value[1]))) return std::nullopt;
    for (char c : value.substr(1))
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return std::nullopt;
    return std::string(value.substr(1));
}

// Walks the document, collecting faults and warnings with JSON paths.
std::optional<wamp::Value> to_value(const JsonValue& v, int depth = 0) {
    if (depth > 32) return std::nullopt;
    switch (v.GetType()) {
        case rapidjson::kNullType: return wamp::Value{};
        case rapidjson::kFalseType: return wamp::Value{false};
        case rapidjson::kTrueType: return wamp::Value{true};
        case rapidjson::kStringType: return wamp::Value{std::string(v.GetString(), v.GetStringLength())};
        case rapidjson::kNumberType:
            if (v.IsUint64()) return wamp::Value{static_cast<std::uint64_t>(v.GetUint64())};
            if (v.IsInt64()) return wamp::Value{static_cast<std::int64_t>(v.GetInt64())};
            return wamp::Value{v.GetDouble()};
        case rapidjson::kArrayType: {
            wamp::List list;
            for (const auto& item : v.GetArray()) {
                auto converted = to_value(item, depth + 1);
                if (!converted) return std::nullopt;
                list.push_back(std::move(*converted));
            }
            return wamp::Value{std::move(list)};
        }
        case rapidjson::kObjectType: {
            wamp::Dict dict;
            for (const auto& m : v.GetObject()) {
                auto converted = to_value(m.value, depth + 1);
                if (!converted) return std::nullopt;
                dict.emplace_back(std::string(m.name.GetString(), m.name.GetStringLength()), std::move(*converted));
            }
            return wamp::Value{std::move(dict)};
        }
    }
    return std::nullopt;
}

class Checker {
public:
    Checker(LoadResult& out, const Extensions& extensions) : out_(out), extensions_(extensions) {}

    void fault(const std::string& path, const std::string& what) { out_.faults.push_back(path + ": " + what); }
    void warn(const std::string& path, const std::string& what) {
        out_.config.warnings.push_back(path + ": " + what);
    }

    // Every key must be one of `known`; each of `unserved` present earns a warning.
    void keys(const JsonValue& obj, const std::string& path, std::string_view what, Keys known, Keys unserved = {},
              const std::vector<std::string>* extension_keys = nullptr) {
        check_keys(obj, path, what, known, unserved, extension_keys, false);
    }
    // For the items whose keys Crossbar's checker never looks at (realms, roles, realm
    // stores: cb:common/checkconfig.py check_router_realm, check_router_realm_role):
    // Crossbar accepts any key there, so an unknown one is warned, not refused.
    void lenient_keys(const JsonValue& obj, const std::string& path, std::string_view what, Keys known,
                      Keys unserved = {}, const std::vector<std::string>* extension_keys = nullptr) {
        check_keys(obj, path, what, known, unserved, extension_keys, true);
    }
    void check_keys(const JsonValue& obj, const std::string& path, std::string_view what, Keys known, Keys unserved,
                    const std::vector<std::string>* extension_keys, bool lenient) {
        for (const auto& m : obj.GetObject()) {
            std::string_view key(m.name.GetString(), m.name.GetStringLength());
            bool is_known = false;
            for (auto k : known) is_known |= (k == key);
            if (extension_keys)
                for (const auto& k : *extension_keys) is_known |= (k == key);
            if (!is_known && lenient) {
                warn(join(path, key), "unknown attribute in " + std::string(what) +
                                          " configuration, which Crossbar.io does not check; ignored");
                continue;
            }
            if (!is_known) {
                fault(path, "encountered unknown attribute '" + std::string(key) + "' in " + std::string(what) +
                                " configuration");
                continue;
            }
            for (auto u : unserved)
                if (u == key) warn(join(path, key), "known to Crossbar.io but not served by blindrouter; ignored");
        }
    }

    bool require_object(const JsonValue* v, const std::string& path) {
        if (v && v->IsObject()) return true;
        fault(path, v ? "must be a dict (" + type_name(*v) + " encountered)" : "missing mandatory attribute");
        return false;
    }
    const JsonValue* member(const JsonValue& obj, std::string_view key) {
        auto it = obj.FindMember(rapidjson::StringRef(key.data(), key.size()));
        return it == obj.MemberEnd() ? nullptr : &it->value;
    }
    std::optional<std::string> string(const JsonValue& obj, std::string_view key, const std::string& path,
                                      bool required = false) {
        const auto* v = member(obj, key);
        if (!v) {
            if (required) fault(join(path, key), "missing mandatory attribute");
            return std::nullopt;
        }
        if (!v->IsString()) {
            fault(join(path, key), "must be a str (" + type_name(*v) + " encountered)");
            return std::nullopt;
        }
        return std::string(v->GetString(), v->GetStringLength());
    }
    std::optional<bool> boolean(const JsonValue& obj, std::string_view key, const std::string& path) {
        const auto* v = member(obj, key);
        if (!v) return std::nullopt;
        if (!v->IsBool()) {
            fault(join(path, key), "must be a bool (" + type_name(*v) + " encountered)");
            return std::nullopt;
        }
        return v->GetBool();
    }
    std::optional<std::int64_t> integer(const JsonValue& obj, std::string_view key, const std::string& path,
                                        std::int64_t low, std::int64_t high) {
        const auto* v = member(obj, key);
        if (!v) return std::nullopt;
        if (!v->IsInt64()) {
            fault(join(path, key), "must be an int (" + type_name(*v) + " encountered)");
            return std::nullopt;
        }
        auto n = v->GetInt64();
        if (n < low || n > high) {
            fault(join(path, key), "invalid value " + std::to_string(n) + " (must be from [" + std::to_string(low) +
                                       ", " + std::to_string(high) + "])");
            return std::nullopt;
        }
        return n;
    }

    static std::string join(const std::string& path, std::string_view key) {
        return path.empty() ? std::string(key) : path + "." + std::string(key);
    }
    static std::string index(const std::string& path, std::size_t i) { return path + "[" + std::to_string(i) + "]"; }

    void node(const JsonValue& root);

private:
    void router_worker(const JsonValue& worker, const std::string& path);
    bool worker_disabled(const JsonValue& options, const std::string& path);
    void realm(const JsonValue& realm, const std::string& path);
    void realm_limits(const JsonValue& limits, const std::string& path, RealmLimits& into);
    void role(const JsonValue& role, const std::string& path, Realm& into);
    void dynamic_authorizer(const JsonValue& role, const std::string& path, Role& into);
    void store(const JsonValue& s, const std::string& path, RealmStore& into);
    void permission(const JsonValue& p, const std::string& path, Role& into);
    void warn_replaced_permissions(const Role& role);
    void transport(const JsonValue& t, const std::string& path);
    CookieTracking cookie_tracking(const JsonValue& c, const std::string& path);
    void web_paths(const JsonValue& paths, const std::string& path, Transport& into);
    std::vector<wamp::Serializer> serializers(const JsonValue& service, const std::string& path);
    void websocket_service(const JsonValue& ws, const std::string& path, WebSocketService& into);
    void rawsocket_service(const JsonValue& raw, const std::string& path, RawSocketService& into);
    bool endpoint(const JsonValue* e, const std::string& path, Endpoint& into);
    // blindrouter's own key on any listening endpoint, refused by Crossbar.
    void endpoint_limit(const JsonValue& e, const std::string& path, Endpoint& into) {
        if (auto n = integer(e, "max_connections", path, 1, 10000000)) into.max_connections = static_cast<std::size_t>(*n);
    }
    std::vector<std::string> string_list(const JsonValue& obj, std::string_view key, const std::string& path);
    void websocket_options(const JsonValue& o, const std::string& path, WebSocketService& into);
    std::optional<std::chrono::milliseconds> milliseconds(const JsonValue& o, std::string_view key,
                                                          const std::string& path);
    void liveness_options(const JsonValue& o, const std::string& path, Liveness& into);
    std::optional<std::size_t> send_queue_limit(const JsonValue& o, const std::string& path,
                                                std::size_t max_message_size);
    void auth(const JsonValue& a, const std::string& path, TransportAuth& into);
    void secret_method(const JsonValue& m, const std::string& mpath, const std::string& method, TransportAuth& into);
    std::optional<std::string> secret_from_env(const std::string& value, const std::string& path);
    std::optional<CryptosignAuth> cryptosign_auth(const JsonValue& c, const std::string& path);
    std::optional<ScramAuth> scram_auth(const JsonValue& c, const std::string& path);
    std::optional<TlsAuth> tls_auth(const JsonValue& c, const std::string& path);
    bool static_auth_type(const JsonValue& c, const std::string& path, std::string_view what);
    bool is_dynamic(const JsonValue& m);
    void dynamic_authenticator(const JsonValue& m, const std::string& mpath, const std::string& method,
                               TransportAuth& into);
    std::optional<std::string> hex_bytes(const JsonValue& obj, std::string_view key, const std::string& path,
                                         std::optional<std::size_t> size);
    // Calls read(authid, principal, path) for each principal dict (a repeated authid
    // is a repeated key, refused before: check_shape).
    template <class Read>
    void each_principal(const JsonValue& principals, const std::string& path, Read&& read) {
        for (const auto& m : principals.GetObject()) {
            std::string authid(m.name.GetString(), m.name.GetStringLength());
            auto ppath = join(path, authid);
            if (require_object(&m.value, ppath)) read(std::move(authid), m.value, ppath);
        }
    }

    // Copies the values of registered plugin keys, for the plugin to check.
    void plugin_options(const JsonValue& obj, const std::vector<std::string>& extension_keys, const std::string& path,
                        wamp::Dict& into) {
        for (const auto& key : extension_keys) {
            const auto* v = member(obj, key);
            if (!v) continue;
            if (auto value = to_value(*v)) into.emplace_back(key, std::move(*value));
            else fault(join(path, key), "nesting too deep");
        }
    }

    LoadResult& out_;
    const Extensions& extensions_;
};

void Checker::node(const JsonValue& root) {
    if (!root.IsObject()) return fault("(top level)", "configuration must be a dict (" + type_name(root) + " encountered)");
    keys(root, "", "top-level", {"$schema", "version", "controller", "workers"});
    auto version = member(root, "version");
    if (!version)
        fault("version", "missing: Crossbar.io takes that as version 1 and refuses it as too old ('crossbar "
                         "upgrade'); blindrouter reads version 2");
    else if (!version->IsInt() || version->GetInt() != 2)
        fault("version", "must be 2 (the Crossbar.io node configuration version blindrouter reads)");
    if (const auto* controller = member(root, "controller")) {
        if (require_object(controller, "controller")) {
            keys(*controller, "controller", "controller", {"id", "options", "manhole", "connections", "keyring"},
                 {"options", "manhole", "connections", "keyring"});
        }
    }
    const auto* workers = member(root, "workers");
    if (!workers) return;
    if (!workers->IsArray()) return fault("workers", "must be a list (" + type_name(*workers) + " encountered)");
    for (rapidjson::SizeType i = 0; i < workers->Size(); ++i) {
        const auto& worker = (*workers)[i];
        auto path = index("workers", i);
        if (!require_object(&worker, path)) continue;
        auto type = string(worker, "type", path, true);
        if (!type) continue;
        if (*type == "router") router_worker(worker, path);
        else if (*type == "guest" || *type == "container" || *type == "proxy" || *type == "websocket-testee")
            warn(path, "worker of type '" + *type + "' is not served by blindrouter; ignored");
        else fault(join(path, "type"), "invalid worker type '" + *type + "'");
    }
}

void Checker::router_worker(const JsonValue& worker, const std::string& path) {
    keys(worker, path, "router", {"id", "type", "options", "manhole", "realms", "transports", "components", "connections"},
         {"manhole", "components", "connections"});
    bool disabled = false;
    if (const auto* options = member(worker, "options"); options && require_object(options, join(path, "options"))) {
        auto opath = join(path, "options");
        // Crossbar's router options (title, pythonpath, cpu_affinity, env, ...) are
        // about the Python process; only `disabled` and our own key are served.
        for (const auto& m : options->GetObject()) {
            std::string key(m.name.GetString(), m.name.GetStringLength());
            if (key != "max_connections" && key != "disabled")
                warn(join(opath, key), "known to Crossbar.io but not served by blindrouter; ignored");
        }
        if (auto n = integer(*options, "max_connections", opath, 1, 10000000))
            out_.config.max_connections = static_cast<std::size_t>(*n);
        disabled = worker_disabled(*options, opath);
    }
    // A disabled worker is checked but not started (cb:node/node.py, "SKIP STARTING OF WORKER").
    const auto realms_before = out_.config.realms.size();
    const auto transports_before = out_.config.transports.size();
    if (const auto* realms = member(worker, "realms")) {
        if (!realms->IsArray()) fault(join(path, "realms"), "must be a list (" + type_name(*realms) + " encountered)");
        else
            for (rapidjson::SizeType i = 0; i < realms->Size(); ++i) realm((*realms)[i], index(join(path, "realms"), i));
    }
    if (const auto* transports = member(worker, "transports")) {
        if (!transports->IsArray())
            fault(join(path, "transports"), "must be a list (" + type_name(*transports) + " encountered)");
        else
            for (rapidjson::SizeType i = 0; i < transports->Size(); ++i)
                transport((*transports)[i], index(join(path, "transports"), i));
    }
    if (!disabled) return;
    warn(join(path, "options.disabled"), "worker disabled; its realms and transports are not started");
    out_.config.realms.resize(realms_before);
    out_.config.transports.resize(transports_before);
}

// cb:common/checkconfig.py check_native_worker_options: a bool, or a string read
// through maybe_from_env, where an unset variable or "" is false and any other text
// (from the environment or written as it is) is true.
bool Checker::worker_disabled(const JsonValue& options, const std::string& path) {
    const auto* v = member(options, "disabled");
    if (!v) return false;
    if (v->IsBool()) return v->GetBool();
    if (!v->IsString()) {
        fault(join(path, "disabled"), "must be a bool or str (" + type_name(*v) + " encountered)");
        return false;
    }
    std::string text(v->GetString(), v->GetStringLength());
    auto variable = env_reference(text);
    if (!variable) return !text.empty();
    const char* from_env = std::getenv(variable->c_str());
    return from_env && *from_env != '\0';
}

void Checker::realm(const JsonValue& r, const std::string& path) {
    if (!require_object(&r, path)) return;
    // `stats` is Crossbar's wamp.session.on_stats publisher (cb:router/session.py).
    lenient_keys(r, path, "realm",
                 {"id", "name", "roles", "options", "store", "inventory", "rlinks", "trace", "limits", "stats"},
                 {"options", "inventory", "trace", "stats"}, &extensions_.realm_keys);
    // Crossbar's router links re-publish events between routers; blindrouter shares
    // a realm across nodes through NATS instead (README "Clustered realms (NATS)").
    if (r.IsObject() && r.HasMember("rlinks"))
        warn(join(path, "rlinks"),
             "Crossbar.io router links are not served by blindrouter; ignored. To share this realm across "
             "nodes, run each node with --cluster FILE (README: Clustered realms (NATS))");
    Realm realm;
    realm.json_path = path;
    plugin_options(r, extensions_.realm_keys, path, realm.plugin_options);
    auto name = string(r, "name", path, true);
    bool valid_name = true;
    if (name) {
        // Crossbar's realm name rule (autobahn identify_realm_name_category).
        bool valid = name->size() >= 3 && name->size() <= 255 && std::isalpha(static_cast<unsigned char>((*name)[0]));
        for (char c : *name)
            valid &= std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '@' || c == '.';
        // Crossbar's checker does not look at the name, and a HELLO for such a realm is
        // refused by Crossbar and by us alike (an unrendered `crossbar init` template
        // has "{{ realm }}" here): nothing could join it, so it is not started.
        valid_name = valid;
        if (!valid)
            warn(join(path, "name"), "the name \"" + *name +
                                         "\" is not a valid WAMP realm name (a letter, then 2 to 254 letters, digits, "
                                         "'_', '-', '@' or '.'); realm not started");
        for (const auto& existing : out_.config.realms)
            if (existing.name == *name) fault(join(path, "name"), "duplicate realm \"" + *name + "\"");
        realm.name = *name;
    }
    if (const auto* roles = member(r, "roles")) {
        if (!roles->IsArray()) fault(join(path, "roles"), "must be a list (" + type_name(*roles) + " encountered)");
        else
            for (rapidjson::SizeType i = 0; i < roles->Size(); ++i) role((*roles)[i], index(join(path, "roles"), i), realm);
    }
    if (const auto* limits = member(r, "limits"); limits && require_object(limits, join(path, "limits")))
        realm_limits(*limits, join(path, "limits"), realm.limits);
    if (const auto* s = member(r, "store"); s && require_object(s, join(path, "store")))
        store(*s, join(path, "store"), realm.store);
    if (valid_name) out_.config.realms.push_back(std::move(realm));
}

void Checker::realm_limits(const JsonValue& l, const std::string& path, RealmLimits& into) {
    keys(l, path, "realm limits",
         {"max_sessions", "max_subscriptions_per_session", "max_registrations_per_session",
          "max_pending_calls_per_caller", "max_pending_invocations_per_callee"});
    for (auto [key, value] : {std::pair{"max_sessions", &into.max_sessions},
                              std::pair{"max_subscriptions_per_session", &into.max_subscriptions_per_session},
                              std::pair{"max_registrations_per_session", &into.max_registrations_per_session},
                              std::pair{"max_pending_calls_per_caller", &into.max_pending_calls_per_caller},
                              std::pair{"max_pending_invocations_per_callee", &into.max_pending_invocations_per_callee}})
        if (auto n = integer(l, key, path, 1, 10000000)) *value = static_cast<std::size_t>(*n);
}

// Crossbar's realm store (cb:personality.py create_realm_store, cb:router/realmstore.py):
// `type` is mandatory and "memory" is the only type Crossbar's own personality has.
void Checker::store(const JsonValue& s, const std::string& path, RealmStore& into) {
    lenient_keys(s, path, "realm store",
         {"type", "limit", "event-history", "call-queue", "max_retained_events", "max_retained_bytes",
          "max_history_bytes", "max_testaments_per_session"},
         {"call-queue"});
    into.configured = true;
    if (auto type = string(s, "type", path, true); type && *type != "memory")
        fault(join(path, "type"), "invalid or unavailable store type " + *type);
    constexpr std::int64_t most = std::int64_t{1} << 40;
    auto size = [&](std::string_view key, std::int64_t low, std::size_t& field) {
        if (auto n = integer(s, key, path, low, most)) field = static_cast<std::size_t>(*n);
    };
    size("limit", 1, into.limit);
    size("max_retained_events", 0, into.max_retained_events);
    size("max_retained_bytes", 0, into.max_retained_bytes);
    size("max_history_bytes", 0, into.max_history_bytes);
    size("max_testaments_per_session", 0, into.max_testaments_per_session);
    const auto* history = member(s, "event-history");
    if (!history) return;
    auto hpath = join(path, "event-history");
    if (!history->IsArray()) return fault(hpath, "must be a list (" + type_name(*history) + " encountered)");
    for (rapidjson::SizeType i = 0; i < history->Size(); ++i) {
        auto ipath = index(hpath, i);
        const auto& item = (*history)[i];
        if (!require_object(&item, ipath)) continue;
        keys(item, ipath, "event-history item", {"uri", "match", "limit"});
        HistoryTopic topic;
        topic.limit = into.limit;  // the store's limit is read first: it is the fallback
        auto uri = string(item, "uri", ipath, true);
        if (auto match = string(item, "match", ipath)) {
            if (auto policy = wamp::match_from_name(*match)) topic.match = *policy;
            else fault(join(ipath, "match"), "invalid value '" + *match + "' for 'match'");
        }
        if (auto n = integer(item, "limit", ipath, 1, most)) topic.limit = static_cast<std::size_t>(*n);
        if (!uri) continue;
        if (!wamp::is_valid_uri(*uri, topic.match)) fault(join(ipath, "uri"), "invalid URI '" + *uri + "'");
        topic.uri = *uri;
        into.event_history.push_back(std::move(topic));
    }
}

void Checker::role(const JsonValue& r, const std::string& path, Realm& into) {
    if (!require_object(&r, path)) return;
    lenient_keys(r, path, "role", {"id", "name", "permissions", "authorizer", "allow-by-default", "authorizer_limits"});
    Role role;
    if (auto name = string(r, "name", path, true)) role.name = *name;
    role.has_permissions = member(r, "permissions") != nullptr || member(r, "authorizer") != nullptr;
    role.allow_by_default = boolean(r, "allow-by-default", path).value_or(false);
    if (role.has_permissions && member(r, "allow-by-default"))
        warn(join(path, "allow-by-default"), "only applies to roles without permissions (Crossbar); ignored");
    if (member(r, "authorizer")) {
        if (member(r, "permissions")) fault(path, "can't specify both 'authorizer' and 'permissions' at once");
        dynamic_authorizer(r, path, role);
    } else if (member(r, "authorizer_limits")) {
        warn(join(path, "authorizer_limits"), "only applies to a role with an authorizer; ignored");
    }
    if (const auto* permissions = member(r, "permissions")) {
        if (!permissions->IsArray())
            fault(join(path, "permissions"), "must be a list (" + type_name(*permissions) + " encountered)");
        else
            for (rapidjson::SizeType i = 0; i < permissions->Size(); ++i)
                permission((*permissions)[i], index(join(path, "permissions"), i), role);
        warn_replaced_permissions(role);
    }
    into.roles.push_back(std::move(role));
}

void Checker::dynamic_authorizer(const JsonValue& r, const std::string& path, Role& into) {
    DynamicAuthorizer authorizer;
    auto procedure = string(r, "authorizer", path);
    if (!procedure) return;
    // Crossbar: check_or_raise_uri, a strict URI without empty components.
    if (!wamp::is_valid_uri(*procedure)) fault(join(path, "authorizer"), "invalid dynamic authorizer URI '" + *procedure + "' in role permissions");
    // The router calls authorizers from its session in the role `trusted`: an authorizer
    // for that role would be asked to authorize its own calls.
    if (into.name == "trusted") fault(join(path, "authorizer"), "the role 'trusted' cannot have a dynamic authorizer: the router calls authorizers under it");
    authorizer.procedure = *procedure;
    if (const auto* limits = member(r, "authorizer_limits")) {
        auto lpath = join(path, "authorizer_limits");
        if (require_object(limits, lpath)) {
            keys(*limits, lpath, "authorizer_limits",
                 {"timeout", "cache_entries", "cache_ttl", "max_pending", "max_held_per_session"});
            if (auto ms = integer(*limits, "timeout", lpath, 1, 86400000)) authorizer.timeout = std::chrono::milliseconds(*ms);
            if (auto ms = integer(*limits, "cache_ttl", lpath, 0, 86400000)) authorizer.cache_ttl = std::chrono::milliseconds(*ms);
            if (auto n = integer(*limits, "cache_entries", lpath, 0, 10000000)) authorizer.cache_entries = static_cast<std::size_t>(*n);
            if (auto n = integer(*limits, "max_pending", lpath, 1, 10000000)) authorizer.max_pending = static_cast<std::size_t>(*n);
            if (auto n = integer(*limits, "max_held_per_session", lpath, 1, 100000))
                authorizer.max_held_per_session = static_cast<std::size_t>(*n);
        }
    }
    into.authorizer = std::move(authorizer);
}

// Crossbar keeps a role's permissions in two tries (cb:router/role.py RouterRoleStaticAuth):
// one keyed by the URI, one for URIs with "..", keyed by the text before the first "..".
// A later permission with the same key silently replaces the earlier one; we do the same
// (auth/authorizer.cpp) and say so here.
void Checker::warn_replaced_permissions(const Role& role) {
    std::map<std::pair<bool, std::string>, const Permission*> by_key;
    for (const auto& p : role.permissions) {
        auto wild = p.uri.find("..");
        auto key = std::make_pair(wild != std::string::npos, p.uri.substr(0, wild));
        auto [it, added] = by_key.try_emplace(key, &p);
        if (added) continue;
        warn(it->second->json_path,
             "replaced by " + p.json_path +
                 (key.first ? ", a wildcard with the same text before '..' (Crossbar keeps one per text)"
                            : ", a permission for the same URI (Crossbar keeps one per URI)"));
        it->second = &p;
    }
}

void Checker::permission(const JsonValue& p, const std::string& path, Role& into) {
    if (!require_object(&p, path)) return;
    keys(p, path, "permission", {"uri", "match", "allow", "disclose", "validate", "cache"}, {"validate"},
         &extensions_.permission_keys);
    Permission permission;
    permission.json_path = path;
    plugin_options(p, extensions_.permission_keys, path, permission.plugin_options);
    auto uri = string(p, "uri", path, true);
    if (!uri) return;
    if (auto match = string(p, "match", path)) {
        permission.uri = *uri;
        if (auto policy = wamp::match_from_name(*match)) permission.match = *policy;
        else fault(join(path, "match"), "invalid value '" + *match + "' for 'match' attribute in role permissions");
    } else {
        // Crossbar's starred URIs when `match` is absent: a single trailing '*' is a
        // prefix, any other '*' makes a wildcard (autobahn convert_starred_uri).
        auto stars = std::count(uri->begin(), uri->end(), '*');
        if (stars == 0) permission.uri = *uri;
        else if (stars == 1 && uri->back() == '*') {
            permission.uri = uri->substr(0, uri->size() - 1);
            permission.match = wamp::MatchPolicy::prefix;
        } else {
            for (char c : *uri)
                if (c != '*') permission.uri += c;
            permission.match = wamp::MatchPolicy::wildcard;
        }
    }
    if (!wamp::is_valid_uri(permission.uri, permission.match) &&
        !(permission.match != wamp::MatchPolicy::exact && permission.uri.empty()))
        fault(join(path, "uri"), "invalid URI '" + *uri + "' for match '" +
                                     std::string(wamp::match_name(permission.match)) +
                                     "'");
    if (const auto* allow = member(p, "allow"); allow && require_object(allow, join(path, "allow"))) {
        auto apath = join(path, "allow");
        keys(*allow, apath, "allow", {"call", "register", "publish", "subscribe"});
        permission.allow_call = boolean(*allow, "call", apath).value_or(false);
        permission.allow_register = boolean(*allow, "register", apath).value_or(false);
        permission.allow_publish = boolean(*allow, "publish", apath).value_or(false);
        permission.allow_subscribe = boolean(*allow, "subscribe", apath).value_or(false);
    }
    if (const auto* disclose = member(p, "disclose"); disclose && require_object(disclose, join(path, "disclose"))) {
        auto dpath = join(path, "disclose");
        keys(*disclose, dpath, "disclose", {"caller", "publisher"});
        permission.disclose_caller = boolean(*disclose, "caller", dpath).value_or(false);
        permission.disclose_publisher = boolean(*disclose, "publisher", dpath).value_or(false);
    }
    boolean(p, "cache", path);  // authorization is computed per message; caching changes nothing we serve
    into.permissions.push_back(std::move(permission));
}

void Checker::transport(const JsonValue& t, const std::string& path) {
    if (!require_object(&t, path)) return;
    auto type = string(t, "type", path, true);
    if (!type) return;
    Transport transport;
    transport.id = string(t, "id", path).value_or(path);
    if (*type == "websocket") {
        keys(t, path, "WebSocket transport",
             {"id", "type", "endpoint", "url", "serializers", "debug", "options", "auth", "cookie"});
        WebSocketService ws;
        websocket_service(t, path, ws);
        transport.websocket.push_back(std::move(ws));
    } else if (*type == "web") {
        keys(t, path, "Web transport", {"id", "type", "endpoint", "paths", "options"}, {"options"});
        const auto* paths = member(t, "paths");
        if (require_object(paths, join(path, "paths"))) web_paths(*paths, join(path, "paths"), transport);
    } else if (*type == "rawsocket") {
        keys(t, path, "RawSocket transport", {"id", "type", "endpoint", "serializers", "debug", "options", "auth"});
        transport.rawsocket.emplace();
        rawsocket_service(t, path, *transport.rawsocket);
    } else if (*type == "universal") {
        keys(t, path, "Universal transport", {"id", "type", "endpoint", "rawsocket", "websocket", "mqtt", "web"},
             {"mqtt"});
        if (const auto* raw = member(t, "rawsocket"); raw && require_object(raw, join(path, "rawsocket"))) {
            auto rpath = join(path, "rawsocket");
            keys(*raw, rpath, "Universal transport rawsocket", {"id", "type", "serializers", "debug", "options", "auth"});
            transport.rawsocket.emplace();
            rawsocket_service(*raw, rpath, *transport.rawsocket);
        }
        if (const auto* ws = member(t, "websocket"); ws && require_object(ws, join(path, "websocket")))
            web_paths(*ws, join(path, "websocket"), transport);
        if (const auto* web = member(t, "web"); web && require_object(web, join(path, "web"))) {
            keys(*web, join(path, "web"), "Universal transport web", {"paths", "options"}, {"options"});
            if (const auto* paths = member(*web, "paths"); paths && require_object(paths, join(path, "web.paths")))
                web_paths(*paths, join(path, "web.paths"), transport);
        }
    } else if (*type == "mqtt" || *type == "flashpolicy" || *type == "websocket.testee" || *type == "stream.testee") {
        warn(path, "transport of type '" + *type + "' is not served by blindrouter; ignored");
        return;
    } else {
        fault(join(path, "type"), "invalid transport type '" + *type + "'");
        return;
    }
    if (!endpoint(member(t, "endpoint"), join(path, "endpoint"), transport.endpoint)) return;
    if (transport.websocket.empty() && !transport.rawsocket) {
        warn(path, "serves nothing blindrouter speaks; not started");
        return;
    }
    out_.config.transports.push_back(std::move(transport));
}

void Checker::web_paths(const JsonValue& paths, const std::string& path, Transport& into) {
    for (const auto& m : paths.GetObject()) {
        std::string key(m.name.GetString(), m.name.GetStringLength());
        auto ppath = join(path, key);
        if (!require_object(&m.value, ppath)) continue;
        auto type = string(m.value, "type", ppath, true);
        if (!type) continue;
        if (*type != "websocket") {
            warn(ppath, "web service of type '" + *type + "' is not served by blindrouter; ignored");
            continue;
        }
        keys(m.value, ppath, "WebSocket path", {"id", "type", "url", "serializers", "cookie", "auth", "options", "debug"});
        WebSocketService ws;
        ws.path = key == "/" ? "/" : "/" + key;
        websocket_service(m.value, ppath, ws);
        into.websocket.push_back(std::move(ws));
    }
}

std::vector<wamp::Serializer> Checker::serializers(const JsonValue& service, const std::string& path) {
    const auto* list = member(service, "serializers");
    if (!list) return {wamp::Serializer::json, wamp::Serializer::msgpack, wamp::Serializer::cbor};
    std::vector<wamp::Serializer> served;
    auto spath = join(path, "serializers");
    if (!list->IsArray()) {
        fault(spath, "must be a list (" + type_name(*list) + " encountered)");
        return served;
    }
    for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
        const auto& s = (*list)[i];
        std::string name = s.IsString() ? s.GetString() : "";
        if (auto serializer = wamp::serializer_from_name(name)) served.push_back(*serializer);
        else if (name == "ubjson" || name == "flatbuffers")
            warn(index(spath, i), "serializer '" + name + "' is not served by blindrouter; ignored");
        else fault(index(spath, i), "invalid WAMP serializer '" + name + "'");
    }
    if (served.empty() && list->Size() > 0) fault(spath, "lists no serializer that blindrouter serves (json, msgpack, cbor)");
    return served;
}

void Checker::websocket_service(const JsonValue& ws, const std::string& path, WebSocketService& into) {
    if (member(ws, "url")) warn(join(path, "url"), "only used by Crossbar to build status pages; ignored");
    boolean(ws, "debug", path);
    into.serializers = serializers(ws, path);
    if (const auto* options = member(ws, "options"); options && require_object(options, join(path, "options")))
        websocket_options(*options, join(path, "options"), into);
    if (const auto* a = member(ws, "auth"); a && require_object(a, join(path, "auth"))) auth(*a, join(path, "auth"), into.auth);
    if (const auto* c = member(ws, "cookie"); c && require_object(c, join(path, "cookie")))
        into.cookie = cookie_tracking(*c, join(path, "cookie"));
    // Crossbar reads the cookie only where tracking is on; without it the method never matches.
    if (into.auth.cookie && !into.cookie)
        warn(join(path, "auth.cookie"), "cookie authentication needs the service's 'cookie' option; never matches here");
}

// cb:common/checkconfig.py:818-945 (check_transport_cookie and the store checks).
CookieTracking Checker::cookie_tracking(const JsonValue& c, const std::string& path) {
    keys(c, path, "WebSocket cookie", {"name", "length", "max_age", "store", "secure", "http_strict", "same_site"});
    CookieTracking tracking;
    if (auto name = string(c, "name", path)) {
        static const std::regex pattern("^[a-z][a-z0-9_]+$");
        if (std::regex_match(*name, pattern)) tracking.name = *name;
        else fault(join(path, "name"), "invalid cookie name '" + *name + "' - must match regular expression ^[a-z][a-z0-9_]+$");
    }
    if (auto length = integer(c, "length", path, 6, 64)) tracking.length = static_cast<std::size_t>(*length);
    if (auto max_age = integer(c, "max_age", path, 1, 86400LL * 360 * 10)) tracking.max_age = std::chrono::seconds(*max_age);
    if (auto secure = boolean(c, "secure", path)) tracking.secure = *secure;
    if (auto strict = boolean(c, "http_strict", path)) tracking.http_only = *strict;
    if (auto same_site = string(c, "same_site", path)) {
        if (*same_site == "Strict" || *same_site == "Lax" || *same_site == "None") tracking.same_site = *same_site;
        else fault(join(path, "same_site"), "invalid attribute value '" + *same_site + "' for attribute 'same_site' - must be one of 'Strict', 'Lax', 'None'");
    }
    auto spath = join(path, "store");
    // Crossbar's check lets a missing store pass, then fails to start (protocol.py reads cookie["store"]).
    const auto* store = member(c, "store");
    if (!require_object(store, spath)) return tracking;
    auto type = string(*store, "type", spath, true);
    if (!type) return tracking;
    if (auto limit = integer(*store, "limit", spath, 1, 100000000)) tracking.limit = static_cast<std::size_t>(*limit);
    if (*type == "memory") {
        keys(*store, spath, "WebSocket memory-backed cookie store", {"type", "limit"});
    } else if (*type == "file" || *type == "database") {
        if (*type == "file") {
            keys(*store, spath, "WebSocket file-backed cookie store", {"type", "filename", "purge_on_startup", "limit"});
            string(*store, "filename", spath, true);
        } else {
            keys(*store, spath, "WebSocket database-backed cookie store",
                 {"type", "path", "purge_on_startup", "maxsize", "readonly", "sync", "limit"});
            string(*store, "path", spath, true);
            integer(*store, "maxsize", spath, 0, INT64_MAX);
            boolean(*store, "readonly", spath);
            boolean(*store, "sync", spath);
        }
        boolean(*store, "purge_on_startup", spath);
        warn(join(spath, "type"), "a " + *type + "-backed cookie store is not served by blindrouter; cookies are kept "
                                  "in memory instead and forgotten at restart (clients then log in again)");
    } else {
        fault(join(spath, "type"), "invalid attribute value '" + *type + "' for attribute 'type' in cookie store item");
    }
    return tracking;
}

void Checker::rawsocket_service(const JsonValue& raw, const std::string& path, RawSocketService& into) {
    boolean(raw, "debug", path);
    into.serializers = serializers(raw, path);
    if (const auto* options = member(raw, "options"); options && require_object(options, join(path, "options"))) {
        auto opath = join(path, "options");
        // Crossbar knows only max_message_size here; the liveness keys are the WebSocket
        // ones, served the same way over RawSocket PING/PONG (a config with them is
        // refused by Crossbar).
        keys(*options, opath, "RawSocket options",
             {"max_message_size", "auto_ping_interval", "auto_ping_timeout", "auto_ping_size",
              "auto_ping_restart_on_any_traffic", "hello_timeout", "write_timeout", "send_queue_limit"});
        if (auto size = integer(*options, "max_message_size", opath, 1, 64 * 1024 * 1024))
            into.max_message_size = static_cast<std::size_t>(*size);
        into.send_queue_limit = send_queue_limit(*options, opath, into.max_message_size);
        liveness_options(*options, opath, into.liveness);
    }
    if (const auto* a = member(raw, "auth"); a && require_object(a, join(path, "auth"))) auth(*a, join(path, "auth"), into.auth);
    if (into.auth.cookie) warn(join(path, "auth.cookie"), "cookie authentication needs a WebSocket service with cookie tracking; never matches on RawSocket");
}

bool Checker::endpoint(const JsonValue* e, const std::string& path, Endpoint& into) {
    if (!require_object(e, path)) return false;
    auto type = string(*e, "type", path, true);
    if (!type) return false;
    if (*type == "unix") {
        keys(*e, path, "listening endpoint", {"type", "path", "backlog", "max_connections"});
        endpoint_limit(*e, path, into);
        into.kind = Endpoint::Kind::unix_socket;
        if (auto socket_path = string(*e, "path", path, true)) into.path = *socket_path;
        else return false;
        if (auto backlog = integer(*e, "backlog", path, 1, 65535)) into.backlog = static_cast<int>(*backlog);
        return true;
    }
    if (*type == "twisted" || *type == "onion") {
        warn(path, "endpoint of type '" + *type + "' is not served by blindrouter; transport not started");
        return false;
    }
    if (*type != "tcp") {
        fault(join(path, "type"), "invalid endpoint type '" + *type + "'");
        return false;
    }
    keys(*e, path, "listening endpoint",
         {"type", "version", "port", "portrange", "shared", "interface", "backlog", "tls", "user_timeout",
          "max_connections"},
         {"portrange", "shared", "user_timeout"});
    endpoint_limit(*e, path, into);
    const auto* port = member(*e, "port");
    bool ok = true;
    if (port && port->IsString()) {
        // Crossbar reads a "$VAR" port from the environment (_readenv, then int()).
        std::string text(port->GetString(), port->GetStringLength());
        auto variable = env_variable(text);
        const char* env = variable ? std::getenv(variable->c_str()) : nullptr;
        char* end = nullptr;
        long n = env ? std::strtol(env, &end, 10) : 0;
        if (!variable)
            fault(join(path, "port"), "listening endpoint configuration - environment variable name '" + text +
                                          "' does not match pattern '^\\$([a-zA-Z_][a-zA-Z0-9_]*)$'");
        else if (!env)
            fault(join(path, "port"), "listening endpoint configuration - environment variable '" + text + "' not set");
        else if (*env == '\0' || *end != '\0' || n < 1 || n > 65535)
            fault(join(path, "port"), "environment variable " + *variable + " does not hold a port number");
        ok = variable && env && *env != '\0' && *end == '\0' && n >= 1 && n <= 65535;
        into.port = static_cast<std::uint16_t>(ok ? n : 0);
    } else if (auto n = integer(*e, "port", path, 1, 65535)) {
        into.port = static_cast<std::uint16_t>(*n);
    } else {
        if (!port) fault(join(path, "port"), "missing mandatory attribute");
        ok = false;
    }
    if (auto version = integer(*e, "version", path, 4, 6)) {
        if (*version != 4 && *version != 6) fault(join(path, "version"), "must be 4 or 6");
        into.ip_version = static_cast<int>(*version);
    }
    into.interface = string(*e, "interface", path).value_or(into.ip_version == 6 ? "::" : "0.0.0.0");
    if (auto backlog = integer(*e, "backlog", path, 1, 65535)) into.backlog = static_cast<int>(*backlog);
    if (const auto* tls = member(*e, "tls"); tls && require_object(tls, join(path, "tls"))) {
        auto tpath = join(path, "tls");
        keys(*tls, tpath, "TLS", {"key", "certificate", "chain_certificates", "dhparam", "ciphers", "ca_certificates"});
        Tls t;
        auto key = string(*tls, "key", tpath, true);
        auto certificate = string(*tls, "certificate", tpath, true);
        if (!key || !certificate) return false;
        t.key = *key;
        t.certificate = *certificate;
        t.chain_certificates = string_list(*tls, "chain_certificates", tpath);
        t.ciphers = string(*tls, "ciphers", tpath);
        t.dhparam = string(*tls, "dhparam", tpath);
        t.ca_certificates = string_list(*tls, "ca_certificates", tpath);
        into.tls = std::move(t);
    }
    return ok;
}

std::vector<std::string> Checker::string_list(const JsonValue& obj, std::string_view key, const std::string& path) {
    std::vector<std::string> strings;
    const auto* v = member(obj, key);
    if (!v) return strings;
    if (!v->IsArray()) {
        fault(join(path, key), "must be a list (" + type_name(*v) + " encountered)");
        return strings;
    }
    for (rapidjson::SizeType i = 0; i < v->Size(); ++i) {
        if ((*v)[i].IsString()) strings.emplace_back((*v)[i].GetString());
        else fault(index(join(path, key), i), "must be a str");
    }
    return strings;
}

void Checker::websocket_options(const JsonValue& o, const std::string& path, WebSocketService& into) {
    keys(o, path, "WebSocket options",
         {"allowed_origins", "allow_null_origin", "external_port", "enable_hybi10", "enable_rfc6455",
          "open_handshake_timeout", "close_handshake_timeout", "enable_webstatus", "validate_utf8",
          "mask_server_frames", "require_masked_client_frames", "apply_mask", "max_frame_size", "max_message_size",
          "auto_fragment_size", "fail_by_drop", "echo_close_codereason", "tcp_nodelay", "auto_ping_interval",
          "auto_ping_timeout", "auto_ping_size", "auto_ping_restart_on_any_traffic", "enable_flash_policy",
          "flash_policy", "compression", "require_websocket_subprotocol", "show_server_version",
          // blindrouter's own, refused by Crossbar:
          "hello_timeout", "write_timeout", "send_queue_limit"},
         {"allowed_origins", "allow_null_origin", "external_port", "enable_hybi10", "enable_webstatus",
          "mask_server_frames", "require_masked_client_frames", "apply_mask", "max_frame_size",
          "auto_fragment_size", "fail_by_drop", "echo_close_codereason", "enable_flash_policy", "flash_policy",
          "compression", "show_server_version"});
    // Crossbar's limit for max_message_size is [1, 64 MiB].
    if (auto size = integer(o, "max_message_size", path, 1, 64 * 1024 * 1024))
        into.max_message_size = static_cast<std::size_t>(*size);
    into.send_queue_limit = send_queue_limit(o, path, into.max_message_size);
    liveness_options(o, path, into.liveness);
    // Served as Crossbar's defaults, which are our fixed behaviour.
    for (auto key : {"enable_rfc6455", "validate_utf8", "tcp_nodelay", "require_websocket_subprotocol"}) {
        if (auto flag = boolean(o, key, path); flag && !*flag)
            warn(join(path, key), "blindrouter always behaves as if this were true; ignored");
    }
}

// Crossbar's _check_milliseconds (cb:common/checkconfig.py): an int, 0 or at least 1000.
std::optional<std::chrono::milliseconds> Checker::milliseconds(const JsonValue& o, std::string_view key,
                                                               const std::string& path) {
    auto ms = integer(o, key, path, 0, 86400000);
    if (!ms) return std::nullopt;
    if (*ms != 0 && *ms < 1000) {
        fault(join(path, key), "is in milliseconds; " + std::to_string(*ms) + " is too small");
        return std::nullopt;
    }
    return std::chrono::milliseconds(*ms);
}

// A queue that cannot hold one message of max_message_size would drop every
// connection that receives one.
std::optional<std::size_t> Checker::send_queue_limit(const JsonValue& o, const std::string& path,
                                                     std::size_t max_message_size) {
    auto limit = integer(o, "send_queue_limit", path, 1, std::int64_t{1} << 40);
    if (!limit) return std::nullopt;
    if (static_cast<std::size_t>(*limit) < max_message_size) {
        fault(join(path, "send_queue_limit"), "must be at least max_message_size (" +
                                                  std::to_string(max_message_size) + ")");
        return std::nullopt;
    }
    return static_cast<std::size_t>(*limit);
}

void Checker::liveness_options(const JsonValue& o, const std::string& path, Liveness& into) {
    // 0 is "never" to Crossbar. For a handshake we keep our default instead: a
    // handshake without end holds a connection for a peer that may be long gone.
    for (auto [key, field] : {std::pair{"open_handshake_timeout", &into.open_handshake_timeout},
                              std::pair{"close_handshake_timeout", &into.close_handshake_timeout}})
        if (auto ms = milliseconds(o, key, path); ms && ms->count() != 0) *field = *ms;
    // Here 0 turns the check off, as the user asked.
    for (auto [key, field] : {std::pair{"auto_ping_interval", &into.auto_ping_interval},
                              std::pair{"auto_ping_timeout", &into.auto_ping_timeout},
                              std::pair{"hello_timeout", &into.hello_timeout},
                              std::pair{"write_timeout", &into.write_timeout}})
        if (auto ms = milliseconds(o, key, path)) *field = *ms;
    if (auto size = integer(o, "auto_ping_size", path, 12, 125)) into.auto_ping_size = static_cast<std::size_t>(*size);
    if (auto flag = boolean(o, "auto_ping_restart_on_any_traffic", path)) into.auto_ping_restart_on_any_traffic = *flag;
}

void Checker::auth(const JsonValue& a, const std::string& path, TransportAuth& into) {
    // Crossbar tests `if not auth_config`: an empty auth block is no auth block.
    if (a.MemberCount() == 0) return;
    into.has_auth_block = true;
    into.anonymous.reset();  // with an auth block, only what it lists is accepted (Crossbar)
    for (const auto& m : a.GetObject()) {
        std::string method(m.name.GetString(), m.name.GetStringLength());
        auto mpath = join(path, method);
        const bool known = method == "anonymous" || method == "ticket" || method == "wampcra" ||
                           method == "cryptosign" || method == "scram" || method == "tls";
        if (known && m.value.IsObject() && is_dynamic(m.value)) {
            dynamic_authenticator(m.value, mpath, method, into);
        } else if (method == "anonymous") {
            if (!require_object(&m.value, mpath)) continue;
            auto type = string(m.value, "type", mpath, true);
            if (type && *type == "static") {
                keys(m.value, mpath, "WAMP-Anonymous", {"type", "realm", "role", "authid"});
                AnonymousAuth anonymous;
                if (auto role = string(m.value, "role", mpath)) anonymous.role = *role;
                anonymous.authid = string(m.value, "authid", mpath);
                string(m.value, "realm", mpath);
                into.anonymous = anonymous;
            } else if (type) {
                fault(join(mpath, "type"), "invalid type '" + *type + "' (must be 'static' or 'dynamic')");
            }
        } else if (method == "ticket" || method == "wampcra") {
            if (require_object(&m.value, mpath)) secret_method(m.value, mpath, method, into);
        } else if (method == "cryptosign") {
            if (require_object(&m.value, mpath)) into.cryptosign = cryptosign_auth(m.value, mpath);
        } else if (method == "scram") {
            if (require_object(&m.value, mpath)) into.scram = scram_auth(m.value, mpath);
        } else if (method == "tls") {
            if (require_object(&m.value, mpath)) into.tls = tls_auth(m.value, mpath);
        } else if (method == "cookie") {
            into.cookie = true;  // Crossbar checks nothing in it (check_transport_auth_cookie)
        } else if (method == "cryptosign-proxy" ||
                   method == "anonymous-proxy") {
            warn(mpath, "authentication method '" + method + "' is not served by blindrouter yet; method disabled");
        } else {
            fault(mpath, "invalid authentication method key '" + method + "'");
        }
    }
}

bool Checker::is_dynamic(const JsonValue& m) {
    const auto* type = member(m, "type");
    return type && type->IsString() && std::string_view(type->GetString(), type->GetStringLength()) == "dynamic";
}

// `type: dynamic` (cb:common/checkconfig.py check_transport_auth_*): Crossbar checks
// only that `authenticator` is a URI; it reads authenticator-realm, authenticator-role
// and default-role when the method runs (cb:router/auth/pending.py).
void Checker::dynamic_authenticator(const JsonValue& m, const std::string& mpath, const std::string& method,
                                    TransportAuth& into) {
    static const std::map<std::string, std::string, std::less<>> names{
        {"anonymous", "WAMP-Anonymous"}, {"ticket", "WAMP-Ticket"}, {"wampcra", "WAMP-CRA"},
        {"cryptosign", "WAMP-Cryptosign"}, {"scram", "WAMP-SCRAM"}, {"tls", "WAMP-TLS"}};
    const auto& what = names.at(method);
    if (!member(m, "authenticator"))
        return fault(mpath, "missing mandatory attribute 'authenticator' in dynamic " + what + " configuration");
    auto procedure = string(m, "authenticator", mpath, true);
    if (!procedure) return;
    if (!wamp::is_valid_uri(*procedure))
        return fault(join(mpath, "authenticator"),
                     "invalid authenticator URI '" + *procedure + "' in dynamic " + what + " configuration");
    DynamicAuthenticator authenticator{*procedure, string(m, "authenticator-realm", mpath),
                                       string(m, "authenticator-role", mpath), string(m, "default-role", mpath)};
    into.dynamic.insert_or_assign(method, std::move(authenticator));
}

// Crossbar's maybe_from_env (cb:common/checkconfig.py): a value of the form "${VAR}"
// is read from the environment; an unset variable leaves the secret absent, with a
// warning. The value itself is never reported.
std::optional<std::string> Checker::secret_from_env(const std::string& value, const std::string& path) {
    auto variable = env_reference(value);
    if (!variable) return value;
    if (const char* from_env = std::getenv(variable->c_str())) return std::string(from_env);
    warn(path, "environment variable \"$" + *variable + "\" is not set; no credential matches this secret");
    return std::nullopt;
}

// Ticket and WAMP-CRA share their shape: type static with a map of principals whose
// secret may come from the environment (cb:common/checkconfig.py:381-520). Crossbar
// checks the principals' keys but not the method's own, so unknown method keys pass.
void Checker::secret_method(const JsonValue& m, const std::string& mpath, const std::string& method,
                            TransportAuth& into) {
    const bool ticket = method == "ticket";
    const std::string what = ticket ? "WAMP-Ticket" : "WAMP-CRA";
    auto type = string(m, "type", mpath, true);
    if (!type) return;
    if (*type == "function") {
        if (!member(m, "create"))
            return fault(mpath, "missing mandatory attribute 'create' in function " + what + " configuration");
        return warn(mpath, "type 'function' runs a Python callable inside Crossbar and cannot be served by "
                           "blindrouter; use type 'dynamic' (an authenticator procedure); method disabled");
    }
    if (*type != "static")
        return fault(join(mpath, "type"), "invalid type '" + *type + "' in " + what +
                                              " configuration - must be one of 'static', 'dynamic', 'function'");
    const char* principals_key = ticket ? "principals" : "users";
    const auto* principals = member(m, principals_key);
    if (!principals)
        return fault(mpath, std::string("missing mandatory attribute '") + principals_key + "' in static " + what +
                                " configuration");
    if (!require_object(principals, join(mpath, principals_key))) return;
    auto default_role = string(m, "default-role", mpath);
    TicketAuth ticket_auth{{}, default_role};
    WampCraAuth wampcra_auth{{}, default_role};
    for (const auto& p : principals->GetObject()) {
        std::string authid(p.name.GetString(), p.name.GetStringLength());
        auto ppath = join(join(mpath, principals_key), authid);
        if (!require_object(&p.value, ppath)) continue;
        const char* secret_key = ticket ? "ticket" : "secret";
        if (ticket) keys(p.value, ppath, what + " principal", {"ticket", "role"});
        else keys(p.value, ppath, what + " user", {"secret", "role", "salt", "iterations", "keylen"});
        auto secret = string(p.value, secret_key, ppath, true);
        auto role = string(p.value, "role", ppath);
        if (secret) secret = secret_from_env(*secret, join(ppath, secret_key));
        if (ticket) {
            ticket_auth.principals.emplace(authid, TicketPrincipal{std::move(secret), std::move(role)});
            continue;
        }
        WampCraUser user{std::move(secret), std::move(role), string(p.value, "salt", ppath),
                         integer(p.value, "iterations", ppath, 1, 100000000),
                         integer(p.value, "keylen", ppath, 1, 1024)};
        wampcra_auth.users.emplace(authid, std::move(user));
    }
    if (ticket) into.ticket = std::move(ticket_auth);
    else into.wampcra = std::move(wampcra_auth);
}

// Crossbar's types for cryptosign and scram are static, dynamic and function; dynamic
// is read by dynamic_authenticator before this. True when the block is static.
bool Checker::static_auth_type(const JsonValue& c, const std::string& path, std::string_view what) {
    auto type = string(c, "type", path, true);
    if (!type) return false;
    if (*type == "static") return true;
    if (*type == "function")
        warn(path, "type 'function' runs Python inside Crossbar and cannot exist in blindrouter; use 'dynamic' "
                   "(an authenticator procedure) instead; method disabled");
    else
        fault(join(path, "type"), "invalid type '" + *type + "' in " + std::string(what) +
                                      " configuration - must be one of 'static', 'dynamic', 'function'");
    return false;
}

std::optional<std::string> Checker::hex_bytes(const JsonValue& obj, std::string_view key, const std::string& path,
                                              std::optional<std::size_t> size) {
    auto text = string(obj, key, path, true);
    if (!text) return std::nullopt;
    auto bytes = auth::from_hex(*text);
    if (!bytes || (size && bytes->size() != *size)) {
        fault(join(path, key), size ? "must be " + std::to_string(*size) + " bytes in hex" : "must be hex");
        return std::nullopt;
    }
    return bytes;
}

// cb:common/checkconfig.py check_transport_auth_cryptosign.
std::optional<CryptosignAuth> Checker::cryptosign_auth(const JsonValue& c, const std::string& path) {
    // Crossbar checks the principals' keys, not the method's own: a function block may
    // carry more (expose_controller, in Crossbar's examples).
    if (!static_auth_type(c, path, "WAMP-Cryptosign")) return std::nullopt;
    const auto* principals = member(c, "principals");
    const auto* trustroots = member(c, "trustroots");
    if (principals && trustroots) {
        fault(path, "cannot specify both 'principals' and 'trustroots' attributes (only one is allowed) in static "
                    "WAMP-Cryptosign configuration");
        return std::nullopt;
    }
    if (trustroots) {
        warn(join(path, "trustroots"), "certificate trustroots are not served by blindrouter; method disabled");
        return std::nullopt;
    }
    auto ppath = join(path, "principals");
    if (!principals) {
        fault(path, "missing mandatory attribute: neither 'principals' nor 'trustroots' attribute found in static "
                    "WAMP-Cryptosign configuration");
        return std::nullopt;
    }
    if (!require_object(principals, ppath)) return std::nullopt;
    CryptosignAuth out;
    out.default_role = string(c, "default-role", path);
    each_principal(*principals, ppath, [&](std::string authid, const JsonValue& p, const std::string& path_i) {
        CryptosignPrincipal principal;
        principal.authid = std::move(authid);
        keys(p, path_i, "WAMP-Cryptosign principal", {"authorized_keys", "role", "realm"});
        principal.role = string(p, "role", path_i);
        principal.realm = string(p, "realm", path_i);
        const auto* list = member(p, "authorized_keys");
        if (!list || !list->IsArray()) {
            fault(join(path_i, "authorized_keys"), list ? "must be a list (" + type_name(*list) + " encountered)"
                                                        : "missing mandatory attribute");
            return;
        }
        for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
            const auto& key = (*list)[i];
            auto kpath = index(join(path_i, "authorized_keys"), i);
            if (!key.IsString()) {
                fault(kpath, "invalid type " + type_name(key) + " for pubkey in authorized_keys of principal");
                continue;
            }
            std::string text(key.GetString(), key.GetStringLength());
            // Crossbar starts with such a key too; no client can ever sign for it.
            auto bytes = auth::from_hex(text);
            if (!bytes || bytes->size() != 32) warn(kpath, "not a 32-byte Ed25519 public key in hex; it never matches");
            principal.authorized_keys.push_back(std::move(text));
        }
        out.principals.push_back(std::move(principal));
    });
    return out;
}

// cb:common/checkconfig.py check_transport_auth_tls checks only `type`; Crossbar's
// PendingAuthTLS then reads each principal's certificate-sha1 and role without a
// default, so a principal lacking either fails every TLS login there. That is refused
// here at start instead.
std::optional<TlsAuth> Checker::tls_auth(const JsonValue& c, const std::string& path) {
    if (!static_auth_type(c, path, "WAMP-TLS")) return std::nullopt;
    TlsAuth out;
    const auto* principals = member(c, "principals");
    if (!principals) return out;  // Crossbar: no principal, every certificate is unknown
    auto ppath = join(path, "principals");
    if (!require_object(principals, ppath)) return std::nullopt;
    each_principal(*principals, ppath, [&](std::string authid, const JsonValue& p, const std::string& path_i) {
        auto sha1 = string(p, "certificate-sha1", path_i, true);
        auto role = string(p, "role", path_i, true);
        if (!sha1 || !role) return;
        // pyOpenSSL's X509.digest("sha1"), upper-cased by Autobahn: 20 hex pairs joined by ':'.
        bool well_formed = sha1->size() == 59;
        for (std::size_t i = 0; well_formed && i < sha1->size(); ++i) {
            char ch = (*sha1)[i];
            well_formed = (i % 3 == 2) ? ch == ':' : ((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'F'));
        }
        if (!well_formed)
            warn(join(path_i, "certificate-sha1"),
                 "not an upper-case SHA-1 fingerprint like \"E0:01:...:5F\"; Crossbar compares it as written, so it "
                 "never matches");
        auto [it, inserted] = out.principals_by_sha1.insert_or_assign(*sha1, TlsPrincipal{std::move(authid), *role});
        // Crossbar keeps the last principal listed for a fingerprint.
        if (!inserted) warn(join(path_i, "certificate-sha1"), "fingerprint listed for another principal too; this one wins");
        (void)it;
    });
    return out;
}

// cb:common/checkconfig.py check_transport_auth_scram. Crossbar starts with a salt or
// key that is not hex and fails every login of that principal; that is refused here.
std::optional<ScramAuth> Checker::scram_auth(const JsonValue& c, const std::string& path) {
    if (!static_auth_type(c, path, "WAMP-SCRAM")) return std::nullopt;  // method keys unchecked, as cryptosign
    auto ppath = join(path, "principals");
    const auto* principals = member(c, "principals");
    if (!principals) {
        fault(path, "missing mandatory attribute 'principals' in WAMP-SCRAM configuration");
        return std::nullopt;
    }
    if (!require_object(principals, ppath)) return std::nullopt;
    ScramAuth out;
    out.default_role = string(c, "default-role", path);
    each_principal(*principals, ppath, [&](std::string authid, const JsonValue& p, const std::string& path_i) {
        ScramPrincipal principal;
        principal.authid = std::move(authid);
        keys(p, path_i, "WAMP-SCRAM principal",
             {"kdf", "iterations", "memory", "salt", "stored-key", "server-key", "role"});
        principal.role = string(p, "role", path_i);
        auto kdf = string(p, "kdf", path_i, true);
        if (kdf && *kdf != "argon2id-13" && *kdf != "pbkdf2")
            fault(join(path_i, "kdf"), "WAMP-SCRAM illegal KDF '" + *kdf + "' not one of argon2id-13, pbkdf2");
        auto iterations = integer(p, "iterations", path_i, 1, std::numeric_limits<std::uint32_t>::max());
        auto memory = integer(p, "memory", path_i, 0, std::numeric_limits<std::uint32_t>::max());
        for (auto key : {"iterations", "memory"})
            if (!member(p, key)) fault(join(path_i, key), "missing mandatory attribute");
        auto salt = hex_bytes(p, "salt", path_i, std::nullopt);
        auto stored_key = hex_bytes(p, "stored-key", path_i, 32);
        auto server_key = hex_bytes(p, "server-key", path_i, 32);
        if (!kdf || !iterations || !memory || !salt || !stored_key || !server_key) return;
        principal.kdf = *kdf;
        principal.iterations = *iterations;
        principal.memory = *memory;
        principal.salt = std::move(*salt);
        principal.stored_key = std::move(*stored_key);
        principal.server_key = std::move(*server_key);
        out.principals.push_back(std::move(principal));
    });
    return out;
}

}  // namespace

namespace {

// Python's json and PyYAML keep the last of a repeated key, which hides a mistake;
// a repeated key is refused instead (STYLE: ambiguity is refused). Also bounds the
// nesting, which rapidjson's iterative parser does not.
void check_shape(const JsonValue& v, const std::string& path, std::size_t depth, std::vector<std::string>& faults) {
    if (depth > max_config_depth) {
        faults.push_back(path + ": nested deeper than " + std::to_string(max_config_depth) + " levels");
        return;
    }
    if (v.IsArray()) {
        for (rapidjson::SizeType i = 0; i < v.Size(); ++i) check_shape(v[i], Checker::index(path, i), depth + 1, faults);
        return;
    }
    if (!v.IsObject()) return;
    std::set<std::string_view> seen;
    for (const auto& m : v.GetObject()) {
        std::string_view key(m.name.GetString(), m.name.GetStringLength());
        if (!seen.insert(key).second) faults.push_back((path.empty() ? "(top level)" : path) + ": duplicate key '" + std::string(key) + "'");
        check_shape(m.value, Checker::join(path, key), depth + 1, faults);
    }
}

LoadResult check_document(const rapidjson::Document& doc, const Extensions& extensions) {
    LoadResult result;
    check_shape(doc, "", 1, result.faults);
    if (!result.ok()) return result;
    Checker(result, extensions).node(doc);
    if (result.ok() && result.config.transports.empty())
        result.config.warnings.push_back("workers: no transport that blindrouter serves; nothing will listen");
    return result;
}

LoadResult parse_fault(std::string what) {
    LoadResult result;
    result.faults.push_back(std::move(what));
    return result;
}

}  // namespace

LoadResult load_node_config(const std::string& json_text, const Extensions& extensions) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(json_text.c_str(),
                                                                                        json_text.size());
    if (doc.HasParseError())
        return parse_fault("(file): configuration file does not seem to be proper JSON (" +
                           std::string(rapidjson::GetParseError_En(doc.GetParseError())) + " at offset " +
                           std::to_string(doc.GetErrorOffset()) + ")");
    return check_document(doc, extensions);
}

LoadResult load_node_config_yaml(const std::string& yaml_text, const Extensions& extensions) {
    rapidjson::Document doc;
    if (auto problem = parse_yaml_document(yaml_text, doc))
        return parse_fault("(file): configuration file does not seem to be proper YAML (" + *problem + ")");
    return check_document(doc, extensions);
}

LoadResult load_node_config_file(const std::filesystem::path& path, const Extensions& extensions) {
    auto extension = path.extension().string();
    if (extension != ".json" && extension != ".yaml")
        return parse_fault(path.string() + ": invalid configuration file extension '" + extension +
                           "' (Crossbar.io reads '.json' or '.yaml')");
    std::ifstream in(path, std::ios::binary);
    if (!in) return parse_fault(path.string() + ": cannot read configuration file");
    std::string text;
    std::array<char, 65536> chunk;
    while (in.read(chunk.data(), chunk.size()) || in.gcount() > 0) {
        text.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
        if (text.size() > max_config_bytes)
            return parse_fault(path.string() + ": configuration file larger than " + std::to_string(max_config_bytes) +
                               " bytes");
    }
    return extension == ".yaml" ? load_node_config_yaml(text, extensions) : load_node_config(text, extensions);
}

std::filesystem::path node_config_path(const std::filesystem::path& cbdir,
                                       const std::optional<std::filesystem::path>& config) {
    if (config) return config->is_absolute() ? *config : cbdir / *config;
    std::error_code ignored;
    if (std::filesystem::is_regular_file(cbdir / "config.yaml", ignored)) return cbdir / "config.yaml";
    return cbdir / "config.json";
}

}  // namespace blindrouter::config

namespace blindrouter::config {

std::string Endpoint::describe() const {
    std::string where = kind == Kind::unix_socket ? "unix:" + path : interface + ":" + std::to_string(port);
    return tls ? where + " (TLS)" : where;
}

}  // namespace blindrouter::config
