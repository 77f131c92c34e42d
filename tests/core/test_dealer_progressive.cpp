// Progressive call invocations (WAMP spec, advanced profile, rpc_progressive_call_invocations;
// Crossbar serves none, ADVANCED.md §4b): chunks in order to one callee on one
// INVOCATION id, and each edge the spec names, through real sessions on a realm.
#include <boost/test/unit_test.hpp>

#include "core/fake_session.hpp"

using namespace blindrouter;
using namespace blindrouter::testing;

namespace {
const std::string streaming_callee =
    R"([1, "realm1", {"roles": {"callee": {"features": {"progressive_call_invocations": true, "call_canceling": true}}}}])";
const std::string streaming_caller =
    R"([1, "realm1", {"roles": {"caller": {"features": {"progressive_call_invocations": true}}}}])";

struct Fixture : RouterHarness {
    SettableHook* hook = nullptr;
    Fixture() : RouterHarness(open_realm_config) {
        auto h = std::make_unique<SettableHook>();
        hook = h.get();
        hooks.add(std::move(h));
    }
    const core::Dealer& dealer() { return router().find_realm("realm1")->dealer(); }
    void expect_idle() {
        BOOST_TEST(dealer().pending_invocation_count() == 0u);
        BOOST_TEST(dealer().sessions_with_load() == 0u);
    }
};

// A streaming callee registered for com.up and a streaming caller whose first chunk
// (request 7) reached it.
struct Stream {
    std::unique_ptr<Client> callee, caller;
    std::string invocation;
    Stream(std::unique_ptr<Client> callee, std::unique_ptr<Client> caller)
        : callee(std::move(callee)), caller(std::move(caller)) {}
    Stream(Stream&&) = default;
    // Both leave, so that the next case may register com.up again.
    ~Stream() {
        for (auto* c : {callee.get(), caller.get()})
            if (c) c->session->transport_closed();
    }
};
Stream open_stream(Fixture& f, const std::string& first_options = R"({"progress": true})") {
    Stream s(f.join(streaming_callee), f.join(streaming_caller));
    s.callee->send(R"([64, 1, {}, "com.up"])");
    s.caller->send("[48, 7, " + first_options + R"(, "com.up", ["chunk 1"]])");
    auto invocation = s.callee->last();
    BOOST_REQUIRE_EQUAL(invocation[0].GetInt(), 68);
    s.invocation = std::to_string(invocation[1].GetUint64());
    return s;
}
}  // namespace

BOOST_FIXTURE_TEST_SUITE(dealer_progressive, Fixture)

BOOST_AUTO_TEST_CASE(chunks_reach_one_callee_in_order_on_one_invocation_with_the_first_calls_options) {
    auto s = open_stream(*this, R"({"progress": true, "receive_progress": true, "disclose_me": true})");
    BOOST_TEST(s.callee->transport.sent.back() ==
               "[68," + s.invocation + "," + std::to_string(s.callee->last()[2].GetUint64()) +
                   ",{\"receive_progress\":true,\"caller\":" +
                   std::to_string(s.caller->session->id()) +
                   ",\"caller_authid\":\"" + s.caller->session->peer()->authid +
                   "\",\"caller_authrole\":\"anonymous\",\"progress\":true},[\"chunk 1\"]]");
    // Later options are ignored, only `progress` counts (spec: options frozen at the first CALL).
    s.caller->send(R"([48, 7, {"progress": true, "receive_progress": false, "disclose_me": false}, "com.up", ["chunk 2"]])");
    s.caller->send(R"([48, 7, {}, "com.up", ["chunk 3"]])");
    const auto& sent = s.callee->transport.sent;
    BOOST_REQUIRE_GE(sent.size(), 3u);
    for (int chunk = 2; chunk <= 3; ++chunk) {
        auto inv = dom(sent[sent.size() - 4 + chunk]);
        BOOST_TEST(std::to_string(inv[1].GetUint64()) == s.invocation);
        BOOST_TEST(inv[3]["receive_progress"].GetBool());
        BOOST_TEST(inv[3].HasMember("caller"));
        BOOST_TEST(inv[3].HasMember("progress") == (chunk == 2));
        BOOST_TEST(inv[4][0].GetString() == "chunk " + std::to_string(chunk));
    }
    s.callee->send("[70, " + s.invocation + R"(, {"progress": true}, ["partial"]])");
    BOOST_TEST(s.caller->last()[2]["progress"].GetBool());
    s.callee->send("[70, " + s.invocation + R"(, {}, ["done"]])");
    BOOST_TEST(s.caller->transport.sent.back() == R"([50,7,{},["done"]])");
    expect_idle();
}

