#pragma once
// The WAMP meta API as Crossbar serves it (cb:router/service.py; shared/ADVANCED.md
// §6): procedures registered by the realm's trusted service session and called and
// authorized like any other procedure, and meta events the service session
// publishes, subscribed to and authorized like any other topic. One function per
// family registers its procedures, so a family grows without touching the others.
//
// Blindness (shared/E2E.md §6): what the meta API shows is metadata the router
// holds anyway (ids, URIs, authids, roles, the transport); never an argument or
// payload of an application message.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "blindrouter/core/realm.hpp"
#include "blindrouter/core/service_session.hpp"

namespace blindrouter::core {

// Publishes the meta events of one realm through its service session, while it lives.
class MetaEvents final : public RealmObserver {
public:
    MetaEvents(ServiceSession& service, Realm& realm);
    ~MetaEvents() override;
    MetaEvents(const MetaEvents&) = delete;
    MetaEvents& operator=(const MetaEvents&) = delete;

    // wamp.session.on_join(details) and wamp.session.on_leave(session): Crossbar's
    // shapes (cb:router/session.py), one argument each.
    void joined(const PeerInfo& peer) override;
    void left(const PeerInfo& peer) override;
    // wamp.subscription.on_create(session, details), on_subscribe(session, id),
    // on_unsubscribe(session, id), on_delete(session, id); none for wamp.* URIs
    // (cb:router/broker.py).
    void subscription_changed(const ObservationChange& change) override;
    // The same for wamp.registration.*, on_register and on_unregister.
    void registration_changed(const ObservationChange& change) override;

private:
    void publish_change(std::string_view family, std::string_view attached, std::string_view detached,
                        const ObservationChange& change);

    ServiceSession& service_;
    Realm& realm_;
};

// Registers every family's procedures and starts publishing the meta events; the
// events stop when the result goes (before `service` does).
std::unique_ptr<MetaEvents> serve_meta_api(ServiceSession& service, Realm& realm);

// Every meta procedure (wamp.session.*, wamp.subscription.*, wamp.registration.*)
// as this node alone answers it, by URI.
std::unordered_map<std::string, ServiceSession::Handler> local_meta_procedures(Realm& realm);
// This node's own answer to a meta procedure another node of the cluster gathers
// (SCALE-OUT.md §2.9); nullopt for a procedure that is not gathered.
std::optional<CallOutcome> answer_meta_locally(Realm& realm, const std::string& procedure,
                                               const CallArguments& arguments, const InvocationDetails& details);

// How the answers of several nodes make one, on a clustered realm.
enum class MetaMerge : unsigned char {
    sum,             // counts
    join,            // id lists, each id once (sessions, subscribers, callees, killed sessions)
    join_by_match,   // {exact, prefix, wildcard} id lists (list)
    join_or_null,    // an id list, null when empty (subscription.match)
    first_found,     // one node holds it; the others answer no_such_* (get, kill)
    first_non_null,  // the same, the others answering null (lookup)
};
// The merge of a gathered procedure; nullopt when it is answered by this node alone
// (remove_subscriber, remove_callee: Crossbar's callers name a session of theirs;
// registration.match: from the cluster's registration directory, ClusterLink::best_registration).
std::optional<MetaMerge> meta_merge_of(std::string_view procedure);
// True when this node's own outcome is the answer: an argument or authorization
// error (every node would give it), or the one thing a found-kind procedure seeks.
bool meta_answer_is_local(MetaMerge merge, const CallOutcome& local);
// The answer from this node's outcome and the others'. An answer some live node
// did not give in time is marked (README, "Clustered realms"): a result gets
// kwargs {"partial": true, "missing_nodes": n}; an error's message says so.
CallOutcome merge_meta_answers(MetaMerge merge, const CallOutcome& local, const MetaAnswers& remote);

// wamp.session.count(filter_authroles=None) -> int, as Crossbar computes it.
CallOutcome session_count(const Realm& realm, const CallArguments& arguments);
// Crossbar's SessionDetails.marshal(): what wamp.session.get and on_join show.
wamp::Dict session_details(const PeerInfo& peer);
// Autobahn's utcnow() form, which Crossbar's `created` has: 2026-01-04T12:00:00.123Z.
std::string iso8601_utc(std::chrono::system_clock::time_point time);

}  // namespace blindrouter::core
