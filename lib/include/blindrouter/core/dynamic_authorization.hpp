#pragma once
// Dynamic authorizers: roles whose PUBLISH, SUBSCRIBE, CALL and REGISTER are decided
// by a component's procedure, called from the realm's trusted service session with
// Crossbar's arguments (session_details, uri, action, options) and judged as Crossbar
// judges its answer (cb:router/role.py:367-512, cb:router/router.py:421-494).
//
// Where Crossbar is unbounded, this is not: decisions marked `cache` are kept per
// role under Crossbar's key (authrole, uri, action) in a bounded LRU whose entries
// expire; the procedure must answer within a timeout; calls in flight per role and
// messages held per session are limited (config::DynamicAuthorizer).
//
// Order: while a session's authorization is pending, its later messages wait behind
// it and are routed in the order they came, each once its own turn is decided. Only
// YIELD and ERROR (answers to INVOCATIONs) do not wait: the authorizer's own answer
// may be among them. Crossbar gives no such guarantee: each message is routed when
// its own authorization returns, so a cached or static decision overtakes a pending
// one.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "blindrouter/auth/authorizer.hpp"
#include "blindrouter/config/node_config.hpp"
#include "blindrouter/core/ids.hpp"
#include "blindrouter/core/peer.hpp"
#include "blindrouter/core/service_session.hpp"
#include "blindrouter/core/client_warnings.hpp"
#include "blindrouter/core/timers.hpp"
#include "blindrouter/wamp/message.hpp"

namespace blindrouter::core {

struct AuthorizationDecision {
    enum class Kind : unsigned char { granted, denied, failed };
    Kind kind = Kind::denied;
    bool disclose = false;
    std::string failure;  // failed: the client's error text (Crossbar's wording)
};

class DynamicAuthorization {
public:
    // Routes a held message again, once its turn is decided (the realm's routing,
    // without holding).
    using Route = std::function<void(SessionId, const wamp::Message&)>;
    // The session the authorizers are called from; nullptr when there is none.
    using ServiceSource = std::function<ServiceSession*()>;

    // Whether `realm` has a role with an authorizer.
    static bool needed(const config::Realm& realm);
    // `timers` may be null: no timeouts then, and cache entries age by the steady clock.
    DynamicAuthorization(const config::Realm& realm, TimerService* timers, ServiceSource service, Route route);
    DynamicAuthorization(const DynamicAuthorization&) = delete;
    DynamicAuthorization& operator=(const DynamicAuthorization&) = delete;

    bool governs(std::string_view authrole) const { return roles_.find(authrole) != roles_.end(); }

    enum class Hold : unsigned char { pass, held, refused };
    // Called for every message a session sends the realm: held when the session has
    // an authorization pending (routed later, in order); refused when it already holds
    // max_held_per_session messages (`refusal` then says why).
    Hold hold(const PeerInfo& sender, const wamp::Message& message, std::string& refusal);
    // The decision for `request`, now (cached, or the one just made for it), or nullopt:
    // the authorizer is asked and `request` is routed again once it answered.
    std::optional<AuthorizationDecision> authorize(const PeerInfo& sender, const wamp::Message& request,
                                                   std::string_view uri, auth::Action action);
    // The session left: its pending call is abandoned and its held messages dropped.
    void leave(SessionId session);

    std::size_t pending(std::string_view authrole) const;
    std::size_t cached(std::string_view authrole) const;

private:
    using Clock = TimerService::Clock;
    struct CacheKey {
        std::string uri;
        auth::Action action;
        auto operator<=>(const CacheKey&) const = default;
    };
    struct CacheEntry {
        AuthorizationDecision decision;
        Clock::time_point expires;
        std::list<CacheKey>::iterator recency;
    };
    struct Role {
        config::DynamicAuthorizer config;
        std::size_t pending = 0;
        std::map<CacheKey, CacheEntry> cache;
        std::list<CacheKey> recency;  // most recently used first
    };
    // A session with an authorization pending or messages waiting behind one.
    struct Held {
        Role* role = nullptr;
        std::deque<wamp::Message> waiting;  // the one being authorized first
        bool pending = false;
        bool calling = false;  // inside ServiceSession::call: an answer now is taken inline
        std::uint64_t ticket = 0;
        RequestId request = 0;
        std::string uri;
        auth::Action action{};
        std::unique_ptr<TimerHandle> deadline;
        std::optional<AuthorizationDecision> decided;
    };

    Clock::time_point now() const;
    const AuthorizationDecision* cached_decision(Role& role, const CacheKey& key);
    void remember(Role& role, CacheKey key, const AuthorizationDecision& decision);
    void answered(SessionId session, std::uint64_t ticket, std::optional<CallOutcome> outcome);
    // Routes the session's waiting messages until one waits for the authorizer again.
    void drain(SessionId session);

    std::map<std::string, Role, std::less<>> roles_;
    TimerService* timers_;
    ServiceSource service_;
    Route route_;
    std::unordered_map<SessionId, Held> held_;
    std::uint64_t last_ticket_ = 0;
    ClientWarnings warnings_;
};

// What Crossbar decides from an authorizer's outcome (role.py sanity_check and
// router.py got_authorization), for `action` on `uri`. Exposed for tests.
AuthorizationDecision judge_authorization(const CallOutcome& outcome, std::string_view uri, auth::Action action,
                                          bool& cache);
// Crossbar's `options` argument: the request's options as Autobahn marshals them
// (ab:wamp/message.py marshal_options), from the options the client sent.
wamp::Dict marshalled_options(const wamp::Message& request);

}  // namespace blindrouter::core
