#include "blindrouter/core/router.hpp"

#include <spdlog/spdlog.h>

#include <vector>

namespace blindrouter::core {

Router::Router(const config::NodeConfig& config, const hooks::HookChain& hooks, TimerService* timers)
    : hooks_(hooks), timers_(timers), max_pending_authentications_(config.max_pending_authentications) {
    for (const auto& realm : config.realms)
        realms_.emplace(realm.name, std::make_unique<Realm>(realm, hooks_, ids_, timers_));
}

std::shared_ptr<Session> Router::open_session(SessionTransport& transport, const config::TransportAuth& auth) {
    SessionId id;
    do id = ids_.next();
    while (sessions_.count(id) != 0);
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
