#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "blindrouter/config/node_config_loader.hpp"

using namespace blindrouter;
namespace fs = std::filesystem;

namespace {
bool has(const std::vector<std::string>& lines, const std::string& part) {
    for (const auto& line : lines)
        if (line.find(part) != std::string::npos) return true;
    return false;
}
std::string first(const std::vector<std::string>& lines) { return lines.empty() ? std::string() : lines[0]; }

// A node directory of its own under the system's temporary directory.
struct NodeDir {
    fs::path path = fs::temp_directory_path() / ("blindrouter-yaml-" + std::to_string(::getpid()) + "-" +
                                                 std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    NodeDir() { fs::create_directories(path); }
    ~NodeDir() { fs::remove_all(path); }
    fs::path write(const std::string& name, const std::string& text) const {
        std::ofstream(path / name, std::ios::binary) << text;
        return path / name;
    }
};

const std::string yaml_node = R"(# a comment
$schema: https://raw.githubusercontent.com/crossbario/crossbar/master/crossbar.json
version: 2
controller: {}
workers:
  - type: router
    realms:
      - name: realm1
        roles:
          - name: anonymous
            permissions:
              - uri: ''
                match: prefix
                allow: {call: yes, register: on, publish: true, subscribe: True}
                disclose: {caller: no, publisher: off}
                cache: true
    transports:
      - type: websocket
        endpoint: {type: tcp, port: 8080, interface: "127.0.0.1"}
        options: {max_message_size: 0x100000, auto_ping_interval: 10_000}
        serializers: [json, msgpack]
)";
const std::string json_node = R"({"$schema": "https://raw.githubusercontent.com/crossbario/crossbar/master/crossbar.json",
  "version": 2, "controller": {}, "workers": [{"type": "router",
  "realms": [{"name": "realm1", "roles": [{"name": "anonymous", "permissions": [{"uri": "", "match": "prefix",
     "allow": {"call": true, "register": true, "publish": true, "subscribe": true},
     "disclose": {"caller": false, "publisher": false}, "cache": true}]}]}],
  "transports": [{"type": "websocket", "endpoint": {"type": "tcp", "port": 8080, "interface": "127.0.0.1"},
     "options": {"max_message_size": 1048576, "auto_ping_interval": 10000}, "serializers": ["json", "msgpack"]}]}]})";

config::LoadResult yaml_workers(const std::string& workers) {
    return config::load_node_config_yaml("version: 2\nworkers:\n" + workers);
}
}  // namespace

BOOST_AUTO_TEST_SUITE(yaml_config)

BOOST_AUTO_TEST_CASE(yaml_reads_as_the_same_json) {
    auto y = config::load_node_config_yaml(yaml_node);
    auto j = config::load_node_config(json_node);
    BOOST_REQUIRE_MESSAGE(y.ok(), first(y.faults));
    BOOST_REQUIRE_MESSAGE(j.ok(), first(j.faults));
    BOOST_TEST(y.config.warnings == j.config.warnings);
    BOOST_REQUIRE_EQUAL(y.config.realms.size(), 1u);
    const auto& p = y.config.realms[0].roles.at(0).permissions.at(0);
    BOOST_TEST((p.allow_call && p.allow_register && p.allow_publish && p.allow_subscribe));
    BOOST_TEST((!p.disclose_caller && !p.disclose_publisher));
    BOOST_TEST(p.uri == "");
    BOOST_REQUIRE_EQUAL(y.config.transports.size(), 1u);
    const auto& ws = y.config.transports[0].websocket.at(0);
    BOOST_TEST(ws.max_message_size == 1048576u);
    BOOST_TEST(ws.liveness.auto_ping_interval.count() == 10000);
    BOOST_TEST(y.config.transports[0].endpoint.port == j.config.transports[0].endpoint.port);
}

