#include "blindrouter/core/dealer.hpp"

#include <algorithm>
#include <vector>

#include "blindrouter/core/options.hpp"
#include "blindrouter/core/reply.hpp"
#include "blindrouter/wamp/error_uri.hpp"

namespace blindrouter::core {
using wamp::MessageType;
using wamp::Value;

namespace {
constexpr std::size_t register_request = 0, register_procedure_uri = 2;
constexpr std::size_t unregister_request = 0, unregister_registration = 1;
constexpr std::size_t call_request = 0, call_options = 1, call_procedure = 2;
constexpr std::size_t yield_request = 0, yield_options = 1;
constexpr std::size_t error_request = 1, error_details = 2, error_uri_field = 3;
}  // namespace

std::optional<InvokePolicy> invoke_policy_from_name(std::string_view name) {
    if (name == "single") return InvokePolicy::single;
    if (name == "roundrobin") return InvokePolicy::roundrobin;
    if (name == "random") return InvokePolicy::random;
    if (name == "first") return InvokePolicy::first;
    if (name == "last") return InvokePolicy::last;
    return std::nullopt;
}

RouteResult Dealer::register_procedure(const SharedPeer& callee, const wamp::Message& reg, wamp::MatchPolicy match,
                                       InvokePolicy policy) {
    RouteResult result;
    const auto& uri = reg.string_at(register_procedure_uri);
    auto request = reg.id_at(register_request);
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
        result.send(callee->session_id, reply::ack(MessageType::registered, request, registration.id));
        return result;
    }
    auto id = ids_.next();
    index_.insert(uri, match, id);
    registrations_.emplace(id, Registration{id, uri, match, policy, {callee}, 0});
    by_callee_[callee->session_id].push_back(id);
    result.send(callee->session_id, reply::ack(MessageType::registered, request, id));
    return result;
}

void Dealer::remove_callee(Registration& registration, SessionId callee) {
    auto& callees = registration.callees;
    callees.erase(std::remove_if(callees.begin(), callees.end(),
                                 [&](const SharedPeer& p) { return p->session_id == callee; }),
                  callees.end());
    if (callees.empty()) {
        index_.erase(registration.uri, registration.match);
        registrations_.erase(registration.id);
    }
}

RouteResult Dealer::unregister(const PeerInfo& callee, const wamp::Message& unregister) {
    RouteResult result;
    auto request = unregister.id_at(unregister_request);
    auto it = registrations_.find(unregister.id_at(unregister_registration));
    bool registered = it != registrations_.end() &&
                      std::any_of(it->second.callees.begin(), it->second.callees.end(),
                                  [&](const SharedPeer& p) { return p->session_id == callee.session_id; });
    if (!registered) {
        result.send(callee.session_id,
                    reply::error(MessageType::unregister, request, wamp::error_uri::no_such_registration));
        return result;
    }
    auto& mine = by_callee_[callee.session_id];
    mine.erase(std::remove(mine.begin(), mine.end(), it->first), mine.end());
    if (mine.empty()) by_callee_.erase(callee.session_id);
    remove_callee(it->second, callee.session_id);
    result.send(callee.session_id, reply::ack(MessageType::unregistered, request));
    return result;
}

const SharedPeer& Dealer::pick_callee(Registration& registration, const CalleeFilter& acceptable) {
    const auto& all = registration.callees;
    std::vector<std::size_t> candidates;
    candidates.reserve(all.size());
    if (acceptable)
        for (std::size_t i = 0; i < all.size(); ++i)
            if (acceptable(*all[i])) candidates.push_back(i);
    if (candidates.empty())
        for (std::size_t i = 0; i < all.size(); ++i) candidates.push_back(i);
    switch (registration.policy) {
        case InvokePolicy::single:
        case InvokePolicy::first:
            return all[candidates.front()];
        case InvokePolicy::last:
            return all[candidates.back()];
        case InvokePolicy::random:
            return all[candidates[std::uniform_int_distribution<std::size_t>(0, candidates.size() - 1)(random_)]];
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
            return all[chosen];
        }
    }
    return all[candidates.front()];
}

