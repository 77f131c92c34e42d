#pragma once
// The seam between a realm shared by several router nodes and the cluster that
// carries it (cluster/, over NATS). The realm stays single-threaded and knows
// nothing of NATS: it tells the link what it accepted and what it subscribes to,
// and the link hands it publications from other nodes (Realm::publish_remote).
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "blindrouter/core/ids.hpp"
#include "blindrouter/core/observation.hpp"
#include "blindrouter/core/peer.hpp"
#include "blindrouter/core/service_session.hpp"
#include "blindrouter/hooks/message_hook.hpp"
#include "blindrouter/wamp/message.hpp"
#include "blindrouter/wamp/uri.hpp"

namespace blindrouter::core {

enum class InvokePolicy : unsigned char;

// Where a local session's CALL goes (ClusterLink::route_call).
struct CallRoute {
    bool taken = false;           // the link sent it to another node or answered it
    SessionId local_target = 0;   // else: the local callee the cluster's policy picked (0: the dealer picks)
    std::optional<std::string> protocol_violation;  // the CALL reuses the request id of a remote call
};

// A retained event kept by the cluster (ClusterLink::retained_events): the PUBLISH
// as its publisher sent it, decoded for its routing fields only.
struct ClusterRetained {
    PeerInfo publisher;
    wamp::Message publish;
    bool disclose_publisher = false;  // the publisher's role's decision, on its node
};

// A registration as the cluster's registration directory names it.
struct RegistrationMatch {
    std::string uri;  // empty: none matches
    wamp::MatchPolicy match = wamp::MatchPolicy::exact;
};

// The other live nodes' answers to a meta procedure (ClusterLink::gather_meta).
struct MetaAnswers {
    std::vector<CallOutcome> answers;  // in arrival order
    std::size_t missing = 0;           // live nodes that did not answer within the bound
};

class ClusterLink {
public:
    virtual ~ClusterLink() = default;
    // A PUBLISH of a local session, authorized and admitted by the hooks, before any
    // local delivery: a refusal (wamp.error.payload_size_exceeded) keeps it from every
    // receiver, wherever they are, so the answer does not depend on where they are.
    // `publication`: the id it has on this node, which the other nodes' EVENTs carry too.
    virtual hooks::Verdict forward_publication(const PeerInfo& publisher, const wamp::Message& publish,
                                               bool disclose_publisher, PublicationId publication) = 0;
    // The broker made or removed a subscription: the node's interest in other nodes'
    // events. Told synchronously, before SUBSCRIBED goes out.
    virtual void subscription_created(std::string_view uri, wamp::MatchPolicy match) = 0;
    virtual void subscription_deleted(std::string_view uri, wamp::MatchPolicy match) = 0;
    // The testaments of `session` changed (Testaments::list has them now; none when
    // it left): the cluster keeps a copy, published by another node if this one dies.
    virtual void testaments_changed(SessionId /*session*/) {}

    // Retained events across nodes (SCALE-OUT.md §2.9). A retained PUBLISH of a
    // session here that the broker kept within the realm's retention limits: the
    // cluster keeps it as its topic's last, for every node's new subscribers.
    virtual void publication_retained(const PeerInfo& /*publisher*/, const wamp::Message& /*publish*/,
                                      bool /*disclose_publisher*/) {}
    // For a new get_retained subscription (`uri`, `match`), after its interest was
    // told: the retained events the cluster keeps whose topic it may match (the
    // broker checks the match). nullopt when the cluster cannot say (then the node's
    // own retained events stand in).
    virtual std::optional<std::vector<ClusterRetained>> retained_events(std::string_view /*uri*/,
                                                                        wamp::MatchPolicy /*match*/) {
        return std::nullopt;
    }

    // RPC across nodes (SCALE-OUT.md §2.7); by default calls stay on this node.
    // A REGISTER checked by the realm, before the dealer: the cluster-wide refusal,
    // when another node holds the procedure in a way that excludes this one.
    virtual hooks::Verdict claim_registration(const PeerInfo& /*callee*/, std::string_view /*uri*/,
                                              wamp::MatchPolicy /*match*/, InvokePolicy /*policy*/) {
        return hooks::Verdict::pass();
    }
    // A REGISTER that claim_registration passed and the dealer then refused (the
    // session's registration limit): what the claim took in the cluster is given back.
    virtual void release_registration(std::string_view /*uri*/, wamp::MatchPolicy /*match*/) {}
    // What the dealer changed, for a client session's registrations.
    virtual void registration_changed(const ObservationChange& /*change*/) {}
    // A CALL of a local session, authorized and admitted by the hooks.
    virtual CallRoute route_call(const SharedPeer& /*caller*/, const wamp::Message& /*call*/) { return {}; }
    // A CANCEL of a local session: true when it was for a call on another node.
    virtual bool forward_cancel(const PeerInfo& /*caller*/, const wamp::Message& /*cancel*/) { return false; }
    // A local session left the realm.
    virtual void session_left(SessionId /*session*/) {}

    // The meta API across nodes (SCALE-OUT.md §2.9): asks every other live node to
    // answer `procedure` for what it holds itself (core::answer_meta_locally), and
    // gives `done` what came within the bound, on the router thread, possibly before
    // this returns. False when not asked (the bound of pending gathers is reached):
    // `done` never runs then.
    virtual bool gather_meta(const std::string& /*procedure*/, const CallArguments& /*arguments*/,
                             const InvocationDetails& /*details*/, std::function<void(MetaAnswers)> done) {
        done(MetaAnswers{});
        return true;
    }
    // The registration a CALL of `procedure` reaches anywhere in the cluster (exact >
    // longest prefix > wildcard over every node's); nullopt when the link has no
    // registration directory (then this node's dealer answers).
    virtual std::optional<RegistrationMatch> best_registration(std::string_view /*procedure*/) { return std::nullopt; }
};

}  // namespace blindrouter::core
