#pragma once
// Testaments (WAMP spec, pubsub testament; Crossbar cb:router/service.py:368-430,
// cb:router/session.py): PUBLISH messages a session leaves with the router, published
// in its name when it goes away. The realm keeps them; the service session serves
// wamp.session.add_testament and wamp.session.flush_testaments
// (serve_testament_api).
#include <cstddef>
#include <functional>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "blindrouter/core/ids.hpp"
#include "blindrouter/wamp/message.hpp"

namespace blindrouter::core {

class Realm;
class ServiceSession;

class Testaments {
public:
    enum class Scope : unsigned char { detached, destroyed };

    explicit Testaments(std::size_t max_per_session) : max_per_session_(max_per_session) {}

    // False when the session already left max_per_session testaments (both scopes).
    bool add(SessionId session, Scope scope, wamp::Message publish);
    // Forgets the session's testaments of `scope`; how many there were.
    std::size_t flush(SessionId session, Scope scope);
    // The session's testaments in publishing order (detached, then destroyed, each in
    // the order added: WAMP spec), forgotten here.
    std::vector<wamp::Message> take(SessionId session);
    std::size_t count(SessionId session) const;
    // The session's testaments in publishing order, kept here.
    std::vector<const wamp::Message*> list(SessionId session) const;
    // Forgets the session's testaments without telling the listener: someone else
    // publishes them (a clustered node declared dead leaves them to the janitor).
    void discard(SessionId session) { by_session_.erase(session); }
    // Told after add, flush and take change a session's testaments (the cluster keeps
    // a copy of them: cluster_link.hpp).
    void set_listener(std::function<void(SessionId)> listener) { listener_ = std::move(listener); }

private:
    void changed(SessionId session) {
        if (listener_) listener_(session);
    }

    struct Left {
        std::vector<wamp::Message> detached, destroyed;
    };
    std::size_t max_per_session_;
    std::unordered_map<SessionId, Left> by_session_;
    std::function<void(SessionId)> listener_;
};

// "detached" or "destroyed"; nullopt for anything else.
std::optional<Testaments::Scope> testament_scope(std::string_view name);

// Registers wamp.session.add_testament and wamp.session.flush_testaments on the
// realm's service session.
void serve_testament_api(ServiceSession& service, Realm& realm);

}  // namespace blindrouter::core
