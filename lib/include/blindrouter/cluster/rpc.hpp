#pragma once
// Calls and registrations across the nodes of a cluster (SCALE-OUT.md §2.7).
//
// The directory is the JetStream KV bucket br_regs: a head key per (realm, uri,
// match), created with kvStore_Create so that two nodes cannot both create a
// `single` registration, and a member key per (node, session) registered there.
// Every node watches the bucket into a RegistrationView; a CALL is routed from that
// view alone, never from KV.
//
// A CALL whose pick is a callee on another node crosses as its caller's frame,
// byte-exact, to br.n.<node>.call. There a RemoteCaller, a session that stands for
// the caller on the callee's node, hands it to the realm as a local CALL aimed at
// that callee: authorization, hooks, serializer_mismatch, progressive results,
// cancel, timeout and a callee leaving mid-call all run through the dealer's own
// code. What the dealer sends that session (RESULT, ERROR) goes back to
// br.n.<caller node>.rep in the caller's serializer, and the caller's node passes
// it on unchanged.
//
// Everything here runs on the router thread; RpcBus is how it reaches NATS.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "blindrouter/cluster/envelope.hpp"
#include "blindrouter/core/cluster_link.hpp"
#include "blindrouter/core/dealer.hpp"
#include "blindrouter/core/timers.hpp"
#include "blindrouter/core/uri_index.hpp"
#include "blindrouter/hooks/message_hook.hpp"

namespace blindrouter::core {
class Realm;
class Router;
class Session;
}  // namespace blindrouter::core

namespace blindrouter::cluster {

// ---- The directory: keys and values of bucket br_regs ----

inline constexpr std::string_view registrations_bucket = "br_regs";

// A head key names no node; a member key names the node and callee session.
struct DirectoryKey {
    std::string realm;
    std::string uri;
    wamp::MatchPolicy match = wamp::MatchPolicy::exact;
    std::uint64_t node = 0;
    core::SessionId session = 0;
};

// KV keys allow only [-/_=.A-Za-z0-9]: realm and URI are written as lowercase hex,
// one token each. Head: <realm>.<uri>.<match>; member: head.<node>.<session>.
std::string head_key(std::string_view realm, std::string_view uri, wamp::MatchPolicy match);
std::string member_key(std::string_view realm, std::string_view uri, wamp::MatchPolicy match, std::uint64_t node,
                       core::SessionId session);
std::optional<DirectoryKey> parse_directory_key(std::string_view key);
// Values: "1 <policy>" for a member, "1 <policy> <registration id>" for a head, the
// id being H(realm, match, uri) mod 2^53 so that every node names it alike.
std::string member_value(core::InvokePolicy policy);
std::string head_value(std::string_view realm, std::string_view uri, wamp::MatchPolicy match,
                       core::InvokePolicy policy);
std::optional<core::InvokePolicy> directory_policy(std::string_view value);

// Every node's registrations of one realm, as the directory holds them: this node's
// own members are entered at once when it writes them, the others' from the watch.
class RegistrationView {
public:
    struct Member {
        std::uint64_t node = 0;
        core::SessionId session = 0;
        std::uint64_t revision = 0;  // the member key's KV revision: the cluster-wide order of registration
        bool operator==(const Member& other) const { return node == other.node && session == other.session; }
    };
    struct Entry {
        std::string uri;
        wamp::MatchPolicy match = wamp::MatchPolicy::exact;
        core::InvokePolicy policy = core::InvokePolicy::single;
        std::vector<Member> members;  // by revision
        std::size_t next = 0;         // roundrobin position, this node's own (README)
    };

    // A member key put (again); an entry is made with its first member.
    void add(std::string_view uri, wamp::MatchPolicy match, core::InvokePolicy policy, Member member);
    void remove(std::string_view uri, wamp::MatchPolicy match, std::uint64_t node, core::SessionId session);
    // A node is dead: every member it had goes.
    void remove_node(std::uint64_t node);
    // (uri, match, session) of each member of `node`.
    std::vector<std::tuple<std::string, wamp::MatchPolicy, core::SessionId>> members_of(std::uint64_t node) const;
    // Exact > longest prefix > wildcard, as the dealer matches (core/uri_index.hpp).
    Entry* best_match(std::string_view procedure);
    Entry* find(std::string_view uri, wamp::MatchPolicy match);
    // The member a CALL goes to by the entry's policy, among those not in `tried`
    // (members that turned out stale); nullopt when none is left.
    std::optional<Member> pick(Entry& entry, const std::vector<Member>& tried);
    std::size_t size() const { return entries_.size(); }

private:
    void erase_if_empty(std::uint64_t id);

