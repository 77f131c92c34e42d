#include "blindrouter/core/meta_api.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <optional>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "blindrouter/core/router.hpp"
#include "blindrouter/wamp/error_uri.hpp"

namespace blindrouter::core {
using wamp::Value;

namespace {

// Crossbar leaves sessions with no authrole or the `trusted` one out of the session
// meta API (cb:router/service.py is_restricted_session), and its own service
// sessions are never among the router's client sessions (cb:router/router.py attach).
bool is_restricted(const PeerInfo& peer) {
    return peer.router_internal || peer.authrole.empty() || peer.authrole == Router::trusted_role;
}

// Subscriptions and registrations on wamp.* and crossbar.* are hidden from callers
// that are not trusted (cb:router/observation.py is_protected_uri).
bool is_protected(std::string_view uri, const InvocationDetails& details) {
    if (details.caller_authrole && *details.caller_authrole == Router::trusted_role) return false;
    return uri.starts_with("wamp.") || uri.starts_with("crossbar.");
}

// Crossbar's procedures are Python functions: a call that does not fit their
// signature (or fails one of their type assertions) raises, and Autobahn answers
// with wamp.error.runtime_error.
CallError signature_error(std::string text) {
    return CallError::with_message(wamp::error_uri::runtime_error, std::move(text));
}

CallArguments result(Value value) { return CallArguments{wamp::List{std::move(value)}, {}}; }

// A call's arguments bound to a procedure's parameters as Python binds them:
// positionally, then by keyword; a null stands for an omitted optional parameter.
class Bound {
public:
    Bound(std::string_view procedure, std::initializer_list<std::string_view> names, std::size_t required,
          const CallArguments& arguments)
        : values_(names.size(), nullptr) {
        std::vector<std::string_view> parameters(names);
        auto signature = std::string(procedure) + "()";
        if (arguments.args.size() > parameters.size()) {
            error_ = signature_error(signature + " takes at most " + std::to_string(parameters.size()) +
                                     " positional arguments");
            return;
        }
        for (std::size_t i = 0; i < arguments.args.size(); ++i) values_[i] = &arguments.args[i];
        for (const auto& [key, value] : arguments.kwargs) {
            auto at = std::find(parameters.begin(), parameters.end(), key);
            if (at == parameters.end()) {
                error_ = signature_error(signature + " got an unexpected keyword argument '" + key + "'");
                return;
            }
            auto& slot = values_[at - parameters.begin()];
            if (slot) {
                error_ = signature_error(signature + " got multiple values for argument '" + key + "'");
                return;
            }
            slot = &value;
        }
        for (auto& slot : values_)
            if (slot && slot->is_null()) slot = nullptr;
        for (std::size_t i = 0; i < required; ++i)
            if (!values_[i]) {
                error_ = signature_error(signature + " missing required argument '" + std::string(parameters[i]) + "'");
                return;
            }
    }

