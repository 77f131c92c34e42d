#pragma once
// What a bench run measured: printed as tables, written as JSON, and held against
// the figures the issue asks for (as figures, never as a pass/fail exit status).
#include <filesystem>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "scenarios.hpp"

namespace bench {

struct ScenarioResult {
    std::string id;      // e.g. "pubsub rs/msgpack 1->100 1KiB"
    std::string family;  // "pubsub", "rpc", "idle", "stall", "cluster", "cluster-rpc", "cluster-meta"
    std::string link;    // "rs/msgpack"
    std::map<std::string, double> params;
    std::map<std::string, Figures> by_target;  // keyed by target name
    std::string form;  // pub/sub and RPC: the payload form, "enc" or "ppt"
};

struct Report {
    std::string router_name;
    std::string relay_name;
    std::string peer_name;  // empty without a peer
    std::string cluster_name;  // the cluster target of the families "cluster*"
    std::map<std::string, std::string> meta;  // command, mode, machine, notes
    std::vector<ScenarioResult> results;
    std::string uri_index_json;  // bench_uri_index's figures, as it wrote them; empty: not run
};

void print_tables(std::ostream& out, const Report& report);
// The targets, each with the figure it is judged on.
void print_targets(std::ostream& out, const Report& report);
void write_json(const std::filesystem::path& path, const Report& report);

}  // namespace bench