    core::UriIndex<std::uint64_t> index_;
    std::unordered_map<std::uint64_t, Entry> entries_;
    std::uint64_t next_id_ = 1;
    std::mt19937_64 random_{std::random_device{}()};
};

// ---- What crosses with an RPC frame (SCALE-OUT.md §2.4), as NATS headers ----

enum class RpcKind : unsigned char {
    call,       // the first CALL of a call, for callee session `target`
    more,       // a further CALL of a progressive call (progressive call invocations)
    cancel,     // the caller's CANCEL
    left,       // the caller session left its node: no frame
    answer,     // RESULT or ERROR for the caller, in its serializer
    no_target,  // `target` no longer holds a matching registration: no frame
};

struct RpcEnvelope {
    RpcKind kind = RpcKind::call;
    wamp::Serializer serializer = wamp::Serializer::json;  // Br-Ser: the caller's serializer
    std::uint64_t node = 0;                                // Br-Node: the node that sent this
    core::SessionId session = 0;                           // Br-Sess: the caller
    core::RequestId request = 0;                           // Br-Req: the caller's CALL request id
    core::SessionId target = 0;                            // Br-Target: the callee session (call)
    std::string authid, authrole;                          // Br-Authid, Br-Authrole (call, more)
    // Br-Feat: the caller's announced "caller" features, which the dealer and the
    // payload-transparency hook read on the callee's node (at most 32 of 64 bytes).
    std::vector<std::string> caller_features;
};

Headers rpc_headers(const RpcEnvelope& envelope);
std::optional<RpcEnvelope> read_rpc_envelope(const HeaderLookup& header, std::string& fault);

// Subjects of node `node` on conn R.
std::string call_subject(std::uint64_t node);
std::string reply_subject(std::uint64_t node);
// Where a CALL's "no responders" status comes back (it carries no headers):
// br.n.<node>.nr.<realm token>.<call key>.
std::string no_responders_subject(std::uint64_t node, std::string_view realm, std::uint64_t call_key);

// ---- The NATS side, as RealmRpc needs it ----

class RpcBus {
public:
    virtual ~RpcBus() = default;
    // A core NATS message on conn R; `reply` empty for none. False when not sent.
    virtual bool send(const std::string& subject, const std::string& reply, const Headers& headers,
                      std::string_view frame) = 0;
    enum class Created : unsigned char { created, exists, failed };
    // kvStore_Create: `existing` is the value found when the key exists.
    virtual Created create_key(const std::string& key, const std::string& value, std::string& existing) = 0;
    // kvStore_Put: the revision, or nullopt when it failed.
    virtual std::optional<std::uint64_t> put_key(const std::string& key, const std::string& value) = 0;
    virtual void delete_key(const std::string& key) = 0;
    // The largest frame that may cross (NATS max_payload minus the header budget).
    virtual std::size_t max_frame_size() const = 0;
};

struct RpcLimits {
    // Calls from this node's sessions waiting on one other node; one more is
    // refused with wamp.error.limit_reached.
    std::size_t max_pending_calls_per_node = 16384;
    // Sessions of other nodes that have calls in flight to callees of this realm here
    // (RemoteCaller); a CALL from one more is answered wamp.error.limit_reached.
    std::size_t max_remote_callers = 16384;
};

class RemoteCaller;

// One clustered realm's RPC across nodes.
class RealmRpc {
public:
    RealmRpc(core::Router& router, core::Realm& realm, std::uint64_t node, RpcBus& bus, RpcLimits limits = {});
    ~RealmRpc();
    RealmRpc(const RealmRpc&) = delete;
    RealmRpc& operator=(const RealmRpc&) = delete;

    // ClusterLink's RPC side (core/cluster_link.hpp).
    hooks::Verdict claim_registration(const core::PeerInfo& callee, std::string_view uri, wamp::MatchPolicy match,
                                      core::InvokePolicy policy);
    void release_registration(std::string_view uri, wamp::MatchPolicy match);
    void registration_changed(const core::ObservationChange& change);
    core::CallRoute route_call(const core::SharedPeer& caller, const wamp::Message& call);
    bool forward_cancel(const core::PeerInfo& caller, const wamp::Message& cancel);
    void session_left(core::SessionId session);

    // What arrives from NATS, on the router thread.
    void receive_request(const RpcEnvelope& envelope, const std::shared_ptr<const std::string>& frame);
    void receive_answer(const RpcEnvelope& envelope, const std::shared_ptr<const std::string>& frame);
    void no_responders(std::uint64_t call_key);
    void directory_changed(const DirectoryKey& key, std::string_view value, std::uint64_t revision, bool deleted);