    const std::optional<CallError>& error() const { return error_; }
    // The argument for parameter `index`; nullptr when omitted or null.
    const Value* operator[](std::size_t index) const { return values_[index]; }

private:
    std::vector<const Value*> values_;
    std::optional<CallError> error_;
};

// The integer argument, or nullopt when it is none (then no id matches it).
std::optional<std::uint64_t> id_of(const Value* value) { return value ? value->as_unsigned() : std::nullopt; }

// The optional string argument; `ok` false when it is no string.
std::optional<std::string> optional_string(const Value* value, bool& ok) {
    if (!value) return std::nullopt;
    const auto* text = value->as_string();
    ok = ok && text;
    return text ? std::optional<std::string>(*text) : std::nullopt;
}

wamp::List id_list(const std::vector<std::uint64_t>& ids) {
    wamp::List list;
    list.reserve(ids.size());
    for (auto id : ids) list.emplace_back(id);
    return list;
}

CallError no_such_session(std::uint64_t id) {
    return CallError::with_message(wamp::error_uri::no_such_session,
                                   "no session with ID " + std::to_string(id) + " exists on this router");
}

// The sessions the session meta API shows whose authrole is in `filter_authroles`
// (all when it is null); runtime_error when it is no list, as Crossbar asserts.
std::variant<std::vector<SessionId>, CallError> listed_sessions(const Realm& realm, const Value* filter) {
    const wamp::List* roles = filter ? filter->as_list() : nullptr;
    if (filter && !roles) return signature_error("filter_authroles must be a list of authroles or null");
    std::vector<SessionId> ids;
    realm.for_each_peer([&](const PeerInfo& peer) {
        if (is_restricted(peer)) return;
        if (roles && std::none_of(roles->begin(), roles->end(), [&](const Value& role) {
                const auto* name = role.as_string();
                return name && *name == peer.authrole;
            }))
            return;
        ids.push_back(peer.session_id);
    });
    return ids;
}

// kill's reason and message: Crossbar asserts both are strings or null. The reason
// becomes GOODBYE's, so it must be a URI the client can parse (the spec answers a
// bad one with invalid_uri; Crossbar sends it on, and Autobahn then drops the
// connection); no reason is Crossbar's wamp.close.normal.
struct KillReason {
    std::string reason = std::string(wamp::error_uri::normal);
    std::optional<std::string> message;
};
std::variant<KillReason, CallError> kill_reason(const Bound& bound, std::size_t reason_at) {
    bool ok = true;
    auto reason = optional_string(bound[reason_at], ok);
    auto message = optional_string(bound[reason_at + 1], ok);
    if (!ok) return signature_error("reason and message must be strings or null");
    if (reason && !wamp::is_valid_uri(*reason))
        return CallError::with_message(wamp::error_uri::invalid_uri, "invalid close reason URI '" + *reason + "'");
    KillReason kill;
    if (reason) kill.reason = *reason;
    kill.message = std::move(message);
    return kill;
}

// kill_by_authid and kill_by_authrole: every listed session with `field` equal to
// the first argument, except the caller's own (WAMP spec, meta_api_sessions: the
// caller is excluded; Crossbar kills it too, its issue #2082). Returns the killed
// ids, as Crossbar does for both.
CallOutcome kill_matching(Realm& realm, std::string_view procedure, std::string_view parameter,
                          std::string PeerInfo::*field, const CallArguments& arguments,
                          const InvocationDetails& details) {
    Bound bound(procedure, {parameter, "reason", "message"}, 1, arguments);
    if (bound.error()) return *bound.error();
    const auto* wanted = bound[0]->as_string();
    if (!wanted) return signature_error(std::string(parameter) + " must be a string");
    auto kill = kill_reason(bound, 1);
    if (auto* error = std::get_if<CallError>(&kill)) return *error;
    const auto& why = std::get<KillReason>(kill);
    std::vector<SessionId> victims;
    realm.for_each_peer([&](const PeerInfo& peer) {
        if (!is_restricted(peer) && peer.*field == *wanted && peer.session_id != details.caller)
            victims.push_back(peer.session_id);
    });
    // Collected first: each kill changes the realm's sessions.
    for (auto id : victims) realm.kill(id, why.reason, why.message);
    return result(Value{id_list(victims)});
}

// The subscription or registration meta API over either the broker or the dealer:
// what differs between them is named here, the procedures are written once.
struct ObservationFamily {
    std::string_view family;            // "subscription" / "registration"
    std::string_view members;           // "subscribers" / "callees"
    std::string_view member;            // "subscriber" / "callee"
    std::string_view no_such;           // its error URI
    std::string_view keeper;            // "broker" / "dealer"
    std::string uri(std::string_view name) const { return "wamp." + std::string(family) + "." + std::string(name); }
    CallError not_found(std::uint64_t id) const {
        return CallError::with_message(no_such, "no " + std::string(family) + " with ID " + std::to_string(id) +
                                                    " exists on this " + std::string(keeper));
    }
};

constexpr ObservationFamily subscriptions{"subscription", "subscribers", "subscriber",
                                          wamp::error_uri::no_such_subscription, "broker"};
constexpr ObservationFamily registrations{"registration", "callees", "callee",
                                          wamp::error_uri::no_such_registration, "dealer"};

// What a family's procedures need of an observation, the same for both kinds.
struct Observed {
    std::uint64_t id;
    const std::string* uri;
    wamp::MatchPolicy match;
    std::chrono::system_clock::time_point created;
    std::vector<SessionId> members;
    std::optional<std::string_view> invoke;
};

Observed observed(const Broker::Subscription& s) {
    std::vector<SessionId> members;
    for (const auto& peer : s.subscribers) members.push_back(peer->session_id);
    return Observed{s.id, &s.uri, s.match, s.created, std::move(members), std::nullopt};
}
Observed observed(const Dealer::Registration& r) {
    std::vector<SessionId> members;
    for (const auto& peer : r.callees) members.push_back(peer->session_id);
    return Observed{r.id, &r.uri, r.match, r.created, std::move(members), invoke_policy_name(r.policy)};
}

wamp::Dict observation_details(std::uint64_t id, const std::string& uri, wamp::MatchPolicy match,
                               std::chrono::system_clock::time_point created,
                               std::optional<std::string_view> invoke) {
    wamp::Dict details{{"id", Value{id}},
                       {"created", Value{iso8601_utc(created)}},
                       {"uri", Value{uri}},
                       {"match", Value{std::string(wamp::match_name(match))}}};
    if (invoke) details.emplace_back("invoke", Value{std::string(*invoke)});
    return details;
}

// The procedures both families share, over `Store` (Broker or Dealer) read through `store()`.
// Where the families' procedures go: local_meta_procedures' table.
struct MetaTable {
    void operator()(std::string uri, ServiceSession::Handler handler) {
        procedures.emplace(std::move(uri), std::move(handler));
    }
    std::unordered_map<std::string, ServiceSession::Handler> procedures;
};

template <class StoreOf>
void serve_observation_family(MetaTable& add, Realm& realm, const ObservationFamily& family, StoreOf store) {
    // get, list_<members>, count_<members>: one observation by id; not_authorized
    // for a protected URI (cb:router/service.py).
    auto by_id = [&realm, family, store](std::string name, auto answer) {
        return [&realm, family, store, name, answer](const CallArguments& arguments,
                                                     const InvocationDetails& details) -> CallOutcome {
            Bound bound(name, {"id"}, 1, arguments);
            if (bound.error()) return *bound.error();
            auto id = id_of(bound[0]).value_or(0);
            const auto* found = store(realm).find(id);
            if (!found) return family.not_found(id);
            auto seen = observed(*found);
            if (is_protected(*seen.uri, details))
                return CallError::with_message(wamp::error_uri::not_authorized,
                                               "not authorized to access " + std::string(family.family) +
                                                   " for protected URI \"" + *seen.uri + "\"");
            return answer(seen);
        };
    };
    add(family.uri("get"), by_id(family.uri("get"), [](const Observed& seen) -> CallOutcome {
            return result(Value{observation_details(seen.id, *seen.uri, seen.match, seen.created, seen.invoke)});
        }));
    auto list_members = family.uri("list_" + std::string(family.members));
    add(list_members, by_id(list_members, [](const Observed& seen) -> CallOutcome {
            return result(Value{id_list(seen.members)});
        }));
    auto count_members = family.uri("count_" + std::string(family.members));
    add(count_members, by_id(count_members, [](const Observed& seen) -> CallOutcome {
            return result(Value{static_cast<std::uint64_t>(seen.members.size())});
        }));

    // list(session_id=None): ids by match policy. With a session, that session's own
    // (protected ones included, as Crossbar lists them); unknown or restricted
    // sessions are no_such_session.
    add(
        family.uri("list"), [&realm, family, store](const CallArguments& arguments, const InvocationDetails& details)
                                -> CallOutcome {
            Bound bound(family.uri("list"), {"session_id"}, 0, arguments);
            if (bound.error()) return *bound.error();
            std::vector<std::uint64_t> by_match[3];
            auto add = [&](const Observed& seen) { by_match[static_cast<int>(seen.match)].push_back(seen.id); };
            if (auto session = id_of(bound[0]).value_or(0); session != 0) {
                const auto* peer = realm.find_peer(session);
                if (!peer || is_restricted(*peer)) return no_such_session(session);
                if (const auto* ids = store(realm).observations_of(session))
                    for (auto id : *ids)
                        if (const auto* found = store(realm).find(id)) add(observed(*found));
            } else {
                store(realm).for_each([&](const auto& observation) {
                    auto seen = observed(observation);
                    if (!is_protected(*seen.uri, details)) add(seen);
                });
            }
            return result(Value{wamp::Dict{{"exact", Value{id_list(by_match[0])}},
                                           {"prefix", Value{id_list(by_match[1])}},
                                           {"wildcard", Value{id_list(by_match[2])}}}});
        });

    // lookup(uri, options=None): the observation a SUBSCRIBE/REGISTER with these
    // options would join, or null.
    add(
        family.uri("lookup"), [&realm, family, store](const CallArguments& arguments, const InvocationDetails& details)
                                  -> CallOutcome {
            Bound bound(family.uri("lookup"), {"uri", "options"}, 1, arguments);
            if (bound.error()) return *bound.error();
            const auto* uri = bound[0]->as_string();
            const wamp::Dict* options = bound[1] ? bound[1]->as_dict() : nullptr;
            if (!uri || (bound[1] && !options)) return signature_error("lookup(uri, options=None): uri must be a string, options a dict");
            auto match = wamp::MatchPolicy::exact;
            if (const auto* name = options ? wamp::find(*options, "match") : nullptr; name && !name->is_null()) {
                auto parsed = name->as_string() ? wamp::match_from_name(*name->as_string()) : std::nullopt;
                if (!parsed) return signature_error("options.match must be exact, prefix or wildcard");
                match = *parsed;
            }
            const auto* id = store(realm).lookup(*uri, match);
            if (!id || is_protected(*uri, details)) return result(Value{});
            return result(Value{*id});
        });

    add(
        family.uri("remove_" + std::string(family.member)),
        [&realm, family, store](const CallArguments& arguments, const InvocationDetails& details) -> CallOutcome {
            auto name = family.uri("remove_" + std::string(family.member));
            Bound bound(name, {"id", "session_id", "reason"}, 2, arguments);
            if (bound.error()) return *bound.error();
            auto id = id_of(bound[0]).value_or(0);
            auto session = id_of(bound[1]).value_or(0);
            bool ok = true;
            auto reason = optional_string(bound[2], ok);
            if (!ok) return signature_error("reason must be a string or null");
            if (!realm.find_peer(session)) return no_such_session(session);
            const auto* found = store(realm).find(id);
            if (!found) return family.not_found(id);
            if (is_protected(found->uri, details))
                return CallError::with_message(wamp::error_uri::not_authorized,
                                               "not authorized to remove " + std::string(family.member) +
                                                   " for protected URI \"" + found->uri + "\"");
            if (!store.remove(realm, id, session, reason))
                return CallError::with_message(family.no_such, "session " + std::to_string(session) + " is not a " +
                                                                   std::string(family.member) + " of " +
                                                                   std::string(family.family) + " " +
                                                                   std::to_string(id));
            return result(Value{});
        });
}

// The broker and dealer under the names serve_observation_family uses.
struct SubscriptionStore {
    struct View {
        const Broker& broker;
        const Broker::Subscription* find(std::uint64_t id) const { return broker.find(id); }
        const SubscriptionId* lookup(std::string_view uri, wamp::MatchPolicy match) const {
            return broker.lookup(uri, match);
        }
        const std::vector<SubscriptionId>* observations_of(SessionId session) const {
            return broker.subscriptions_of(session);
        }
        template <class F>
        void for_each(F&& visit) const {
            broker.for_each_subscription(visit);
        }
    };
    View operator()(const Realm& realm) const { return View{realm.broker()}; }
    bool remove(Realm& realm, std::uint64_t id, SessionId session, const std::optional<std::string>& reason) const {
        return realm.remove_subscriber(id, session, reason);
    }
};
struct RegistrationStore {
    struct View {
        const Dealer& dealer;
        const Dealer::Registration* find(std::uint64_t id) const { return dealer.find(id); }
        const RegistrationId* lookup(std::string_view uri, wamp::MatchPolicy match) const {
            return dealer.lookup(uri, match);
        }
        const std::vector<RegistrationId>* observations_of(SessionId session) const {
            return dealer.registrations_of(session);
        }
        template <class F>
        void for_each(F&& visit) const {
            dealer.for_each_registration(visit);
        }
    };
    View operator()(const Realm& realm) const { return View{realm.dealer()}; }
    bool remove(Realm& realm, std::uint64_t id, SessionId session, const std::optional<std::string>& reason) const {
        return realm.remove_callee(id, session, reason);
    }
};

}  // namespace

std::string iso8601_utc(std::chrono::system_clock::time_point time) {
    auto since_epoch = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch());
    std::time_t seconds = since_epoch.count() / 1000;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[64];
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                  utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(since_epoch.count() % 1000));
    return text;
}

