#pragma once
// Remote procedure calls. A plain synchronous object like the broker.
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "blindrouter/config/node_config.hpp"
#include "blindrouter/core/delivery.hpp"
#include "blindrouter/core/ids.hpp"
#include "blindrouter/core/metrics.hpp"
#include "blindrouter/core/observation.hpp"
#include "blindrouter/core/uri_index.hpp"
#include "blindrouter/core/peer.hpp"
#include "blindrouter/hooks/message_hook.hpp"
#include "blindrouter/core/outbound_gate.hpp"
#include "blindrouter/core/timers.hpp"
#include "blindrouter/wamp/messages.hpp"

namespace blindrouter::core {

// How a shared registration picks its callee (WAMP spec, shared registration;
// Crossbar's invoke option).
enum class InvokePolicy : unsigned char { single, roundrobin, random, first, last };
std::optional<InvokePolicy> invoke_policy_from_name(std::string_view name);
std::string_view invoke_policy_name(InvokePolicy policy);

class Dealer {
public:
    // `hooks` add what plugins forward from CALL/YIELD/ERROR options into the details built from them.
    // With `timers`, CALL.Options.timeout is enforced: when an invocation's deadline
    // passes, `expired(invocation)` is called, and the owner calls expire() with it.
    // `limits`: registrations, pending calls and invocations per session (the
    // router's own sessions are not limited).
    Dealer(IdGenerator& ids, const hooks::HookChain& hooks, TimerService* timers = nullptr,
           std::function<void(RequestId)> expired = {}, const config::RealmLimits& limits = {});

    // REGISTER whose URI and authorization the realm has checked.
    RouteResult register_procedure(const SharedPeer& callee, wamp::Register reg, wamp::MatchPolicy match,
                                   InvokePolicy policy = InvokePolicy::single);
    RouteResult unregister(const PeerInfo& callee, wamp::Unregister unregister);
    // CALL whose URI and authorization the realm has checked. `disclose_caller`
    // comes from the caller's permission (Crossbar's disclose.caller). `gate` says
    // which callees may take the INVOCATION: a shared registration's policy picks
    // among those (shared/E2E.md §3: a matching callee is chosen first), and the
    // caller gets the refusal when none may. Nothing is recorded for a refused call.
    // Progressive call invocations (WAMP spec, advanced profile; Crossbar has none):
    // a CALL with `progress: true` opens the call's input, and CALLs with the same
    // request id go to the same callee on the same INVOCATION request id, in order,
    // until one without `progress` closes it. Their options are those of the first
    // CALL, except `progress`. A continuation for a call that already ended is
    // dropped; reusing the request id of a call whose input is closed is a protocol
    // violation.
    // `target` (a cluster's pick, cluster/rpc.hpp): the only callee the first CALL may
    // go to; 0: the registration's policy picks.
    RouteResult call(const SharedPeer& caller, wamp::Call call, bool disclose_caller, OutboundGate& gate,
                     SessionId target = 0);
    // WAMP spec, request id verification: the reason a CALL from `caller` reusing the
    // request id of one of its calls in progress is a protocol violation (that call
    // takes no more input, or took it for another procedure); nothing otherwise. The
    // realm asks before anything may refuse the CALL, since an ERROR for that request
    // id would be a second answer to the call in progress.
    std::optional<std::string> misused_request(SessionId caller, const wamp::Call& call) const;
    // The text of the ERROR (wamp.error.limit_reached) for a new CALL of `caller` when
    // it already waits on max_pending_calls_per_caller calls; nothing otherwise. Calls
    // it waits on at other nodes of a clustered realm count too (below).
    std::optional<std::string> over_call_limit(const PeerInfo& caller) const;
    // A call of `caller` that this node sent to a callee on another node (cluster/rpc)
    // began or ended, so that the realm's per-caller limit holds across nodes.
    void call_elsewhere_began(SessionId caller);
    void call_elsewhere_ended(SessionId caller);
    // A CALL that continues an open progressive call of `caller` was refused before
    // reaching the dealer (authorization, hooks): the call ends, as the caller got an
    // ERROR for it, and the callee gets INTERRUPT killnowait.
    RouteResult end_progressive_call(SessionId caller, RequestId call_request);
    // YIELD, travelling back to the caller as RESULT. A RESULT the gate refuses ends
    // the call: the callee and the caller both get the refusal.
    RouteResult yield(const PeerInfo& callee, wamp::Yield yield, OutboundGate& gate);
    // ERROR for an INVOCATION, travelling back to the caller, gated like YIELD.
    RouteResult invocation_error(const PeerInfo& callee, wamp::Error error, OutboundGate& gate);
    // CANCEL (WAMP spec, call canceling) for a call of `caller`. Modes: `skip` (the
    // caller gets wamp.error.canceled now, the callee nothing), `kill` (INTERRUPT;
    // the caller gets wamp.error.canceled once the callee answers), `killnowait`
    // (INTERRUPT, and wamp.error.canceled now). A callee that did not announce
    // call_canceling is treated as `skip` (spec, and Crossbar). No mode: as
    // Crossbar, killnowait with an INTERRUPT that names no mode. A CANCEL for no
    // pending call, or a second one, is ignored (Crossbar).
    RouteResult cancel(const PeerInfo& caller, wamp::Cancel cancel);
    // An invocation's CALL.Options.timeout passed (WAMP spec, call timeout): the
    // caller gets wamp.error.timeout, the callee INTERRUPT killnowait when it
    // announced call_canceling, and its late answer is dropped.
    RouteResult expire(RequestId invocation);
    bool enforces_timeouts() const { return timers_ != nullptr; }
    // The session left: its registrations go, its callers get wamp.error.canceled,
    // its own calls are interrupted (killnowait, for callees that announced
    // call_canceling) and their answers dropped when they arrive.
    RouteResult detach(SessionId session);
    // The procedure an invocation of `callee` was for; "" when there is no such invocation.
    std::string_view invoked_procedure(RequestId invocation, SessionId callee);
    // Ends an invocation of `callee` for its caller, whose outcome the realm
    // delivers otherwise (an error in its place); the callee's later YIELDs or
    // ERROR for it are dropped. Returns the waiting caller and its CALL request id,
    // when a caller still waits.
    struct WaitingCaller {
        SessionId session;
        RequestId call_request;
    };
    std::optional<WaitingCaller> abandon(RequestId invocation, SessionId callee);

