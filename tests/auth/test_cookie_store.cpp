// The memory cookie store: Crossbar's cookie format, its bound and expiry (with a fake
// clock), binding, and logout.
#include <boost/test/unit_test.hpp>

#include "blindrouter/auth/cookie_store.hpp"

using namespace blindrouter;
using auth::CookieStore;

namespace {
struct Fixture {
    CookieStore::Clock::time_point now{};
    config::CookieTracking config;
    CookieStore make() {
        return CookieStore(config, [this] { return now; });
    }
    static auth::CookieBinding joe() { return {"joe", "frontend", "ticket", "realm1", {}}; }
};
}  // namespace

BOOST_FIXTURE_TEST_SUITE(cookie_store, Fixture)

BOOST_AUTO_TEST_CASE(find_cookie_in_a_request_header) {
    BOOST_TEST(auth::find_cookie("cbtid=abc", "cbtid").value() == "abc");
    BOOST_TEST(auth::find_cookie("a=1; cbtid=x+y/z ;b=2", "cbtid").value() == "x+y/z");
    BOOST_TEST(auth::find_cookie("cbtid=\"q\"; cbtid=second", "cbtid").value() == "q");
    BOOST_TEST(!auth::find_cookie("xcbtid=1; cbtidx=2; cbtid", "cbtid"));
    BOOST_TEST(!auth::find_cookie("", "cbtid"));
}

// cb:router/cookiestore.py create(): "<name>=<newid(length)>;max-age=<max_age>", plus
// the attributes cb:router/protocol.py adds when configured.
BOOST_AUTO_TEST_CASE(new_cookie_is_crossbars) {
    auto store = make();
    auto fresh = store.create();
    BOOST_REQUIRE(fresh);
    BOOST_TEST(fresh->id.size() == 24u);
    BOOST_TEST(fresh->id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") ==
               std::string::npos);
    BOOST_TEST(fresh->set_cookie == "cbtid=" + fresh->id + ";max-age=604800");
    BOOST_TEST(store.recognise("other=1; cbtid=" + fresh->id).value() == fresh->id);
    BOOST_TEST(!store.recognise("cbtid=unknown-to-this-store"));

    config = {"mycookie", 40, std::chrono::seconds(60), true, true, std::string("Strict"), 10};
    auto custom = make().create();
    BOOST_TEST(custom->id.size() == 40u);
    BOOST_TEST(custom->set_cookie == "mycookie=" + custom->id + ";max-age=60;Secure;HttpOnly;SameSite=Strict");
}

BOOST_AUTO_TEST_CASE(entries_expire_after_max_age) {
    config.max_age = std::chrono::seconds(100);
    auto store = make();
    auto first = store.create()->id;
    now += std::chrono::seconds(60);
    auto second = store.create()->id;
    store.bind(first, joe());
    BOOST_TEST(store.binding(first)->authid == "joe");
    now += std::chrono::seconds(40);  // first is 100 s old
    BOOST_TEST(!store.recognise("cbtid=" + first));
    BOOST_TEST(!store.binding(first));
    BOOST_TEST(store.recognise("cbtid=" + second).has_value());
    BOOST_TEST(store.size() == 1u);
    store.bind(first, joe());  // Crossbar's setAuth ignores an id it does not hold
    BOOST_TEST(store.size() == 1u);
}

BOOST_AUTO_TEST_CASE(at_the_limit_the_oldest_unbound_entry_goes_then_none_is_made) {
    config.limit = 3;
    auto store = make();
    auto a = store.create()->id;
    auto b = store.create()->id;
    auto c = store.create()->id;
    store.bind(a, joe());
    store.bind(c, joe());
    auto d = store.create();  // evicts b, the oldest entry without a login
    BOOST_REQUIRE(d);
    BOOST_TEST(store.size() == 3u);
    BOOST_TEST(!store.recognise("cbtid=" + b));
    BOOST_TEST(store.binding(a) != nullptr);
    store.bind(d->id, joe());
    BOOST_TEST(!store.create());  // every entry carries a login
    BOOST_TEST(store.size() == 3u);
    now += config.max_age;  // once they expire there is room again
    BOOST_TEST(store.create().has_value());
    BOOST_TEST(store.size() == 1u);
}

// Anyone can make an anonymous login: those entries are evicted like unbound ones.
BOOST_AUTO_TEST_CASE(anonymous_logins_are_evicted_before_logins_by_credentials) {
    config.limit = 2;
    auto store = make();
    auto anonymous = store.create()->id;
    auto joes = store.create()->id;
    store.bind(anonymous, {"YRAC-EL4X", "public", "anonymous", "realm1", {}});
    store.bind(joes, joe());
    BOOST_TEST(store.create().has_value());
    BOOST_TEST(!store.recognise("cbtid=" + anonymous));
    BOOST_TEST(store.binding(joes) != nullptr);
    store.unbind(joes);  // unbound again: evictable
    BOOST_TEST(store.create().has_value());
    BOOST_TEST(!store.recognise("cbtid=" + joes));
}

BOOST_AUTO_TEST_CASE(unbind_keeps_the_cookie) {
    auto store = make();
    auto id = store.create()->id;
    store.bind(id, joe());
    store.unbind(id);
    BOOST_TEST(!store.binding(id));
    BOOST_TEST(store.recognise("cbtid=" + id).has_value());
}

BOOST_AUTO_TEST_CASE(remove_forgets_the_cookie_and_returns_the_other_connections_kicks) {
    auto store = make();
    auto id = store.create()->id;
    int kicked_1 = 0, kicked_2 = 0, kicked_3 = 0;
    store.attach(id, 1, [&] { ++kicked_1; });
    store.attach(id, 2, [&] { ++kicked_2; });
    store.attach(id, 3, [&] { ++kicked_3; });
    store.detach(id, 3);
    auto kicks = store.remove(id, 1);
    BOOST_TEST(kicks.size() == 1u);
    for (auto& kick : kicks) kick();
    BOOST_TEST(kicked_1 == 0);
    BOOST_TEST(kicked_2 == 1);
    BOOST_TEST(kicked_3 == 0);
    BOOST_TEST(!store.recognise("cbtid=" + id));
    BOOST_TEST(store.remove(id, 1).empty());
}

BOOST_AUTO_TEST_SUITE_END()
