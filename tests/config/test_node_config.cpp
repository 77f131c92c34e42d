#include <boost/test/unit_test.hpp>
#include <cstdlib>

#include "blindrouter/config/node_config_loader.hpp"

using namespace blindrouter;

namespace {
std::string with_router(const std::string& realms, const std::string& transports) {
    return R"({"version": 2, "workers": [{"type": "router", "realms": )" + realms + R"(, "transports": )" + transports +
           "}]}";
}
const std::string ws_transport = R"([{"type": "websocket", "endpoint": {"type": "tcp", "port": 8080}}])";
const std::string one_realm = R"([{"name": "realm1", "roles": [{"name": "anonymous", "permissions": [{"uri": "", "match": "prefix", "allow": {"call": true}}]}]}])";

bool has_fault(const config::LoadResult& r, const std::string& part) {
    for (const auto& f : r.faults)
        if (f.find(part) != std::string::npos) return true;
    return false;
}
bool has_warning(const config::LoadResult& r, const std::string& part) {
    for (const auto& w : r.config.warnings)
        if (w.find(part) != std::string::npos) return true;
    return false;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(node_config)

BOOST_AUTO_TEST_CASE(shipped_default_config) {
    auto r = config::load_node_config_file(std::string(BLINDROUTER_SOURCE_DIR) + "/crossbar-config/config.json");
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.faults.empty() ? std::string() : r.faults[0]));
    BOOST_REQUIRE_EQUAL(r.config.realms.size(), 1u);
    BOOST_TEST(r.config.realms[0].name == "realm1");
    BOOST_TEST(r.config.realms[0].roles[0].name == "anonymous");
    BOOST_REQUIRE_EQUAL(r.config.transports.size(), 1u);
    const auto& t = r.config.transports[0];
    BOOST_TEST(t.endpoint.interface == "127.0.0.1");
    BOOST_TEST(t.endpoint.port == 8080);
    BOOST_REQUIRE_EQUAL(t.websocket.size(), 1u);
    const auto& ws = t.websocket[0];
    BOOST_TEST(*ws.path == "/ws");
    BOOST_TEST(ws.auth.anonymous->role == "anonymous");
}

BOOST_AUTO_TEST_CASE(crossbar_init_template_loads_with_warnings_for_unserved_fields) {
    auto r = config::load_node_config(with_router(one_realm, R"([
      {"type": "rawsocket", "endpoint": {"type": "tcp", "port": 8081, "backlog": 1024},
       "options": {"max_message_size": 1048576}, "serializers": ["cbor", "msgpack", "json"]},
      {"type": "web", "endpoint": {"type": "tcp", "port": 8080, "backlog": 1024},
       "paths": {"/": {"type": "static", "directory": "../web", "options": {"enable_directory_listing": true}},
                 "ws": {"type": "websocket", "serializers": ["cbor", "msgpack", "json"],
                        "options": {"allowed_origins": ["*"], "max_frame_size": 1048576, "max_message_size": 1048576,
                                    "auto_ping_interval": 10000, "open_handshake_timeout": 2500}},
                 "info": {"type": "nodeinfo"}}}])"));
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.faults.empty() ? std::string() : r.faults[0]));
    BOOST_TEST(has_warning(r, "paths./: web service of type 'static'"));
    BOOST_TEST(!has_warning(r, "options.auto_ping_interval"));  // served
    BOOST_REQUIRE_EQUAL(r.config.transports.size(), 2u);
    const auto& raw = r.config.transports[0];
    BOOST_REQUIRE(raw.rawsocket.has_value());
    BOOST_TEST(raw.websocket.empty());
    BOOST_TEST(raw.rawsocket->max_message_size == 1048576u);
    BOOST_TEST(raw.rawsocket->serializers.size() == 3u);
    const auto& web = r.config.transports[1];
    BOOST_REQUIRE_EQUAL(web.websocket.size(), 1u);
    BOOST_TEST(web.websocket[0].max_message_size == 1048576u);
    BOOST_TEST(web.websocket[0].liveness.open_handshake_timeout.count() == 2500);
    BOOST_TEST(web.websocket[0].liveness.auto_ping_interval.count() == 10000);
    BOOST_TEST((web.websocket[0].serializers ==
                std::vector<wamp::Serializer>{wamp::Serializer::cbor, wamp::Serializer::msgpack, wamp::Serializer::json}));
    BOOST_TEST(web.endpoint.interface == "0.0.0.0");  // Crossbar: all interfaces
}