BOOST_AUTO_TEST_CASE(yaml_1_1_scalars_are_typed_as_pyyaml_types_them) {
    // "8080" quoted is a str, so the port check says so exactly as for JSON.
    auto quoted = yaml_workers("  - type: router\n    transports:\n      - type: websocket\n"
                               "        endpoint: {type: tcp, port: '8080'}\n");
    BOOST_TEST(first(quoted.faults) ==
               "workers[0].transports[0].endpoint.port: listening endpoint configuration - environment variable name "
               "'8080' does not match pattern '^\\$([a-zA-Z_][a-zA-Z0-9_]*)$'");
    // YAML 1.1: `no` is false, so a bool where a str is wanted.
    auto role = yaml_workers("  - type: router\n    realms:\n      - name: realm1\n        roles:\n          - name: no\n");
    BOOST_TEST(first(role.faults) == "workers[0].realms[0].roles[0].name: must be a str (bool encountered)");
    // ~ and an empty value are null; 0o17-style octal is YAML 1.2, a str in 1.1; 017 is octal.
    auto nulls = yaml_workers("  - type: router\n    options: {max_connections: ~}\n");
    BOOST_TEST(first(nulls.faults) == "workers[0].options.max_connections: must be an int (null encountered)");
    auto octal = yaml_workers("  - type: router\n    options: {max_connections: 017}\n");
    BOOST_REQUIRE_MESSAGE(octal.ok(), first(octal.faults));
    BOOST_TEST(octal.config.max_connections == 15u);
    auto sexagesimal = yaml_workers("  - type: router\n    options: {max_connections: '1:30'}\n");
    BOOST_TEST(first(sexagesimal.faults) == "workers[0].options.max_connections: must be an int (str encountered)");
    auto base60 = yaml_workers("  - type: router\n    options: {max_connections: 1:30}\n");
    BOOST_REQUIRE_MESSAGE(base60.ok(), first(base60.faults));
    BOOST_TEST(base60.config.max_connections == 90u);
    auto floats = yaml_workers("  - type: router\n    options: {max_connections: 1.0}\n");
    BOOST_TEST(first(floats.faults) == "workers[0].options.max_connections: must be an int (float encountered)");
    auto date = yaml_workers("  - type: router\n    id: 2024-01-01\n");
    BOOST_TEST(has(date.faults, "a YAML timestamp ('2024-01-01') is no value of a node configuration; quote it"));
}

BOOST_AUTO_TEST_CASE(anchors_aliases_and_merge_keys) {
    auto r = config::load_node_config_yaml(R"(version: 2
workers:
  - type: router
    realms:
      - name: realm1
        roles:
          - name: anonymous
            permissions:
              - &everything {uri: '', match: prefix, allow: {call: true, subscribe: true}}
      - name: realm2
        roles:
          - name: anonymous
            permissions:
              - *everything
              - <<: *everything
                uri: com.example
                allow: {publish: true}
)");
    BOOST_REQUIRE_MESSAGE(r.ok(), first(r.faults));
    BOOST_REQUIRE_EQUAL(r.config.realms.size(), 2u);
    const auto& permissions = r.config.realms[1].roles.at(0).permissions;
    BOOST_REQUIRE_EQUAL(permissions.size(), 2u);
    BOOST_TEST(permissions[0].allow_subscribe);
    BOOST_TEST(permissions[1].uri == "com.example");              // the explicit key wins over the merged one
    BOOST_TEST((permissions[1].match == wamp::MatchPolicy::prefix));  // merged
    BOOST_TEST((permissions[1].allow_publish && !permissions[1].allow_call));
}

