#pragma once
// Who of the cluster is alive, as this node sees it (SCALE-OUT.md §2.8): every node
// publishes a heartbeat each interval on br.hb, and a node not heard for `misses`
// intervals is declared dead. Pure bookkeeping: the caller hands in the time, so
// tests drive it with a fake clock and no NATS.
//
// A node hears its own heartbeats too (the control connection echoes): when they
// stop coming back for as long as a verdict takes, the others have declared it dead
// (it was frozen, or cut off from NATS), so it counts itself dead and comes back
// as a new incarnation of the same id. A heartbeat of a newer incarnation is also a
// death verdict on the older one, for peers that missed the silence.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace blindrouter::cluster {

class Liveness {
public:
    using Clock = std::chrono::steady_clock;

    // Which run of a node died: its id and the incarnation it was in.
    struct Verdict {
        std::uint64_t node = 0;
        std::uint64_t incarnation = 0;
        friend bool operator==(const Verdict&, const Verdict&) = default;
    };
    // What one heartbeat of a peer told.
    struct Heard {
        bool joined = false;                 // a node (or a new incarnation) not live before
        std::optional<Verdict> replaced;     // the older incarnation this one ends
    };

    Liveness(std::uint64_t self, std::chrono::milliseconds interval, unsigned misses, Clock::time_point now);

    std::uint64_t self() const { return self_; }
    std::uint64_t incarnation() const { return incarnation_; }
    // How long a node may stay silent before it is declared dead.
    Clock::duration verdict_after() const { return interval_ * misses_; }

    // A heartbeat of `node` in `incarnation`. Heartbeats of an incarnation already
    // declared dead, or older than the known one, are ignored (late in the network).
    Heard heard(std::uint64_t node, std::uint64_t incarnation, Clock::time_point now);
    // Peers silent for verdict_after(), each declared dead once and forgotten.
    std::vector<Verdict> expire(Clock::time_point now);

    // Our own heartbeat came back through NATS.
    void heard_self(std::uint64_t incarnation, Clock::time_point now);
    // Our own heartbeats have not come back for verdict_after(): the others have
    // declared this incarnation dead.
    bool self_expired(Clock::time_point now) const;
    // Starts the next incarnation after self_expired(); the verdict on the old one.
    // Peers' silence while we were away is not theirs: each gets a fresh window.
    Verdict restart(Clock::time_point now);
    // Every peer's silence restarts at `now`: this node did not read their
    // heartbeats for a while (its thread stalled), so the silence was its own.
    void restart_window(Clock::time_point now);

    // Whether this node does the cluster's housekeeping: the live node with the lowest
    // id. Views may differ for a moment, so it is used only where two nodes doing the
    // same is harmless (the testament janitor is chosen by a KV lock instead).
    bool janitor() const;
    // Live nodes, this one included, in id order.
    std::vector<std::uint64_t> live_nodes() const;

private:
    struct Peer {
        std::uint64_t incarnation = 0;
        Clock::time_point last_heard;
    };
    std::uint64_t self_;
    Clock::duration interval_;
    unsigned misses_;
    std::uint64_t incarnation_ = 1;
    Clock::time_point self_heard_;
    std::map<std::uint64_t, Peer> peers_;
    // Per node, the newest incarnation declared dead: its late heartbeats must not
    // bring it back.
    std::map<std::uint64_t, std::uint64_t> dead_;
};

}  // namespace blindrouter::cluster
