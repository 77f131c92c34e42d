#include "blindrouter/core/dynamic_authorization.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <span>
#include <utility>

#include "blindrouter/wamp/log_text.hpp"
#include "blindrouter/wamp/messages.hpp"

namespace blindrouter::core {
using wamp::MessageType;
using wamp::Value;

namespace {

std::string_view action_name(auth::Action action) {
    switch (action) {
        case auth::Action::publish: return "publish";
        case auth::Action::subscribe: return "subscribe";
        case auth::Action::call: return "call";
        case auth::Action::register_procedure: return "register";
    }
    return "";
}

// The text of Crossbar's ERROR authorization_failed (cb:router/broker.py:754-758,
// 1024-1028; cb:router/dealer.py:612-616, 933-934).
std::string failure_text(std::string_view uri, auth::Action action, std::string_view why) {
    std::string_view what;
    switch (action) {
        case auth::Action::publish: what = "publishing to topic URI"; break;
        case auth::Action::subscribe: what = "subscribing to topic URI"; break;
        case auth::Action::call: what = "calling procedure"; break;
        case auth::Action::register_procedure: what = "registering procedure"; break;
    }
    return "failed to authorize session for " + std::string(what) + " '" + std::string(uri) + "': " + std::string(why);
}

// Python's name for the type the authorizer's answer has in Crossbar.
std::string_view python_type(const Value& value) {
    constexpr std::array<std::string_view, 9> names{"NoneType", "bool", "int", "int", "float",
                                                    "str",      "bytes", "list", "dict"};
    return names[value.data.index()];
}

AuthorizationDecision failed(std::string_view uri, auth::Action action, std::string_view why) {
    return {AuthorizationDecision::Kind::failed, false, failure_text(uri, action, why)};
}

// Option keys Autobahn parses and marshals again for each request (ab:wamp/message.py
// Publish/Subscribe/Call/Register.marshal_options).
constexpr std::array publish_keys{"acknowledge",      "exclude_me",     "exclude",   "exclude_authid",
                                  "exclude_authrole", "eligible",       "eligible_authid",
                                  "eligible_authrole", "retain",        "transaction_hash",
                                  "enc_algo",         "enc_key",        "enc_serializer", "forward_for"};
constexpr std::array subscribe_keys{"match", "get_retained", "forward_for"};
constexpr std::array call_keys{"timeout",  "receive_progress", "transaction_hash", "enc_algo",
                               "enc_key",  "enc_serializer",   "forward_for"};
constexpr std::array register_keys{"match", "invoke", "concurrency", "force_reregister", "forward_for"};

}  // namespace

wamp::Dict marshalled_options(const wamp::Message& request) {
    const wamp::Dict* options = nullptr;
    std::span<const char* const> keys;
    switch (request.type) {
        case MessageType::publish: options = &wamp::Publish(request).options(); keys = publish_keys; break;
        case MessageType::subscribe: options = &wamp::Subscribe(request).options(); keys = subscribe_keys; break;
        case MessageType::call: options = &wamp::Call(request).options(); keys = call_keys; break;
        case MessageType::reg: options = &wamp::Register(request).options(); keys = register_keys; break;
        default: return {};
    }
    wamp::Dict marshalled;
    for (const auto& [key, value] : *options) {
        // By name, not by the structured binding: clang 14 (the fuzz build) cannot capture one.
        const std::string& name = key;
        if (std::find_if(keys.begin(), keys.end(), [&](const char* k) { return name == k; }) == keys.end()) continue;
        if (value.is_null()) continue;
        // Defaults Autobahn leaves out: exact matching, the single invocation policy,
        // no concurrency limit.
        const auto* text = value.as_string();
        if (key == "match" && text && *text == "exact") continue;
        if (key == "invoke" && text && *text == "single") continue;
        if (key == "concurrency" && value.as_unsigned() == std::uint64_t{0}) continue;
        marshalled.emplace_back(key, value);
    }
    return marshalled;
}

AuthorizationDecision judge_authorization(const CallOutcome& outcome, std::string_view uri, auth::Action action,
                                          bool& cache) {
    cache = false;
    // The authorizer's error arguments are not repeated to the client (Crossbar's text
    // includes them): they are the authorizer's, not the client's.
    if (!outcome.ok()) return failed(uri, action, "the authorizer answered " + outcome.error().uri);
    const auto& result = outcome.result();
    // What Autobahn's call() returns: one positional result alone, None for none, a
    // CallResult for more or for keyword results.
    if (result.args.size() > 1 || !result.kwargs.empty())
        return failed(uri, action, "Authorizer returned unknown type 'CallResult'");
    Value answer = result.args.empty() ? Value{} : result.args.front();
    using Kind = AuthorizationDecision::Kind;
    if (const bool* allow = answer.as_bool()) return {*allow ? Kind::granted : Kind::denied, false, {}};
    const auto* dict = answer.as_dict();
    if (!dict) return failed(uri, action, "Authorizer returned unknown type '" + std::string(python_type(answer)) + "'");
    // role.py sanity_check, in its order.
    for (const auto& [key, value] : *dict)
        if (key != "allow" && key != "cache" && key != "disclose" && key != "validate")
            return failed(uri, action, "Authorizer returned unknown key '" + key + "'");
    if (!wamp::find(*dict, "allow")) return failed(uri, action, "Authorizer must have 'allow' in returned dict");
    bool flags[3] = {false, false, false};
    const char* names[3] = {"allow", "cache", "disclose"};
    for (int i = 0; i < 3; ++i) {
        const auto* value = wamp::find(*dict, names[i]);
        if (!value) continue;
        if (!value->as_bool()) return failed(uri, action, std::string("Authorizer must have bool for '") + names[i] + "'");
        flags[i] = *value->as_bool();
    }
    if (const auto* validate = wamp::find(*dict, "validate"); validate && !validate->is_null() && !validate->as_dict())
        return failed(uri, action, "Authorizer must have dict for 'validate' (if present and not null)");
    cache = flags[1];
    // A dict without `disclose` discloses nothing, for a publish too: Crossbar's broker
    // reads authorization["disclose"] there and drops the publication (a KeyError,
    // cb:router/broker.py:432); its dealer uses .get(), as we do for both.
    return {flags[0] ? Kind::granted : Kind::denied, flags[2], {}};
}

bool DynamicAuthorization::needed(const config::Realm& realm) {
    return std::any_of(realm.roles.begin(), realm.roles.end(), [](const config::Role& r) { return r.authorizer.has_value(); });
}

DynamicAuthorization::DynamicAuthorization(const config::Realm& realm, TimerService* timers, ServiceSource service,
                                           Route route)
    : timers_(timers), service_(std::move(service)), route_(std::move(route)), warnings_(timers) {
    for (const auto& role : realm.roles)
        if (role.authorizer) roles_.try_emplace(role.name).first->second.config = *role.authorizer;
}

DynamicAuthorization::Clock::time_point DynamicAuthorization::now() const {
    return timers_ ? timers_->now() : Clock::now();
}

std::size_t DynamicAuthorization::pending(std::string_view authrole) const {
    auto it = roles_.find(authrole);
    return it == roles_.end() ? 0 : it->second.pending;
}

std::size_t DynamicAuthorization::cached(std::string_view authrole) const {
    auto it = roles_.find(authrole);
    return it == roles_.end() ? 0 : it->second.cache.size();
}

const AuthorizationDecision* DynamicAuthorization::cached_decision(Role& role, const CacheKey& key) {
    auto it = role.cache.find(key);
    if (it == role.cache.end()) return nullptr;
    if (now() >= it->second.expires) {
        role.recency.erase(it->second.recency);
        role.cache.erase(it);
        return nullptr;
    }
    role.recency.splice(role.recency.begin(), role.recency, it->second.recency);
    return &it->second.decision;
}

void DynamicAuthorization::remember(Role& role, CacheKey key, const AuthorizationDecision& decision) {
    if (role.config.cache_entries == 0 || role.config.cache_ttl.count() == 0) return;
    if (auto it = role.cache.find(key); it != role.cache.end()) {
        role.recency.erase(it->second.recency);
        role.cache.erase(it);
    }
    if (role.cache.size() >= role.config.cache_entries) {
        role.cache.erase(role.recency.back());
        role.recency.pop_back();
    }
    role.recency.push_front(key);
    role.cache.emplace(std::move(key), CacheEntry{decision, now() + role.config.cache_ttl, role.recency.begin()});
}

DynamicAuthorization::Hold DynamicAuthorization::hold(const PeerInfo& sender, const wamp::Message& message,
                                                      std::string& refusal) {
    if (message.type == MessageType::yield || message.type == MessageType::error) return Hold::pass;
    auto it = held_.find(sender.session_id);
    if (it == held_.end()) return Hold::pass;
    Held& held = it->second;
    if (held.waiting.size() >= held.role->config.max_held_per_session) {
        refusal = "too many messages wait for this session's authorization (limit " +
                  std::to_string(held.role->config.max_held_per_session) + ")";
        return Hold::refused;
    }
    held.waiting.push_back(message);
    return Hold::held;
}

std::optional<AuthorizationDecision> DynamicAuthorization::authorize(const PeerInfo& sender,
                                                                     const wamp::Message& request,
                                                                     std::string_view uri, auth::Action action) {
    auto role_it = roles_.find(sender.authrole);
    if (role_it == roles_.end()) return AuthorizationDecision{};
    Role& role = role_it->second;
    auto id = sender.session_id;
    if (auto it = held_.find(id); it != held_.end() && it->second.decided) {
        auto decision = std::move(*it->second.decided);
        it->second.decided.reset();
        return decision;
    }
    CacheKey key{std::string(uri), action};
    if (const auto* decision = cached_decision(role, key)) return *decision;

    if (role.pending >= role.config.max_pending) {
        if (auto note = warnings_.admit(ClientWarning::router_busy))
            spdlog::warn("realm \"{}\": {} authorizations pending for role \"{}\"; one more refused{}",
                         wamp::log_text(sender.realm), role.pending, wamp::log_text(sender.authrole), *note);
        return failed(uri, action,
                      "too many authorizations pending for this role (limit " + std::to_string(role.config.max_pending) +
                          ")");
    }
    auto* service = service_();
    if (!service) return failed(uri, action, "the router has no session to call the authorizer from");

    wamp::Dict details{{"session", Value{sender.session_id}},  {"authid", Value{sender.authid}},
                       {"authrole", Value{sender.authrole}},   {"authmethod", Value{sender.authmethod}},
                       {"authprovider", Value{sender.authprovider}}, {"authextra", Value{sender.authextra}},
                       {"transport", Value{}}};
    wamp::List args{Value{std::move(details)}, Value{std::string(uri)}, Value{std::string(action_name(action))},
                    Value{marshalled_options(request)}};

    auto& held = held_[id];  // unordered_map: the reference survives other insertions
    held.role = &role;
    held.pending = true;
    held.calling = true;
    held.ticket = ++last_ticket_;
    held.uri = key.uri;
    held.action = action;
    ++role.pending;
    auto ticket = held.ticket;
    auto request_id = service->call(role.config.procedure, std::move(args), {},
                                    [this, id, ticket](CallOutcome outcome) { answered(id, ticket, std::move(outcome)); });

    auto it = held_.find(id);
    if (it == held_.end()) return std::nullopt;  // left while the call was made
    Held& now_held = it->second;
    now_held.calling = false;
    if (!now_held.pending) {
        // Answered before call() returned (no such procedure, a router procedure).
        auto decision = std::move(*now_held.decided);
        now_held.decided.reset();
        if (now_held.waiting.empty()) held_.erase(it);
        return decision;
    }
    now_held.request = request_id;
    now_held.waiting.push_front(request);
    if (timers_)
        now_held.deadline = timers_->schedule(role.config.timeout, [this, id, ticket] { answered(id, ticket, std::nullopt); });
    return std::nullopt;
}

// `outcome` nullopt: the timeout passed first.
void DynamicAuthorization::answered(SessionId session, std::uint64_t ticket, std::optional<CallOutcome> outcome) {
    auto it = held_.find(session);
    if (it == held_.end() || it->second.ticket != ticket || !it->second.pending) return;
    Held& held = it->second;
    Role& role = *held.role;
    held.pending = false;
    --role.pending;
    if (outcome) {
        bool cache = false;
        held.decided = judge_authorization(*outcome, held.uri, held.action, cache);
        if (cache) remember(role, CacheKey{held.uri, held.action}, *held.decided);
    } else {
        if (auto* service = service_()) service->abandon(held.request);
        if (auto note = warnings_.admit(ClientWarning::router_busy))
            spdlog::warn("session {}: the authorizer \"{}\" did not answer within {} ms{}", session,
                         wamp::log_text(role.config.procedure), role.config.timeout.count(), *note);
        held.decided = failed(held.uri, held.action,
                              "the authorizer did not answer within " + std::to_string(role.config.timeout.count()) +
                                  " ms");
    }
    held.deadline.reset();  // TimerService handles may go from their own callback
    if (held.calling) return;  // authorize() takes the decision when call() returns
    drain(session);
}

void DynamicAuthorization::drain(SessionId session) {
    for (;;) {
        auto it = held_.find(session);
        if (it == held_.end()) return;
        Held& held = it->second;
        if (held.pending) return;
        if (held.waiting.empty()) {
            held_.erase(it);
            return;
        }
        auto message = std::move(held.waiting.front());
        held.waiting.pop_front();
        route_(session, message);
        // A decision its message did not take (the session was refused before asking)
        // must not answer the next one.
        if (auto again = held_.find(session); again != held_.end() && !again->second.pending)
            again->second.decided.reset();
    }
}

void DynamicAuthorization::leave(SessionId session) {
    auto it = held_.find(session);
    if (it == held_.end()) return;
    if (it->second.pending) {
        --it->second.role->pending;
        if (auto* service = service_()) service->abandon(it->second.request);
    }
    held_.erase(it);
}

}  // namespace blindrouter::core