BOOST_AUTO_TEST_CASE(a_shared_registration_keeps_the_stream_on_its_first_callee) {
    auto first = join(streaming_callee), second = join(streaming_callee), caller = join(streaming_caller);
    first->send(R"([64, 1, {"invoke": "roundrobin"}, "com.up"])");
    second->send(R"([64, 1, {"invoke": "roundrobin"}, "com.up"])");
    caller->send(R"([48, 7, {"progress": true}, "com.up", [1]])");
    auto first_seen = first->transport.sent.size(), second_seen = second->transport.sent.size();
    caller->send(R"([48, 7, {"progress": true}, "com.up", [2]])");
    caller->send(R"([48, 7, {}, "com.up", [3]])");
    BOOST_TEST(first->transport.sent.size() == first_seen + 2);
    BOOST_TEST(second->transport.sent.size() == second_seen);
    // Round robin goes on with the next call.
    caller->send(R"([48, 8, {}, "com.up", [4]])");
    BOOST_TEST(second->transport.sent.size() == second_seen + 1);
}

BOOST_AUTO_TEST_CASE(a_callee_that_cannot_follow_makes_the_call_feature_not_supported) {
    auto caller = join(streaming_caller);
    for (const std::string& hello :
         {std::string(R"([1, "realm1", {"roles": {"callee": {"features": {"call_canceling": true}}}}])"),
          // Spec: progressive invocations without call canceling count as none.
          std::string(R"([1, "realm1", {"roles": {"callee": {"features": {"progressive_call_invocations": true}}}}])")}) {
        auto callee = join(hello);
        callee->send(R"([64, 1, {}, "com.up"])");
        auto seen = callee->transport.sent.size();
        caller->send(R"([48, 7, {"progress": true}, "com.up", [1]])");
        BOOST_TEST(caller->last_error_uri() == "wamp.error.feature_not_supported");
        BOOST_TEST(callee->transport.sent.size() == seen);
        // A plain call to it is still served.
        caller->send(R"([48, 8, {}, "com.up", [1]])");
        BOOST_TEST(callee->last()[0].GetInt() == 68);
        callee->session->transport_closed();
    }
    // Among shared callees, one that can follow is chosen.
    auto plain = join(R"([1, "realm1", {"roles": {"callee": {}}}])"), able = join(streaming_callee);
    plain->send(R"([64, 1, {"invoke": "first"}, "com.up"])");
    able->send(R"([64, 1, {"invoke": "first"}, "com.up"])");
    caller->send(R"([48, 9, {"progress": true}, "com.up", [1]])");
    BOOST_TEST(able->last()[3]["progress"].GetBool());
}

BOOST_AUTO_TEST_CASE(progress_from_a_caller_that_did_not_announce_it_is_a_protocol_violation) {
    auto callee = join(streaming_callee), caller = join();
    callee->send(R"([64, 1, {}, "com.up"])");
    caller->send(R"([48, 7, {"progress": true}, "com.up", [1]])");
    expect_violation(*caller, "progressive_call_invocations");
}