    // A death verdict on `node` (ClusterNode::on_node_dead): every call waiting on it
    // ends with wamp.error.canceled, as Crossbar's dealer ends the calls of a callee
    // that leaves mid-call (it never retries: the invocation may have run), its
    // members leave the view, and its callers' invocations here are interrupted as
    // when a local caller leaves.
    void node_dead(std::uint64_t node);

    RegistrationView& view() { return view_; }
    std::size_t pending_calls() const { return pending_.size(); }
    std::size_t remote_callers() const { return callers_.size(); }

private:
    friend class RemoteCaller;
    struct PendingCall {
        core::SessionId caller = 0;
        core::RequestId request = 0;
        wamp::Serializer serializer = wamp::Serializer::json;
        RegistrationView::Member target;
        std::string uri;  // the entry it was routed by, for another pick
        wamp::MatchPolicy match = wamp::MatchPolicy::exact;
        std::vector<RegistrationView::Member> tried;
        RpcEnvelope envelope;
        // The first CALL, kept until a first answer for a retry on another member.
        std::shared_ptr<const std::string> frame;
        bool input_open = false;  // progressive call invocations: more CALLs may follow
        bool answered = false;
        // CALL.Options.timeout, kept here too: a callee node that froze or died
        // cannot send the caller its wamp.error.timeout.
        std::unique_ptr<core::TimerHandle> deadline;
    };
    using CallKey = std::pair<core::SessionId, core::RequestId>;

    // Sends a pending call's first CALL to its target; false when it could not go.
    bool send_call(std::uint64_t key, PendingCall& call);
    // A stale target: the next member, or wamp.error.no_such_procedure.
    void retry(std::uint64_t key);
    void fail(std::uint64_t key, std::string_view error_uri, std::string text);
    // The call's timeout passed on this node: wamp.error.timeout, and CANCEL
    // killnowait to the callee's node, which interrupts the callee as the dealer would.
    void expire(std::uint64_t key);
    void erase(std::uint64_t key);
    void to_caller(core::SessionId caller, codec::SharedOutbound message);
    // From a RemoteCaller: an answer for the caller's node.
    void answer(const RemoteCaller& caller, const codec::SharedOutbound& message);
    // The envelope of this node's reply to `request` of another node.
    RpcEnvelope reply_to(const RpcEnvelope& request, RpcKind kind) const;
    void send_no_target(const RpcEnvelope& request);
    void answer_error(const RpcEnvelope& request, std::string_view error_uri, std::string text);

    core::Router& router_;
    core::Realm& realm_;
    std::uint64_t node_;
    RpcBus& bus_;
    RpcLimits limits_;
    RegistrationView view_;
    // Caller side: calls of this node's sessions in flight on other nodes.
    std::unordered_map<std::uint64_t, PendingCall> pending_;
    std::map<CallKey, std::uint64_t> by_call_;
    std::unordered_map<std::uint64_t, std::size_t> pending_per_node_;
    std::unordered_map<core::SessionId, std::set<std::uint64_t>> nodes_called_;  // told when the session leaves
    std::uint64_t next_key_ = 0;
    // Callee side: the sessions standing for other nodes' callers, by (node, session).
    std::map<std::pair<std::uint64_t, core::SessionId>, std::unique_ptr<RemoteCaller>> callers_;
    std::uint64_t refused_ = 0;
};

// core::ClusterLink's RPC side, forwarded to the realm's RealmRpc.
class RpcClusterLink : public core::ClusterLink {
public:
    virtual RealmRpc& rpc() = 0;
    hooks::Verdict claim_registration(const core::PeerInfo& callee, std::string_view uri, wamp::MatchPolicy match,
                                      core::InvokePolicy policy) override {
        return rpc().claim_registration(callee, uri, match, policy);
    }
    void release_registration(std::string_view uri, wamp::MatchPolicy match) override {
        rpc().release_registration(uri, match);
    }
    void registration_changed(const core::ObservationChange& change) override { rpc().registration_changed(change); }
    core::CallRoute route_call(const core::SharedPeer& caller, const wamp::Message& call) override {
        return rpc().route_call(caller, call);
    }
    bool forward_cancel(const core::PeerInfo& caller, const wamp::Message& cancel) override {
        return rpc().forward_cancel(caller, cancel);
    }
    void session_left(core::SessionId session) override { rpc().session_left(session); }
};

}  // namespace blindrouter::cluster
