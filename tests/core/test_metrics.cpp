// The router's counters (core/metrics.hpp) and their text exposition: the format,
// the fixed label tables, and what the router counts as clients are served.
#include <boost/test/unit_test.hpp>

#include "blindrouter/core/metrics.hpp"
#include "core/fake_session.hpp"

using namespace blindrouter;
using namespace blindrouter::testing;
using namespace std::chrono_literals;

namespace {

const char* ticket_node = R"({"version": 2,
  "workers": [{"type": "router",
    "realms": [{"name": "realm1", "roles": [{"name": "frontend", "permissions": []}]}],
    "transports": [{"type": "websocket", "endpoint": {"type": "tcp", "port": 9000},
      "auth": {"ticket": {"type": "static", "principals": {"joe": {"ticket": "joe-ticket-5b1f", "role": "frontend"}}}}}]}]})";

struct MetricsFixture : RouterHarness {
    MetricsFixture() : RouterHarness(open_realm_config) {
        hooks.add(std::make_unique<SettableHook>());  // refuses CBOR receivers
        callee = join();
        caller = join();
    }
    core::RouterMetrics& metrics() { return router().metrics(); }
    std::uint64_t refusals(std::string_view uri) { return metrics().refusals()[core::refusal_index(uri)]; }
    std::string text() { return core::metrics_text(router(), core::ProcessGauges{}); }

    std::unique_ptr<Client> callee, caller;
    // The caller calls `procedure`, registered by the callee; returns the INVOCATION's request id.
    std::string call(const std::string& procedure) {
        callee->send(R"([64, 1, {}, ")" + procedure + R"("])");
        caller->send(R"([48, 7, {}, ")" + procedure + R"(", []])");
        return std::to_string(callee->last()[1].GetUint64());
    }
};