BOOST_AUTO_TEST_CASE(continuations_after_the_callee_answered_are_dropped_until_the_closing_call) {
    auto s = open_stream(*this);
    s.callee->send("[8, 68, " + s.invocation + R"(, {}, "com.app.full"])");
    BOOST_TEST(s.caller->last_error_uri() == "com.app.full");
    auto caller_seen = s.caller->transport.sent.size(), callee_seen = s.callee->transport.sent.size();
    s.caller->send(R"([48, 7, {"progress": true}, "com.up", [2]])");
    s.caller->send(R"([48, 7, {}, "com.up", [3]])");
    BOOST_TEST(s.caller->transport.sent.size() == caller_seen);
    BOOST_TEST(s.callee->transport.sent.size() == callee_seen);
    BOOST_TEST(!s.caller->transport.closed.has_value());
    expect_idle();
    // Once closed, the request id is free again (Crossbar reads each CALL as a new call).
    s.caller->send(R"([48, 7, {}, "com.up", [4]])");
    BOOST_TEST(s.callee->last()[0].GetInt() == 68);
}

BOOST_AUTO_TEST_CASE(a_callee_that_leaves_cancels_the_stream_and_later_chunks_are_dropped) {
    auto s = open_stream(*this);
    s.callee->session->transport_closed();
    BOOST_TEST(s.caller->last_error_uri() == "wamp.error.canceled");
    auto seen = s.caller->transport.sent.size();
    s.caller->send(R"([48, 7, {}, "com.up", [2]])");
    BOOST_TEST(s.caller->transport.sent.size() == seen);  // not no_such_procedure: dropped
    expect_idle();
}

BOOST_AUTO_TEST_CASE(a_caller_that_leaves_interrupts_the_stream) {
    auto s = open_stream(*this);
    s.caller->session->transport_closed();
    BOOST_TEST(s.callee->last()[0].GetInt() == 69);
    BOOST_TEST(s.callee->last()[2]["mode"].GetString() == std::string("killnowait"));
    s.callee->send("[70, " + s.invocation + R"(, {}, [1]])");
    BOOST_TEST(!s.callee->transport.closed.has_value());
    expect_idle();
}

BOOST_AUTO_TEST_CASE(cancel_during_a_stream) {
    {
        auto s = open_stream(*this);
        s.caller->send(R"([49, 7, {"mode": "killnowait"}])");
        BOOST_TEST(s.caller->last_error_uri() == "wamp.error.canceled");
        BOOST_TEST(s.callee->last()[0].GetInt() == 69);
        auto seen = s.callee->transport.sent.size();
        s.caller->send(R"([48, 7, {"progress": true}, "com.up", [2]])");
        BOOST_TEST(s.callee->transport.sent.size() == seen);
        s.callee->send("[8, 68, " + s.invocation + R"(, {}, "wamp.error.canceled"])");
        s.caller->send(R"([48, 7, {}, "com.up", [3]])");
        BOOST_TEST(s.callee->transport.sent.size() == seen);
        expect_idle();
    }
    {
        // kill: the caller's ERROR waits for the callee; its chunks meanwhile go nowhere.
        auto s = open_stream(*this);
        s.caller->send(R"([49, 7, {"mode": "kill"}])");
        auto seen = s.callee->transport.sent.size();
        s.caller->send(R"([48, 7, {}, "com.up", [2]])");
        BOOST_TEST(s.callee->transport.sent.size() == seen);
        s.callee->send("[70, " + s.invocation + R"(, {}, [1]])");
        BOOST_TEST(s.caller->last_error_uri() == "wamp.error.canceled");
        expect_idle();
    }
}