RouteResult Dealer::call(const PeerInfo& caller, const wamp::Message& call, bool disclose_caller,
                         const CalleeFilter& acceptable) {
    RouteResult result;
    const auto& procedure = call.string_at(call_procedure);
    auto request = call.id_at(call_request);
    OptionReader options(call.dict_at(call_options));
    bool disclose = options.flag("disclose_me", false) || disclose_caller;
    bool receive_progress = options.flag("receive_progress", false);
    if (options.fault()) {
        result.send(caller.session_id,
                    reply::error(MessageType::call, request, wamp::error_uri::invalid_argument, *options.fault()));
        return result;
    }
    const auto* registration_id = index_.best_match(procedure);
    if (!registration_id) {
        result.send(caller.session_id, reply::error(MessageType::call, request, wamp::error_uri::no_such_procedure,
                                                    "no callee registered for procedure <" + procedure + ">"));
        return result;
    }
    auto& registration = registrations_.at(*registration_id);
    auto callee = pick_callee(registration, acceptable);

    RequestId invocation_id;
    do invocation_id = ids_.next();
    while (invocations_.count(invocation_id) != 0);
    invocations_.emplace(invocation_id, Invocation{caller.session_id, request, callee->session_id, procedure});

    wamp::Dict details;
    if (registration.match != wamp::MatchPolicy::exact) details.emplace_back("procedure", Value{procedure});
    if (receive_progress) details.emplace_back("receive_progress", Value{true});
    if (disclose) {
        details.emplace_back("caller", Value{caller.session_id});
        details.emplace_back("caller_authid", Value{caller.authid});
        details.emplace_back("caller_authrole", Value{caller.authrole});
    }
    hooks_.forward_details(call, details);
    wamp::Message invocation;
    invocation.type = MessageType::invocation;
    invocation.fields = {Value{invocation_id}, Value{registration.id}, Value{std::move(details)}};
    invocation.arguments = call.arguments;
    invocation.arguments_kw = call.arguments_kw;
    result.send(callee->session_id, codec::make_outbound(std::move(invocation)));
    return result;
}

RouteResult Dealer::yield(const PeerInfo& callee, const wamp::Message& yield) {
    RouteResult result;
    auto it = invocations_.find(yield.id_at(yield_request));
    if (it == invocations_.end() || it->second.callee != callee.session_id) {
        result.protocol_violation = "YIELD for unknown invocation request " + std::to_string(yield.id_at(yield_request));
        return result;
    }
    OptionReader options(yield.dict_at(yield_options));
    bool progress = options.flag("progress", false);
    auto invocation = it->second;
    if (!progress) invocations_.erase(it);
    if (invocation.caller == 0) return result;  // the caller left; nobody waits for this

    wamp::Message message;
    message.type = MessageType::result;
    wamp::Dict details;
    if (progress) details.emplace_back("progress", Value{true});
    hooks_.forward_details(yield, details);
    message.fields = {Value{invocation.call_request}, Value{std::move(details)}};
    message.arguments = yield.arguments;
    message.arguments_kw = yield.arguments_kw;
    result.send(invocation.caller, codec::make_outbound(std::move(message)));
    return result;
}

RouteResult Dealer::invocation_error(const PeerInfo& callee, const wamp::Message& error) {
    RouteResult result;
    auto it = invocations_.find(error.id_at(error_request));
    if (it == invocations_.end() || it->second.callee != callee.session_id) {
        result.protocol_violation = "ERROR for unknown invocation request " + std::to_string(error.id_at(error_request));
        return result;
    }
    auto invocation = it->second;
    invocations_.erase(it);
    if (invocation.caller == 0) return result;

    wamp::Message message;
    message.type = MessageType::error;
    wamp::Dict details = error.dict_at(error_details);
    hooks_.forward_details(error, details);
    message.fields = {Value{static_cast<std::uint64_t>(MessageType::call)}, Value{invocation.call_request},
                      Value{std::move(details)}, error.fields[error_uri_field]};
    message.arguments = error.arguments;
    message.arguments_kw = error.arguments_kw;
    result.send(invocation.caller, codec::make_outbound(std::move(message)));
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
        if (invocation.callee == session) {
            if (invocation.caller != 0)
                result.send(invocation.caller,
                            reply::error(MessageType::call, invocation.call_request, wamp::error_uri::canceled,
                                         "callee disconnected from in-flight request"));
            it = invocations_.erase(it);
            continue;
        }
        if (invocation.caller == session) invocation.caller = 0;
        ++it;
    }
    return result;
}

std::string_view Dealer::invoked_procedure(RequestId invocation, SessionId callee) const {
    auto it = invocations_.find(invocation);
    if (it == invocations_.end() || it->second.callee != callee) return {};
    return it->second.procedure;
}

std::optional<Dealer::WaitingCaller> Dealer::abandon(RequestId invocation, SessionId callee) {
    auto it = invocations_.find(invocation);
    if (it == invocations_.end() || it->second.callee != callee) return std::nullopt;
    auto caller = it->second.caller;
    auto call_request = it->second.call_request;
    invocations_.erase(it);
    if (caller == 0) return std::nullopt;
    return WaitingCaller{caller, call_request};
}

}  // namespace blindrouter::core
