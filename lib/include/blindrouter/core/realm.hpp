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

    // Sends what the broker/dealer decided about `inbound`, through the outbound hooks.
    void dispatch(Session& sender, const wamp::Message& inbound, RouteResult result);
    // Sends an ERROR in place of what an outbound hook refused to deliver.
    void answer_refused_delivery(Session& sender, const wamp::Message& inbound, const wamp::Message& outgoing,
                                 SessionId receiver, hooks::Verdict verdict);
    void send_error(SessionId to, wamp::MessageType request_type, RequestId request, const hooks::Verdict& verdict);
    // Answers a request with ERROR; a PUBLISH without acknowledge gets none, and a
    // refused YIELD or ERROR from a callee also ends its caller's call with the error.
    void refuse(Session& sender, const wamp::Message& request, std::string_view error_uri, std::string_view text,
                wamp::Dict kwargs = {});

    std::string name_;
    wamp::Dict plugin_options_;
    auth::Authorizer authorizer_;
    const hooks::HookChain& hooks_;
    Broker broker_;
    Dealer dealer_;
    std::unordered_map<SessionId, std::shared_ptr<Session>> sessions_;
};

}  // namespace blindrouter::core