BOOST_AUTO_TEST_CASE(the_timeout_of_the_first_call_runs_from_it_and_is_not_reset_by_chunks) {
    auto s = open_stream(*this, R"({"progress": true, "timeout": 1000})");
    timers.advance(std::chrono::milliseconds(600));
    s.caller->send(R"([48, 7, {"progress": true, "timeout": 5000}, "com.up", [2]])");
    BOOST_TEST(s.callee->last()[3]["timeout"].GetUint64() == 1000u);
    timers.advance(std::chrono::milliseconds(400));
    BOOST_TEST(s.caller->last_error_uri() == "wamp.error.timeout");
    BOOST_TEST(s.callee->last()[0].GetInt() == 69);
    auto seen = s.callee->transport.sent.size();
    s.caller->send(R"([48, 7, {}, "com.up", [3]])");
    BOOST_TEST(s.callee->transport.sent.size() == seen);
}

BOOST_AUTO_TEST_CASE(a_request_id_in_use_is_reused_only_to_continue_an_open_stream) {
    {
        auto s = open_stream(*this);
        s.caller->send(R"([48, 7, {"progress": true}, "com.other", [2]])");
        expect_violation(*s.caller, "another procedure");
    }
    {
        auto s = open_stream(*this);
        s.caller->send(R"([48, 7, {}, "com.up", [2]])");  // closes the input
        s.caller->send(R"([48, 7, {}, "com.up", [3]])");
        expect_violation(*s.caller, "takes no more input");
    }
    {
        auto callee = join(streaming_callee), caller = join(streaming_caller);
        callee->send(R"([64, 1, {}, "com.plain"])");
        caller->send(R"([48, 7, {}, "com.plain", [1]])");
        caller->send(R"([48, 7, {}, "com.plain", [1]])");
        expect_violation(*caller, "takes no more input");
    }
    {
        // Found by fuzz_realm_sessions: a reuse the realm would refuse on its own (an
        // invalid URI) is still the violation, not an ERROR: that ERROR would answer the
        // call in progress, and the callee's answer then a second time.
        auto callee = join(streaming_callee), caller = join(streaming_caller);
        callee->send(R"([64, 1, {}, "com.plain"])");
        caller->send(R"([48, 7, {}, "com.plain", [1]])");
        caller->send(R"([48, 7, {"progress": true}, "a..c", [1]])");
        expect_violation(*caller, "takes no more input");
    }
}

BOOST_AUTO_TEST_CASE(a_refused_chunk_ends_the_stream_for_both) {
    {
        // Inbound (the plugin's checks on the CALL itself).
        auto s = open_stream(*this);
        hook->inbound_verdict = hooks::Verdict::error("x.refused", "no");
        s.caller->send(R"([48, 7, {"progress": true}, "com.up", [2]])");
        BOOST_TEST(s.caller->last_error_uri() == "x.refused");
        BOOST_TEST(s.callee->last()[0].GetInt() == 69);
        hook->inbound_verdict = hooks::Verdict::pass();
        auto seen = s.callee->transport.sent.size();
        s.caller->send(R"([48, 7, {}, "com.up", [3]])");
        BOOST_TEST(s.callee->transport.sent.size() == seen);
    }
    {
        // A chunk whose `progress` is no bool.
        auto s = open_stream(*this);
        s.caller->send(R"([48, 7, {"progress": "yes"}, "com.up", [2]])");
        BOOST_TEST(s.caller->last_error_uri() == "wamp.error.invalid_argument");
        BOOST_TEST(s.callee->last()[0].GetInt() == 69);
    }
    {
        // Outbound (the gate for the INVOCATION of this chunk).
        auto s = open_stream(*this);
        hook->refused = wamp::Serializer::json;
        s.caller->send(R"([48, 7, {"progress": true}, "com.up", [2]])");
        BOOST_TEST(s.caller->last_error_uri() == "test.error.refused");
        BOOST_TEST(s.callee->last()[0].GetInt() == 69);
        hook->refused = wamp::Serializer::cbor;
        s.callee->send("[70, " + s.invocation + R"(, {}, [1]])");
        BOOST_TEST(!s.callee->transport.closed.has_value());
    }
}

BOOST_AUTO_TEST_SUITE_END()