BOOST_AUTO_TEST_CASE(unknown_attribute_is_a_fault_with_its_path) {
    auto r = config::load_node_config(with_router(
        R"([{"name": "realm1", "roles": [{"name": "anonymous", "permissions": [{"uri": "", "alow": {}}]}]}])",
        ws_transport));
    BOOST_TEST(has_fault(r, "workers[0].realms[0].roles[0].permissions[0]: encountered unknown attribute 'alow'"));
}

BOOST_AUTO_TEST_CASE(every_fault_is_reported) {
    auto r = config::load_node_config(with_router(
        R"([{"name": "realm1", "roles": [{"name": "anonymous", "permissions": [{"uri": "", "match": "fuzzy", "allow": {"call": "yes"}}]}]}])",
        R"([{"type": "websocket", "endpoint": {"type": "tcp", "port": 70000}, "options": {"max_message_size": 0}}])"));
    BOOST_TEST(has_fault(r, "permissions[0].match: invalid value 'fuzzy'"));
    BOOST_TEST(has_fault(r, "allow.call: must be a bool"));
    BOOST_TEST(has_fault(r, "endpoint.port: invalid value 70000"));
    BOOST_TEST(has_fault(r, "options.max_message_size: invalid value 0"));
}

BOOST_AUTO_TEST_CASE(top_level_checks) {
    BOOST_TEST(has_fault(config::load_node_config(R"({"version": 1})"), "version"));
    BOOST_TEST(has_fault(config::load_node_config(R"({"version": 2, "extra": 1})"), "unknown attribute 'extra'"));
    BOOST_TEST(has_fault(config::load_node_config(R"({"version": 2, "workers": {}})"), "workers: must be a list"));
    BOOST_TEST(has_fault(config::load_node_config("{not json"), "proper JSON"));
    BOOST_TEST(has_fault(config::load_node_config(R"({"version": 2, "workers": [{"type": "bogus"}]})"),
                         "invalid worker type 'bogus'"));
}

BOOST_AUTO_TEST_CASE(starred_uris_without_match_follow_crossbar) {
    auto r = config::load_node_config(with_router(
        R"([{"name": "realm1", "roles": [{"name": "r", "permissions": [{"uri": "com.app.*"}, {"uri": "com.*.x"}, {"uri": "com.exact"}, {"uri": "*"}]}]}])",
        ws_transport));
    BOOST_REQUIRE(r.ok());
    const auto& p = r.config.realms[0].roles[0].permissions;
    BOOST_TEST((p[0].match == wamp::MatchPolicy::prefix && p[0].uri == "com.app."));
    BOOST_TEST((p[1].match == wamp::MatchPolicy::wildcard && p[1].uri == "com..x"));
    BOOST_TEST((p[2].match == wamp::MatchPolicy::exact && p[2].uri == "com.exact"));
    BOOST_TEST((p[3].match == wamp::MatchPolicy::prefix && p[3].uri.empty()));
}

BOOST_AUTO_TEST_CASE(permission_replaced_by_a_later_one_with_the_same_key_is_warned) {
    auto r = config::load_node_config(with_router(
        R"([{"name": "realm1", "roles": [{"name": "r", "permissions": [{"uri": "com.*.read"}, {"uri": "com.*.write"},
            {"uri": "org.a"}, {"uri": "org.a", "match": "prefix"}, {"uri": "org.b"}, {"uri": "com.x..y", "match": "wildcard"}]}]}])",
        ws_transport));
    BOOST_REQUIRE(r.ok());
    BOOST_TEST(r.config.warnings.size() == 2u);
    BOOST_TEST(has_warning(r, "roles[0].permissions[0]: replaced by workers[0].realms[0].roles[0].permissions[1], a "
                              "wildcard with the same text before '..' (Crossbar keeps one per text)"));
    BOOST_TEST(has_warning(r, "roles[0].permissions[2]: replaced by workers[0].realms[0].roles[0].permissions[3], a "
                              "permission for the same URI (Crossbar keeps one per URI)"));
}

BOOST_AUTO_TEST_CASE(invalid_realm_name_and_duplicates) {
    auto r = config::load_node_config(with_router(R"([{"name": "r1"}, {"name": "realm1"}, {"name": "realm1"}])", ws_transport));
    BOOST_TEST(has_fault(r, "realms[2].name: duplicate realm"));
    // Crossbar's checker lets an invalid name pass (an unrendered `crossbar init`
    // template has "{{ realm }}"); it is warned and the realm is not started.
    auto t = config::load_node_config(with_router(R"([{"name": "{{ realm }}", "roles": []}, {"name": "realm1"}])", ws_transport));
    BOOST_REQUIRE(t.ok());
    BOOST_TEST(has_warning(t, "realms[0].name: the name \"{{ realm }}\" is not a valid WAMP realm name (a letter, then 2 "
                              "to 254 letters, digits, '_', '-', '@' or '.'); realm not started"));
    BOOST_REQUIRE_EQUAL(t.config.realms.size(), 1u);
    BOOST_TEST(t.config.realms[0].name == "realm1");
}