    std::size_t registration_count() const { return registrations_.size(); }
    std::size_t pending_invocation_count() const { return invocations_.size(); }
    // Sessions with pending calls, invocations or ended progressive calls on record.
    std::size_t sessions_with_load() const { return load_.size(); }

    struct Registration {
        RegistrationId id;
        std::string uri;
        wamp::MatchPolicy match;
        InvokePolicy policy;
        std::chrono::system_clock::time_point created;
        std::vector<SharedPeer> callees;  // in order of registration
        std::size_t next = 0;             // roundrobin position
    };

    // What the meta API reads (core/meta_api.hpp).
    const Registration* find(RegistrationId id) const;
    const RegistrationId* lookup(std::string_view uri, wamp::MatchPolicy match) const {
        return index_.find(uri, match);
    }
    const RegistrationId* best_match(std::string_view procedure) const { return index_.best_match(procedure); }
    template <class F>
    void for_each_registration(F&& visit) const {
        for (const auto& [id, registration] : registrations_) visit(registration);
    }
    // The registrations of `callee`; nullptr when it has none.
    const std::vector<RegistrationId>* registrations_of(SessionId callee) const;
    // Registration revocation (Crossbar's removeCallee, wamp.registration.remove_callee):
    // unregisters `callee`, who learns it from UNREGISTERED with request 0 and details
    // {registration, reason} when it announced registration_revocation. Its pending
    // invocations run on, as after an UNREGISTER. False when it is not registered there.
    bool revoke(RegistrationId registration, SessionId callee, const std::optional<std::string>& reason,
                RouteResult& result);
    // Told of every registration created, joined, left and deleted.
    void set_listener(ObservationListener listener) { listener_ = std::move(listener); }
    // Where call durations go (RouterMetrics::times_calls); null: not timed.
    void set_metrics(RouterMetrics* metrics) { metrics_ = metrics; }
    // From now on, new ones get the id every node of a cluster gives them
    // (observation_id) rather than a random one: the realm is clustered.
    void use_observation_ids(std::string realm) { id_realm_ = std::move(realm); }

private:
    // A progressive call whose caller may still send CALLs for it: what every
    // INVOCATION of it repeats (spec: the first CALL's options hold for the whole call).
    struct OpenInput {
        RegistrationId registration;
        wamp::Dict details;
    };
    // A pending invocation. Once its call ended for the caller (the caller left,
    // canceled it, or the router refused an answer) `caller` is null and the record
    // stays until the callee's final answer, which is dropped: a callee is never
    // aborted for answering a call the router gave up on.
    struct Invocation {
        SharedPeer caller;
        RequestId call_request;
        SharedPeer callee;
        std::string procedure;
        bool kill_requested = false;  // CANCEL kill: the caller's ERROR waits for the callee's answer
        std::unique_ptr<TimerHandle> deadline;  // CALL.Options.timeout; cancelled with the record
        std::unique_ptr<OpenInput> input;       // progressive call invocations, while the input is open
        TimerService::Clock::time_point called{};  // when calls are timed (RouterMetrics::times_calls)
    };
    using Invocations = std::unordered_map<RequestId, Invocation>;
    // What a session holds in the dealer, against its limits.
    struct SessionLoad {
        std::size_t calls = 0;        // calls it waits on as caller
        std::size_t calls_elsewhere = 0;  // of those, routed to other nodes (not in calls)
        std::size_t invocations = 0;  // invocation records it must answer as callee
        // Request ids of its progressive calls that ended while their input was open:
        // their late continuations are dropped (spec, "Continuations on Completed
        // Calls"), until the closing CALL arrives or the session leaves.
        std::unordered_set<RequestId> ended_inputs;
    };
    // (caller session, CALL request) → INVOCATION request, while the caller waits.
    struct CallKey {
        SessionId caller;
        RequestId request;
        bool operator==(const CallKey&) const = default;
    };
    struct CallKeyHash {
        std::size_t operator()(const CallKey& k) const { return std::hash<std::uint64_t>{}(k.caller * 31 + k.request); }
    };

