#include "blindrouter/cluster/liveness.hpp"

#include <algorithm>

namespace blindrouter::cluster {

// Bounds the verdicts remembered against late heartbeats; nodes are random per
// process start, so an old entry only matters for a few seconds.
constexpr std::size_t max_remembered_dead = 4096;

Liveness::Liveness(std::uint64_t self, std::chrono::milliseconds interval, unsigned misses, Clock::time_point now)
    : self_(self), interval_(interval), misses_(misses), self_heard_(now) {}

Liveness::Heard Liveness::heard(std::uint64_t node, std::uint64_t incarnation, Clock::time_point now) {
    Heard outcome;
    if (node == self_) return outcome;
    if (auto dead = dead_.find(node); dead != dead_.end() && incarnation <= dead->second) return outcome;
    auto [it, fresh] = peers_.try_emplace(node, Peer{incarnation, now});
    if (fresh) {
        outcome.joined = true;
        return outcome;
    }
    if (incarnation < it->second.incarnation) return outcome;
    if (incarnation > it->second.incarnation) {
        outcome.replaced = Verdict{node, it->second.incarnation};
        dead_[node] = it->second.incarnation;
        outcome.joined = true;
        it->second.incarnation = incarnation;
    }
    it->second.last_heard = now;
    return outcome;
}

std::vector<Liveness::Verdict> Liveness::expire(Clock::time_point now) {
    std::vector<Verdict> verdicts;
    for (auto it = peers_.begin(); it != peers_.end();) {
        if (now - it->second.last_heard < verdict_after()) {
            ++it;
            continue;
        }
        verdicts.push_back({it->first, it->second.incarnation});
        if (dead_.size() >= max_remembered_dead) dead_.clear();
        dead_[it->first] = it->second.incarnation;
        it = peers_.erase(it);
    }
    return verdicts;
}

void Liveness::heard_self(std::uint64_t incarnation, Clock::time_point now) {
    if (incarnation == incarnation_) self_heard_ = now;
}

bool Liveness::self_expired(Clock::time_point now) const { return now - self_heard_ >= verdict_after(); }

Liveness::Verdict Liveness::restart(Clock::time_point now) {
    Verdict old{self_, incarnation_};
    ++incarnation_;
    self_heard_ = now;
    restart_window(now);
    return old;
}

void Liveness::restart_window(Clock::time_point now) {
    for (auto& [node, peer] : peers_) peer.last_heard = now;
}

bool Liveness::janitor() const { return peers_.empty() || peers_.begin()->first > self_; }

std::vector<std::uint64_t> Liveness::live_nodes() const {
    std::vector<std::uint64_t> nodes;
    for (const auto& [node, peer] : peers_) nodes.push_back(node);
    nodes.insert(std::lower_bound(nodes.begin(), nodes.end(), self_), self_);
    return nodes;
}

}  // namespace blindrouter::cluster
