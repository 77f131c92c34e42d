#pragma once
// Remote procedure calls. A plain synchronous object like the broker.
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "blindrouter/core/delivery.hpp"
#include "blindrouter/core/ids.hpp"
#include "blindrouter/core/uri_index.hpp"
#include "blindrouter/core/peer.hpp"
#include "blindrouter/hooks/message_hook.hpp"
#include "blindrouter/wamp/message.hpp"

namespace blindrouter::core {

// How a shared registration picks its callee (WAMP spec, shared registration;
// Crossbar's invoke option).
enum class InvokePolicy : unsigned char { single, roundrobin, random, first, last };
std::optional<InvokePolicy> invoke_policy_from_name(std::string_view name);

class Dealer {
public:
    // `hooks` add what plugins forward from CALL/YIELD/ERROR options into the details built from them.
    Dealer(IdGenerator& ids, const hooks::HookChain& hooks) : ids_(ids), hooks_(hooks) {}

    // REGISTER whose URI and authorization the realm has checked.
    RouteResult register_procedure(const SharedPeer& callee, const wamp::Message& reg, wamp::MatchPolicy match,
                                   InvokePolicy policy = InvokePolicy::single);
    RouteResult unregister(const PeerInfo& callee, const wamp::Message& unregister);
    // CALL whose URI and authorization the realm has checked. `disclose_caller`
    // comes from the caller's permission (Crossbar's disclose.caller).
    // `acceptable` tells which callees of a shared registration can take this call
    // (the realm asks its hooks); the policy picks among those, and among all
    // callees when none can.
    using CalleeFilter = std::function<bool(const PeerInfo& callee)>;
    RouteResult call(const PeerInfo& caller, const wamp::Message& call, bool disclose_caller,
                     const CalleeFilter& acceptable = {});
    RouteResult yield(const PeerInfo& callee, const wamp::Message& yield);
    // ERROR for an INVOCATION, travelling back to the caller.
    RouteResult invocation_error(const PeerInfo& callee, const wamp::Message& error);
    // The session left: its registrations go, its callers get wamp.error.canceled,
    // and results for its own calls are dropped when they arrive.
    RouteResult detach(SessionId session);
    // The procedure an invocation of `callee` was for; "" when there is no such invocation.
    std::string_view invoked_procedure(RequestId invocation, SessionId callee) const;
    // Forgets an invocation of `callee` whose outcome the realm delivers otherwise (an
    // error in its place); a later YIELD for it is then a protocol violation. Returns
    // the waiting caller and its CALL request id, when a caller still waits.
    struct WaitingCaller {
        SessionId session;
        RequestId call_request;
    };
    std::optional<WaitingCaller> abandon(RequestId invocation, SessionId callee);

    std::size_t registration_count() const { return registrations_.size(); }
    std::size_t pending_invocation_count() const { return invocations_.size(); }

private:
    struct Registration {
        RegistrationId id;
        std::string uri;
        wamp::MatchPolicy match;
        InvokePolicy policy;
        std::vector<SharedPeer> callees;  // in order of registration
        std::size_t next = 0;             // roundrobin position
    };

    const SharedPeer& pick_callee(Registration& registration, const CalleeFilter& acceptable);
    // Removes `callee` from a registration; the registration goes with its last callee.
    void remove_callee(Registration& registration, SessionId callee);
    struct Invocation {
        SessionId caller;  // 0 once the caller has left
        RequestId call_request;
        SessionId callee;
        std::string procedure;
    };

    IdGenerator& ids_;
    const hooks::HookChain& hooks_;
    UriIndex<RegistrationId> index_;
    std::unordered_map<RegistrationId, Registration> registrations_;
    std::unordered_map<RequestId, Invocation> invocations_;  // by INVOCATION request id
    // Registrations by callee, so that leaving costs the callee's own registrations only.
    std::unordered_map<SessionId, std::vector<RegistrationId>> by_callee_;
    std::mt19937_64 random_{std::random_device{}()};
};

}  // namespace blindrouter::core