wamp::Dict session_details(const PeerInfo& peer) {
    return wamp::Dict{
        {"realm", Value{peer.realm}},
        {"session", Value{peer.session_id}},
        {"authid", Value{peer.authid}},
        {"authrole", Value{peer.authrole}},
        {"authmethod", Value{peer.authmethod}},
        {"authprovider", Value{peer.authprovider}},
        {"authextra", Value{peer.authextra}},
        {"serializer", Value{std::string(wamp::serializer_name(peer.serializer))}},
        {"transport", Value{peer.transport}},
        // Session resumption is not served.
        {"resumed", Value{false}},
        {"resumable", Value{false}},
        {"resume_token", Value{}},
    };
}

CallOutcome session_count(const Realm& realm, const CallArguments& arguments) {
    Bound bound("wamp.session.count", {"filter_authroles"}, 0, arguments);
    if (bound.error()) return *bound.error();
    auto ids = listed_sessions(realm, bound[0]);
    if (auto* error = std::get_if<CallError>(&ids)) return *error;
    return result(Value{static_cast<std::uint64_t>(std::get<std::vector<SessionId>>(ids).size())});
}

namespace {

void add_session_procedures(MetaTable& add, Realm& realm) {
    add("wamp.session.count", [&realm](const CallArguments& arguments, const InvocationDetails&) {
        return session_count(realm, arguments);
    });
    add("wamp.session.list", [&realm](const CallArguments& arguments, const InvocationDetails&) -> CallOutcome {
        Bound bound("wamp.session.list", {"filter_authroles"}, 0, arguments);
        if (bound.error()) return *bound.error();
        auto ids = listed_sessions(realm, bound[0]);
        if (auto* error = std::get_if<CallError>(&ids)) return *error;
        return result(Value{id_list(std::get<std::vector<SessionId>>(ids))});
    });
    add("wamp.session.get", [&realm](const CallArguments& arguments, const InvocationDetails&) -> CallOutcome {
        Bound bound("wamp.session.get", {"session_id"}, 1, arguments);
        if (bound.error()) return *bound.error();
        auto id = id_of(bound[0]).value_or(0);
        const auto* peer = realm.find_peer(id);
        if (!peer || is_restricted(*peer)) return no_such_session(id);
        return result(Value{session_details(*peer)});
    });
    add("wamp.session.kill", [&realm](const CallArguments& arguments,
                                      const InvocationDetails& details) -> CallOutcome {
        Bound bound("wamp.session.kill", {"session_id", "reason", "message"}, 1, arguments);
        if (bound.error()) return *bound.error();
        auto id = id_of(bound[0]);
        if (!id) return signature_error("session_id must be an integer");
        auto kill = kill_reason(bound, 1);
        if (auto* error = std::get_if<CallError>(&kill)) return *error;
        const auto* peer = realm.find_peer(*id);
        // The caller cannot kill itself (WAMP spec, meta_api_sessions; Crossbar would).
        if (!peer || is_restricted(*peer) || *id == details.caller) return no_such_session(*id);
        const auto& why = std::get<KillReason>(kill);
        realm.kill(*id, why.reason, why.message);
        return result(Value{});
    });
    add("wamp.session.kill_by_authid", [&realm](const CallArguments& arguments, const InvocationDetails& details) {
        return kill_matching(realm, "wamp.session.kill_by_authid", "authid", &PeerInfo::authid, arguments, details);
    });
    add("wamp.session.kill_by_authrole", [&realm](const CallArguments& arguments, const InvocationDetails& details) {
        return kill_matching(realm, "wamp.session.kill_by_authrole", "authrole", &PeerInfo::authrole, arguments,
                             details);
    });
}

void add_subscription_procedures(MetaTable& add, Realm& realm) {
    serve_observation_family(add, realm, subscriptions, SubscriptionStore{});
    // match(topic): every subscription a PUBLISH would reach, or null.
    add("wamp.subscription.match", [&realm](const CallArguments& arguments,
                                            const InvocationDetails& details) -> CallOutcome {
        Bound bound("wamp.subscription.match", {"topic"}, 1, arguments);
        if (bound.error()) return *bound.error();
        const auto* topic = bound[0]->as_string();
        if (!topic) return signature_error("topic must be a string");
        std::vector<std::uint64_t> ids;
        realm.broker().for_each_match(*topic, [&](SubscriptionId id) {
            const auto* found = realm.broker().find(id);
            if (found && !is_protected(found->uri, details)) ids.push_back(id);
        });
        return result(ids.empty() ? Value{} : Value{id_list(ids)});
    });
}

void add_registration_procedures(MetaTable& add, Realm& realm) {
    serve_observation_family(add, realm, registrations, RegistrationStore{});
    // match(procedure): the one registration a CALL would reach, or null.
    add("wamp.registration.match", [&realm](const CallArguments& arguments,
                                            const InvocationDetails& details) -> CallOutcome {
        Bound bound("wamp.registration.match", {"procedure"}, 1, arguments);
        if (bound.error()) return *bound.error();
        const auto* procedure = bound[0]->as_string();
        if (!procedure) return signature_error("procedure must be a string");
        // On a clustered realm the directory view knows every node's registrations:
        // the match is the one a CALL would reach, whichever node holds it.
        if (auto* link = realm.cluster_link())
            if (auto best = link->best_registration(*procedure); best && !best->uri.empty()) {
                if (is_protected(best->uri, details)) return result(Value{});
                return result(Value{observation_id(realm.name(), best->uri, best->match)});
            }
        const auto* id = realm.dealer().best_match(*procedure);
        const auto* found = id ? realm.dealer().find(*id) : nullptr;
        if (!found || is_protected(found->uri, details)) return result(Value{});
        return result(Value{found->id});
    });
}

// The gathered procedures and how their answers merge (SCALE-OUT.md §2.9).
constexpr std::pair<std::string_view, MetaMerge> meta_merges[] = {
    {"wamp.session.count", MetaMerge::sum},
    {"wamp.session.list", MetaMerge::join},
    {"wamp.session.get", MetaMerge::first_found},
    {"wamp.session.kill", MetaMerge::first_found},
    {"wamp.session.kill_by_authid", MetaMerge::join},
    {"wamp.session.kill_by_authrole", MetaMerge::join},
    {"wamp.subscription.list", MetaMerge::join_by_match},
    {"wamp.subscription.lookup", MetaMerge::first_non_null},
    {"wamp.subscription.match", MetaMerge::join_or_null},
    {"wamp.subscription.get", MetaMerge::first_found},
    {"wamp.subscription.list_subscribers", MetaMerge::join},
    {"wamp.subscription.count_subscribers", MetaMerge::sum},
    // Like kill: asked of every node when the session is not here, the one holding it acts.
    {"wamp.subscription.remove_subscriber", MetaMerge::first_found},
    {"wamp.registration.list", MetaMerge::join_by_match},
    {"wamp.registration.lookup", MetaMerge::first_non_null},
    {"wamp.registration.get", MetaMerge::first_found},
    {"wamp.registration.list_callees", MetaMerge::join},
    {"wamp.registration.count_callees", MetaMerge::sum},
    {"wamp.registration.remove_callee", MetaMerge::first_found},
};

// The errors of a node that does not hold what was asked for; any other error is
// every node's answer.
bool is_not_here(const CallError& error) {
    return error.uri == wamp::error_uri::no_such_session || error.uri == wamp::error_uri::no_such_subscription ||
           error.uri == wamp::error_uri::no_such_registration;
}

const Value* first_result(const CallOutcome& outcome) {
    return outcome.ok() && !outcome.result().args.empty() ? &outcome.result().args[0] : nullptr;
}

// The ids of `list` not yet in `seen` go to `into`, in order.
void join_ids(const Value* list, wamp::List& into, std::unordered_set<std::uint64_t>& seen) {
    const auto* ids = list ? list->as_list() : nullptr;
    if (!ids) return;
    for (const auto& id : *ids)
        if (auto number = id.as_unsigned(); number && seen.insert(*number).second) into.emplace_back(*number);
}

}  // namespace