BOOST_AUTO_TEST_CASE(auth_block) {
    auto r = config::load_node_config(with_router(one_realm, R"([{"type": "websocket", "endpoint": {"type": "tcp", "port": 1},
        "auth": {"anonymous": {"type": "static", "role": "guest", "authid": "g"}, "ticket": {"type": "static", "principals": {}}}}])"));
    BOOST_REQUIRE(r.ok());
    BOOST_TEST(r.config.transports[0].websocket[0].auth.anonymous->role == "guest");
    BOOST_TEST(*r.config.transports[0].websocket[0].auth.anonymous->authid == "g");
    BOOST_TEST(r.config.transports[0].websocket[0].auth.ticket.has_value());
    BOOST_TEST(has_warning(r, "auth.cryptosign") == false);

    auto without = config::load_node_config(with_router(one_realm, R"([{"type": "websocket", "endpoint": {"type": "tcp", "port": 1},
        "auth": {"wampcra": {"type": "static", "users": {}}}}])"));
    BOOST_TEST(!without.config.transports[0].websocket[0].auth.anonymous.has_value());
    BOOST_TEST(has_fault(config::load_node_config(with_router(one_realm, R"([{"type": "websocket", "endpoint": {"type": "tcp", "port": 1},
        "auth": {"anonymous": {"type": "static", "authrole": "x"}}}])")), "unknown attribute 'authrole'"));
}

namespace {
config::LoadResult with_auth(const std::string& auth) {
    return config::load_node_config(with_router(one_realm, R"([{"type": "websocket", "endpoint": {"type": "tcp", "port": 1},
        "auth": )" + auth + "}]"));
}
}  // namespace

BOOST_AUTO_TEST_CASE(empty_auth_block_is_no_auth_block) {
    // Crossbar tests `if not auth_config`, so {} lets anonymous in as if absent.
    auto r = with_auth("{}");
    BOOST_REQUIRE(r.ok());
    const auto& auth = r.config.transports[0].websocket[0].auth;
    BOOST_TEST(!auth.has_auth_block);
    BOOST_TEST(auth.anonymous->role == "anonymous");
}

BOOST_AUTO_TEST_CASE(ticket_and_wampcra_static_principals) {
    auto r = with_auth(R"({"ticket": {"type": "static", "principals": {"joe": {"ticket": "t1", "role": "frontend"}}},
        "wampcra": {"type": "static", "default-role": "user", "users": {"joe": {"secret": "s1"},
            "peter": {"secret": "s2", "role": "frontend", "salt": "salt123", "iterations": 100, "keylen": 16}}}})");
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.faults.empty() ? std::string() : r.faults[0]));
    const auto& auth = r.config.transports[0].websocket[0].auth;
    BOOST_TEST(auth.has_auth_block);
    BOOST_TEST(!auth.anonymous.has_value());
    const auto& joe = auth.ticket->principals.at("joe");
    BOOST_TEST(*joe.ticket == "t1");
    BOOST_TEST(*joe.role == "frontend");
    BOOST_TEST(*auth.wampcra->default_role == "user");
    BOOST_TEST(!auth.wampcra->users.at("joe").role.has_value());
    const auto& peter = auth.wampcra->users.at("peter");
    BOOST_TEST(*peter.salt == "salt123");
    BOOST_TEST(*peter.iterations == 100);
    BOOST_TEST(*peter.keylen == 16);
}

