#pragma once
// This router process as one node of a cluster that shares realms over NATS
// (SCALE-OUT.md §2). What is served across nodes today: publish & subscribe
// (exact, prefix, wildcard), byte-exact, in publisher order, and calls and
// registrations (cluster/rpc.hpp). Everything else on a clustered realm stays per
// node (README, "Clustered realms (NATS)").
//
// Threads: libnats delivers on its one global delivery thread (pool of 1, so a
// node subscribed to two topics cannot deliver them out of order, §2.6); that
// thread only copies a message out of the NATS buffer (nats-server#7622 is what
// happens otherwise) and posts it to the router's io_context. Realms are touched
// on the router thread only.
#include <nats/nats.h>

#include <atomic>
#include <thread>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "blindrouter/cluster/cluster_config.hpp"
#include "blindrouter/cluster/envelope.hpp"
#include "blindrouter/cluster/rpc.hpp"
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

    class RealmLink;

private:
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

    friend class RealmLink;
};

}  // namespace blindrouter::cluster
