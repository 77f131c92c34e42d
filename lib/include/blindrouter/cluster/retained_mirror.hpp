#pragma once
// This node's copy of JetStream KV br_ret (SCALE-OUT.md §2.9), kept by a watcher
// thread, so that a SUBSCRIBE with get_retained reads memory instead of creating a
// JetStream consumer for each subscription (a consumer is a proposal to the meta
// leader and a raft election: tens of milliseconds on an idle loopback cluster, past
// the read's timeout under load, on the router thread all the while).
//
// Freshness: the reader asks the stream leader for the stream's last sequence and
// waits until the watcher has applied it (wait_for). A retained PUBLISH acknowledged
// before the SUBSCRIBE arrived has a lower sequence, so the subscriber finds it on
// every node, as it would reading through the leader.
#include <boost/multi_index/member.hpp>
#include <boost/multi_index/ordered_index.hpp>
#include <boost/multi_index_container.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace blindrouter::cluster {

class RetainedMirror {
public:
    struct Entry {
        std::string key;
        std::string value;
    };

    // On the watcher thread. `revision` is the entry's stream sequence; a delete or
    // purge marker removes its key.
    void apply(std::string key, std::string value, std::uint64_t revision, bool deleted);
    // The watcher's initial values have all arrived: every message up to `last`
    // (the stream's last sequence, read before the watcher was created) is applied,
    // also when the newest of them were deleted or purged and so never delivered.
    void caught_up(std::uint64_t last);

    // On the reading thread: waits until every message up to `last` is applied, at
    // most until `deadline`; false on timeout.
    bool wait_for(std::uint64_t last, std::chrono::steady_clock::time_point deadline);
    // Forgets what the stream no longer holds: entries below `first`, the stream's
    // first sequence (a purge of the whole stream delivers no marker). Called on
    // every read: costs O(log n) plus the entries it removes.
    void drop_below(std::uint64_t first);
    // Copies of at most `limit` entries whose key matches the NATS subject `filter`
    // (subject.hpp, subject_matches), in key order; `more` set when others match too.
    std::vector<Entry> matching(std::string_view filter, std::size_t limit, bool& more) const;

    std::size_t size() const;
    std::uint64_t applied() const;

private:
    struct Kept {
        std::string key;
        std::string value;
        std::uint64_t revision = 0;
    };
    struct by_key {};
    struct by_revision {};
    // By key for reads (in key order, from a filter's literal head), by revision for
    // drop_below: one container, so the two can never disagree.
    using Entries = boost::multi_index::multi_index_container<
        Kept, boost::multi_index::indexed_by<
                  boost::multi_index::ordered_unique<boost::multi_index::tag<by_key>,
                                                     boost::multi_index::member<Kept, std::string, &Kept::key>,
                                                     std::less<>>,
                  boost::multi_index::ordered_non_unique<
                      boost::multi_index::tag<by_revision>,
                      boost::multi_index::member<Kept, std::uint64_t, &Kept::revision>>>>;

    mutable std::mutex mutex_;
    std::condition_variable changed_;
    Entries entries_;
    std::uint64_t applied_ = 0;
};

}  // namespace blindrouter::cluster