    // Picks among the callees that may take the call (refused_by); nullptr, with the
    // refusal in `refusal`, when none may.
    const SharedPeer* pick_callee(Registration& registration, OutboundGate& gate, bool progressive,
                                  const hooks::Verdict*& refusal, SessionId target);
    // Why `callee` may not take an INVOCATION: the gate's verdict, a progressive call
    // it cannot follow, or its limit of pending invocations; nullptr when it may.
    const hooks::Verdict* refused_by(const PeerInfo& callee, OutboundGate& gate, bool progressive);
    static std::optional<std::string> misused(const Invocation& invocation, const wamp::Call& call);
    // A CALL with the request id of the caller's pending call `invocation_id`.
    RouteResult continue_call(const PeerInfo& caller, wamp::Call call, bool progress, RequestId invocation_id,
                              OutboundGate& gate);
    // A CALL for no pending call: an INVOCATION to a callee, recorded.
    RouteResult start_call(const SharedPeer& caller, wamp::Call call, bool disclose_caller, OutboundGate& gate,
                           SessionId target);
    // Removes `callee` from a registration; the registration goes with its last callee.
    void remove_callee(Registration& registration, SessionId callee);
    // remove_callee, and the registration leaves the callee's list.
    void unregister_callee(Registration& registration, SessionId callee);
    void tell(ObservationChange::Kind kind, SessionId session, const Registration& registration) const;
    // The callee's answer (YIELD or ERROR) goes to the waiting caller as `outgoing`
    // unless the gate refuses it; `final`: the invocation ends with it.
    RouteResult answer_caller(const PeerInfo& callee, const wamp::Message& answer,
                              Invocations::iterator invocation, bool final,
                              OutboundGate& gate, codec::SharedOutbound outgoing);
    // The pending invocation `invocation` of `callee`; end() when there is none (or
    // it belongs to another callee, who may not answer it).
    Invocations::iterator find_invocation(RequestId invocation, SessionId callee);
    static RouteResult unknown_invocation(std::string_view kind, RequestId request);
    // Ends the call for its caller; the callee's answers are dropped from now on.
    void end_for_caller(Invocation& invocation);
    // Removes the record of a finished invocation; returns the next record.
    Invocations::iterator erase_invocation(Invocations::iterator invocation);
    // Forgets the load entry of a session that holds nothing any more.
    void settle(SessionId session);
    bool limited(const PeerInfo& peer) const { return !peer.router_internal; }
    // An answer of the callee for an invocation whose call ended for its caller:
    // dropped; `final` removes the record. Sends the held-back ERROR of a CANCEL kill.
    RouteResult answer_after_end(Invocations::iterator invocation, bool final,
                                 std::string_view kind);

    // INTERRUPT killnowait to the callee of an invocation whose call ended, if it can take one.
    void interrupt(RouteResult& result, RequestId invocation_id, const Invocation& invocation);

    IdGenerator& ids_;
    std::optional<std::string> id_realm_;  // use_observation_ids
    const hooks::HookChain& hooks_;
    TimerService* timers_;
    std::function<void(RequestId)> expired_;
    config::RealmLimits limits_;
    hooks::Verdict no_progressive_invocations_, callee_at_limit_, target_gone_;
    UriIndex<RegistrationId> index_;
    std::unordered_map<RegistrationId, Registration> registrations_;
    Invocations invocations_;  // by INVOCATION request id
    // Registrations by callee, so that leaving costs the callee's own registrations only.
    std::unordered_map<SessionId, std::vector<RegistrationId>> by_callee_;
    std::unordered_map<CallKey, RequestId, CallKeyHash> by_call_;
    std::unordered_map<SessionId, SessionLoad> load_;
    ObservationListener listener_;
    RouterMetrics* metrics_ = nullptr;
    std::mt19937_64 random_{std::random_device{}()};
};

}  // namespace blindrouter::core
