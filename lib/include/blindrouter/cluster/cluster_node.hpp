#pragma once
// This router process as one node of a cluster that shares realms over NATS
// (SCALE-OUT.md §2). What is served across nodes today: publish & subscribe
// (exact, prefix, wildcard), byte-exact, in publisher order; calls and
// registrations (cluster/rpc.hpp); node liveness with death verdicts (§2.8),
// testaments kept in JetStream KV br_testament so that a node's testaments are
// published by a janitor node when it dies, retained events in KV br_ret, and
// the meta API by scatter-gather on br.<realm>.meta (cluster/meta_gather.hpp).
// Everything else on a clustered realm stays per node (README, "Clustered realms
// (NATS)").
//
// Threads: libnats delivers on its one global delivery thread (pool of 1, so a
// node subscribed to two topics cannot deliver them out of order, §2.6); that
// thread only copies a message out of the NATS buffer (nats-server#7622 is what
// happens otherwise) and posts it to the router's io_context. The control
// connection's subscriptions (heartbeats, br.n.<node>.ctl) have threads of their own
// and post the same way. Realms, liveness and JetStream KV calls (synchronous, at
// most 1 s each) are on the router thread only.
#include <nats/nats.h>

#include <atomic>
#include <thread>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "blindrouter/cluster/cluster_config.hpp"
#include "blindrouter/cluster/envelope.hpp"
#include "blindrouter/cluster/liveness.hpp"
#include "blindrouter/cluster/retained_mirror.hpp"
#include "blindrouter/cluster/rpc.hpp"
#include "blindrouter/cluster/sync.hpp"
#include "blindrouter/core/router.hpp"

namespace blindrouter::cluster {

class ClusterNode {
public:
    // Connects to NATS and links the configured realms of `router`; throws
    // std::runtime_error when a realm does not exist or no NATS server answers.
    // At most one per process (its destructor waits for libnats' threads to end).
    ClusterNode(boost::asio::io_context& io, core::Router& router, ClusterConfig config);
    ~ClusterNode();
    ClusterNode(const ClusterNode&) = delete;
    ClusterNode& operator=(const ClusterNode&) = delete;

    // Random per process start: a restarted process is a new node (§2.1).
    std::uint64_t node_id() const { return node_id_; }
    // The largest WAMP message a clustered realm accepts from a publisher now.
    std::size_t max_frame_size() const;
    // A death verdict on `node`, on the router thread: RealmRpc::node_dead for every
    // clustered realm (calls waiting on it end with wamp.error.canceled).
    void node_dead(std::uint64_t node);

    // Called on the router thread once per death verdict on another node: it missed
    // heartbeat_misses heartbeats, or came back as a new incarnation after this node
    // had not yet noticed it gone. Not called when this node finds itself declared
    // dead: it closes its own sessions on clustered realms instead.
    void on_node_dead(std::function<void(std::uint64_t node_id)> observer);
    // The nodes heard from within the verdict time, this one included, in id order.
    std::vector<std::uint64_t> live_nodes() const { return liveness_.live_nodes(); }

    class RealmLink;

private:
    struct Heartbeat {
        std::uint64_t node = 0, incarnation = 0;
        std::string config_hash;
        Liveness::Clock::time_point sent, received;  // sent: the sender's clock, for its own echo
    };
    static void on_heartbeat(natsConnection* connection, natsSubscription* subscription, natsMsg* message,
                             void* closure);
    static void on_control(natsConnection* connection, natsSubscription* subscription, natsMsg* message,
                           void* closure);
    natsConnection* connect(natsOptions* options, const char* role);
    void open_control();
    // Opens (creating it if no node has) the JetStream KV bucket `kv` on the control
    // connection; throws when JetStream gives none within 10 s.
    kvStore* open_bucket(kvConfig& kv);
    // On the router thread, every heartbeat interval.
    void tick();
    void send_heartbeat();
    void heard(const Heartbeat& heartbeat);
    void declare_dead(const Liveness::Verdict& verdict);
    // This node was declared dead by the others (frozen, or cut off from NATS).
    void rejoin();
    // Publishes and deletes the testaments `dead` left in br_testament; each key is
    // claimed first (compare-and-set), so no testament is published twice.
    void publish_testaments_of(const Liveness::Verdict& dead);
    // The janitor's work after a verdict, if this node takes the janitor lock for it.
    void clean_up_after(const Liveness::Verdict& dead);
    std::string testament_key(std::uint64_t incarnation, core::SessionId session) const;
    void store_testaments(RealmLink& link, core::SessionId session);
    // Retained events in JetStream KV br_ret (SCALE-OUT.md §2.9), on the router thread,
    // each waiting at most kv_request_timeout_ms; neither is tried without NATS.
    void store_retained(const std::string& key, const std::string& record);
    // Read from this node's copy (retained_mirror_), once it holds what the stream
    // leader says the stream holds (a direct get may come from a replica that lags, §2.7).
    std::optional<std::vector<core::ClusterRetained>> read_retained(std::string_view realm, std::string_view uri,
                                                                    wamp::MatchPolicy match);

