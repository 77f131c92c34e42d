#pragma once
// The barrier before SUBSCRIBED and REGISTERED on a clustered realm (closing the
// windows of SCALE-OUT.md §2.5 and §2.7): the node that created new NATS interest
// or wrote the registration directory asks every other live node on
// br.n.<node>.sync and sends the acknowledgement once each answered, or after
// sync_timeout_ms. The questions and the answers' bookkeeping, without NATS.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace blindrouter::cluster {

struct SyncRequest {
    enum class Kind : unsigned char {
        // Answered at once: arriving over the route proves the route's earlier RS+
        // was processed by the answering node's NATS server.
        interest,
        // Answered once the node's br_regs watcher has seen `revision` or a later one.
        directory,
    };
    Kind kind = Kind::interest;
    std::uint64_t barrier = 0;   // the asking node's number for this barrier
    std::uint64_t revision = 0;  // directory only
};

// "i <barrier>" or "d <barrier> <revision>".
std::string encode_sync_request(const SyncRequest& request);
std::optional<SyncRequest> parse_sync_request(std::string_view body);
// "<barrier> <answering node, 16 hex digits>".
std::string encode_sync_answer(std::uint64_t barrier, std::uint64_t node);
std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_sync_answer(std::string_view body);

// An answer to send: its subject (the asking node's inbox) and body.
struct SyncAnswer {
    std::string subject, body;
};

// Directory questions waiting for the watcher to reach their revision, keyed by it.
// Used under the caller's lock (the NATS delivery thread adds, the watcher thread
// settles).
class RevisionWaiters {
public:
    explicit RevisionWaiters(std::size_t max_waiting) : max_waiting_(max_waiting) {}
    // `answer`, to send now when `revision` is reached already; otherwise kept
    // (nullopt), or refused (nullopt, `refused` set) at max_waiting: the asking node
    // then waits for its sync_timeout_ms.
    std::optional<SyncAnswer> ask(std::uint64_t revision, SyncAnswer answer, bool& refused);
    // The watcher saw `revision`: the answers of every question up to it.
    std::vector<SyncAnswer> reached(std::uint64_t revision);
    std::uint64_t seen() const { return seen_; }
    std::size_t waiting() const { return waiting_.size(); }

private:
    std::size_t max_waiting_;
    std::uint64_t seen_ = 0;
    std::multimap<std::uint64_t, SyncAnswer> waiting_;
};

}  // namespace blindrouter::cluster
