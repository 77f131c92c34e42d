#pragma once
// Remote procedure calls. A plain synchronous object like the broker.
#include <string>
#include <unordered_map>

#include "blindrouter/core/delivery.hpp"
#include "blindrouter/core/ids.hpp"
#include "blindrouter/core/pattern_index.hpp"
#include "blindrouter/core/peer.hpp"
#include "blindrouter/wamp/message.hpp"

namespace blindrouter::core {

class Dealer {
public:
    explicit Dealer(IdGenerator& ids) : ids_(ids) {}

    // REGISTER whose URI and authorization the realm has checked.
    RouteResult register_procedure(const SharedPeer& callee, const wamp::Message& reg, wamp::MatchPolicy match);
    RouteResult unregister(const PeerInfo& callee, const wamp::Message& unregister);
    // CALL whose URI and authorization the realm has checked. `disclose_caller`
    // comes from the caller's permission (Crossbar's disclose.caller).
    RouteResult call(const PeerInfo& caller, const wamp::Message& call, bool disclose_caller);
    RouteResult yield(const PeerInfo& callee, const wamp::Message& yield);
    // ERROR for an INVOCATION, travelling back to the caller.
    RouteResult invocation_error(const PeerInfo& callee, const wamp::Message& error);
    // The session left: its registrations go, its callers get wamp.error.canceled,
    // and results for its own calls are dropped when they arrive.
    RouteResult detach(SessionId session);

    std::size_t registration_count() const { return registrations_.size(); }
    std::size_t pending_invocation_count() const { return invocations_.size(); }

private:
    struct Registration {
        RegistrationId id;
        std::string uri;
        wamp::MatchPolicy match;
        SharedPeer callee;
    };
    struct Invocation {
        SessionId caller;  // 0 once the caller has left
        RequestId call_request;
        SessionId callee;
    };

    IdGenerator& ids_;
    PatternIndex<RegistrationId> index_;
    std::unordered_map<RegistrationId, Registration> registrations_;
    std::unordered_map<RequestId, Invocation> invocations_;  // by INVOCATION request id
};

}  // namespace blindrouter::core
