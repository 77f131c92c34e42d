#include "blindrouter/core/router.hpp"

#include <spdlog/spdlog.h>

#include <vector>

#include "blindrouter/core/event_history.hpp"
#include "blindrouter/core/meta_api.hpp"
#include "blindrouter/core/service_session.hpp"
#include "blindrouter/wamp/error_uri.hpp"
#include "blindrouter/wamp/log_text.hpp"
#include "blindrouter/core/testaments.hpp"

namespace blindrouter::core {

Router::Router(const config::NodeConfig& config, const hooks::HookChain& hooks, TimerService* timers)
    : hooks_(hooks), timers_(timers), max_pending_authentications_(config.max_pending_authentications),
      client_warnings_(timers) {
    for (const auto& realm : config.realms)
        realms_.emplace(realm.name, std::make_unique<Realm>(realm, hooks_, ids_, timers_));
    for (auto& [name, realm] : realms_) {
        realm->set_metrics(&metrics_);
        meta_events_.push_back(serve_meta_api(*service_session(name, trusted_role), *realm));
        // Crossbar calls dynamic authorizers from the realm's service session
        // (cb:router/role.py RouterRoleDynamicAuth: router._realm.session).
        realm->serve_dynamic_authorizers([this, realm_name = name] { return service_session(realm_name, trusted_role); });
        serve_testament_api(*service_session(name, trusted_role), *realm);
        serve_event_history_api(*service_session(name, trusted_role), *realm);
    }
}

Router::~Router() {
    // Explicitly first: a service session leaving its realm still reaches the router,
    // and the meta events go before the sessions that publish them.
    meta_events_.clear();
    service_sessions_.clear();
}

SessionId Router::fresh_session_id() {
    SessionId id;
    do id = ids_.next();
    while (sessions_.count(id) != 0 || service_session_ids_.count(id) != 0);
    return id;
}

ServiceSession* Router::service_session(std::string_view realm_name, std::string_view authrole) {
    auto key = std::make_pair(std::string(realm_name), std::string(authrole));
    if (auto it = service_sessions_.find(key); it != service_sessions_.end()) return it->second.get();
    auto* realm = find_realm(realm_name);
    if (!realm) return nullptr;
    auto id = fresh_session_id();
    auto service = std::make_unique<ServiceSession>(*this, *realm, id, "blindrouter-service", key.second);
    service_session_ids_.insert(id);
    spdlog::info("service session {} serves realm \"{}\" as role \"{}\"", id, wamp::log_text(realm_name),
                 wamp::log_text(authrole));
    return service_sessions_.emplace(std::move(key), std::move(service)).first->second.get();
}

ServiceSession* Router::find_service_session(std::string_view realm, std::string_view authrole) {
    auto it = service_sessions_.find(std::make_pair(std::string(realm), std::string(authrole)));
    return it == service_sessions_.end() ? nullptr : it->second.get();
}

namespace {

// A pending authenticator call, named by its service session's key and request id: the
// session it was made for may go first (a deadline, a disconnect).
class ServiceCall final : public auth::AuthenticatorCall {
public:
    ServiceCall(Router& router, std::string realm, std::string role, RequestId request)
        : router_(router), realm_(std::move(realm)), role_(std::move(role)), request_(request) {}
    ~ServiceCall() override {
        if (auto* service = router_.find_service_session(realm_, role_)) service->abandon(request_);
    }

private:
    Router& router_;
    std::string realm_;
    std::string role_;
    RequestId request_;
};

}  // namespace

std::unique_ptr<auth::AuthenticatorCall> Router::call_authenticator(const std::string& procedure,
                                                                    const std::string& realm, const std::string& role,
                                                                    wamp::List args, Done done) {
    auto* service = service_session(realm, role);
    if (!service) {
        done(auth::AuthenticatorReply{std::string(wamp::error_uri::no_such_realm), {}, {}});
        return nullptr;
    }
    auto request = service->call(procedure, std::move(args), {}, [done = std::move(done)](CallOutcome outcome) {
        if (outcome.ok()) return done(auth::AuthenticatorReply{std::nullopt, outcome.result().args, outcome.result().kwargs});
        const auto& error = outcome.error();
        done(auth::AuthenticatorReply{error.uri, error.args, error.kwargs});
    });
    if (request == 0) return nullptr;
    return std::make_unique<ServiceCall>(*this, realm, role, request);
}

bool Router::serves_meta_api(std::string_view realm) const {
    auto it = service_sessions_.find(std::make_pair(std::string(realm), std::string(trusted_role)));
    return it != service_sessions_.end() && it->second->registered("wamp.session.get");
}

std::shared_ptr<Session> Router::open_session(SessionTransport& transport, const config::TransportAuth& auth) {
    auto id = fresh_session_id();
    auto session = std::make_shared<Session>(*this, transport, auth, id);
    sessions_.emplace(id, session);
    return session;
}

void Router::session_closed(SessionId session) { sessions_.erase(session); }

void Router::shut_down() {
    std::vector<std::shared_ptr<Session>> open;
    for (auto& [id, weak] : sessions_)
        if (auto session = weak.lock()) open.push_back(std::move(session));
    spdlog::info("shutting down: {} open sessions", open.size());
    for (auto& session : open) session->shut_down();
}

Realm* Router::find_realm(std::string_view name) {
    auto it = realms_.find(name);
    return it == realms_.end() ? nullptr : it->second.get();
}

bool Router::has_realm(std::string_view realm) const { return realms_.find(realm) != realms_.end(); }

bool Router::has_role(std::string_view realm, std::string_view role) const {
    auto it = realms_.find(realm);
    return it != realms_.end() && it->second->authorizer().has_role(role);
}

bool Router::reserve_pending_authentication() {
    if (pending_authentications_ >= max_pending_authentications_) return false;
    ++pending_authentications_;
    return true;
}

void Router::release_pending_authentication() {
    if (pending_authentications_ > 0) --pending_authentications_;
}

}  // namespace blindrouter::core
