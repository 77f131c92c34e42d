#pragma once
// A realm: the sessions joined to it, its broker, dealer and authorizer. Messages
// of established sessions go: URI check → authorization (one lookup gives the
// grant and the hooks' permission options) → inbound hooks → broker/dealer →
// outbound gate (hooks, encodability) → receivers' sessions.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "blindrouter/auth/authorizer.hpp"
#include "blindrouter/config/node_config.hpp"
#include "blindrouter/core/broker.hpp"
#include "blindrouter/core/client_warnings.hpp"
#include "blindrouter/core/cluster_link.hpp"
#include "blindrouter/core/dealer.hpp"
#include "blindrouter/core/dynamic_authorization.hpp"
#include "blindrouter/core/testaments.hpp"
#include "blindrouter/hooks/message_hook.hpp"

namespace blindrouter::core {

class Session;

// Who watches a realm for the meta API (core/meta_api.hpp). Told after each change
// has been answered (Crossbar publishes its meta events after the reply, with
// callLater(0)); router-internal sessions are not reported as joining or leaving.
class RealmObserver {
public:
    virtual ~RealmObserver() = default;
    virtual void joined(const PeerInfo& peer) = 0;
    virtual void left(const PeerInfo& peer) = 0;
    virtual void subscription_changed(const ObservationChange& change) = 0;
    virtual void registration_changed(const ObservationChange& change) = 0;
};

class Realm {
public:
    // `timers` (may be null: no call timeouts) schedule the realm's deadlines.
    Realm(const config::Realm& config, const hooks::HookChain& hooks, IdGenerator& ids, TimerService* timers);

    const std::string& name() const { return name_; }
    const auth::Authorizer& authorizer() const { return authorizer_; }

    // Roles with a dynamic authorizer call it from the session `trusted_session` gives.
    void serve_dynamic_authorizers(DynamicAuthorization::ServiceSource trusted_session);
    const DynamicAuthorization* dynamic_authorization() const { return dynamic_.get(); }

    void join(const std::shared_ptr<Session>& session);
    void leave(SessionId session);
    void handle(Session& sender, const wamp::Message& message);

    std::size_t session_count() const { return sessions_.size(); }
    // Whether another client session may join (config::RealmLimits::max_sessions).
    bool admits_client() const;
    // Every joined session, service sessions included, in no particular order.
    void for_each_peer(const std::function<void(const PeerInfo&)>& visit) const;
    const Broker& broker() const { return broker_; }
    // What the realm's sessions leave to be published when they go (core/testaments.hpp).
    Testaments& testaments() { return testaments_; }
    // The realm has a `store` (Crossbar's realm store): event history may be asked for.
    bool keeps_history() const { return keeps_history_; }
    // A fresh global-scope id (a testament's publication).
    std::uint64_t next_id() { return ids_.next(); }
    const Dealer& dealer() const { return dealer_; }
    // Calls this node routed to another node (cluster/rpc) count against the caller's
    // limit here (Dealer::call_elsewhere_began).
    Dealer& dealer() { return dealer_; }

    // For the meta API. One observer at most; null: none.
    void set_observer(RealmObserver* observer) { observer_ = observer; }
    // Where skipped receivers and call durations are counted; null: nowhere.
    void set_metrics(RouterMetrics* metrics) {
        metrics_ = metrics;
        dealer_.set_metrics(metrics);
    }
    // The realm is shared with other router nodes through `link` (null: it is not).
    // Told at once of the subscriptions that exist already.
    void set_cluster_link(ClusterLink* link);
    ClusterLink* cluster_link() const { return cluster_; }
    // A PUBLISH that another node accepted from its session `publisher`: delivered to
    // the local subscribers the broker matches, as if that session lived here, under
    // the publication id its node gave it (nullopt: a fresh one).
    void publish_remote(const PeerInfo& publisher, const wamp::Message& publish, bool disclose_publisher,
                        std::optional<PublicationId> publication);
    // A testament of a session that lived on another node, which died (cluster/): it
    // goes to subscribers here and on the other nodes as on_publish sends a leaving
    // session's, under the role's static permissions (no session is left to ask a
    // dynamic authorizer or the inbound hooks for). False when it was not allowed.
    bool publish_testament(const PeerInfo& publisher, const wamp::Message& publish);
    // A CALL that a session of another node sent to the local callee `target`, through
    // `proxy`, the session standing for that caller here (cluster/rpc.hpp): routed as
    // a local caller's CALL, with the callee chosen. `first`: the call's first CALL,
    // refused (false) when `target` holds no registration that matches it (the
    // caller node's directory was stale), so that the caller's node may try another.
    bool call_from_node(Session& proxy, const wamp::Message& call, SessionId target, bool first);
    // A message from another node for the local session `to` (an answer to its call).
    void deliver_from_node(SessionId to, const codec::SharedOutbound& message) { send_to(to, message); }
    // The joined session `session`; nullptr when there is none.
    const PeerInfo* find_peer(SessionId session) const;
    // Ends the joined session `session` with GOODBYE (Session::kill); false when there is none.
    bool kill(SessionId session, std::string_view reason, std::optional<std::string_view> message);
    // Broker::revoke and Dealer::revoke, with their notices sent; false when the
    // session is not subscribed or registered there.
    bool remove_subscriber(SubscriptionId subscription, SessionId subscriber, const std::optional<std::string>& reason);
    bool remove_callee(RegistrationId registration, SessionId callee, const std::optional<std::string>& reason);

private:
    // handle() once the message's turn has come (a dynamic authorization may hold it).
    void route(Session& sender, const wamp::Message& message);
    // `testament`: published for a session that is leaving (it is no longer a
    // receiver, and a hook's ABORT only drops the message).
    void on_publish(Session& sender, wamp::Publish publish, bool testament = false);
    void on_subscribe(Session& sender, wamp::Subscribe subscribe);
    void on_unsubscribe(Session& sender, wamp::Unsubscribe unsubscribe);
    // SUBSCRIBE with get_retained: the topic's retained event, through the outbound gate.
    void send_retained(Session& subscriber, SubscriptionId subscription);
    void send_retained_event(Session& subscriber, SubscriptionId subscription, const codec::SharedOutbound& event,
                             const wamp::Message& publish, const PeerInfo& publisher);
    // A retained PUBLISH the broker kept (`kept` drops nothing) goes to the cluster too.
    void retain_in_cluster(const PeerInfo& publisher, const wamp::Message& publish, bool disclose,
                           const RouteResult& kept);
    // `target`: the callee a cluster picked (0: the dealer picks).
    void on_call(Session& sender, wamp::Call call, SessionId target = 0);
    void on_register(Session& sender, wamp::Register reg);
    void on_unregister(Session& sender, wamp::Unregister unregister);
    void on_yield(Session& sender, wamp::Yield yield);
    void on_error(Session& sender, wamp::Error error);
    void on_cancel(Session& sender, wamp::Cancel cancel);

