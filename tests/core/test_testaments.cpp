// Testaments (WAMP spec, pubsub testament; Crossbar in shared/ADVANCED.md §3c):
// wamp.session.add_testament / flush_testaments on the realm's service session, and
// the testaments published in the leaving session's name when it goes away.
#include <boost/test/unit_test.hpp>

#include "core/fake_session.hpp"

using namespace blindrouter;
using namespace blindrouter::testing;

namespace {
const std::string node_json = R"({"version": 2,
  "workers": [{"type": "router",
    "realms": [{"name": "realm1", "store": {"type": "memory", "max_testaments_per_session": 2}, "roles": [
      {"name": "anonymous", "permissions": [
        {"uri": "com.", "match": "prefix", "allow": {"publish": true, "subscribe": true}, "disclose": {"publisher": true}},
        {"uri": "wamp.session.", "match": "prefix", "allow": {"call": true}}]},
      {"name": "mute", "permissions": [
        {"uri": "com.", "match": "prefix", "allow": {"subscribe": true}},
        {"uri": "wamp.session.", "match": "prefix", "allow": {"call": true}}]}]}],
    "transports": [{"type": "websocket", "endpoint": {"type": "tcp", "port": 9000},
        "auth": {"ticket": {"type": "static", "principals": {"m": {"ticket": "t", "role": "mute"}}}, "anonymous": {"type": "static"}}}]}]})";

struct TestamentFixture : RouterHarness {
    TestamentFixture() : RouterHarness(node_json) {}
    std::unique_ptr<Client> watcher(const std::string& topic = "com.gone") {
        auto w = join();
        w->send(R"([32, 1, {}, ")" + topic + R"("])");
        BOOST_REQUIRE_EQUAL(w->last()[0].GetInt(), 33);
        return w;
    }
};

std::uint64_t session_id(Client& c) { return dom(c.transport.sent.front())[1].GetUint64(); }
}  // namespace

BOOST_FIXTURE_TEST_SUITE(testaments, TestamentFixture)

BOOST_AUTO_TEST_CASE(welcome_announces_the_testament_meta_api_for_the_dealer) {
    auto c = join();
    BOOST_TEST(dom(c->transport.sent.front())[2]["roles"]["dealer"]["features"]["testament_meta_api"].GetBool());
}

BOOST_AUTO_TEST_CASE(testaments_are_published_when_the_session_goes_detached_first) {
    auto w = watcher();
    auto c = join();
    c->send(R"([48, 1, {}, "wamp.session.add_testament", ["com.gone", ["destroyed"], {"k": 1}]])");
    auto result = c->last();
    BOOST_REQUIRE_EQUAL(result[0].GetInt(), 50);
    BOOST_TEST(result[3][0].IsUint64());  // Crossbar answers with a publication id
    c->send(R"([48, 2, {}, "wamp.session.add_testament", ["com.gone", ["detached"], {}],
                {"scope": "detached", "publish_options": {"acknowledge": true, "exclude_me": false}}])");
    BOOST_REQUIRE_EQUAL(c->last()[0].GetInt(), 50);
    auto before = w->transport.sent.size();
    auto id = session_id(*c);
    c->session->transport_closed();
    BOOST_REQUIRE_EQUAL(w->transport.sent.size(), before + 2);
    auto first = dom(w->transport.sent[before]);
    auto second = dom(w->transport.sent[before + 1]);
    BOOST_TEST(first[4][0].GetString() == std::string("detached"));
    BOOST_TEST(second[4][0].GetString() == std::string("destroyed"));
    BOOST_TEST(second[5]["k"].GetInt() == 1);
    BOOST_TEST(second[3]["publisher"].GetUint64() == id);  // the leaving session's disclosure
}

BOOST_AUTO_TEST_CASE(a_clean_goodbye_publishes_them_too) {
    auto w = watcher();
    auto c = join();
    c->send(R"([48, 1, {}, "wamp.session.add_testament", ["com.gone", [1], {}]])");
    auto before = w->transport.sent.size();
    c->send(R"([6, {}, "wamp.close.normal"])");
    BOOST_TEST(w->transport.sent.size() == before + 1);
}