std::optional<MetaMerge> meta_merge_of(std::string_view procedure) {
    for (const auto& [uri, merge] : meta_merges)
        if (uri == procedure) return merge;
    return std::nullopt;
}

bool meta_answer_is_local(MetaMerge merge, const CallOutcome& local) {
    if (!local.ok()) return !is_not_here(local.error());
    if (merge == MetaMerge::first_found) return true;
    const auto* found = first_result(local);
    return merge == MetaMerge::first_non_null && found && !found->is_null();
}

CallOutcome merge_meta_answers(MetaMerge merge, const CallOutcome& local, const MetaAnswers& remote) {
    std::vector<const CallOutcome*> answers{&local};
    for (const auto& answer : remote.answers) answers.push_back(&answer);
    std::optional<CallOutcome> merged;
    switch (merge) {
        case MetaMerge::sum: {
            std::uint64_t total = 0;
            bool any = false;
            for (const auto* answer : answers)
                if (const auto* count = first_result(*answer)) {
                    total += count->as_unsigned().value_or(0);
                    any = true;
                }
            if (any) merged.emplace(result(Value{total}));
            break;
        }
        case MetaMerge::join:
        case MetaMerge::join_or_null: {
            wamp::List ids;
            std::unordered_set<std::uint64_t> seen;
            bool any = false;
            for (const auto* answer : answers) {
                any = any || answer->ok();
                join_ids(first_result(*answer), ids, seen);
            }
            if (!any) break;
            if (merge == MetaMerge::join_or_null && ids.empty()) merged.emplace(result(Value{}));
            else merged.emplace(result(Value{std::move(ids)}));
            break;
        }
        case MetaMerge::join_by_match: {
            wamp::Dict by_match;
            bool any = false;
            for (std::string_view key : {"exact", "prefix", "wildcard"}) {
                wamp::List ids;
                std::unordered_set<std::uint64_t> seen;
                for (const auto* answer : answers) {
                    const auto* dict = first_result(*answer) ? first_result(*answer)->as_dict() : nullptr;
                    any = any || dict;
                    if (dict) join_ids(wamp::find(*dict, key), ids, seen);
                }
                by_match.emplace_back(std::string(key), Value{std::move(ids)});
            }
            if (any) merged.emplace(result(Value{std::move(by_match)}));
            break;
        }
        case MetaMerge::first_found:
        case MetaMerge::first_non_null: {
            // A node that holds it answers ok (first_found) or non-null (first_non_null).
            auto holds = [merge](const CallOutcome& answer) {
                const auto* found = first_result(answer);
                return answer.ok() && (merge == MetaMerge::first_found || (found && !found->is_null()));
            };
            for (const auto* answer : answers)
                // What one node holds is the whole answer, whoever did not answer.
                if (holds(*answer)) return *answer;
            for (const auto* answer : answers)
                if (answer->ok()) {  // null everywhere
                    merged.emplace(*answer);
                    break;
                }
            break;
        }
    }
    if (!merged) {
        // No node holds it: an error, from the node that knows the session when one does
        // (remove_subscriber and remove_callee of a session that is no subscriber or
        // callee: its node says which; the others only that they lack the session),
        // else the asking node's own; saying which nodes were not heard.
        const CallOutcome* told = &local;
        for (const auto* answer : answers)
            if (!answer->ok() && answer->error().uri != wamp::error_uri::no_such_session) {
                told = answer;
                break;
            }
        if (remote.missing == 0) return *told;
        auto error = told->error();
        auto note = " (" + std::to_string(remote.missing) + " cluster nodes did not answer in time)";
        if (!error.args.empty() && error.args[0].as_string()) error.args[0] = Value{*error.args[0].as_string() + note};
        return error;
    }
    if (remote.missing == 0 || !merged->ok()) return *merged;
    auto partial = merged->result();
    partial.kwargs.emplace_back("partial", Value{true});
    partial.kwargs.emplace_back("missing_nodes", Value{static_cast<std::uint64_t>(remote.missing)});
    return partial;
}

