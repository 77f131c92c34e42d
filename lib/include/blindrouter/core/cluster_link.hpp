#pragma once
// The seam between a realm shared by several router nodes and the cluster that
// carries it (cluster/, over NATS). The realm stays single-threaded and knows
// nothing of NATS: it tells the link what it accepted and what it subscribes to,
// and the link hands it publications from other nodes (Realm::publish_remote).
#include <string_view>

#include "blindrouter/core/ids.hpp"
#include "blindrouter/core/peer.hpp"
#include "blindrouter/hooks/message_hook.hpp"
#include "blindrouter/wamp/message.hpp"
#include "blindrouter/wamp/uri.hpp"

namespace blindrouter::core {

class ClusterLink {
public:
    virtual ~ClusterLink() = default;
    // A PUBLISH of a local session, authorized and admitted by the hooks, before any
    // local delivery: a refusal (wamp.error.payload_size_exceeded) keeps it from every
    // receiver, wherever they are, so the answer does not depend on where they are.
    virtual hooks::Verdict forward_publication(const PeerInfo& publisher, const wamp::Message& publish,
                                               bool disclose_publisher) = 0;
    // The broker made or removed a subscription: the node's interest in other nodes'
    // events. Told synchronously, before SUBSCRIBED goes out.
    virtual void subscription_created(std::string_view uri, wamp::MatchPolicy match) = 0;
    virtual void subscription_deleted(std::string_view uri, wamp::MatchPolicy match) = 0;
    // The testaments of `session` changed (Testaments::list has them now; none when
    // it left): the cluster keeps a copy, published by another node if this one dies.
    virtual void testaments_changed(SessionId /*session*/) {}
};

}  // namespace blindrouter::core