BOOST_AUTO_TEST_CASE(secrets_from_environment_as_crossbar_maybe_from_env) {
    ::setenv("BLINDROUTER_TEST_TICKET", "from-env-ticket", 1);
    ::unsetenv("BLINDROUTER_TEST_UNSET");
    auto r = with_auth(R"({"ticket": {"type": "static", "principals": {
            "a": {"ticket": "${BLINDROUTER_TEST_TICKET}", "role": "r"},
            "b": {"ticket": "${BLINDROUTER_TEST_UNSET}", "role": "r"},
            "c": {"ticket": "$BLINDROUTER_TEST_TICKET", "role": "r"}}}})");
    BOOST_REQUIRE(r.ok());
    const auto& principals = r.config.transports[0].websocket[0].auth.ticket->principals;
    BOOST_TEST(*principals.at("a").ticket == "from-env-ticket");
    BOOST_TEST(!principals.at("b").ticket.has_value());  // kept, and matches no ticket
    BOOST_TEST(*principals.at("c").ticket == "$BLINDROUTER_TEST_TICKET");  // only ${VAR} is read
    BOOST_TEST(has_warning(r, "principals.b.ticket: environment variable \"$BLINDROUTER_TEST_UNSET\" is not set"));
    for (const auto& w : r.config.warnings) BOOST_TEST(w.find("from-env-ticket") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(ticket_and_wampcra_faults_as_crossbar_checker) {
    BOOST_TEST(has_fault(with_auth(R"({"ticket": {"principals": {}}})"), "auth.ticket.type: missing mandatory attribute"));
    BOOST_TEST(has_fault(with_auth(R"({"ticket": {"type": "magic"}})"), "invalid type 'magic' in WAMP-Ticket"));
    BOOST_TEST(has_fault(with_auth(R"({"ticket": {"type": "static"}})"), "missing mandatory attribute 'principals'"));
    BOOST_TEST(has_fault(with_auth(R"({"wampcra": {"type": "static"}})"), "missing mandatory attribute 'users'"));
    BOOST_TEST(has_fault(with_auth(R"({"ticket": {"type": "static", "principals": []}})"), "principals: must be a dict"));
    BOOST_TEST(has_fault(with_auth(R"({"ticket": {"type": "static", "principals": {"a": {"role": "r"}}}})"),
                         "principals.a.ticket: missing mandatory attribute"));
    BOOST_TEST(has_fault(with_auth(R"({"ticket": {"type": "static", "principals": {"a": {"ticket": "t", "realm": "x"}}}})"),
                         "unknown attribute 'realm' in WAMP-Ticket principal"));
    BOOST_TEST(has_fault(with_auth(R"({"wampcra": {"type": "static", "users": {"a": {"secret": 5}}}})"),
                         "users.a.secret: must be a str"));
    BOOST_TEST(has_fault(with_auth(R"({"wampcra": {"type": "static", "users": {"a": {"secret": "s", "iterations": "9"}}}})"),
                         "users.a.iterations: must be an int"));
    BOOST_TEST(has_fault(with_auth(R"({"wampcra": {"type": "dynamic"}})"), "missing mandatory attribute 'authenticator'"));
    BOOST_TEST(has_fault(with_auth(R"({"wampcra": {"type": "function"}})"), "missing mandatory attribute 'create'"));
}

BOOST_AUTO_TEST_CASE(unserved_auth_forms_are_warned_and_disabled) {
    auto r = with_auth(R"({"wampcra": {"type": "function", "create": "pkg.mod.f"},
        "cryptosign": {"type": "function", "create": "pkg.mod.f", "expose_controller": true},
        "anonymous-proxy": {"type": "static"}})");
    BOOST_REQUIRE(r.ok());
    const auto& auth = r.config.transports[0].websocket[0].auth;
    BOOST_TEST(!auth.wampcra.has_value());
    BOOST_TEST(auth.dynamic.empty());
    BOOST_TEST(has_warning(r, "auth.wampcra: type 'function' runs a Python callable inside Crossbar and cannot be "
                              "served by blindrouter; use type 'dynamic'"));
    BOOST_TEST(has_warning(r, "auth.cryptosign: type 'function' runs Python inside Crossbar and cannot exist in "
                              "blindrouter; use 'dynamic'"));
    BOOST_TEST(has_warning(r, "auth.anonymous-proxy: authentication method 'anonymous-proxy' is not served"));
}

// Crossbar checks only the authenticator URI of a dynamic block (cb:common/checkconfig.py).
BOOST_AUTO_TEST_CASE(dynamic_authenticators_as_crossbar_accepts_them) {
    auto r = with_auth(R"({"ticket": {"type": "dynamic", "authenticator": "com.example.auth"},
        "wampcra": {"type": "dynamic", "authenticator": "com.example.cra", "authenticator-realm": "authrealm"},
        "cryptosign": {"type": "dynamic", "authenticator": "com.example.cs", "authenticator-role": "auth"},
        "scram": {"type": "dynamic", "authenticator": "com.example.scram", "default-role": "user"},
        "anonymous": {"type": "dynamic", "authenticator": "com.example.anon", "authenticator-realm": "authrealm",
                      "authenticator-role": "auth", "anything": 1}})");
    BOOST_REQUIRE(r.ok());
    BOOST_TEST(r.config.warnings.empty());
    const auto& dynamic = r.config.transports[0].websocket[0].auth.dynamic;
    BOOST_REQUIRE(dynamic.size() == 5u);
    BOOST_TEST(dynamic.at("ticket").procedure == "com.example.auth");
    BOOST_TEST(*dynamic.at("wampcra").realm == "authrealm");
    BOOST_TEST(*dynamic.at("cryptosign").role == "auth");
    BOOST_TEST(*dynamic.at("scram").default_role == "user");
    BOOST_TEST(*dynamic.at("anonymous").role == "auth");
    BOOST_TEST(!r.config.transports[0].websocket[0].auth.anonymous.has_value());
    BOOST_TEST(has_fault(with_auth(R"({"anonymous": {"type": "dynamic"}})"),
                         "missing mandatory attribute 'authenticator' in dynamic WAMP-Anonymous configuration"));
    BOOST_TEST(has_fault(with_auth(R"({"scram": {"type": "dynamic", "authenticator": "com..bad"}})"),
                         "invalid authenticator URI 'com..bad' in dynamic WAMP-SCRAM configuration"));
}