BOOST_AUTO_TEST_CASE(what_yaml_cannot_say_in_json_is_refused) {
    BOOST_TEST(first(config::load_node_config_yaml("version: 2\nversion: 2\n").faults) ==
               "(file): configuration file does not seem to be proper YAML (duplicate key 'version' at line 2 column 1)");
    BOOST_TEST(first(config::load_node_config_yaml("version: 2\n1: x\n").faults) ==
               "(file): configuration file does not seem to be proper YAML (a mapping key must be a string in a node "
               "configuration (number found) at line 2 column 1)");
    BOOST_TEST(first(config::load_node_config_yaml("version: 2\n---\nversion: 2\n").faults) ==
               "(file): configuration file does not seem to be proper YAML (expected a single document in the stream, "
               "but found another document at line 2 column 1)");
    BOOST_TEST(has(config::load_node_config_yaml("a: &x [*x]\n").faults, "found recursive alias 'x'"));
    BOOST_TEST(has(config::load_node_config_yaml("a: *nowhere\n").faults, "found undefined alias 'nowhere'"));
    BOOST_TEST(has(config::load_node_config_yaml("a: !!binary aGk=\n").faults, "a YAML binary ('aGk=')"));
    BOOST_TEST(has(config::load_node_config_yaml("a: !!python/object:os.system x\n").faults,
                   "a YAML python/object:os.system ('x') is no value of a node configuration"));
    BOOST_TEST(has(config::load_node_config_yaml("version: [2\n").faults, "proper YAML (did not find expected"));
    BOOST_TEST(first(config::load_node_config_yaml("").faults) ==
               "(top level): configuration must be a dict (null encountered)");
}

BOOST_AUTO_TEST_CASE(yaml_size_is_bounded) {
    std::string deep = "a: " + std::string(config::max_config_depth + 1, '[') + std::string(config::max_config_depth + 1, ']');
    BOOST_TEST(has(config::load_node_config_yaml(deep).faults, "nested deeper than 64 levels"));
    // Billion laughs: each level multiplies the aliased nodes by seven.
    std::string laughs = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
    for (char level = '1'; level <= '9'; ++level) {
        std::string previous = std::string("*a") + static_cast<char>(level - 1);
        laughs.append("a").push_back(level);
        laughs.append(": &a").push_back(level);
        laughs.append(" [");
        for (int i = 0; i < 7; ++i) laughs.append(previous).append(i < 6 ? ", " : "]\n");
    }
    BOOST_TEST(has(config::load_node_config_yaml(laughs).faults, "more than 1000000 nodes"));
    std::string deep_json = std::string(config::max_config_depth, '[') + std::string(config::max_config_depth, ']');
    auto json = config::load_node_config(R"({"version": 2, "x": )" + deep_json + "}");
    BOOST_TEST(has(json.faults, "x[0][0]"));
    BOOST_TEST(has(json.faults, ": nested deeper than 64 levels"));
}

BOOST_AUTO_TEST_CASE(json_refuses_a_repeated_key_too) {
    BOOST_TEST(first(config::load_node_config(R"({"version": 2, "workers": [{"type": "router", "type": "router"}]})").faults) ==
               "workers[0]: duplicate key 'type'");
}

BOOST_AUTO_TEST_CASE(node_directory_lookup_is_crossbars) {
    NodeDir dir;
    BOOST_TEST(config::node_config_path(dir.path, std::nullopt) == dir.path / "config.json");
    dir.write("config.json", json_node);
    BOOST_TEST(config::node_config_path(dir.path, std::nullopt) == dir.path / "config.json");
    // cb:node/main.py tries config.yaml before config.json.
    dir.write("config.yaml", yaml_node);
    BOOST_TEST(config::node_config_path(dir.path, std::nullopt) == dir.path / "config.yaml");
    BOOST_TEST(config::node_config_path(dir.path, fs::path("other.json")) == dir.path / "other.json");
    BOOST_TEST(config::node_config_path(dir.path, fs::path("/etc/x.yaml")) == fs::path("/etc/x.yaml"));
    auto from_file = config::load_node_config_file(dir.path / "config.yaml");
    BOOST_REQUIRE_MESSAGE(from_file.ok(), first(from_file.faults));
    BOOST_TEST(from_file.config.realms.at(0).name == "realm1");
    auto yml = dir.write("config.yml", yaml_node);
    BOOST_TEST(first(config::load_node_config_file(yml).faults) ==
               yml.string() + ": invalid configuration file extension '.yml' (Crossbar.io reads '.json' or '.yaml')");
    auto big = dir.write("big.yaml", "# " + std::string(config::max_config_bytes, 'x') + "\n");
    BOOST_TEST(first(config::load_node_config_file(big).faults) ==
               big.string() + ": configuration file larger than 16777216 bytes");
}

BOOST_AUTO_TEST_SUITE_END()
