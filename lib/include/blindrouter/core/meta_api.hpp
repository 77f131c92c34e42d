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
#include <string>

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

// wamp.session.count, list, get, kill, kill_by_authid, kill_by_authrole.
void serve_session_meta_api(ServiceSession& service, Realm& realm);
// wamp.subscription.list, lookup, match, get, list_subscribers, count_subscribers, remove_subscriber.
void serve_subscription_meta_api(ServiceSession& service, Realm& realm);
// wamp.registration.list, lookup, match, get, list_callees, count_callees, remove_callee.
void serve_registration_meta_api(ServiceSession& service, Realm& realm);

// wamp.session.count(filter_authroles=None) -> int, as Crossbar computes it.
CallOutcome session_count(const Realm& realm, const CallArguments& arguments);
// Crossbar's SessionDetails.marshal(): what wamp.session.get and on_join show.
wamp::Dict session_details(const PeerInfo& peer);
// Autobahn's utcnow() form, which Crossbar's `created` has: 2026-01-04T12:00:00.123Z.
std::string iso8601_utc(std::chrono::system_clock::time_point time);

}  // namespace blindrouter::core