BOOST_AUTO_TEST_CASE(port_from_environment) {
    ::setenv("BLINDROUTER_TEST_PORT", "9123", 1);
    auto r = config::load_node_config(with_router(one_realm,
        R"([{"type": "websocket", "endpoint": {"type": "tcp", "port": "$BLINDROUTER_TEST_PORT"}}])"));
    BOOST_REQUIRE(r.ok());
    BOOST_TEST(r.config.transports[0].endpoint.port == 9123);
    BOOST_TEST(has_fault(config::load_node_config(with_router(one_realm,
        R"([{"type": "websocket", "endpoint": {"type": "tcp", "port": "$BLINDROUTER_UNSET_PORT"}}])")), "environment variable"));
}

BOOST_AUTO_TEST_CASE(port_from_environment_follows_crossbars_readenv) {
    ::unsetenv("BLINDROUTER_UNSET_PORT");
    ::setenv("BLINDROUTER_TEST_NOT_A_PORT", "http", 1);
    auto port = [](const std::string& value) {
        return config::load_node_config(with_router(one_realm,
            R"([{"type": "websocket", "endpoint": {"type": "tcp", "port": ")" + value + R"("}}])"));
    };
    BOOST_TEST(has_fault(port("$BLINDROUTER_UNSET_PORT"), "endpoint.port: listening endpoint configuration - "
                                                          "environment variable '$BLINDROUTER_UNSET_PORT' not set"));
    BOOST_TEST(has_fault(port("${BLINDROUTER_TEST_PORT}"), "environment variable name '${BLINDROUTER_TEST_PORT}' "
                                                           "does not match pattern"));
    BOOST_TEST(has_fault(port("$BLINDROUTER_TEST_NOT_A_PORT"),
                         "endpoint.port: environment variable BLINDROUTER_TEST_NOT_A_PORT does not hold a port number"));
}

BOOST_AUTO_TEST_CASE(secret_reference_is_crossbars_envpat) {
    // r'^\$\{(.+)\}$' under Python: "$" also matches before a final newline, "." never matches one.
    ::setenv("BLINDROUTER_TEST_TICKET", "from-env-ticket", 1);
    auto r = with_auth(R"({"ticket": {"type": "static", "principals": {
            "a": {"ticket": "${BLINDROUTER_TEST_TICKET}\n", "role": "r"},
            "b": {"ticket": "${BLINDROUTER\nTEST}", "role": "r"},
            "c": {"ticket": "${}", "role": "r"}}}})");
    BOOST_REQUIRE(r.ok());
    const auto& principals = r.config.transports[0].websocket[0].auth.ticket->principals;
    BOOST_TEST(*principals.at("a").ticket == "from-env-ticket");
    BOOST_TEST(*principals.at("b").ticket == "${BLINDROUTER\nTEST}");
    BOOST_TEST(*principals.at("c").ticket == "${}");
}

