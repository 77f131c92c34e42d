// The WebSocket `cookie` option and the `cookie` auth method, checked as Crossbar's
// check_transport_cookie does (cb:common/checkconfig.py:818-945).
#include <boost/test/unit_test.hpp>

#include "blindrouter/config/node_config_loader.hpp"

using namespace blindrouter;

namespace {
config::LoadResult with_service(const std::string& service_keys) {
    return config::load_node_config(
        R"({"version": 2, "workers": [{"type": "router", "realms": [{"name": "realm1", "roles": [{"name": "user"}]}],
            "transports": [{"type": "web", "endpoint": {"type": "tcp", "port": 8080},
                            "paths": {"ws": {"type": "websocket")" +
        service_keys + "}}}]}]}");
}
bool has(const std::vector<std::string>& lines, const std::string& part) {
    for (const auto& line : lines)
        if (line.find(part) != std::string::npos) return true;
    return false;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(cookie_config)

BOOST_AUTO_TEST_CASE(cookie_option_and_method_are_served) {
    auto r = with_service(R"(, "cookie": {"name": "sid", "length": 32, "max_age": 3600, "secure": true,
        "http_strict": true, "same_site": "Lax", "store": {"type": "memory", "limit": 50}},
        "auth": {"ticket": {"type": "static", "principals": {"joe": {"ticket": "t", "role": "user"}}}, "cookie": {}})");
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.faults.empty() ? std::string() : r.faults[0]));
    BOOST_TEST(r.config.warnings.empty());
    const auto& ws = r.config.transports.at(0).websocket.at(0);
    BOOST_REQUIRE(ws.cookie.has_value());
    BOOST_TEST(ws.cookie->name == "sid");
    BOOST_TEST(ws.cookie->length == 32u);
    BOOST_TEST(ws.cookie->max_age.count() == 3600);
    BOOST_TEST(ws.cookie->secure);
    BOOST_TEST(ws.cookie->http_only);
    BOOST_TEST(ws.cookie->same_site.value() == "Lax");
    BOOST_TEST(ws.cookie->limit == 50u);
    BOOST_TEST(ws.auth.cookie);
}

BOOST_AUTO_TEST_CASE(defaults_are_crossbars_code) {
    auto r = with_service(R"(, "cookie": {"store": {"type": "memory"}})");
    BOOST_REQUIRE(r.ok());
    const auto& cookie = r.config.transports.at(0).websocket.at(0).cookie.value();
    BOOST_TEST(cookie.name == "cbtid");
    BOOST_TEST(cookie.length == 24u);
    BOOST_TEST(cookie.max_age.count() == 604800);
    BOOST_TEST(!cookie.secure);
    BOOST_TEST(!cookie.same_site.has_value());
    BOOST_TEST(cookie.limit == config::default_cookie_store_limit);
}

BOOST_AUTO_TEST_CASE(faults_as_crossbars_checker) {
    auto r = with_service(R"(, "cookie": {"name": "Cbtid", "length": 5, "max_age": 0, "same_site": "lax",
        "store": {"type": "redis"}, "path": "/"})");
    BOOST_TEST(has(r.faults, "cookie.name: invalid cookie name 'Cbtid'"));
    BOOST_TEST(has(r.faults, "cookie.length: invalid value 5"));
    BOOST_TEST(has(r.faults, "cookie.max_age: invalid value 0"));
    BOOST_TEST(has(r.faults, "cookie.same_site: invalid attribute value 'lax'"));
    BOOST_TEST(has(r.faults, "cookie.store.type: invalid attribute value 'redis'"));
    BOOST_TEST(has(r.faults, "unknown attribute 'path' in WebSocket cookie"));
    BOOST_TEST(has(with_service(R"(, "cookie": {})").faults, "cookie.store: missing mandatory attribute"));
    BOOST_TEST(has(with_service(R"(, "cookie": {"store": {"type": "memory", "filename": "x"}})").faults,
                   "unknown attribute 'filename' in WebSocket memory-backed cookie store"));
    BOOST_TEST(has(with_service(R"(, "cookie": {"store": {"type": "file"}})").faults, "cookie.store.filename: missing"));
}

// Crossbar's authentication/cookie example keeps cookies in a file; we keep them in
// memory and say so.
BOOST_AUTO_TEST_CASE(file_and_database_stores_fall_back_to_memory_with_a_warning) {
    auto r = with_service(R"(, "cookie": {"store": {"type": "file", "filename": "cookies.dat", "purge_on_startup": true}})");
    BOOST_REQUIRE(r.ok());
    BOOST_TEST(r.config.transports.at(0).websocket.at(0).cookie.has_value());
    BOOST_TEST(has(r.config.warnings, "cookie.store.type: a file-backed cookie store is not served by blindrouter; "
                                      "cookies are kept in memory"));
    auto d = with_service(R"(, "cookie": {"store": {"type": "database", "path": ".cookies", "maxsize": 1048576}})");
    BOOST_REQUIRE(d.ok());
    BOOST_TEST(has(d.config.warnings, "a database-backed cookie store is not served"));
}

BOOST_AUTO_TEST_CASE(cookie_method_without_tracking_is_warned) {
    auto r = with_service(R"(, "auth": {"anonymous": {"type": "static"}, "cookie": {}})");
    BOOST_REQUIRE(r.ok());
    BOOST_TEST(has(r.config.warnings, "auth.cookie: cookie authentication needs the service's 'cookie' option"));
}

BOOST_AUTO_TEST_SUITE_END()