std::unordered_map<std::string, ServiceSession::Handler> local_meta_procedures(Realm& realm) {
    MetaTable table;
    add_session_procedures(table, realm);
    add_subscription_procedures(table, realm);
    add_registration_procedures(table, realm);
    return std::move(table.procedures);
}

std::optional<CallOutcome> answer_meta_locally(Realm& realm, const std::string& procedure,
                                               const CallArguments& arguments, const InvocationDetails& details) {
    if (!meta_merge_of(procedure)) return std::nullopt;
    // Built for each question: a gather is rare, and its handlers hold nothing but the realm.
    auto procedures = local_meta_procedures(realm);
    auto it = procedures.find(procedure);
    if (it == procedures.end()) return std::nullopt;
    return it->second(arguments, details);
}

MetaEvents::MetaEvents(ServiceSession& service, Realm& realm) : service_(service), realm_(realm) {
    realm_.set_observer(this);
}

MetaEvents::~MetaEvents() { realm_.set_observer(nullptr); }

void MetaEvents::joined(const PeerInfo& peer) {
    service_.publish("wamp.session.on_join", wamp::List{Value{session_details(peer)}}, {});
}

void MetaEvents::left(const PeerInfo& peer) {
    service_.publish("wamp.session.on_leave", wamp::List{Value{peer.session_id}}, {});
}