BOOST_AUTO_TEST_CASE(flushed_testaments_are_not_published_and_the_count_is_answered) {
    auto w = watcher();
    auto c = join();
    c->send(R"([48, 1, {}, "wamp.session.add_testament", ["com.gone", [1], {}]])");
    c->send(R"([48, 2, {}, "wamp.session.add_testament", ["com.gone", [2], {}, null, "detached"]])");
    c->send(R"([48, 3, {}, "wamp.session.flush_testaments"])");
    BOOST_TEST(c->last()[3][0].GetUint64() == 1u);
    c->send(R"([48, 4, {}, "wamp.session.flush_testaments", ["detached"]])");
    BOOST_TEST(c->last()[3][0].GetUint64() == 1u);
    auto before = w->transport.sent.size();
    c->session->transport_closed();
    BOOST_TEST(w->transport.sent.size() == before);
}

BOOST_AUTO_TEST_CASE(a_bad_scope_is_a_testament_error) {
    auto c = join();
    c->send(R"([48, 1, {}, "wamp.session.add_testament", ["com.gone", [], {}, {}, "forever"]])");
    BOOST_TEST(c->last_error_uri() == "wamp.error.testament_error");
    c->send(R"([48, 2, {}, "wamp.session.flush_testaments", ["forever"]])");
    BOOST_TEST(c->last_error_uri() == "wamp.error.testament_error");
}

BOOST_AUTO_TEST_CASE(a_call_that_does_not_fit_the_signature_is_a_runtime_error) {
    auto c = join();
    c->send(R"([48, 1, {}, "wamp.session.add_testament", ["com.gone"]])");
    BOOST_TEST(c->last_error_uri() == "wamp.error.runtime_error");
    c->send(R"([48, 2, {}, "wamp.session.add_testament", ["com.gone", [], {}, {"unheard_of": 1}]])");
    BOOST_TEST(c->last_error_uri() == "wamp.error.runtime_error");
    c->send(R"([48, 3, {}, "wamp.session.add_testament", ["com.gone", "not a list", {}]])");
    BOOST_TEST(c->last_error_uri() == "wamp.error.runtime_error");
}

BOOST_AUTO_TEST_CASE(testaments_per_session_are_bounded) {
    auto c = join();
    for (int i = 1; i <= 2; ++i) {
        c->send(R"([48, )" + std::to_string(i) + R"(, {}, "wamp.session.add_testament", ["com.gone", [], {}]])");
        BOOST_REQUIRE_EQUAL(c->last()[0].GetInt(), 50);
    }
    c->send(R"([48, 3, {}, "wamp.session.add_testament", ["com.gone", [], {}, {}, "detached"]])");
    BOOST_TEST(c->last_error_uri() == "wamp.error.limit_reached");
    c->send(R"([48, 4, {}, "wamp.session.flush_testaments"])");
    c->send(R"([48, 5, {}, "wamp.session.add_testament", ["com.gone", [], {}]])");
    BOOST_TEST(c->last()[0].GetInt() == 50);
}

BOOST_AUTO_TEST_CASE(a_testament_needs_the_leaving_sessions_publish_permission) {
    auto w = watcher();
    auto m = connect();
    m->send(R"([1, "realm1", {"roles": {"caller": {}, "publisher": {}}, "authmethods": ["ticket"], "authid": "m"}])");
    m->send(R"([5, "t", {}])");
    BOOST_REQUIRE_EQUAL(m->last()[0].GetInt(), 2);
    m->send(R"([48, 1, {}, "wamp.session.add_testament", ["com.gone", [], {}]])");
    BOOST_REQUIRE_EQUAL(m->last()[0].GetInt(), 50);
    auto before = w->transport.sent.size();
    m->session->transport_closed();
    BOOST_TEST(w->transport.sent.size() == before);
}

BOOST_AUTO_TEST_CASE(a_retained_testament_is_kept_for_later_subscribers) {
    auto c = join();
    c->send(R"([48, 1, {}, "wamp.session.add_testament", ["com.gone", ["bye"], {}, {"retain": true}]])");
    c->session->transport_closed();
    auto late = join();
    late->send(R"([32, 2, {"get_retained": true}, "com.gone"])");
    BOOST_TEST(late->last()[0].GetInt() == 36);
    BOOST_TEST(late->last()[4][0].GetString() == std::string("bye"));
}

BOOST_AUTO_TEST_SUITE_END()