BOOST_AUTO_TEST_CASE(disabled_worker_is_checked_but_not_started) {
    auto worker = [](const std::string& disabled) {
        return config::load_node_config(R"({"version": 2, "workers": [{"type": "router", "options": {"disabled": )" +
                                        disabled + R"(}, "realms": )" + one_realm + R"(, "transports": )" +
                                        ws_transport + "}]}");
    };
    ::setenv("BLINDROUTER_TEST_DISABLED", "1", 1);
    ::setenv("BLINDROUTER_TEST_EMPTY", "", 1);
    ::unsetenv("BLINDROUTER_TEST_UNSET");
    // cb:common/checkconfig.py: a bool, or a string through maybe_from_env where unset
    // or "" is false and any other text is true.
    for (auto [value, disabled] : {std::pair{"true", true}, std::pair{"false", false},
                                   std::pair{R"("${BLINDROUTER_TEST_DISABLED}")", true},
                                   std::pair{R"("${BLINDROUTER_TEST_EMPTY}")", false},
                                   std::pair{R"("${BLINDROUTER_TEST_UNSET}")", false}, std::pair{R"("no")", true},
                                   std::pair{R"("")", false}}) {
        auto r = worker(value);
        BOOST_REQUIRE_MESSAGE(r.ok(), value);
        BOOST_TEST(r.config.realms.empty() == disabled, value);
        BOOST_TEST(r.config.transports.empty() == disabled, value);
        BOOST_TEST(has_warning(r, "workers[0].options.disabled: worker disabled; its realms and transports are not started") ==
                       disabled, value);
    }
    BOOST_TEST(has_fault(worker("1"), "workers[0].options.disabled: must be a bool or str (int encountered)"));
    // Still checked while disabled, as Crossbar checks it.
    BOOST_TEST(has_fault(config::load_node_config(R"({"version": 2, "workers": [{"type": "router", "options": {"disabled": true},
        "transports": [{"type": "websocket", "endpoint": {"type": "tcp", "port": 0}}]}]})"), "endpoint.port: invalid value 0"));
}

BOOST_AUTO_TEST_CASE(realm_and_role_keys_crossbar_does_not_check_are_warned) {
    auto r = config::load_node_config(with_router(R"([{"name": "realm1",
        "stats": {"rated_message_size": 256, "trigger_after_rated_messages": 10, "trigger_on_join": true},
        "colour": "blue",
        "roles": [{"name": "anonymous", "comment": "any", "permissions": []}]}])", ws_transport));
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.faults.empty() ? std::string() : r.faults[0]));
    BOOST_TEST(has_warning(r, "workers[0].realms[0].stats: known to Crossbar.io but not served by blindrouter; ignored"));
    BOOST_TEST(has_warning(r, "workers[0].realms[0].colour: unknown attribute in realm configuration, which Crossbar.io "
                              "does not check; ignored"));
    BOOST_TEST(has_warning(r, "workers[0].realms[0].roles[0].comment: unknown attribute in role configuration"));
    BOOST_REQUIRE_EQUAL(r.config.realms.size(), 1u);
}

BOOST_AUTO_TEST_CASE(schema_key_and_missing_version) {
    auto r = config::load_node_config(R"({"$schema": "https://example.com/crossbar.json", "version": 2, "workers": []})");
    BOOST_TEST(r.ok());
    BOOST_TEST(has_fault(config::load_node_config(R"({"workers": []})"),
                         "version: missing: Crossbar.io takes that as version 1 and refuses it as too old"));
}

BOOST_AUTO_TEST_CASE(tls_and_unix_endpoints) {
    auto r = config::load_node_config(with_router(one_realm, R"([
        {"type": "websocket", "endpoint": {"type": "tcp", "port": 1,
          "tls": {"key": "k.pem", "certificate": "c.pem", "ciphers": "HIGH", "chain_certificates": ["i.pem"],
                  "ca_certificates": ["ca.pem", "intermediate.pem"]}}},
        {"type": "rawsocket", "endpoint": {"type": "unix", "path": "router.sock"}, "serializers": ["msgpack"]}])"));
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.faults.empty() ? std::string() : r.faults[0]));
    BOOST_REQUIRE_EQUAL(r.config.transports.size(), 2u);
    const auto& tls = *r.config.transports[0].endpoint.tls;
    BOOST_TEST(tls.key == "k.pem");
    BOOST_TEST(tls.certificate == "c.pem");
    BOOST_TEST(*tls.ciphers == "HIGH");
    BOOST_TEST(tls.chain_certificates.size() == 1u);
    BOOST_TEST((tls.ca_certificates == std::vector<std::string>{"ca.pem", "intermediate.pem"}));
    BOOST_TEST(!has_warning(r, "ca_certificates"));
    const auto& unix = r.config.transports[1];
    BOOST_TEST((unix.endpoint.kind == config::Endpoint::Kind::unix_socket));
    BOOST_TEST(unix.endpoint.path == "router.sock");
    BOOST_TEST((unix.rawsocket->serializers == std::vector<wamp::Serializer>{wamp::Serializer::msgpack}));
    BOOST_TEST(has_fault(config::load_node_config(with_router(one_realm,
        R"([{"type": "websocket", "endpoint": {"type": "tcp", "port": 1, "tls": {"key": "k"}}}])")),
        "tls.certificate: missing mandatory attribute"));
}

