#pragma once
// Reads and checks a Crossbar.io node configuration. Like Crossbar's checker,
// unknown or mistyped fields are faults; unlike it, every fault is reported, each
// with its JSON path. Fields Crossbar knows that we do not serve yet become
// warnings, never a silent ignore.
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "blindrouter/config/node_config.hpp"

namespace blindrouter::config {

struct LoadResult {
    NodeConfig config;
    std::vector<std::string> faults;  // "<json path>: <what is wrong>"
    bool ok() const { return faults.empty(); }
};

// Bounds on one node configuration document. The file is the operator's, not an
// attacker's, but every resource has a limit: these are far above any real config.
inline constexpr std::size_t max_config_bytes = 16 * 1024 * 1024;
inline constexpr std::size_t max_config_depth = 64;           // nested lists and dicts
inline constexpr std::size_t max_config_yaml_nodes = 1000000;  // YAML, aliases counted each time used

LoadResult load_node_config(const std::string& json_text, const Extensions& extensions = {});
// YAML as Crossbar reads it (PyYAML safe_load: YAML 1.1 scalars, anchors, aliases and
// merge keys), into the same value model and checks as JSON.
LoadResult load_node_config_yaml(const std::string& yaml_text, const Extensions& extensions = {});
// Reads `path` as JSON or YAML by its extension, which must be .json or .yaml (Crossbar).
LoadResult load_node_config_file(const std::filesystem::path& path, const Extensions& extensions = {});

// The configuration file of a node directory as Crossbar finds it (cb:node/main.py):
// `config` when given (relative to `cbdir` unless absolute), else config.yaml when
// it exists, else config.json.
std::filesystem::path node_config_path(const std::filesystem::path& cbdir,
                                       const std::optional<std::filesystem::path>& config);

}  // namespace blindrouter::config
