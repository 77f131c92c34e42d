#pragma once
// Reads and checks a Crossbar.io node configuration. Like Crossbar's checker,
// unknown or mistyped fields are faults; unlike it, every fault is reported, each
// with its JSON path. Fields Crossbar knows that we do not serve yet become
// warnings, never a silent ignore.
#include <filesystem>
#include <string>
#include <vector>

#include "blindrouter/config/node_config.hpp"

namespace blindrouter::config {

struct LoadResult {
    NodeConfig config;
    std::vector<std::string> faults;  // "<json path>: <what is wrong>"
    bool ok() const { return faults.empty(); }
};

LoadResult load_node_config(const std::string& json_text, const Extensions& extensions = {});
LoadResult load_node_config_file(const std::filesystem::path& path, const Extensions& extensions = {});

}  // namespace blindrouter::config
