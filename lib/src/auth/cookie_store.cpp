#include "blindrouter/auth/cookie_store.hpp"

#include <algorithm>

#include "secret_crypto.hpp"

namespace blindrouter::auth {

namespace {
std::string_view trim(std::string_view text) {
    auto blank = [](char c) { return c == ' ' || c == '\t'; };
    while (!text.empty() && blank(text.front())) text.remove_prefix(1);
    while (!text.empty() && blank(text.back())) text.remove_suffix(1);
    return text;
}
}  // namespace

std::optional<std::string> find_cookie(std::string_view header, std::string_view name) {
    while (!header.empty()) {
        auto end = header.find(';');
        auto pair = trim(header.substr(0, end));
        header = end == std::string_view::npos ? std::string_view{} : header.substr(end + 1);
        auto eq = pair.find('=');
        if (eq == std::string_view::npos || trim(pair.substr(0, eq)) != name) continue;
        auto value = trim(pair.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
        return std::string(value);
    }
    return std::nullopt;
}

CookieStore::CookieStore(config::CookieTracking config, std::function<Clock::time_point()> now)
    : config_(std::move(config)), now_(std::move(now)) {}

CookieStore::Entry* CookieStore::find(const std::string& id) {
    expire();
    auto it = entries_.find(id);
    return it == entries_.end() ? nullptr : &it->second;
}

void CookieStore::erase(std::unordered_map<std::string, Entry>::iterator it) {
    by_age_.erase(it->second.order);
    evictable_by_age_.erase(it->second.order);
    entries_.erase(it);
}

void CookieStore::set_binding(Entry& entry, const std::string& id, std::optional<CookieBinding> binding) {
    entry.binding = std::move(binding);
    if (!entry.binding || entry.binding->authmethod == "anonymous") evictable_by_age_.emplace(entry.order, id);
    else evictable_by_age_.erase(entry.order);
}

void CookieStore::expire() {
    auto now = now_();
    while (!by_age_.empty()) {
        auto it = entries_.find(by_age_.begin()->second);
        if (it->second.expires > now) return;
        erase(it);
    }
}

// Under a flood of cookie-less (or anonymous) connections those entries go first, so
// that the logins of real users survive it.
bool CookieStore::make_room() {
    expire();
    if (entries_.size() < config_.limit) return true;
    if (evictable_by_age_.empty()) return false;
    erase(entries_.find(evictable_by_age_.begin()->second));
    return true;
}

std::optional<std::string> CookieStore::recognise(std::string_view cookie_header) {
    auto id = find_cookie(cookie_header, config_.name);
    if (!id || !find(*id)) return std::nullopt;
    return id;
}

std::optional<CookieStore::NewCookie> CookieStore::create() {
    if (!make_room()) return std::nullopt;
    std::string id;
    do id = detail::random_id(config_.length);
    while (entries_.count(id));
    auto order = next_order_++;
    entries_.emplace(id, Entry{now_() + config_.max_age, order, std::nullopt, {}});
    by_age_.emplace(order, id);
    evictable_by_age_.emplace(order, id);
    // cb:router/cookiestore.py create() and cb:router/protocol.py:245-259: no Path, no
    // Secure unless configured ("secure" refers to the page's scheme, not the WebSocket's).
    auto header = config_.name + "=" + id + ";max-age=" + std::to_string(config_.max_age.count());
    if (config_.secure) header += ";Secure";
    if (config_.http_only) header += ";HttpOnly";
    if (config_.same_site) header += ";SameSite=" + *config_.same_site;
    return NewCookie{std::move(id), std::move(header)};
}

const CookieBinding* CookieStore::binding(const std::string& id) {
    auto* entry = find(id);
    return entry && entry->binding ? &*entry->binding : nullptr;
}

void CookieStore::bind(const std::string& id, CookieBinding binding) {
    if (auto* entry = find(id)) set_binding(*entry, id, std::move(binding));
}

void CookieStore::unbind(const std::string& id) {
    if (auto* entry = find(id)) set_binding(*entry, id, std::nullopt);
}

void CookieStore::attach(const std::string& id, ConnectionId connection, std::function<void()> kick) {
    if (auto* entry = find(id)) entry->connections.emplace_back(connection, std::move(kick));
}

void CookieStore::detach(const std::string& id, ConnectionId connection) {
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    std::erase_if(it->second.connections, [&](const auto& c) { return c.first == connection; });
}

std::vector<std::function<void()>> CookieStore::remove(const std::string& id, ConnectionId except) {
    std::vector<std::function<void()>> kicks;
    auto it = entries_.find(id);
    if (it == entries_.end()) return kicks;
    for (auto& [connection, kick] : it->second.connections)
        if (connection != except) kicks.push_back(std::move(kick));
    erase(it);
    return kicks;
}

}  // namespace blindrouter::auth
