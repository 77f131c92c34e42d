#pragma once
// A realm: the sessions joined to it, its broker, dealer and authorizer. Messages
// of established sessions go: hooks → URI and authorization checks → broker/dealer
// → outbound hooks → receivers' sessions.
#include <memory>
#include <string>
#include <unordered_map>

#include "blindrouter/auth/authorizer.hpp"
#include "blindrouter/config/node_config.hpp"
#include "blindrouter/core/broker.hpp"
#include "blindrouter/core/dealer.hpp"
#include "blindrouter/hooks/message_hook.hpp"

namespace blindrouter::core {

class Session;

class Realm {
public:
    Realm(const config::Realm& config, const hooks::HookChain& hooks, IdGenerator& ids);

    const std::string& name() const { return name_; }
    const auth::Authorizer& authorizer() const { return authorizer_; }

    void join(const std::shared_ptr<Session>& session);
    void leave(SessionId session);
    void handle(Session& sender, const wamp::Message& message);

    std::size_t session_count() const { return sessions_.size(); }
    const Broker& broker() const { return broker_; }
    const Dealer& dealer() const { return dealer_; }

private:
    void on_publish(Session& sender, const wamp::Message& message);
    void on_subscribe(Session& sender, const wamp::Message& message);
    void on_unsubscribe(Session& sender, const wamp::Message& message);
    void on_call(Session& sender, const wamp::Message& message);
    void on_register(Session& sender, const wamp::Message& message);
    void on_unregister(Session& sender, const wamp::Message& message);
    void on_yield(Session& sender, const wamp::Message& message);
    void on_error(Session& sender, const wamp::Message& message);
    void on_cancel(Session& sender, const wamp::Message& message);

    // Sends what the broker/dealer decided, through the outbound hooks.
    void dispatch(Session& sender, RouteResult result);
    // Answers a request with ERROR; `silent` requests (PUBLISH without acknowledge) get none.
    void refuse(Session& sender, const wamp::Message& request, std::string_view error_uri, std::string_view text,
                wamp::Dict kwargs = {});

    std::string name_;
    auth::Authorizer authorizer_;
    const hooks::HookChain& hooks_;
    Broker broker_;
    Dealer dealer_;
    std::unordered_map<SessionId, std::shared_ptr<Session>> sessions_;
};

}  // namespace blindrouter::core
