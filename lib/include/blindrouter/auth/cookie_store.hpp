#pragma once
// Crossbar's cookie tracking and WAMP-Cookie authentication (cb:router/cookiestore.py,
// the memory-backed store; cb:router/protocol.py:223-313 for the HTTP upgrade;
// cb:router/session.py:885-935, 1144-1160, 1309-1335 for the session side).
//
// One store per WebSocket service that has the `cookie` option. The upgrade hands
// every client without a known cookie a fresh random id (Set-Cookie); after a session
// on that connection joins, the id is bound to its authid, authrole, authmethod, realm
// and authextra, whatever the method (anonymous too); a later connection presenting
// the id and offering "cookie" is welcomed with that binding.
//
// Unlike Crossbar's memory store, entries expire max_age after they were handed out
// (the browser forgets the cookie then too) and the store is bounded (`limit`): at the
// limit the oldest entry not bound to a login (or bound to an anonymous one, which
// anyone can make) is evicted, and when every entry carries a login by credentials,
// no cookie is handed out (the connection is served untracked).
//
// Cookie ids are bearer credentials once bound: nothing here logs them.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "blindrouter/config/node_config.hpp"
#include "blindrouter/wamp/value.hpp"

namespace blindrouter::auth {

// The login a cookie carries (Crossbar's setAuth fields).
struct CookieBinding {
    std::string authid;
    std::string authrole;
    std::string authmethod;
    std::string realm;
    wamp::Dict authextra;
};

// The value of cookie `name` in a Cookie request header ("a=1; cbtid=xyz"), the first
// one when repeated; values in double quotes are unquoted (RFC 6265 §4.1.1).
std::optional<std::string> find_cookie(std::string_view header, std::string_view name);

class CookieStore {
public:
    using Clock = std::chrono::steady_clock;
    using ConnectionId = std::uint64_t;

    explicit CookieStore(config::CookieTracking config, std::function<Clock::time_point()> now = Clock::now);

    const config::CookieTracking& config() const { return config_; }

    // The id the request's Cookie header presents, if this store handed it out and it
    // has not expired.
    std::optional<std::string> recognise(std::string_view cookie_header);

    struct NewCookie {
        std::string id;
        std::string set_cookie;  // the Set-Cookie header value, as Crossbar writes it
    };
    // A fresh id, or nothing when the store is full of bound entries.
    std::optional<NewCookie> create();

    // The login bound to `id`, if any (null: unknown, expired or not bound).
    const CookieBinding* binding(const std::string& id);
    // Crossbar's setAuth: no effect on an id the store does not hold.
    void bind(const std::string& id, CookieBinding binding);
    void unbind(const std::string& id);

    // A connection that presented or received `id`; `kick` closes it (logout elsewhere).
    void attach(const std::string& id, ConnectionId connection, std::function<void()> kick);
    void detach(const std::string& id, ConnectionId connection);
    // Crossbar's logout (delAuth): forgets `id` and returns the kicks of the other
    // connections attached to it, for the caller to run once the store is consistent.
    std::vector<std::function<void()>> remove(const std::string& id, ConnectionId except);

    std::size_t size() const { return entries_.size(); }

private:
    struct Entry {
        Clock::time_point expires;
        std::uint64_t order;  // key in by_age_
        std::optional<CookieBinding> binding;
        std::vector<std::pair<ConnectionId, std::function<void()>>> connections;
    };
    Entry* find(const std::string& id);
    void erase(std::unordered_map<std::string, Entry>::iterator it);
    void set_binding(Entry& entry, const std::string& id, std::optional<CookieBinding> binding);
    void expire();
    bool make_room();

    config::CookieTracking config_;
    std::function<Clock::time_point()> now_;
    std::unordered_map<std::string, Entry> entries_;
    // Ids in the order they were handed out, which is also the order they expire in
    // (one max_age per store).
    std::map<std::uint64_t, std::string> by_age_;
    // The subset make_room may evict, in the same order.
    std::map<std::uint64_t, std::string> evictable_by_age_;
    std::uint64_t next_order_ = 0;
};

}  // namespace blindrouter::auth
