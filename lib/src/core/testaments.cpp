#include "blindrouter/core/testaments.hpp"

#include <array>
#include <optional>

#include "blindrouter/core/realm.hpp"
#include "blindrouter/core/service_session.hpp"
#include "blindrouter/wamp/error_uri.hpp"
#include "blindrouter/wamp/messages.hpp"

namespace blindrouter::core {
using wamp::Value;

bool Testaments::add(SessionId session, Scope scope, wamp::Message publish) {
    auto& left = by_session_[session];
    if (left.detached.size() + left.destroyed.size() >= max_per_session_) return false;
    (scope == Scope::detached ? left.detached : left.destroyed).push_back(std::move(publish));
    changed(session);
    return true;
}

std::size_t Testaments::flush(SessionId session, Scope scope) {
    auto it = by_session_.find(session);
    if (it == by_session_.end()) return 0;
    auto& list = scope == Scope::detached ? it->second.detached : it->second.destroyed;
    auto flushed = list.size();
    list.clear();
    if (it->second.detached.empty() && it->second.destroyed.empty()) by_session_.erase(it);
    if (flushed > 0) changed(session);
    return flushed;
}

std::vector<wamp::Message> Testaments::take(SessionId session) {
    auto it = by_session_.find(session);
    if (it == by_session_.end()) return {};
    auto ordered = std::move(it->second.detached);
    for (auto& m : it->second.destroyed) ordered.push_back(std::move(m));
    by_session_.erase(it);
    changed(session);
    return ordered;
}

std::vector<const wamp::Message*> Testaments::list(SessionId session) const {
    std::vector<const wamp::Message*> ordered;
    auto it = by_session_.find(session);
    if (it == by_session_.end()) return ordered;
    for (const auto& m : it->second.detached) ordered.push_back(&m);
    for (const auto& m : it->second.destroyed) ordered.push_back(&m);
    return ordered;
}

std::size_t Testaments::count(SessionId session) const {
    auto it = by_session_.find(session);
    return it == by_session_.end() ? 0 : it->second.detached.size() + it->second.destroyed.size();
}

std::optional<Testaments::Scope> testament_scope(std::string_view name) {
    if (name == "detached") return Testaments::Scope::detached;
    if (name == "destroyed") return Testaments::Scope::destroyed;
    return std::nullopt;
}

namespace {

// Crossbar's procedures are Python functions: arguments bind by position or by
// name, and a call that does not fit the signature raises TypeError, which Autobahn
// answers with wamp.error.runtime_error.
template <std::size_t N>
std::optional<CallError> bind(std::string_view signature, const std::array<std::string_view, N>& names,
                              std::size_t required, const CallArguments& arguments,
                              std::array<const Value*, N>& into) {
    auto error = [&](std::string text) {
        return CallError::with_message(wamp::error_uri::runtime_error, std::string(signature) + " " + text);
    };
    if (arguments.args.size() > N) return error("takes at most " + std::to_string(N) + " arguments");
    into.fill(nullptr);
    for (std::size_t i = 0; i < arguments.args.size(); ++i) into[i] = &arguments.args[i];
    for (const auto& [key, value] : arguments.kwargs) {
        std::size_t i = 0;
        while (i < N && names[i] != key) ++i;
        if (i == N) return error("got an unexpected keyword argument '" + key + "'");
        if (into[i]) return error("got multiple values for argument '" + key + "'");
        into[i] = &value;
    }
    for (std::size_t i = 0; i < required; ++i)
        if (!into[i]) return error("missing required argument '" + std::string(names[i]) + "'");
    return std::nullopt;
}

const Value* unless_null(const Value* v) { return v && !v->is_null() ? v : nullptr; }

CallError testament_error() {
    return CallError::with_message("wamp.error.testament_error", "scope must be destroyed or detached");
}

// The PUBLISH options Autobahn's Publish takes as keyword arguments
// (ab:wamp/message.py Publish.__init__); any other key is a TypeError there.
constexpr std::array<std::string_view, 12> publish_option_names{
    "exclude",         "exclude_authid",    "exclude_authrole", "eligible", "eligible_authid", "eligible_authrole",
    "retain",          "transaction_hash",  "enc_algo",         "enc_key",  "enc_serializer",  "forward_for"};

CallOutcome add_testament(Realm& realm, const CallArguments& arguments, const InvocationDetails& details) {
    constexpr std::string_view signature =
        "wamp.session.add_testament(topic, args, kwargs, publish_options=None, scope='destroyed')";
    std::array<const Value*, 5> bound{};
    if (auto fault = bind<5>(signature, {"topic", "args", "kwargs", "publish_options", "scope"}, 3, arguments, bound))
        return *fault;
    const auto* topic = bound[0]->as_string();
    const auto* args = unless_null(bound[1]);
    const auto* kwargs = unless_null(bound[2]);
    const auto* options = unless_null(bound[3]);
    const auto* scope_name = unless_null(bound[4]);
    // Autobahn's Publish asserts these types; the AssertionError is a runtime_error too.
    if (!topic || (args && !args->as_list()) || (kwargs && !kwargs->as_dict()) || (options && !options->as_dict()) ||
        (scope_name && !scope_name->as_string()))
        return CallError::with_message(wamp::error_uri::runtime_error,
                                       std::string(signature) + ": topic must be a string, args a list, kwargs and "
                                                                "publish_options dicts, scope a string");
    auto scope = scope_name ? testament_scope(*scope_name->as_string()) : Testaments::Scope::destroyed;
    if (!scope) return testament_error();
    if (!details.caller) return CallError::with_message(wamp::error_uri::runtime_error, "the caller is not disclosed");

    wamp::Dict publish_options;
    if (options)
        for (const auto& [key, value] : *options->as_dict()) {
            // Crossbar drops these two: nobody is left to acknowledge to or exclude.
            if (key == "acknowledge" || key == "exclude_me") continue;
            bool known = false;
            for (auto name : publish_option_names) known |= name == key;
            if (!known)
                return CallError::with_message(wamp::error_uri::runtime_error,
                                               "publish option '" + key + "' is not an option of PUBLISH here");
            publish_options.emplace_back(key, value);
        }
    auto publication = realm.next_id();
    auto publish = wamp::Publish::build(publication, std::move(publish_options), *topic)
                       .router_arguments(args ? *args->as_list() : wamp::List{},
                                         kwargs ? *kwargs->as_dict() : wamp::Dict{})
                       .take();
    if (!realm.testaments().add(*details.caller, *scope, std::move(publish)))
        return CallError::with_message(wamp::error_uri::limit_reached,
                                       "the session has left as many testaments as the realm keeps "
                                       "(max_testaments_per_session)");
    // Crossbar answers with the id of the PUBLISH it built; the spec says nothing.
    return CallArguments{wamp::List{Value{publication}}, {}};
}

CallOutcome flush_testaments(Realm& realm, const CallArguments& arguments, const InvocationDetails& details) {
    std::array<const Value*, 1> bound{};
    if (auto fault = bind<1>("wamp.session.flush_testaments(scope='destroyed')", {"scope"}, 0, arguments, bound))
        return *fault;
    const auto* scope_name = unless_null(bound[0]);
    if (scope_name && !scope_name->as_string()) return testament_error();
    auto scope = scope_name ? testament_scope(*scope_name->as_string()) : Testaments::Scope::destroyed;
    if (!scope) return testament_error();
    if (!details.caller) return CallError::with_message(wamp::error_uri::runtime_error, "the caller is not disclosed");
    // Crossbar answers with the number flushed.
    return CallArguments{wamp::List{Value{static_cast<std::uint64_t>(realm.testaments().flush(*details.caller, *scope))}},
                         {}};
}

}  // namespace

void serve_testament_api(ServiceSession& service, Realm& realm) {
    service.register_procedure("wamp.session.add_testament",
                               [&realm](const CallArguments& arguments, const InvocationDetails& details) {
                                   return add_testament(realm, arguments, details);
                               });
    service.register_procedure("wamp.session.flush_testaments",
                               [&realm](const CallArguments& arguments, const InvocationDetails& details) {
                                   return flush_testaments(realm, arguments, details);
                               });
}

}  // namespace blindrouter::core