BOOST_AUTO_TEST_CASE(rlinks_are_warned_and_point_to_cluster_mode) {
    auto r = config::load_node_config(with_router(R"([{"name": "realm1", "rlinks": [{"id": "to-b"}],
        "roles": [{"name": "anonymous", "allow-by-default": true}]}])", ws_transport));
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.faults.empty() ? std::string() : r.faults[0]));
    BOOST_TEST(has_warning(r, "workers[0].realms[0].rlinks: Crossbar.io router links are not served by blindrouter; "
                              "ignored. To share this realm across nodes, run each node with --cluster FILE"));
}

BOOST_AUTO_TEST_CASE(crossbar_cryptobox_example_config_loads_unchanged) {
    // crossbar-examples encryption/cryptobox/.crossbar/config.json
    auto r = config::load_node_config(R"({"version": 2, "workers": [{"type": "router",
        "realms": [{"name": "realm1", "roles": [{"name": "anonymous", "allow-by-default": true}], "trace": true}],
        "transports": [{"type": "websocket", "endpoint": {"type": "tcp", "port": 8080}, "serializers": ["json"]}]}]})");
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.faults.empty() ? std::string() : r.faults[0]));
    BOOST_TEST(r.config.realms[0].roles[0].allow_by_default);
    BOOST_TEST(!r.config.realms[0].roles[0].has_permissions);
    BOOST_TEST(has_warning(r, "realms[0].trace"));
}

BOOST_AUTO_TEST_CASE(universal_transport) {
    auto r = config::load_node_config(with_router(one_realm, R"([{"type": "universal",
        "endpoint": {"type": "tcp", "port": 8080},
        "rawsocket": {"serializers": ["cbor", "msgpack", "json"], "options": {"max_message_size": 4096}},
        "websocket": {"ws": {"type": "websocket", "serializers": ["json"]}},
        "web": {"paths": {"/": {"type": "static", "directory": ".."}, "ws2": {"type": "websocket"}}}}])"));
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.faults.empty() ? std::string() : r.faults[0]));
    const auto& t = r.config.transports.at(0);
    BOOST_TEST(t.rawsocket->max_message_size == 4096u);
    BOOST_REQUIRE_EQUAL(t.websocket.size(), 2u);
    BOOST_TEST(*t.websocket[0].path == "/ws");
    BOOST_TEST(*t.websocket[1].path == "/ws2");
    BOOST_TEST(t.websocket[1].serializers.size() == 3u);  // all served when not listed
    BOOST_TEST(has_fault(config::load_node_config(with_router(one_realm, R"([{"type": "rawsocket",
        "endpoint": {"type": "tcp", "port": 1}, "options": {"max_message_size": 1, "auto_fragment_size": 1000}}])")),
        "unknown attribute 'auto_fragment_size'"));
    BOOST_TEST(has_fault(config::load_node_config(with_router(one_realm, R"([{"type": "rawsocket",
        "endpoint": {"type": "tcp", "port": 1}, "serializers": ["yaml"]}])")), "invalid WAMP serializer 'yaml'"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(liveness_options_are_served_and_checked_as_crossbar_does) {
    auto load = [](const std::string& ws_options, const std::string& raw_options) {
        return config::load_node_config(with_router(one_realm, R"([
          {"type": "websocket", "endpoint": {"type": "tcp", "port": 8080}, "options": )" + ws_options + R"(},
          {"type": "rawsocket", "endpoint": {"type": "tcp", "port": 8081}, "options": )" + raw_options + "}]"));
    };
    auto r = load(R"({"auto_ping_interval": 5000, "auto_ping_timeout": 0, "auto_ping_size": 125,
                      "auto_ping_restart_on_any_traffic": false, "close_handshake_timeout": 0,
                      "open_handshake_timeout": 1000, "hello_timeout": 3000, "write_timeout": 4000})",
                  R"({"auto_ping_interval": 0, "hello_timeout": 0, "write_timeout": 1000})");
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.faults.empty() ? std::string() : r.faults[0]));
    BOOST_TEST(r.config.warnings.empty());
    const auto& ws = r.config.transports[0].websocket[0].liveness;
    BOOST_TEST(ws.auto_ping_interval.count() == 5000);
    BOOST_TEST(ws.auto_ping_timeout.count() == 0);  // never dropped
    BOOST_TEST(ws.auto_ping_size == 125u);
    BOOST_TEST(!ws.auto_ping_restart_on_any_traffic);
    BOOST_TEST(ws.close_handshake_timeout.count() == config::Liveness{}.close_handshake_timeout.count());
    BOOST_TEST(ws.open_handshake_timeout.count() == 1000);
    BOOST_TEST(ws.hello_timeout.count() == 3000);
    BOOST_TEST(ws.write_timeout.count() == 4000);
    const auto& raw = r.config.transports[1].rawsocket->liveness;
    BOOST_TEST(raw.auto_ping_interval.count() == 0);
    BOOST_TEST(raw.hello_timeout.count() == 0);
    BOOST_TEST(raw.write_timeout.count() == 1000);
    BOOST_TEST(raw.auto_ping_timeout.count() == config::Liveness{}.auto_ping_timeout.count());

    r = load(R"({"auto_ping_interval": 999, "auto_ping_size": 11, "auto_ping_timeout": -1, "close_handshake_timeout": "1"})",
             R"({"write_timeout": 500, "close_handshake_timeout": 1000})");
    BOOST_TEST(has_fault(r, "transports[0].options.auto_ping_interval: is in milliseconds; 999 is too small"));
    BOOST_TEST(has_fault(r, "transports[0].options.auto_ping_size: invalid value 11 (must be from [12, 125])"));
    BOOST_TEST(has_fault(r, "transports[0].options.auto_ping_timeout: invalid value -1"));
    BOOST_TEST(has_fault(r, "transports[0].options.close_handshake_timeout: must be an int"));
    BOOST_TEST(has_fault(r, "transports[1].options.write_timeout: is in milliseconds; 500 is too small"));
    BOOST_TEST(has_fault(r, "transports[1].options: encountered unknown attribute 'close_handshake_timeout'"));
}