    static void on_message(natsConnection* connection, natsSubscription* subscription, natsMsg* message,
                           void* closure);
    static void on_error(natsConnection* connection, natsSubscription* subscription, natsStatus status,
                         void* closure);
    static void on_disconnected(natsConnection* connection, void* closure);
    static void on_reconnected(natsConnection* connection, void* closure);
    // On the NATS thread: copy out, bound, hand to the router thread.
    void receive(RealmLink& link, natsMsg* message);
    static HeaderLookup headers_of(natsMsg* message);
    // The body copied out of `message` (which is destroyed) and counted against the
    // inbound bounds; nullptr, counted and logged, when `fault` is set or a bound is
    // reached. The router thread calls settle_inbound once it took the body.
    std::shared_ptr<const std::string> take_inbound(natsMsg* message, const std::string* fault);
    void settle_inbound(std::size_t size);
    // On the router thread: a copy of a publication already seen (overlapping
    // subscriptions deliver one per subscription) is dropped by its Br-Seq.
    bool first_copy(const Envelope& envelope);
    void publish(const std::string& subject, const Envelope& envelope, const std::string& frame);
    // Conn R and the registration directory (SCALE-OUT.md §2.7).
    void start_rpc(natsOptions* events_options);
    static void on_rpc_message(natsConnection* connection, natsSubscription* subscription, natsMsg* message,
                               void* closure);
    void receive_rpc(natsMsg* message);
    // On its own thread: the directory's changes, handed to the router thread.
    void watch_directory();
    RealmLink* link_for(std::string_view realm) const;
    // The barrier before SUBSCRIBED / REGISTERED (cluster/sync.hpp): on the router
    // thread, waits for every other live node's answer, sync_timeout_ms at most.
    void open_sync();
    void sync_with_peers(SyncRequest request);
    // On the NATS delivery thread: another node's question, answered from there
    // (never through the router thread, which may itself wait in a barrier).
    static void on_sync(natsConnection* connection, natsSubscription* subscription, natsMsg* message,
                        void* closure);
    void send_sync_answer(const SyncAnswer& answer);

    boost::asio::io_context& io_;
    ClusterConfig config_;
    std::uint64_t node_id_;
    std::string node_text_;
    natsConnection* events_ = nullptr;  // conn E (§2.1): no_echo, publishes and receives events
    std::uint64_t sequence_ = 0;        // Br-Seq of the last publication sent on events_
    std::unordered_map<std::uint64_t, std::uint64_t> last_seen_;  // origin node → its last Br-Seq here
    std::atomic<std::size_t> inbound_messages_{0}, inbound_bytes_{0};
    std::atomic<std::uint64_t> inbound_dropped_{0};
    std::uint64_t publish_failures_ = 0;
    std::vector<std::unique_ptr<RealmLink>> links_;
    core::Router& router_;
    natsConnection* rpc_ = nullptr;  // conn R (§2.1): calls and their answers, SendAsap
    std::vector<natsSubscription*> rpc_subscriptions_;
    jsCtx* rpc_jetstream_ = nullptr;  // on conn R, for br_regs
    kvStore* registrations_ = nullptr;  // bucket br_regs
    kvWatcher* watcher_ = nullptr;
    std::thread watch_thread_;
    natsSubscription* sync_questions_ = nullptr;  // br.n.<node>.sync on conn E
    natsSubscription* sync_answers_ = nullptr;    // br.n.<node>.synced on conn E, read by the barrier
    std::uint64_t barriers_ = 0, barrier_timeouts_ = 0;
    std::atomic<std::uint64_t> sync_refusals_{0};
    std::mutex directory_mutex_;        // the NATS delivery thread asks, the watcher thread settles
    // Other nodes' barriers waiting on this node's watcher; one more is not answered
    // (logged) and its node waits out its sync_timeout_ms (README).
    static constexpr std::size_t max_waiting_directory_syncs = 4096;
    RevisionWaiters directory_waiters_{max_waiting_directory_syncs};  // under directory_mutex_

    natsConnection* control_ = nullptr;  // conn C (§2.1): heartbeats, pings, verdicts, KV; echoes
    natsSubscription* heartbeats_ = nullptr;
    natsSubscription* control_inbox_ = nullptr;  // br.n.<node>.ctl
    jsCtx* jetstream_ = nullptr;
    kvStore* testament_store_ = nullptr;
    kvStore* retained_store_ = nullptr;  // br_ret
    // The stream's first and last sequence, from its leader; nullopt when it does not
    // answer within kv_request_timeout_ms.
    std::optional<std::pair<std::uint64_t, std::uint64_t>> retained_stream_state();
    // On its own thread: br_ret's changes into retained_mirror_.
    void watch_retained(std::uint64_t caught_up_at);
    RetainedMirror retained_mirror_;
    kvWatcher* retained_watcher_ = nullptr;
    std::thread retained_thread_;
    std::uint64_t retained_failures_ = 0;
    Liveness liveness_;
    boost::asio::steady_timer ticker_;
    Liveness::Clock::time_point started_, last_tick_;
    std::uint64_t ticks_ = 0;
    std::vector<std::function<void(std::uint64_t)>> dead_observers_;
    std::uint64_t testament_failures_ = 0;
    std::vector<std::string> pending_deletes_;  // br_testament keys to delete once NATS is back

    friend class RealmLink;
};

}  // namespace blindrouter::cluster
