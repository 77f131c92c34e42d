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

RouteResult Dealer::register_procedure(const SharedPeer& callee, const wamp::Message& reg, wamp::MatchPolicy match) {
    RouteResult result;
    const auto& uri = reg.string_at(register_procedure_uri);
    auto request = reg.id_at(register_request);
    if (index_.find(uri, match)) {
        result.send(callee->session_id, reply::error(MessageType::reg, request,
                                                     wamp::error_uri::procedure_already_exists,
                                                     "register for already registered procedure '" + uri + "'"));
        return result;
    }
    auto id = ids_.next();
    index_.insert(uri, match, id);
    registrations_.emplace(id, Registration{id, uri, match, callee});
    by_callee_[callee->session_id].push_back(id);
    result.send(callee->session_id, reply::ack(MessageType::registered, request, id));
    return result;
}

RouteResult Dealer::unregister(const PeerInfo& callee, const wamp::Message& unregister) {
    RouteResult result;
    auto request = unregister.id_at(unregister_request);
    auto it = registrations_.find(unregister.id_at(unregister_registration));
    if (it == registrations_.end() || it->second.callee->session_id != callee.session_id) {
        result.send(callee.session_id,
                    reply::error(MessageType::unregister, request, wamp::error_uri::no_such_registration));
        return result;
    }
    index_.erase(it->second.uri, it->second.match);
    auto& mine = by_callee_[callee.session_id];
    mine.erase(std::remove(mine.begin(), mine.end(), it->first), mine.end());
    if (mine.empty()) by_callee_.erase(callee.session_id);
    registrations_.erase(it);
    result.send(callee.session_id, reply::ack(MessageType::unregistered, request));
    return result;
}

RouteResult Dealer::call(const PeerInfo& caller, const wamp::Message& call, bool disclose_caller) {
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
    const auto& registration = registrations_.at(*registration_id);

    RequestId invocation_id;
    do invocation_id = ids_.next();
    while (invocations_.count(invocation_id) != 0);
    invocations_.emplace(invocation_id,
                         Invocation{caller.session_id, request, registration.callee->session_id, procedure});

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
    result.send(registration.callee->session_id, codec::make_outbound(std::move(invocation)));
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
        for (auto id : mine->second) {
            const auto& registration = registrations_.at(id);
            index_.erase(registration.uri, registration.match);
            registrations_.erase(id);
        }
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
