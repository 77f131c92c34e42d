#pragma once
// The benchmark scenarios, each run against one target (the router, the raw relay or
// a peer router) that is already listening. A scenario opens its sessions, drives
// load from one thread, reads the target's /proc during the measured window, and
// returns its figures; it never decides pass or fail.
#include <sys/types.h>

#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "client_connection.hpp"
#include "wamp_messages.hpp"

namespace bench {

enum class TargetKind { router, relay, peer, cluster };

struct Target {
    std::string name;
    TargetKind kind = TargetKind::router;
    Endpoint endpoint;
    pid_t pid = 0;  // 0: not observable through /proc (a peer given by URL only)
    // A cluster (scripts/cluster-up): every node's endpoint, the first being `endpoint`,
    // and the processes whose CPU the scenario counts besides `pid` (the other nodes and
    // the NATS servers).
    std::vector<Endpoint> nodes;
    std::vector<pid_t> other_pids;
    wamp::PayloadForm form = wamp::PayloadForm::transparent;
    std::size_t queue_limit = 0;  // per-connection send queue limit in bytes, when known
    bool speaks_wamp() const { return kind != TargetKind::relay; }
};

// A transport with a serializer, e.g. RawSocket + MsgPack ("rs/msgpack").
struct Link {
    Transport transport = Transport::rawsocket;
    Serializer serializer = Serializer::msgpack;
    std::string name() const;
};

struct Timings {
    double warmup = 0.3;   // seconds of load before the measured window
    double measure = 1.0;  // the measured window (throughput, CPU)
    double latency = 0.5;  // one message in flight at a time: latency without queueing
    double stall_before = 1.5;  // stalled scenario: healthy subscribers only
    double stall_during = 2.5;  // ... then with the stalled one
    double idle_settle = 1.0;   // idle sessions: wait before reading RSS
    std::chrono::milliseconds open_timeout{5000};
};

struct Figures {
    std::string status = "ok";  // "ok", "n/a" (cannot run here, see note), "error" (see note)
    std::string note;
    std::map<std::string, double> values;
    std::vector<std::map<std::string, double>> timeline;
    bool ok() const { return status == "ok"; }
    double value(const std::string& key) const {
        auto it = values.find(key);
        return it == values.end() ? NAN : it->second;
    }
};

struct PubSubSpec {
    Link link;
    int fanout = 1;
    std::size_t payload = 1024;
    int window = 64;  // publications in flight (not yet delivered to every subscriber)
    // On a cluster target: subscribers on the publisher's node, or spread over the others.
    bool subscribers_elsewhere = false;
    // Publications per second of the paced latency phase; 0: no such phase.
    double paced_rate = 0;
    double paced_seconds = 1.0;
};
struct RpcSpec {
    Link link;
    int callers = 1;
    int callees = 1;  // more than one needs a shared registration (invoke "roundrobin")
    std::size_t payload = 64;
    // On a cluster target: the callees on its last node, the callers on node 1.
    bool callee_elsewhere = false;
};
// Meta API and registration latency, one request in flight: a meta question asked on
// node 1 (answered for the whole realm: on a cluster, gathered from every node), then a
// REGISTER / UNREGISTER loop.
struct MetaSpec {
    Link link;
    std::string question = "wamp.session.count";
};
struct IdleSpec {
    Link link;
    int sessions = 10000;
};
struct StallSpec {
    Link link;
    int healthy = 100;
    std::size_t payload = 1024;
    int window = 64;
};

// Called when the measured window opens and closes (the driver profiles the target then).
struct WindowHooks {
    std::function<void()> opened;
    std::function<void()> closed;
};

Figures run_pubsub(const Target& target, const PubSubSpec& spec, const Timings& timings, const WindowHooks& hooks);
Figures run_rpc(const Target& target, const RpcSpec& spec, const Timings& timings, const WindowHooks& hooks);
Figures run_meta(const Target& target, const MetaSpec& spec, const Timings& timings);
Figures run_idle(const Target& target, const IdleSpec& spec, const Timings& timings);
Figures run_stall(const Target& target, const StallSpec& spec, const Timings& timings);
// "" when the target opens a session on this link; otherwise why not.
std::string probe(const Target& target, const Link& link, const Timings& timings);

}  // namespace bench
