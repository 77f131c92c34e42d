#pragma once
// The router: realms by name and every open session, independent of transports.
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "blindrouter/auth/authenticator.hpp"
#include "blindrouter/config/node_config.hpp"
#include "blindrouter/core/realm.hpp"
#include "blindrouter/core/session.hpp"
#include "blindrouter/hooks/message_hook.hpp"

namespace blindrouter::core {

class Router : public auth::RealmDirectory {
public:
    // `timers` may be null (no call timeouts are enforced then).
    Router(const config::NodeConfig& config, const hooks::HookChain& hooks, TimerService* timers = nullptr);

    std::shared_ptr<Session> open_session(SessionTransport& transport, const config::TransportAuth& auth);
    void session_closed(SessionId session);
    // GOODBYE wamp.close.system_shutdown to every session.
    void shut_down();

    Realm* find_realm(std::string_view name);
    bool has_realm(std::string_view realm) const override;
    bool has_role(std::string_view realm, std::string_view role) const override;

    // The router-wide bound on sessions between HELLO and WELCOME that wait for an
    // answer (config::NodeConfig::max_pending_authentications). False when full.
    bool reserve_pending_authentication();
    void release_pending_authentication();
    std::size_t pending_authentications() const { return pending_authentications_; }
    const hooks::HookChain& hooks() const { return hooks_; }
    bool enforces_call_timeouts() const { return timers_ != nullptr; }
    std::size_t session_count() const { return sessions_.size(); }

private:
    const hooks::HookChain& hooks_;
    TimerService* timers_;
    IdGenerator ids_;
    std::map<std::string, std::unique_ptr<Realm>, std::less<>> realms_;
    std::unordered_map<SessionId, std::weak_ptr<Session>> sessions_;
    std::size_t max_pending_authentications_;
    std::size_t pending_authentications_ = 0;
};

}  // namespace blindrouter::core
