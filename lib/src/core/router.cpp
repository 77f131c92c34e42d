#include "blindrouter/core/router.hpp"

#include <spdlog/spdlog.h>

#include <vector>

namespace blindrouter::core {

Router::Router(const config::NodeConfig& config, const hooks::HookChain& hooks, TimerService* timers)
    : hooks_(hooks), timers_(timers) {
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

}  // namespace blindrouter::core
