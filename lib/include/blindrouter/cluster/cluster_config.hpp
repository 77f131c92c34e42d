#pragma once
// The cluster settings of a node (`blindrouter start --cluster FILE`), kept out of
// config.json so that it stays a valid Crossbar.io configuration (SCALE-OUT.md §2.1):
//
//   {"nats": ["nats://127.0.0.1:4222", ...], "realms": ["realm1"]}
//
// plus the optional limits below. Every node of a cluster names the same realms
// and must run the same realm configuration.
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "blindrouter/config/node_config.hpp"

namespace blindrouter::cluster {

struct ClusterConfig {
    // NATS servers, tried in this order (the first is the nearby one); 1 to 16.
    std::vector<std::string> nats;
    // The realms shared with the other nodes; the others stay local to this node.
    std::vector<std::string> realms;
    // Bytes kept for NATS headers below the server's max_payload: a PUBLISH whose
    // frame is larger than max_payload − header_budget is refused with
    // wamp.error.payload_size_exceeded (the envelope headers take ~200 bytes).
    std::size_t header_budget = 4096;
    // Messages received from NATS and not yet handed to the router thread: beyond
    // either bound they are dropped (counted and logged), so a router thread that
    // falls behind never makes NATS cut the node off as a slow consumer.
    std::size_t max_inbound_messages = 65536;
    std::size_t max_inbound_bytes = 64 * 1024 * 1024;
    // How long a SUBSCRIBE that needs new NATS interest waits for the server to
    // confirm it before SUBSCRIBED goes out anyway (SCALE-OUT.md §2.5), in ms; not at
    // all while no NATS server is connected.
    std::size_t flush_timeout_ms = 1000;
    // How long SUBSCRIBED (new NATS interest) and REGISTERED wait for every other live
    // node to confirm that it sees the subscription or registration (cluster/sync.hpp),
    // in ms, before they go out anyway (logged). The router thread waits: a bound
    // near a few round trips keeps a dead-but-not-yet-declared node from stalling it.
    std::size_t sync_timeout_ms = 250;
    // Liveness (SCALE-OUT.md §2.8): a heartbeat on br.hb every interval; a node not
    // heard for `heartbeat_misses` intervals is declared dead (3 s by default).
    std::size_t heartbeat_interval_ms = 1000;
    std::size_t heartbeat_misses = 3;
    // Replicas of the JetStream KV buckets br_testament and br_regs (memory storage); at most the
    // number of NATS servers in the cluster. Default: the number of URLs listed, up to 3.
    std::size_t kv_replicas = 0;
    // Bytes the bucket br_testament holds for the whole cluster; beyond it a new
    // testament is kept on its node only (logged), and published only if its session
    // leaves while the node lives.
    std::size_t kv_max_bytes = 64 * 1024 * 1024;
    // Bytes the bucket br_ret (retained events, one per topic) holds for the whole
    // cluster; beyond it a retained event of a new topic is kept on its node only (logged).
    std::size_t retained_max_bytes = 64 * 1024 * 1024;
    // Retained events one SUBSCRIBE with get_retained reads from br_ret (a prefix or
    // wildcard subscription may match many topics); the rest are not delivered (logged).
    std::size_t max_retained_per_subscribe = 1000;
    // Not read from the file: the hash of the clustered realms' configuration
    // (cluster_config_hash), sent in heartbeats so that nodes that differ are noticed.
    std::string config_hash;
    // Calls from this node's sessions in flight on one other node; one more is
    // refused with wamp.error.limit_reached (cluster/rpc.hpp, RpcLimits).
    std::size_t max_pending_remote_calls = 16384;
    // Sessions of other nodes with calls to a realm's callees on this node; a CALL
    // from one more gets wamp.error.limit_reached.
    std::size_t max_remote_callers = 16384;
    // The meta API across nodes (SCALE-OUT.md §2.9): how long a question waits for the
    // answers of the other live nodes before it is answered with what came (marked
    // partial, README), in ms; and questions waiting at once, one more being refused
    // with wamp.error.limit_reached.
    std::size_t meta_gather_timeout_ms = 500;
    std::size_t max_pending_meta_gathers = 256;
};

// Reads and checks cluster settings; throws std::runtime_error naming the fault.
ClusterConfig parse_cluster_config(const std::string& json_text);
ClusterConfig load_cluster_config(const std::filesystem::path& path);
// A NATS URL as logs may show it: without the user and password or token a URL
// may carry (nats://user:password@host:4222 → nats://host:4222).
std::string url_for_log(std::string_view url);
// A digest of what every node must configure alike for the clustered realms: their
// names, limits, stores and roles with their permissions (16 hex digits).
std::string cluster_config_hash(const ClusterConfig& cluster, const config::NodeConfig& node);
// Throws std::runtime_error naming the first clustered realm that `node` does not run.
void check_cluster_realms(const ClusterConfig& cluster, const config::NodeConfig& node);

}  // namespace blindrouter::cluster