void MetaEvents::publish_change(std::string_view family, std::string_view attached, std::string_view detached,
                                const ObservationChange& change) {
    const auto& observation = change.observation;
    if (observation.uri.starts_with("wamp.")) return;
    auto topic = "wamp." + std::string(family) + ".";
    Value second{observation.id};
    switch (change.kind) {
        case ObservationChange::Kind::created:
            topic += "on_create";
            second = Value{observation_details(
                observation.id, observation.uri, observation.match, observation.created,
                observation.invoke.empty() ? std::nullopt : std::optional<std::string_view>(observation.invoke))};
            break;
        case ObservationChange::Kind::attached: topic += attached; break;
        case ObservationChange::Kind::detached: topic += detached; break;
        case ObservationChange::Kind::deleted: topic += "on_delete"; break;
    }
    service_.publish(std::move(topic), wamp::List{Value{change.session}, std::move(second)}, {});
}

void MetaEvents::subscription_changed(const ObservationChange& change) {
    publish_change("subscription", "on_subscribe", "on_unsubscribe", change);
}

void MetaEvents::registration_changed(const ObservationChange& change) {
    publish_change("registration", "on_register", "on_unregister", change);
}

std::unique_ptr<MetaEvents> serve_meta_api(ServiceSession& service, Realm& realm) {
    for (auto& procedure : local_meta_procedures(realm)) {
        const auto& uri = procedure.first;
        auto handler = std::move(procedure.second);
        auto merge = meta_merge_of(uri);
        if (!merge) {
            service.register_procedure(uri, std::move(handler));
            continue;
        }
        // On a clustered realm the other live nodes add their part; answered when they
        // all did or the gather's bound passed, never blocking the router thread.
        service.register_async_procedure(
            uri, [&realm, uri, handler, merge = *merge](const CallArguments& arguments, const InvocationDetails& details,
                                                       const ServiceSession::Answer& answer) {
                auto local = handler(arguments, details);
                auto* link = realm.cluster_link();
                if (!link || meta_answer_is_local(merge, local)) return answer(std::move(local));
                bool asked = link->gather_meta(uri, arguments, details, [merge, local, answer](MetaAnswers remote) {
                    answer(merge_meta_answers(merge, local, remote));
                });
                if (!asked)
                    answer(CallError::with_message(wamp::error_uri::limit_reached,
                                                   "too many meta API questions wait for other cluster nodes"));
            });
    }
    return std::make_unique<MetaEvents>(service, realm);
}

}  // namespace blindrouter::core