bool has_line(const std::string& text, const std::string& line) {
    return text.find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(metrics)

BOOST_AUTO_TEST_CASE(exposition_writes_help_type_and_escaped_labels) {
    core::Exposition out;
    out.family("x_total", "counter", "Things");
    out.sample("x_total", {{"a", "q\"uo\\te\nd"}, {"b", "plain"}}, std::uint64_t{7});
    out.sample("x_total", {}, 0.25);
    out.sample("x_total", {{"le", "+Inf"}}, std::numeric_limits<double>::infinity());
    BOOST_TEST(out.text() ==
               "# HELP x_total Things\n# TYPE x_total counter\n"
               "x_total{a=\"q\\\"uo\\\\te\\nd\",b=\"plain\"} 7\n"
               "x_total 0.25\n"
               "x_total{le=\"+Inf\"} +Inf\n");
}

BOOST_AUTO_TEST_CASE(histogram_buckets_are_cumulative) {
    core::LatencyHistogram h;
    h.observe(300us);  // 0.0005
    h.observe(1ms);    // 0.001, on the bound: le is inclusive
    h.observe(40ms);   // 0.05
    h.observe(20s);    // +Inf only
    core::Exposition out;
    core::write_histogram(out, "d_seconds", "Durations", h);
    const auto& text = out.text();
    BOOST_TEST(has_line(text, "d_seconds_bucket{le=\"0.0005\"} 1"));
    BOOST_TEST(has_line(text, "d_seconds_bucket{le=\"0.001\"} 2"));
    BOOST_TEST(has_line(text, "d_seconds_bucket{le=\"0.025\"} 2"));
    BOOST_TEST(has_line(text, "d_seconds_bucket{le=\"0.05\"} 3"));
    BOOST_TEST(has_line(text, "d_seconds_bucket{le=\"10\"} 3"));
    BOOST_TEST(has_line(text, "d_seconds_bucket{le=\"+Inf\"} 4"));
    BOOST_TEST(has_line(text, "d_seconds_sum 20.0413"));
    BOOST_TEST(has_line(text, "d_seconds_count 4"));
}

BOOST_AUTO_TEST_CASE(error_uris_outside_the_table_are_other_and_application_uris_are_not_refusals) {
    core::RouterMetrics m;
    m.error_sent("wamp.error.not_authorized");
    m.error_sent("wamp.error.made_up");
    m.error_sent("blindrouter.error.serializer_mismatch");
    m.error_sent("com.example.application_error");  // a callee's answer, passed on
    BOOST_TEST(m.refusals()[core::refusal_index("wamp.error.not_authorized")] == 1u);
    BOOST_TEST(m.refusals()[core::refusal_index("blindrouter.error.serializer_mismatch")] == 1u);
    BOOST_TEST(core::refusal_index("wamp.error.made_up") == 0u);
    BOOST_TEST(core::refusal_uris()[0] == "other");
    BOOST_TEST(m.refusals()[0] == 1u);
    std::uint64_t total = 0;
    for (auto n : m.refusals()) total += n;
    BOOST_TEST(total == 3u);
}

BOOST_FIXTURE_TEST_CASE(a_refused_call_is_counted_by_its_error_uri, MetricsFixture) {
    caller->send(R"([48, 1, {}, "com.nobody.home", []])");
    BOOST_TEST(caller->last_error_uri() == "wamp.error.no_such_procedure");
    BOOST_TEST(refusals("wamp.error.no_such_procedure") == 1u);
    caller->send(R"([48, 2, {}, "org.elsewhere", []])");
    BOOST_TEST(caller->last_error_uri() == "wamp.error.not_authorized");
    BOOST_TEST(refusals("wamp.error.not_authorized") == 1u);
    BOOST_TEST(has_line(text(), "blindrouter_refusals_total{uri=\"wamp.error.no_such_procedure\"} 1"));
}

BOOST_FIXTURE_TEST_CASE(a_callees_application_error_is_no_refusal, MetricsFixture) {
    callee->send("[8, 68, " + call("com.fails") + R"(, {}, "com.example.broken"])");
    BOOST_TEST(caller->last_error_uri() == "com.example.broken");
    for (auto n : metrics().refusals()) BOOST_TEST(n == 0u);
}

BOOST_AUTO_TEST_CASE(authentication_failures_are_counted_by_method) {
    RouterHarness harness(ticket_node);
    auto client = harness.connect();
    client->send(R"([1, "realm1", {"roles": {"caller": {}}, "authmethods": ["ticket"], "authid": "joe"}])");
    client->send(R"([5, "not-the-ticket", {}])");
    expect_abort_with(*client, "wamp.error.not_authorized", "ticket in static WAMP-Ticket authentication is invalid");
    auto unknown = harness.connect();
    unknown->send(R"([1, "realm1", {"roles": {"caller": {}}, "authmethods": ["wampcra"], "authid": "joe"}])");
    BOOST_TEST(unknown->last()[0].GetInt() == 3);
    BOOST_TEST(unknown->last()[2].GetString() == std::string("wamp.error.no_auth_method"));
    const auto& failures = harness.router().metrics().authentication_failures();
    BOOST_TEST(failures[core::authentication_method_index("ticket")] == 1u);
    BOOST_TEST(failures[0] == 1u);  // "none": no method could be chosen
    auto text = core::metrics_text(harness.router(), {});
    BOOST_TEST(has_line(text, "blindrouter_authentication_failures_total{method=\"ticket\"} 1"));
    // The ticket itself never becomes a label.
    BOOST_TEST(text.find("not-the-ticket") == std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(skipped_receivers_are_counted_by_serializer_pair, MetricsFixture) {
    auto subscriber = join(hello_all_roles, wamp::Serializer::cbor);  // the hook refuses CBOR receivers
    subscriber->send(R"([32, 1, {}, "com.topic"])");
    callee->send(R"([32, 1, {}, "com.topic"])");
    auto publisher = join(hello_all_roles, wamp::Serializer::msgpack);
    publisher->send(R"([16, 2, {}, "com.topic", ["x"]])");
    const auto& skipped = metrics().skipped();
    BOOST_TEST(skipped[static_cast<int>(wamp::Serializer::msgpack)][static_cast<int>(wamp::Serializer::cbor)] == 1u);
    BOOST_TEST(skipped[static_cast<int>(wamp::Serializer::msgpack)][static_cast<int>(wamp::Serializer::json)] == 0u);
    BOOST_TEST(has_line(
        text(), "blindrouter_skipped_receivers_total{sender_serializer=\"msgpack\",receiver_serializer=\"cbor\"} 1"));
}

BOOST_FIXTURE_TEST_CASE(call_duration_is_timed_from_call_to_final_result, MetricsFixture) {
    metrics().set_times_calls(true);
    auto invocation = call("com.slow");
    BOOST_TEST(has_line(text(), "blindrouter_pending_calls{realm=\"realm1\"} 1"));
    timers.advance(30ms);
    callee->send("[70, " + invocation + R"(, {"progress": true}, ["partial"]])");
    timers.advance(10ms);
    callee->send("[70, " + invocation + R"(, {}, ["done"]])");
    BOOST_TEST(caller->last()[0].GetInt() == 50);
    const auto& h = metrics().call_duration();
    BOOST_TEST(h.count == 1u);
    BOOST_TEST(h.sum.count() == std::chrono::nanoseconds(40ms).count());
    BOOST_TEST(has_line(text(), "blindrouter_call_duration_seconds_bucket{le=\"0.025\"} 0"));
    BOOST_TEST(has_line(text(), "blindrouter_call_duration_seconds_bucket{le=\"0.05\"} 1"));
    BOOST_TEST(has_line(text(), "blindrouter_pending_calls{realm=\"realm1\"} 0"));
}

BOOST_FIXTURE_TEST_CASE(calls_are_not_timed_unless_asked, MetricsFixture) {
    callee->send("[70, " + call("com.slow") + R"(, {}, []])");
    BOOST_TEST(metrics().call_duration().count == 0u);
}

BOOST_FIXTURE_TEST_CASE(sessions_are_a_gauge_by_realm_and_serializer, MetricsFixture) {
    auto b = join(hello_all_roles, wamp::Serializer::msgpack);
    auto c = join(hello_all_roles, wamp::Serializer::msgpack);
    // A fake transport has no framing to tell: its sessions show as transport "other".
    BOOST_TEST(has_line(text(), "blindrouter_sessions{realm=\"realm1\",transport=\"other\",serializer=\"msgpack\"} 2"));
    BOOST_TEST(has_line(text(), "blindrouter_sessions{realm=\"realm1\",transport=\"other\",serializer=\"json\"} 2"));
    c.reset();
    BOOST_TEST(has_line(text(), "blindrouter_sessions{realm=\"realm1\",transport=\"other\",serializer=\"msgpack\"} 1"));
}

BOOST_FIXTURE_TEST_CASE(uri_labels_only_when_asked_and_bounded, MetricsFixture) {
    auto& client = caller;
    client->send(R"([16, 1, {}, "com.first", []])");
    BOOST_TEST(text().find("com.first") == std::string::npos);
    BOOST_TEST(text().find("blindrouter_uri_messages_total") == std::string::npos);
    metrics().set_uri_label_limit(1);
    client->send(R"([16, 2, {}, "com.first", []])");
    client->send(R"([16, 3, {}, "com.second", []])");
    client->send(R"([48, 4, {}, "com.first", []])");
    auto t = text();
    BOOST_TEST(has_line(t, "blindrouter_uri_messages_total{type=\"PUBLISH\",uri=\"com.first\"} 1"));
    BOOST_TEST(has_line(t, "blindrouter_uri_messages_total{type=\"CALL\",uri=\"com.first\"} 1"));
    BOOST_TEST(has_line(t, "blindrouter_uri_messages_total{type=\"PUBLISH\",uri=\"other\"} 1"));
    BOOST_TEST(t.find("com.second") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
