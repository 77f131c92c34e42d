#pragma once
// The meta API's scatter-gather across nodes (SCALE-OUT.md §2.9): a question goes
// to every node on br.<realm>.meta, and the asking node waits for the answers of
// the nodes live when it asked, or for the bound, whichever comes first. This is
// the waiting part, with no NATS in it; the router thread never blocks on it.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "blindrouter/core/cluster_link.hpp"
#include "blindrouter/core/timers.hpp"

namespace blindrouter::cluster {

class MetaGathers {
public:
    using Done = std::function<void(core::MetaAnswers)>;
    MetaGathers(core::TimerService& timers, std::chrono::milliseconds bound, std::size_t max_pending)
        : timers_(timers), bound_(bound), max_pending_(max_pending) {}

    // A gather awaiting each of `nodes`; its id, or nullopt when max_pending gathers
    // wait already (`done` is dropped then). With no node to wait for, `done` runs
    // before this returns, and the id is 0.
    std::optional<std::uint64_t> start(std::vector<std::uint64_t> nodes, Done done);
    // `node`'s answer; the gather ends when it was the last one awaited. An answer
    // nobody waits for (late, repeated, unknown) is dropped.
    void answer(std::uint64_t gather, std::uint64_t node, core::CallOutcome outcome);
    // A death verdict: no gather waits for `node` any more, nor counts it as missing.
    void node_dead(std::uint64_t node);
    std::size_t pending() const { return pending_.size(); }

private:
    struct Gather {
        std::vector<std::uint64_t> awaited;
        core::MetaAnswers answers;
        Done done;
        std::unique_ptr<core::TimerHandle> deadline;
    };
    using Pending = std::unordered_map<std::uint64_t, Gather>;
    // Ends the gather at `it`; its `done` runs after it left the table.
    void finish(Pending::iterator it);

    core::TimerService& timers_;
    std::chrono::milliseconds bound_;
    std::size_t max_pending_;
    std::uint64_t last_id_ = 0;
    Pending pending_;
};

// A question as it crosses: a CALL frame (MsgPack) whose request id is the gather's,
// with the caller's session, authid and authrole in its options; an answer is a
// YIELD or an ERROR of that request id. Arguments are the router's own, never a
// client payload.
std::string encode_meta_question(std::uint64_t gather, const std::string& procedure,
                                 const core::CallArguments& arguments, const core::InvocationDetails& details);
struct MetaQuestion {
    std::uint64_t gather = 0;
    std::string procedure;
    core::CallArguments arguments;
    core::InvocationDetails details;
};
std::optional<MetaQuestion> decode_meta_question(const std::string& frame);
std::string encode_meta_answer(std::uint64_t gather, const core::CallOutcome& outcome);
// The gather id and the outcome; nullopt for a frame that is neither YIELD nor ERROR.
std::optional<std::pair<std::uint64_t, core::CallOutcome>> decode_meta_answer(const std::string& frame);

}  // namespace blindrouter::cluster