BOOST_AUTO_TEST_CASE(send_queue_limit_defaults_to_the_formula_and_is_checked) {
    auto r = config::load_node_config(with_router(one_realm, R"([
          {"type": "websocket", "endpoint": {"type": "tcp", "port": 8080}, "options": {"max_message_size": 65536000}},
          {"type": "rawsocket", "endpoint": {"type": "tcp", "port": 8081},
           "options": {"max_message_size": 1000, "send_queue_limit": 2000}}])"));
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.faults.empty() ? std::string() : r.faults[0]));
    BOOST_TEST(config::send_queue_limit(r.config.transports[0].websocket[0]) == 4u * 65536000);
    BOOST_TEST(config::send_queue_limit(r.config.transports[1].rawsocket.value()) == 2000u);
    BOOST_TEST(config::default_send_queue_limit(1000) == 16u * 1024 * 1024);

    r = config::load_node_config(with_router(one_realm, R"([
          {"type": "websocket", "endpoint": {"type": "tcp", "port": 8080},
           "options": {"max_message_size": 4096, "send_queue_limit": 4095}}])"));
    BOOST_TEST(has_fault(r, "transports[0].options.send_queue_limit: must be at least max_message_size (4096)"));
}

BOOST_AUTO_TEST_CASE(connection_limits_per_endpoint_and_router_wide) {
    auto r = config::load_node_config(R"({"version": 2, "workers": [{"type": "router",
        "options": {"max_connections": 300, "title": "x"}, "realms": )" + one_realm + R"(, "transports": [
          {"type": "websocket", "endpoint": {"type": "tcp", "port": 8080, "max_connections": 100}},
          {"type": "rawsocket", "endpoint": {"type": "unix", "path": "r.sock", "max_connections": 5}},
          {"type": "rawsocket", "endpoint": {"type": "tcp", "port": 8081}}]}]})");
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.faults.empty() ? std::string() : r.faults[0]));
    BOOST_TEST(r.config.max_connections == 300u);
    BOOST_TEST(r.config.transports[0].endpoint.max_connections.value() == 100u);
    BOOST_TEST(r.config.transports[1].endpoint.max_connections.value() == 5u);
    BOOST_TEST(!r.config.transports[2].endpoint.max_connections);
    BOOST_TEST(has_warning(r, "workers[0].options.title: known to Crossbar.io but not served by blindrouter; ignored"));

    r = config::load_node_config(with_router(one_realm, ws_transport));
    BOOST_TEST(r.config.max_connections == config::default_max_connections);
    r = config::load_node_config(R"({"version": 2, "workers": [{"type": "router", "options": {"max_connections": 0},
        "transports": [{"type": "websocket", "endpoint": {"type": "tcp", "port": 8080, "max_connections": "9"}}]}]})");
    BOOST_TEST(has_fault(r, "workers[0].options.max_connections: invalid value 0"));
    BOOST_TEST(has_fault(r, "transports[0].endpoint.max_connections: must be an int"));
}
