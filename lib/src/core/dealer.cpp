#include "blindrouter/core/dealer.hpp"

#include <algorithm>
#include <vector>

#include "blindrouter/core/options.hpp"
#include "blindrouter/core/reply.hpp"
#include "blindrouter/wamp/error_uri.hpp"

namespace blindrouter::core {
using wamp::MessageType;
using wamp::Value;

std::optional<InvokePolicy> invoke_policy_from_name(std::string_view name) {
    if (name == "single") return InvokePolicy::single;
    if (name == "roundrobin") return InvokePolicy::roundrobin;
    if (name == "random") return InvokePolicy::random;
    if (name == "first") return InvokePolicy::first;
    if (name == "last") return InvokePolicy::last;
    return std::nullopt;
}

Dealer::Dealer(IdGenerator& ids, const hooks::HookChain& hooks, TimerService* timers,
               std::function<void(RequestId)> expired, const config::RealmLimits& limits)
    : ids_(ids),
      hooks_(hooks),
      timers_(timers),
      expired_(std::move(expired)),
      limits_(limits),
      // WAMP spec, progressive call invocations: a callee that cannot follow them
      // (or cannot be interrupted) makes the call an application error.
      no_progressive_invocations_(hooks::Verdict::error(
          std::string(wamp::error_uri::feature_not_supported),
          "the callee does not support progressive call invocations (and call canceling)")),
      callee_at_limit_(hooks::Verdict::error(std::string(wamp::error_uri::limit_reached),
                                             "the callee has " + std::to_string(limits.max_pending_invocations_per_callee) +
                                                 " invocations pending, the realm's limit")),
      target_gone_(hooks::Verdict::error(std::string(wamp::error_uri::no_such_procedure),
                                         "the callee chosen for the call is no longer registered")) {}
std::string_view invoke_policy_name(InvokePolicy policy) {
    switch (policy) {
        case InvokePolicy::single: return "single";
        case InvokePolicy::roundrobin: return "roundrobin";
        case InvokePolicy::random: return "random";
        case InvokePolicy::first: return "first";
        case InvokePolicy::last: return "last";
    }
    return "single";
}

void Dealer::tell(ObservationChange::Kind kind, SessionId session, const Registration& registration) const {
    if (listener_)
        listener_(ObservationChange{kind, session,
                                    ObservationInfo{registration.id, registration.uri, registration.match,
                                                    registration.created,
                                                    std::string(invoke_policy_name(registration.policy))}});
}

const Dealer::Registration* Dealer::find(RegistrationId id) const {
    auto it = registrations_.find(id);
    return it == registrations_.end() ? nullptr : &it->second;
}

const std::vector<RegistrationId>* Dealer::registrations_of(SessionId callee) const {
    auto it = by_callee_.find(callee);
    return it == by_callee_.end() ? nullptr : &it->second;
}

bool Dealer::revoke(RegistrationId registration_id, SessionId callee, const std::optional<std::string>& reason,
                    RouteResult& result) {
    auto it = registrations_.find(registration_id);
    if (it == registrations_.end()) return false;
    const auto& callees = it->second.callees;
    auto found = std::find_if(callees.begin(), callees.end(),
                              [&](const SharedPeer& p) { return p->session_id == callee; });
    if (found == callees.end()) return false;
    const SharedPeer peer = *found;
    unregister_callee(it->second, callee);
    if (peer->announces("callee", "registration_revocation"))
        result.send(callee, reply::registration_revoked(registration_id, reason));
    return true;
}

void Dealer::unregister_callee(Registration& registration, SessionId callee) {
    auto& mine = by_callee_[callee];
    mine.erase(std::remove(mine.begin(), mine.end(), registration.id), mine.end());
    if (mine.empty()) by_callee_.erase(callee);
    remove_callee(registration, callee);
}

RouteResult Dealer::register_procedure(const SharedPeer& callee, wamp::Register reg, wamp::MatchPolicy match,
                                       InvokePolicy policy) {
    RouteResult result;
    const auto& uri = reg.procedure();
    auto request = reg.request();
    if (auto mine = by_callee_.find(callee->session_id);
        limited(*callee) && mine != by_callee_.end() && mine->second.size() >= limits_.max_registrations_per_session) {
        result.send(callee->session_id,
                    reply::error(MessageType::reg, request, wamp::error_uri::limit_reached,
                                 "the session holds " + std::to_string(mine->second.size()) +
                                     " registrations, the realm's limit"));
        return result;
    }
    if (const auto* existing = index_.find(uri, match)) {
        auto& registration = registrations_.at(*existing);
        bool already = std::any_of(registration.callees.begin(), registration.callees.end(),
                                   [&](const SharedPeer& p) { return p->session_id == callee->session_id; });
        // Crossbar: a procedure is shared only when every callee asks for the same
        // non-single policy; a second "single" registration is refused.
        if (already || registration.policy == InvokePolicy::single || registration.policy != policy) {
            result.send(callee->session_id,
                        reply::error(MessageType::reg, request, wamp::error_uri::procedure_already_exists,
                                     already || registration.policy == policy
                                         ? "register for already registered procedure '" + uri + "'"
                                         : "register for already registered procedure '" + uri +
                                               "' with a different invocation policy"));
            return result;
        }
        registration.callees.push_back(callee);
        by_callee_[callee->session_id].push_back(registration.id);
        tell(ObservationChange::Kind::attached, callee->session_id, registration);
        result.send(callee->session_id, reply::registered(request, registration.id));
        return result;
    }
    auto id = id_realm_ ? free_observation_id(*id_realm_, uri, match, registrations_) : ids_.next_free(registrations_);
    index_.insert(uri, match, id);
    const auto& registration =
        registrations_.emplace(id, Registration{id, uri, match, policy, std::chrono::system_clock::now(), {callee}, 0})
            .first->second;
    by_callee_[callee->session_id].push_back(id);
    tell(ObservationChange::Kind::created, callee->session_id, registration);
    tell(ObservationChange::Kind::attached, callee->session_id, registration);
    result.send(callee->session_id, reply::registered(request, id));
    return result;
}

void Dealer::remove_callee(Registration& registration, SessionId callee) {
    auto& callees = registration.callees;
    auto kept = std::remove_if(callees.begin(), callees.end(),
                               [&](const SharedPeer& p) { return p->session_id == callee; });
    if (kept == callees.end()) return;
    callees.erase(kept, callees.end());
    tell(ObservationChange::Kind::detached, callee, registration);
    if (callees.empty()) {
        tell(ObservationChange::Kind::deleted, callee, registration);
        index_.erase(registration.uri, registration.match);
        registrations_.erase(registration.id);
    }
}

RouteResult Dealer::unregister(const PeerInfo& callee, wamp::Unregister unregister) {
    RouteResult result;
    auto request = unregister.request();
    auto it = registrations_.find(unregister.registration());
    bool registered = it != registrations_.end() &&
                      std::any_of(it->second.callees.begin(), it->second.callees.end(),
                                  [&](const SharedPeer& p) { return p->session_id == callee.session_id; });
    if (!registered) {
        result.send(callee.session_id,
                    reply::error(MessageType::unregister, request, wamp::error_uri::no_such_registration));
        return result;
    }
    unregister_callee(it->second, callee.session_id);
    result.send(callee.session_id, reply::unregistered(request));
    return result;
}

const hooks::Verdict* Dealer::refused_by(const PeerInfo& callee, OutboundGate& gate, bool progressive) {
    if (const auto& verdict = gate.verdict(callee, MessageType::invocation); !verdict.passes()) return &verdict;
    if (progressive && !(callee.announces("callee", "progressive_call_invocations") &&
                         callee.announces("callee", "call_canceling")))
        return &no_progressive_invocations_;
    if (limited(callee)) {
        auto load = load_.find(callee.session_id);
        if (load != load_.end() && load->second.invocations >= limits_.max_pending_invocations_per_callee)
            return &callee_at_limit_;
    }
    return nullptr;
}

const SharedPeer* Dealer::pick_callee(Registration& registration, OutboundGate& gate, bool progressive,
                                      const hooks::Verdict*& refusal, SessionId target) {
    const auto& all = registration.callees;
    if (target) {
        auto it = std::find_if(all.begin(), all.end(), [&](const SharedPeer& p) { return p->session_id == target; });
        refusal = it == all.end() ? &target_gone_ : refused_by(**it, gate, progressive);
        return refusal ? nullptr : &*it;
    }
    // Most registrations have one callee: no candidate list then.
    if (all.size() == 1) {
        refusal = refused_by(*all.front(), gate, progressive);
        return refusal ? nullptr : &all.front();
    }
    std::vector<std::size_t> candidates;
    candidates.reserve(all.size());
    for (std::size_t i = 0; i < all.size(); ++i) {
        const auto* refused = refused_by(*all[i], gate, progressive);
        if (!refused) candidates.push_back(i);
        else if (!refusal) refusal = refused;
    }
    if (candidates.empty()) return nullptr;
    switch (registration.policy) {
        case InvokePolicy::single:
        case InvokePolicy::first:
            return &all[candidates.front()];
        case InvokePolicy::last:
            return &all[candidates.back()];
        case InvokePolicy::random:
            return &all[candidates[std::uniform_int_distribution<std::size_t>(0, candidates.size() - 1)(random_)]];
        case InvokePolicy::roundrobin: {
            // The first candidate at or after the round-robin position.
            auto start = registration.next % all.size();
            std::size_t chosen = candidates.front();
            for (auto i : candidates)
                if (i >= start) {
                    chosen = i;
                    break;
                }
            registration.next = chosen + 1;
            return &all[chosen];
        }
    }
    return &all[candidates.front()];
}

RouteResult Dealer::call(const SharedPeer& caller, wamp::Call call, bool disclose_caller, OutboundGate& gate,
                         SessionId target) {
    OptionReader options(call.options());
    bool progress = options.flag("progress", false);
    if (options.fault()) {
        // Refused like a chunk the realm refuses: an open progressive call ends with it.
        auto result = end_progressive_call(caller->session_id, call.request());
        result.send(caller->session_id, reply::error(MessageType::call, call.request(),
                                                     wamp::error_uri::invalid_argument, *options.fault()));
        return result;
    }
    RouteResult result;
    // WAMP spec, progressive call invocations: from a caller that did not announce
    // the feature, `progress` is a protocol error.
    if (progress && !caller->announces("caller", "progressive_call_invocations")) {
        result.protocol_violation = "CALL.Options.progress from a caller that did not announce "
                                    "progressive_call_invocations";
        return result;
    }
    if (auto pending = by_call_.find(CallKey{caller->session_id, call.request()}); pending != by_call_.end())
        return continue_call(*caller, call, progress, pending->second, gate);
    if (auto load = load_.find(caller->session_id); load != load_.end()) {
        // A continuation of a progressive call that already ended (the callee answered
        // or left, a cancel or timeout): dropped, the caller has or will have its
        // outcome (spec, "Continuations on Completed Calls").
        auto& ended = load->second.ended_inputs;
        if (auto it = ended.find(call.request()); it != ended.end()) {
            if (!progress) ended.erase(it);
            settle(caller->session_id);
            result.dropped = "CALL continuing request " + std::to_string(call.request()) + ", whose call already ended";
            return result;
        }
    }
    if (auto over = over_call_limit(*caller)) {
        result.send(caller->session_id,
                    reply::error(MessageType::call, call.request(), wamp::error_uri::limit_reached, *over));
        return result;
    }
    return start_call(caller, call, disclose_caller, gate, target);
}

std::optional<std::string> Dealer::over_call_limit(const PeerInfo& caller) const {
    if (!limited(caller)) return std::nullopt;
    auto load = load_.find(caller.session_id);
    auto calls = load == load_.end() ? 0 : load->second.calls + load->second.calls_elsewhere;
    if (calls < limits_.max_pending_calls_per_caller) return std::nullopt;
    return "the session waits on " + std::to_string(calls) + " calls, the realm's limit";
}

void Dealer::call_elsewhere_began(SessionId caller) { ++load_[caller].calls_elsewhere; }

void Dealer::call_elsewhere_ended(SessionId caller) {
    auto load = load_.find(caller);
    // Gone with its session already (remove_session).
    if (load == load_.end() || load->second.calls_elsewhere == 0) return;
    --load->second.calls_elsewhere;
    settle(caller);
}

RouteResult Dealer::start_call(const SharedPeer& caller, wamp::Call call, bool disclose_caller, OutboundGate& gate,
                               SessionId target) {
    RouteResult result;
    const auto& procedure = call.procedure();
    auto request = call.request();
    OptionReader options(call.options());
    bool progress = options.flag("progress", false);
    bool disclose = options.flag("disclose_me", false) || disclose_caller;
    bool receive_progress = options.flag("receive_progress", false);
    auto timeout = options.count("timeout");
    if (options.fault()) {
        result.send(caller->session_id,
                    reply::error(MessageType::call, request, wamp::error_uri::invalid_argument, *options.fault()));
        return result;
    }
    const auto* registration_id = index_.best_match(procedure);
    if (!registration_id) {
        result.send(caller->session_id, reply::error(MessageType::call, request, wamp::error_uri::no_such_procedure,
                                                     "no callee registered for procedure <" + procedure + ">"));
        return result;
    }
    auto& registration = registrations_.at(*registration_id);
    const hooks::Verdict* refusal = nullptr;
    const auto* picked = pick_callee(registration, gate, progress, refusal, target);
    if (!picked) {
        result.send(caller->session_id, reply::error(MessageType::call, request, *refusal));
        return result;
    }
    const auto callee = *picked;

    wamp::Dict details;
    bool forwards_timeout = timeout && *timeout > 0;
    // One allocation for what follows, hooks forwarding at most the options.
    if (auto most = (registration.match != wamp::MatchPolicy::exact) + receive_progress + forwards_timeout +
                    3 * disclose + progress + (hooks_.empty() ? 0 : call.options().size());
        most > 0)
        details.reserve(most);
    if (registration.match != wamp::MatchPolicy::exact) details.emplace_back("procedure", Value{procedure});
    if (receive_progress) details.emplace_back("receive_progress", Value{true});
    // Crossbar forwards the caller's timeout to the callee as it stands.
    if (forwards_timeout) details.emplace_back("timeout", Value{*timeout});
    if (disclose) {
        details.emplace_back("caller", Value{caller->session_id});
        details.emplace_back("caller_authid", Value{caller->authid});
        details.emplace_back("caller_authrole", Value{caller->authrole});
    }
    std::unique_ptr<OpenInput> input;
    if (progress) {
        input = std::make_unique<OpenInput>(OpenInput{registration.id, details});
        details.emplace_back("progress", Value{true});
    }
    if (auto carrier = wamp::Carrier::of(call.message())) hooks_.forward_details(*carrier, details, &gate.notes());
    auto invocation_id = ids_.next_free(invocations_);
    auto invocation = codec::make_outbound(wamp::Invocation::build(invocation_id, registration.id, std::move(details))
                                               .arguments_from(call.message())
                                               .take());
    // Checked before the invocation is recorded: a caller never waits for an
    // INVOCATION its callee cannot be sent.
    if (const auto& unencodable = gate.encodable(*callee, *invocation); !unencodable.passes()) {
        result.send(caller->session_id, reply::error(MessageType::call, request, unencodable));
        return result;
    }
    auto& recorded = invocations_.emplace(invocation_id, Invocation{caller, request, callee, procedure, false, nullptr,
                                                                    std::move(input)})
                         .first->second;
    by_call_[CallKey{caller->session_id, request}] = invocation_id;
    ++load_[caller->session_id].calls;
    ++load_[callee->session_id].invocations;
    if (metrics_ && metrics_->times_calls() && timers_) recorded.called = timers_->now();
    // Milliseconds, as the spec says (Crossbar reads them as seconds, a bug we do not copy).
    if (timeout && *timeout > 0 && timers_)
        recorded.deadline = timers_->schedule(std::chrono::milliseconds(*timeout),
                                              [this, invocation_id] { expired_(invocation_id); });
    result.send(callee->session_id, std::move(invocation));
    return result;
}

RouteResult Dealer::continue_call(const PeerInfo& caller, wamp::Call call, bool progress, RequestId invocation_id,
                                  OutboundGate& gate) {
    RouteResult result;
    auto& invocation = invocations_.at(invocation_id);
    if (auto misuse = misused(invocation, call)) {
        result.protocol_violation = std::move(misuse);
        return result;
    }
    if (invocation.kill_requested) {
        // CANCEL kill: the callee was told to stop; the caller awaits its answer.
        if (!progress) invocation.input.reset();
        result.dropped = "CALL continuing request " + std::to_string(call.request()) + ", canceled";
        return result;
    }
    // Only `progress` counts in a continuation (spec: options frozen at the first
    // CALL); what plugins forward is per chunk, since each chunk is its own payload.
    auto details = invocation.input->details;
    if (progress) details.emplace_back("progress", Value{true});
    if (auto carrier = wamp::Carrier::of(call.message())) hooks_.forward_details(*carrier, details, &gate.notes());
    auto outgoing = codec::make_outbound(
        wamp::Invocation::build(invocation_id, invocation.input->registration, std::move(details))
            .arguments_from(call.message())
            .take());
    if (!progress) invocation.input.reset();
    if (const auto& refusal = gate.check(*invocation.callee, *outgoing); !refusal.passes()) {
        // A chunk the callee cannot be sent ends the call: the caller gets the refusal,
        // the callee, missing part of its input, an INTERRUPT.
        result.send(caller.session_id, reply::error(MessageType::call, call.request(), refusal));
        interrupt(result, invocation_id, invocation);
        end_for_caller(invocation);
        return result;
    }
    result.send(invocation.callee->session_id, std::move(outgoing));
    return result;
}

std::optional<std::string> Dealer::misused(const Invocation& invocation, const wamp::Call& call) {
    // WAMP spec, request id verification: the id of a call in progress may be reused
    // only to continue its open progressive input, for the same procedure.
    if (invocation.input && invocation.procedure == call.procedure()) return std::nullopt;
    return "CALL with request id " + std::to_string(call.request()) +
           (invocation.input ? ", of a progressive call to another procedure"
                             : ", of a call in progress that takes no more input");
}

std::optional<std::string> Dealer::misused_request(SessionId caller, const wamp::Call& call) const {
    auto pending = by_call_.find(CallKey{caller, call.request()});
    if (pending == by_call_.end()) return std::nullopt;
    return misused(invocations_.at(pending->second), call);
}

RouteResult Dealer::end_progressive_call(SessionId caller, RequestId call_request) {
    RouteResult result;
    auto pending = by_call_.find(CallKey{caller, call_request});
    if (pending == by_call_.end()) return result;
    auto invocation_id = pending->second;
    auto& invocation = invocations_.at(invocation_id);
    if (!invocation.input) return result;
    interrupt(result, invocation_id, invocation);
    end_for_caller(invocation);
    return result;
}

void Dealer::end_for_caller(Invocation& invocation) {
    invocation.deadline.reset();
    if (!invocation.caller) return;
    auto caller = invocation.caller->session_id;
    by_call_.erase(CallKey{caller, invocation.call_request});
    auto& load = load_[caller];
    --load.calls;
    if (invocation.input) {
        // Bounded like the calls themselves: past that, a late continuation would
        // start a new call instead of being dropped.
        if (load.ended_inputs.size() < limits_.max_pending_calls_per_caller)
            load.ended_inputs.insert(invocation.call_request);
        invocation.input.reset();
    }
    invocation.caller.reset();
    settle(caller);
}

Dealer::Invocations::iterator Dealer::erase_invocation(Invocations::iterator invocation) {
    end_for_caller(invocation->second);
    auto callee = invocation->second.callee->session_id;
    auto next = invocations_.erase(invocation);
    --load_[callee].invocations;
    settle(callee);
    return next;
}

void Dealer::settle(SessionId session) {
    auto it = load_.find(session);
    if (it != load_.end() && it->second.calls == 0 && it->second.calls_elsewhere == 0 && it->second.invocations == 0 &&
        it->second.ended_inputs.empty())
        load_.erase(it);
}

RouteResult Dealer::answer_after_end(Invocations::iterator invocation, bool final,
                                     std::string_view kind) {
    RouteResult result;
    result.dropped = std::string(kind) + " for invocation request " + std::to_string(invocation->first) +
                     ", whose call already ended";
    if (final) erase_invocation(invocation);
    return result;
}

RouteResult Dealer::answer_caller(const PeerInfo& callee, const wamp::Message& answer,
                                  Invocations::iterator invocation, bool final,
                                  OutboundGate& gate, codec::SharedOutbound outgoing) {
    RouteResult result;
    auto invocation_id = invocation->first;
    const auto caller = invocation->second.caller;
    auto call_request = invocation->second.call_request;
    if (invocation->second.kill_requested) {
        // CANCEL kill: whatever the callee answers, the caller learns its call was
        // canceled (spec; Crossbar does the same, even for a real RESULT).
        result.send(caller->session_id, reply::error(MessageType::call, call_request, wamp::error_uri::canceled));
        if (final) erase_invocation(invocation);
        else end_for_caller(invocation->second);
        return result;
    }
    if (const auto& refusal = gate.check(*caller, *outgoing); !refusal.passes()) {
        // The call ends here, for both: the callee learns its answer was refused and the
        // caller gets the refusal as its outcome, so that it never hangs.
        result.send(callee.session_id, reply::error(answer.type, invocation_id, refusal));
        result.send(caller->session_id, reply::error(MessageType::call, call_request, refusal));
        if (final) erase_invocation(invocation);
        else end_for_caller(invocation->second);
        return result;
    }
    if (final) {
        if (metrics_ && metrics_->times_calls() && timers_ && outgoing->message().type == MessageType::result)
            metrics_->call_duration().observe(timers_->now() - invocation->second.called);
        erase_invocation(invocation);
    }
    result.send(caller->session_id, std::move(outgoing));
    return result;
}

Dealer::Invocations::iterator Dealer::find_invocation(RequestId invocation, SessionId callee) {
    auto it = invocations_.find(invocation);
    return it != invocations_.end() && it->second.callee->session_id == callee ? it : invocations_.end();
}

RouteResult Dealer::unknown_invocation(std::string_view kind, RequestId request) {
    RouteResult result;
    result.protocol_violation = std::string(kind) + " for unknown invocation request " + std::to_string(request);
    return result;
}

RouteResult Dealer::yield(const PeerInfo& callee, wamp::Yield yield, OutboundGate& gate) {
    auto it = find_invocation(yield.request(), callee.session_id);
    if (it == invocations_.end()) return unknown_invocation("YIELD", yield.request());
    OptionReader options(yield.options());
    bool progress = options.flag("progress", false);
    if (!it->second.caller) return answer_after_end(it, !progress, "YIELD");
    wamp::Dict details;
    if (auto most = (progress ? 1 : 0) + (hooks_.empty() ? 0 : yield.options().size()); most > 0) details.reserve(most);
    if (progress) details.emplace_back("progress", Value{true});
    if (auto carrier = wamp::Carrier::of(yield.message())) hooks_.forward_details(*carrier, details, &gate.notes());
    auto result = codec::make_outbound(
        wamp::Result::build(it->second.call_request, std::move(details)).arguments_from(yield.message()).take());
    return answer_caller(callee, yield.message(), it, !progress, gate, std::move(result));
}

RouteResult Dealer::invocation_error(const PeerInfo& callee, wamp::Error error, OutboundGate& gate) {
    auto it = find_invocation(error.request(), callee.session_id);
    if (it == invocations_.end()) return unknown_invocation("ERROR", error.request());
    if (!it->second.caller) return answer_after_end(it, true, "ERROR");
    wamp::Dict details = error.details();
    if (auto carrier = wamp::Carrier::of(error.message())) hooks_.forward_details(*carrier, details, &gate.notes());
    auto outgoing = codec::make_outbound(
        wamp::Error::build(MessageType::call, it->second.call_request, std::move(details), error.error())
            .arguments_from(error.message())
            .take());
    return answer_caller(callee, error.message(), it, true, gate, std::move(outgoing));
}

RouteResult Dealer::cancel(const PeerInfo& caller, wamp::Cancel cancel) {
    RouteResult result;
    OptionReader options(cancel.options());
    auto mode = options.string("mode");
    // Crossbar (Autobahn's parser): an unknown mode is a protocol error.
    if (options.fault() || (mode && *mode != "skip" && *mode != "kill" && *mode != "killnowait")) {
        result.protocol_violation = "CANCEL.Options.mode must be \"skip\", \"kill\" or \"killnowait\"";
        return result;
    }
    auto found = by_call_.find(CallKey{caller.session_id, cancel.request()});
    if (found == by_call_.end()) return result;
    auto& invocation = invocations_.at(found->second);
    if (invocation.kill_requested) return result;
    std::string effective = invocation.callee->announces("callee", "call_canceling") ? mode.value_or("") : "skip";
    if (effective != "skip") {
        wamp::Dict interrupt_options;
        if (mode) interrupt_options.emplace_back("mode", Value{effective});
        result.send(invocation.callee->session_id,
                    codec::make_outbound(wamp::Interrupt::make(found->second, std::move(interrupt_options))));
    }
    if (effective == "kill") {
        invocation.kill_requested = true;
        return result;
    }
    result.send(caller.session_id, reply::error(MessageType::call, cancel.request(), wamp::error_uri::canceled));
    end_for_caller(invocation);
    return result;
}

RouteResult Dealer::detach(SessionId session) {
    RouteResult result;
    if (auto mine = by_callee_.find(session); mine != by_callee_.end()) {
        for (auto id : mine->second)
            if (auto it = registrations_.find(id); it != registrations_.end()) remove_callee(it->second, session);
        by_callee_.erase(mine);
    }
    for (auto it = invocations_.begin(); it != invocations_.end();) {
        auto& invocation = it->second;
        if (invocation.callee->session_id == session) {
            if (invocation.caller)
                result.send(invocation.caller->session_id,
                            reply::error(MessageType::call, invocation.call_request, wamp::error_uri::canceled,
                                         "callee disconnected from in-flight request"));
            it = erase_invocation(it);
            continue;
        }
        if (invocation.caller && invocation.caller->session_id == session) {
            // Spec and Crossbar: the callee learns it may stop (killnowait), if it can.
            // A call a session made to itself needs no INTERRUPT: the callee is gone too.
            if (invocation.callee->session_id != session) interrupt(result, it->first, invocation);
            end_for_caller(invocation);
        }
        ++it;
    }
    load_.erase(session);
    return result;
}

void Dealer::interrupt(RouteResult& result, RequestId invocation_id, const Invocation& invocation) {
    if (!invocation.callee->announces("callee", "call_canceling")) return;
    result.send(invocation.callee->session_id,
                codec::make_outbound(
                    wamp::Interrupt::make(invocation_id, wamp::Dict{{"mode", Value{std::string("killnowait")}}})));
}

RouteResult Dealer::expire(RequestId invocation_id) {
    RouteResult result;
    auto it = invocations_.find(invocation_id);
    if (it == invocations_.end() || !it->second.caller) return result;
    auto& invocation = it->second;
    result.send(invocation.caller->session_id, reply::error(MessageType::call, invocation.call_request,
                                                            wamp::error_uri::timeout, "call timed out"));
    interrupt(result, invocation_id, invocation);
    end_for_caller(invocation);
    return result;
}

std::string_view Dealer::invoked_procedure(RequestId invocation, SessionId callee) {
    auto it = find_invocation(invocation, callee);
    return it == invocations_.end() ? std::string_view() : std::string_view(it->second.procedure);
}

std::optional<Dealer::WaitingCaller> Dealer::abandon(RequestId invocation, SessionId callee) {
    auto it = find_invocation(invocation, callee);
    if (it == invocations_.end()) return std::nullopt;
    auto caller = it->second.caller;
    auto call_request = it->second.call_request;
    end_for_caller(it->second);
    if (!caller) return std::nullopt;
    return WaitingCaller{caller->session_id, call_request};
}

}  // namespace blindrouter::core