    // authorizer_.lookup, with Crossbar's built-in `trusted` role.
    auth::Permission permission(const PeerInfo& peer, std::string_view uri) const;
    // permission() for `request`, or the dynamic authorizer's decision; nullopt when
    // the request was refused (authorization_failed) or waits for the authorizer.
    std::optional<auth::Permission> authorize(Session& sender, const wamp::Message& request, std::string_view uri,
                                              auth::Action action);
    // Runs the inbound hooks on a message that carries arguments; false when they
    // refused it (the sender was answered or aborted). What the hooks note on it
    // goes into `notes` (OutboundGate::notes).
    bool admitted(Session& sender, const wamp::Message& message, std::string_view uri,
                  const wamp::Dict* permission_options, hooks::MessageNotes& notes, bool may_abort = true);
    // admitted() for a callee's YIELD or ERROR answering `invocation`.
    bool admitted_answer(Session& sender, const wamp::Message& answer, RequestId invocation,
                         hooks::MessageNotes& notes);
    // The line for a message the broker or dealer dropped without an answer.
    void log_dropped(SessionId sender, const RouteResult& result);
    // Sends what the broker or dealer decided.
    void dispatch(Session& sender, RouteResult result);
    // Sends a publication's EVENTs to the receivers the gate admits, then its
    // PUBLISHED, or the refusal when receivers were skipped.
    void dispatch_publication(const PeerInfo& publisher, wamp::Publish publish, RouteResult result,
                              OutboundGate& gate);
    void send_to(SessionId receiver, const codec::SharedOutbound& message);
    // Sends deliveries that answer no sender (a deadline passed).
    void deliver(const RouteResult& result);
    // Answers a request with ERROR; a PUBLISH without acknowledge gets none, and a
    // refused YIELD or ERROR from a callee also ends its caller's call with the error.
    void refuse(Session& sender, const wamp::Message& request, const hooks::Verdict& verdict);
    void refuse(Session& sender, const wamp::Message& request, std::string_view error_uri, std::string text);
    // Tells the observer what the broker and dealer changed since it was last told.
    void report_changes();

    std::string name_;
    wamp::Dict plugin_options_;
    auth::Authorizer authorizer_;
    const hooks::HookChain& hooks_;
    IdGenerator& ids_;
    Broker broker_;
    Dealer dealer_;
    Testaments testaments_;
    bool keeps_history_;
    std::unordered_map<SessionId, std::shared_ptr<Session>> sessions_;
    DynamicAuthorization::ServiceSource trusted_session_;
    std::unique_ptr<DynamicAuthorization> dynamic_;  // only for realms with dynamic roles
    config::RealmLimits limits_;
    std::size_t client_sessions_ = 0;  // sessions_ without the router's own
    RealmObserver* observer_ = nullptr;
    RouterMetrics* metrics_ = nullptr;
    ClusterLink* cluster_ = nullptr;
    ClientWarnings warnings_;
    // Changes not yet reported: (true: a subscription, false: a registration).
    std::vector<std::pair<bool, ObservationChange>> changes_;
};

}  // namespace blindrouter::core
