#pragma once
// The router: realms by name and every open session, independent of transports.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "blindrouter/auth/authenticator.hpp"
#include "blindrouter/auth/dynamic.hpp"
#include "blindrouter/config/node_config.hpp"
#include "blindrouter/core/client_warnings.hpp"
#include "blindrouter/core/metrics.hpp"
#include "blindrouter/core/realm.hpp"
#include "blindrouter/core/session.hpp"
#include "blindrouter/hooks/message_hook.hpp"

namespace blindrouter::auth {
class NodeKey;
}

namespace blindrouter::core {

class ServiceSession;
class MetaEvents;

class Router : public auth::RealmDirectory, public auth::AuthenticatorCaller {
public:
    // `timers` may be null (no call timeouts are enforced then). Starts each realm
    // with its trusted service session, which serves the meta API.
    Router(const config::NodeConfig& config, const hooks::HookChain& hooks, TimerService* timers = nullptr);
    ~Router();

    std::shared_ptr<Session> open_session(SessionTransport& transport, const config::TransportAuth& auth);
    void session_closed(SessionId session);
    // GOODBYE wamp.close.system_shutdown to every session.
    void shut_down();

    Realm* find_realm(std::string_view name);
    void for_each_realm(const std::function<void(const Realm&)>& visit) const {
        for (const auto& [name, realm] : realms_) visit(*realm);
    }
    bool has_realm(std::string_view realm) const override;
    bool has_role(std::string_view realm, std::string_view role) const override;

    // The router-wide bound on sessions between HELLO and WELCOME that wait for an
    // answer (config::NodeConfig::max_pending_authentications). False when full.
    bool reserve_pending_authentication();
    void release_pending_authentication();
    std::size_t pending_authentications() const { return pending_authentications_; }

    // The router's own session on `realm` under `authrole`, joined on first use: the
    // realm's `trusted` one serves the meta API (Crossbar's service session), and a
    // dynamic authenticator is called under its configured authenticator-role.
    // nullptr when there is no such realm. Service sessions are not counted by
    // session_count() and are not shut down with the clients.
    ServiceSession* service_session(std::string_view realm, std::string_view authrole);
    // The service session if it exists; never creates one.
    ServiceSession* find_service_session(std::string_view realm, std::string_view authrole);
    // A dynamic authenticator's call, through the service session on `realm` under
    // `role` (created on first use: Crossbar has one for "trusted" only and fails for
    // any other authenticator-role). Destroying the returned call abandons it.
    std::unique_ptr<auth::AuthenticatorCall> call_authenticator(const std::string& procedure, const std::string& realm,
                                                                const std::string& role, wamp::List args,
                                                                Done done) override;
    // Whether the realm's trusted service session serves the meta API (a configured
    // `trusted` role may forbid it to register wamp.*): WELCOME announces it only then.
    bool serves_meta_api(std::string_view realm) const;
    const hooks::HookChain& hooks() const { return hooks_; }
    // Router-wide, for what a client can provoke by reconnecting (logins, protocol violations).
    ClientWarnings& client_warnings() { return client_warnings_; }
    bool enforces_call_timeouts() const { return timers_ != nullptr; }
    TimerService* timers() const { return timers_; }
    // The node key that cryptosign's router authentication signs with (Crossbar keeps
    // it in the node directory); set at start when a transport serves cryptosign.
    void set_node_key(std::shared_ptr<const auth::NodeKey> key) { node_key_ = std::move(key); }
    const std::shared_ptr<const auth::NodeKey>& node_key() const { return node_key_; }
    std::size_t session_count() const { return sessions_.size(); }
    // What the metrics endpoint serves (core/metrics.hpp).
    RouterMetrics& metrics() { return metrics_; }
    const RouterMetrics& metrics() const { return metrics_; }

    // The authrole of the realm's own service session.
    static constexpr std::string_view trusted_role = "trusted";

private:
    SessionId fresh_session_id();

    const hooks::HookChain& hooks_;
    TimerService* timers_;
    std::shared_ptr<const auth::NodeKey> node_key_;
    IdGenerator ids_;
    RouterMetrics metrics_;  // before the realms, which count into it
    std::map<std::string, std::unique_ptr<Realm>, std::less<>> realms_;
    std::unordered_map<SessionId, std::weak_ptr<Session>> sessions_;
    std::size_t max_pending_authentications_;
    std::size_t pending_authentications_ = 0;
    ClientWarnings client_warnings_;

    // Last, so that they leave their realms before the realms go.
    std::map<std::pair<std::string, std::string>, std::unique_ptr<ServiceSession>, std::less<>> service_sessions_;
    std::unordered_set<SessionId> service_session_ids_;
    // Each realm's meta events, published through its trusted service session.
    std::vector<std::unique_ptr<MetaEvents>> meta_events_;
};

}  // namespace blindrouter::core
