#include "blindrouter/core/meta_api.hpp"

#include <algorithm>

#include "blindrouter/core/realm.hpp"
#include "blindrouter/wamp/error_uri.hpp"

namespace blindrouter::core {
namespace {

// Crossbar leaves sessions with no authrole or the `trusted` one out of the session
// meta API (cb:router/service.py is_restricted_session), and its own service
// sessions are never among the router's client sessions (cb:router/router.py attach).
bool is_restricted(const PeerInfo& peer) {
    return peer.router_internal || peer.authrole.empty() || peer.authrole == "trusted";
}

// Crossbar's procedures are Python functions: a call that does not fit their
// signature raises TypeError, which Autobahn answers with wamp.error.runtime_error.
CallError signature_error(std::string text) {
    return CallError::with_message(wamp::error_uri::runtime_error, std::move(text));
}

}  // namespace

CallOutcome session_count(const Realm& realm, const CallArguments& arguments) {
    constexpr std::string_view signature = "wamp.session.count(filter_authroles=None)";
    const wamp::Value* filter = arguments.args.empty() ? nullptr : &arguments.args.front();
    if (arguments.args.size() > 1) return signature_error(std::string(signature) + " takes at most one argument");
    for (const auto& [key, value] : arguments.kwargs) {
        if (key != "filter_authroles")
            return signature_error(std::string(signature) + " got an unexpected keyword argument '" + key + "'");
        if (filter) return signature_error(std::string(signature) + " got multiple values for 'filter_authroles'");
        filter = &value;
    }
    if (filter && filter->is_null()) filter = nullptr;
    const wamp::List* roles = filter ? filter->as_list() : nullptr;
    // Crossbar asserts the type, and the AssertionError becomes runtime_error too.
    if (filter && !roles) return signature_error("filter_authroles must be a list of authroles or null");

    std::uint64_t count = 0;
    realm.for_each_peer([&](const PeerInfo& peer) {
        if (is_restricted(peer)) return;
        if (roles && std::none_of(roles->begin(), roles->end(), [&](const wamp::Value& role) {
                const auto* name = role.as_string();
                return name && *name == peer.authrole;
            }))
            return;
        ++count;
    });
    return CallArguments{wamp::List{wamp::Value{count}}, {}};
}

void serve_meta_api(ServiceSession& service, const Realm& realm) {
    service.register_procedure("wamp.session.count", [&realm](const CallArguments& arguments, const InvocationDetails&) {
        return session_count(realm, arguments);
    });
}

}  // namespace blindrouter::core
