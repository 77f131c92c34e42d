// The realm's routing between sessions: authorization, inbound hooks, the outbound
// gate (hook verdicts per kind of receiver, encodability) and what each sender sees.
#include <boost/test/unit_test.hpp>

#include "core/fake_session.hpp"

using namespace blindrouter;
using namespace blindrouter::testing;

namespace {
struct RealmFixture : RouterHarness {
    SettableHook* hook = nullptr;
    RealmFixture() : RouterHarness(open_realm_config) {
        auto h = std::make_unique<SettableHook>();
        hook = h.get();
        hooks.add(std::move(h));
    }
    std::unique_ptr<Client> join_as(wamp::Serializer serializer) { return join(hello_all_roles, serializer); }
};

// [16, 5, {"acknowledge": true}, "com.t", [NaN]] and [70, <request>, {}, [NaN]] in MsgPack.
const std::string nan_item = std::string("\x91\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00", 10);
const std::string msgpack_publish_nan = std::string("\x95\x10\x05\x81\xab" "acknowledge" "\xc3\xa5" "com.t", 23) + nan_item;
std::string msgpack_yield_nan(std::uint64_t request) {
    std::string frame("\x94\x46\xcf", 3);
    for (int shift = 56; shift >= 0; shift -= 8) frame.push_back(static_cast<char>(request >> shift & 0xff));
    return frame + "\x80" + nan_item;
}
}  // namespace

BOOST_FIXTURE_TEST_SUITE(realm, RealmFixture)

BOOST_AUTO_TEST_CASE(routing_between_sessions_and_leaving) {
    auto sub = join();
    auto pub = join();
    sub->send(R"([32, 1, {}, "com.t"])");
    pub->send(R"([16, 2, {}, "com.t", ["hello"]])");
    auto event = sub->last();
    BOOST_TEST(event[0].GetInt() == 36);
    BOOST_TEST(event[4][0].GetString() == std::string("hello"));
    sub->session->transport_closed();
    auto sent = pub->transport.sent.size();
    pub->send(R"([16, 3, {"acknowledge": true}, "com.t"])");
    BOOST_TEST(pub->transport.sent.size() == sent + 1);
    BOOST_TEST(pub->last()[0].GetInt() == 17);
    BOOST_TEST(router().session_count() == 1u);
}

BOOST_AUTO_TEST_CASE(callee_leaving_cancels_pending_calls) {
    auto callee = join();
    auto caller = join();
    callee->send(R"([64, 1, {}, "com.p"])");
    caller->send(R"([48, 2, {}, "com.p", [1]])");
    BOOST_TEST(callee->last()[0].GetInt() == 68);
    callee->send(R"([6, {}, "wamp.close.normal"])");
    BOOST_TEST(caller->last_error_uri() == "wamp.error.canceled");
}

BOOST_AUTO_TEST_CASE(hooks_refuse_inbound_and_skip_outbound_receivers) {
    auto a = join();
    auto b = join_as(wamp::Serializer::msgpack);
    auto c = join();
    a->send(R"([32, 1, {}, "com.t"])");
    b->send(R"([32, 1, {}, "com.t"])");
    hook->refused = wamp::Serializer::msgpack;
    auto before = b->transport.sent.size();
    c->send(R"([16, 2, {}, "com.t", [1]])");
    BOOST_TEST(a->last()[0].GetInt() == 36);
    BOOST_TEST(b->transport.sent.size() == before);

    hook->inbound_verdict = hooks::Verdict::error("x.refused", "no", wamp::Dict{{"why", wamp::Value{"test"}}});
    c->send(R"([48, 3, {}, "com.p"])");
    auto error = c->last();
    BOOST_TEST(error[4].GetString() == std::string("x.refused"));
    BOOST_TEST(error[6]["why"].GetString() == std::string("test"));

    hook->inbound_verdict = hooks::Verdict::abort("wamp.error.protocol_violation", "hook says no");
    c->send(R"([16, 4, {}, "com.t"])");
    expect_violation(*c, "hook says no");
}

// Call canceling (WAMP spec, advanced profile; shared/ADVANCED.md §4c): every mode,
// with the callee answering after the CANCEL.
struct CancelCase {
    std::unique_ptr<Client> callee, caller;
    std::string invocation;
};
CancelCase start_call(RealmFixture& f, bool callee_cancels) {
    const std::string callee_hello =
        callee_cancels ? R"([1, "realm1", {"roles": {"callee": {"features": {"call_canceling": true}}}}])"
                       : R"([1, "realm1", {"roles": {"callee": {}}}])";
    CancelCase c{f.join(callee_hello), f.join(), {}};
    c.callee->send(R"([64, 1, {}, "com.p"])");
    c.caller->send(R"([48, 7, {}, "com.p"])");
    c.invocation = std::to_string(c.callee->last()[1].GetUint64());
    return c;
}

BOOST_AUTO_TEST_CASE(cancel_skip_answers_the_caller_now_and_drops_the_late_result) {
    auto c = start_call(*this, true);
    auto callee_seen = c.callee->transport.sent.size();
    c.caller->send(R"([49, 7, {"mode": "skip"}])");
    BOOST_TEST(c.caller->last_error_uri() == "wamp.error.canceled");
    BOOST_TEST(c.callee->transport.sent.size() == callee_seen);  // no INTERRUPT
    auto caller_seen = c.caller->transport.sent.size();
    c.callee->send("[70, " + c.invocation + ", {}, [1]]");
    BOOST_TEST(c.caller->transport.sent.size() == caller_seen);
    BOOST_TEST(!c.callee->transport.closed.has_value());
    BOOST_TEST(router().find_realm("realm1")->dealer().pending_invocation_count() == 0u);
}

BOOST_AUTO_TEST_CASE(cancel_killnowait_interrupts_and_answers_the_caller_now) {
    auto c = start_call(*this, true);
    c.caller->send(R"([49, 7, {"mode": "killnowait"}])");
    BOOST_TEST(c.caller->last_error_uri() == "wamp.error.canceled");
    auto interrupt = c.callee->last();
    BOOST_TEST(interrupt[0].GetInt() == 69);
    BOOST_TEST(std::to_string(interrupt[1].GetUint64()) == c.invocation);
    BOOST_TEST(interrupt[2]["mode"].GetString() == std::string("killnowait"));
    auto caller_seen = c.caller->transport.sent.size();
    c.callee->send("[8, 68, " + c.invocation + R"(, {}, "wamp.error.canceled"])");
    BOOST_TEST(c.caller->transport.sent.size() == caller_seen);
    BOOST_TEST(router().find_realm("realm1")->dealer().pending_invocation_count() == 0u);
}

BOOST_AUTO_TEST_CASE(cancel_kill_answers_the_caller_once_the_callee_answers) {
    for (const std::string answer : {"[70, INV, {}, [1]]", R"([8, 68, INV, {}, "com.app.stopped"])"}) {
        auto c = start_call(*this, true);
        c.caller->send(R"([49, 7, {"mode": "kill"}])");
        BOOST_TEST(c.callee->last()[2]["mode"].GetString() == std::string("kill"));
        BOOST_TEST(c.caller->last()[0].GetInt() == 2);  // nothing yet: still its WELCOME
        c.caller->send(R"([49, 7, {"mode": "kill"}])");  // a second CANCEL is ignored
        BOOST_TEST(c.caller->last()[0].GetInt() == 2);
        auto text = answer;
        text.replace(text.find("INV"), 3, c.invocation);
        c.callee->send(text);
        // Whatever the callee answered, the caller learns its call was canceled.
        BOOST_TEST(c.caller->last_error_uri() == "wamp.error.canceled");
        BOOST_TEST(router().find_realm("realm1")->dealer().pending_invocation_count() == 0u);
        c.callee->session->transport_closed();  // its registration goes with it
    }
}

BOOST_AUTO_TEST_CASE(cancel_towards_a_callee_without_call_canceling_is_a_skip) {
    auto c = start_call(*this, false);
    auto callee_seen = c.callee->transport.sent.size();
    c.caller->send(R"([49, 7, {"mode": "kill"}])");
    BOOST_TEST(c.caller->last_error_uri() == "wamp.error.canceled");
    BOOST_TEST(c.callee->transport.sent.size() == callee_seen);
}

BOOST_AUTO_TEST_CASE(cancel_without_mode_is_killnowait_with_an_interrupt_naming_no_mode) {
    auto c = start_call(*this, true);
    c.caller->send(R"([49, 7, {}])");
    BOOST_TEST(c.caller->last_error_uri() == "wamp.error.canceled");
    BOOST_TEST(c.callee->last()[0].GetInt() == 69);
    BOOST_TEST(!c.callee->last()[2].HasMember("mode"));
}

BOOST_AUTO_TEST_CASE(cancel_for_no_pending_call_is_ignored_and_a_bad_mode_is_a_violation) {
    auto c = start_call(*this, true);
    auto seen = c.caller->transport.sent.size();
    c.caller->send(R"([49, 99, {"mode": "skip"}])");
    BOOST_TEST(c.caller->transport.sent.size() == seen);
    c.caller->send(R"([49, 7, {"mode": "later"}])");
    expect_violation(*c.caller, "CANCEL.Options.mode");
}

BOOST_AUTO_TEST_CASE(a_caller_that_leaves_interrupts_its_calls_and_their_answers_are_dropped) {
    auto c = start_call(*this, true);
    c.caller->session->transport_closed();
    auto interrupt = c.callee->last();
    BOOST_TEST(interrupt[0].GetInt() == 69);
    BOOST_TEST(interrupt[2]["mode"].GetString() == std::string("killnowait"));
    c.callee->send("[70, " + c.invocation + ", {}, [1]]");
    BOOST_TEST(!c.callee->transport.closed.has_value());
    BOOST_TEST(router().find_realm("realm1")->dealer().pending_invocation_count() == 0u);
}

// Call timeout (WAMP spec: CALL.Options.timeout in milliseconds, enforced by the dealer).
BOOST_AUTO_TEST_CASE(a_call_past_its_timeout_fails_with_timeout_and_interrupts_the_callee) {
    auto c = start_call(*this, true);  // a call without timeout: nothing scheduled
    BOOST_TEST(timers.scheduled() == 0u);
    c.caller->send(R"([48, 8, {"timeout": 500}, "com.p", [1]])");
    auto invocation = c.callee->last();
    BOOST_TEST(invocation[3]["timeout"].GetUint64() == 500u);  // forwarded, as Crossbar does
    auto id = std::to_string(invocation[1].GetUint64());
    timers.advance(std::chrono::milliseconds(499));
    BOOST_TEST(c.caller->last()[0].GetInt() == 2);
    timers.advance(std::chrono::milliseconds(1));
    auto error = c.caller->last();
    BOOST_TEST(error[2].GetUint64() == 8u);
    BOOST_TEST(error[4].GetString() == std::string("wamp.error.timeout"));
    BOOST_TEST(c.callee->last()[0].GetInt() == 69);
    BOOST_TEST(c.callee->last()[2]["mode"].GetString() == std::string("killnowait"));
    // The callee's late answer is dropped; the untimed call is still served.
    auto seen = c.caller->transport.sent.size();
    c.callee->send("[70, " + id + ", {}, [2]]");
    BOOST_TEST(c.caller->transport.sent.size() == seen);
    c.callee->send("[70, " + c.invocation + ", {}, [3]]");
    BOOST_TEST(c.caller->last()[0].GetInt() == 50);
    BOOST_TEST(router().find_realm("realm1")->dealer().pending_invocation_count() == 0u);
}

BOOST_AUTO_TEST_CASE(a_result_before_the_timeout_cancels_its_timer) {
    auto c = start_call(*this, true);
    c.caller->send(R"([48, 8, {"timeout": 500}, "com.p", [1]])");
    auto id = std::to_string(c.callee->last()[1].GetUint64());
    BOOST_TEST(timers.scheduled() == 1u);
    c.callee->send("[70, " + id + ", {}, [2]]");
    BOOST_TEST(c.caller->last()[0].GetInt() == 50);
    BOOST_TEST(timers.scheduled() == 0u);
    auto seen = c.caller->transport.sent.size();
    timers.advance(std::chrono::milliseconds(1000));
    BOOST_TEST(c.caller->transport.sent.size() == seen);
}

BOOST_AUTO_TEST_CASE(outbound_verdicts_are_asked_once_per_kind_of_receiver_and_skips_logged_once) {
    std::vector<std::unique_ptr<Client>> subscribers;
    for (auto serializer : {wamp::Serializer::json, wamp::Serializer::json, wamp::Serializer::json,
                            wamp::Serializer::cbor, wamp::Serializer::cbor, wamp::Serializer::cbor}) {
        subscribers.push_back(join_as(serializer));
        subscribers.back()->send(R"([32, 1, {}, "com.t"])");
    }
    auto pub = join();
    LogCapture log;
    pub->send(R"([16, 2, {"acknowledge": true}, "com.t", [1]])");
    BOOST_TEST(hook->outbound_calls == 2);  // JSON receivers and CBOR receivers, not six
    for (std::size_t i = 0; i < 3; ++i) BOOST_TEST(subscribers[i]->last()[0].GetInt() == 36);
    for (std::size_t i = 3; i < 6; ++i) BOOST_TEST(subscribers[i]->last()[0].GetInt() == 33);
    BOOST_TEST(pub->last_error_uri() == "test.error.refused");
    BOOST_TEST(log.count("skipped 3 receivers") == 1u);
    BOOST_TEST(log.count("skipped") == 1u);
}

BOOST_AUTO_TEST_CASE(an_event_a_receiver_cannot_be_sent_is_skipped_and_the_publisher_told) {
    auto json_sub = join_as(wamp::Serializer::json);
    auto msgpack_sub = join_as(wamp::Serializer::msgpack);
    json_sub->send(R"([32, 1, {}, "com.t"])");
    msgpack_sub->send(R"([32, 1, {}, "com.t"])");
    auto before = json_sub->transport.sent.size();
    auto pub = join_as(wamp::Serializer::msgpack);
    pub->send_frame(wamp::Serializer::msgpack, msgpack_publish_nan);
    BOOST_TEST(json_sub->transport.sent.size() == before);  // NaN has no JSON form
    BOOST_TEST(msgpack_sub->last()[0].GetInt() == 36);
    BOOST_TEST(pub->last_error_uri() == "wamp.error.invalid_argument");
}

BOOST_AUTO_TEST_CASE(a_result_its_caller_cannot_be_sent_ends_the_call_for_both) {
    auto callee = join_as(wamp::Serializer::msgpack);
    auto caller = join_as(wamp::Serializer::json);
    callee->send(R"([64, 1, {}, "com.p"])");
    caller->send(R"([48, 2, {}, "com.p"])");
    auto invocation = callee->last()[1].GetUint64();
    callee->send_frame(wamp::Serializer::msgpack, msgpack_yield_nan(invocation));
    BOOST_TEST(caller->last_error_uri() == "wamp.error.invalid_argument");
    BOOST_TEST(callee->last_error_uri() == "wamp.error.invalid_argument");
    BOOST_TEST(callee->last()[1].GetInt() == 70);  // the refusal answers its YIELD
    BOOST_TEST(router().find_realm("realm1")->dealer().pending_invocation_count() == 0u);
}

BOOST_AUTO_TEST_CASE(a_late_yield_after_a_refused_progressive_result_is_dropped_not_aborted) {
    auto callee = join_as(wamp::Serializer::json);
    auto caller = join_as(wamp::Serializer::cbor);  // the hook refuses CBOR receivers
    callee->send(R"([64, 1, {}, "com.p"])");
    hook->refused = wamp::Serializer::msgpack;  // let the call through
    caller->send(R"([48, 2, {"receive_progress": true}, "com.p", [1]])");
    auto invocation = std::to_string(callee->last()[1].GetUint64());
    hook->refused = wamp::Serializer::cbor;
    callee->send("[70, " + invocation + R"(, {"progress": true}, [1]])");
    BOOST_TEST(caller->last_error_uri() == "test.error.refused");
    LogCapture log;
    callee->send("[70, " + invocation + R"(, {"progress": true}, [2]])");
    callee->send("[70, " + invocation + R"(, {"progress": true}, [3]])");
    BOOST_TEST(!callee->transport.closed.has_value());
    // A callee can repeat this at will: the second line waits for the rate limit's interval.
    BOOST_TEST(log.count("whose call already ended") == 1u);
    timers.advance(std::chrono::seconds(10));
    callee->send("[70, " + invocation + R"(, {}, [4]])");
    BOOST_TEST(log.count("whose call already ended") == 2u);
    BOOST_TEST(log.count("whose call already ended (1 more like this suppressed)") == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {
// Notes a number on each inbound message, and records what its other calls were told.
struct NotingHook : RefuseSerializer {
    NotingHook() : RefuseSerializer(wamp::Serializer::cbor) {}
    hooks::Verdict inbound(const hooks::InboundContext& context, const wamp::Carrier&) override {
        if (context.note) *context.note = ++noted;
        return {};
    }
    hooks::Verdict outbound(const hooks::OutboundContext& context) override {
        outbound_notes.push_back(context.note);
        return {};
    }
    void forward_details(const wamp::Carrier&, hooks::MessageNote note, wamp::Dict& details) const override {
        details.emplace_back("noted", wamp::Value{static_cast<std::uint64_t>(note)});
    }
    hooks::MessageNote noted = 0;
    std::vector<hooks::MessageNote> outbound_notes;
};
struct NotesFixture : RouterHarness {
    NotingHook* hook = nullptr;
    NotesFixture() : RouterHarness(open_realm_config) {
        hooks.add(std::make_unique<RefuseSerializer>(wamp::Serializer::cbor));  // the note is per hook
        auto h = std::make_unique<NotingHook>();
        hook = h.get();
        hooks.add(std::move(h));
    }
};
}  // namespace

BOOST_FIXTURE_TEST_SUITE(realm_hook_notes, NotesFixture)

BOOST_AUTO_TEST_CASE(a_hooks_note_on_a_message_reaches_what_is_built_from_it) {
    auto sub = join();
    auto pub = join();
    auto callee = join();
    sub->send(R"([32, 1, {}, "com.t"])");
    callee->send(R"([64, 2, {}, "com.p"])");
    std::vector<hooks::MessageNote> expected;
    for (int request = 3; request < 5; ++request) {
        pub->send("[16, " + std::to_string(request) + R"(, {}, "com.t", ["a"]])");
        expected.push_back(hook->noted);
        BOOST_TEST(sub->last()[3]["noted"].GetUint() == hook->noted);
    }
    pub->send(R"([48, 5, {}, "com.p", [1]])");
    expected.push_back(hook->noted);
    auto invocation = callee->last();
    BOOST_TEST(invocation[3]["noted"].GetUint() == hook->noted);
    callee->send("[70, " + std::to_string(invocation[1].GetUint64()) + R"(, {}, [2]])");
    expected.push_back(hook->noted);
    BOOST_TEST(pub->last()[0].GetInt() == 50);
    BOOST_TEST(pub->last()[2]["noted"].GetUint() == hook->noted);
    BOOST_TEST(hook->outbound_notes == expected, boost::test_tools::per_element());
    // Each message had its own note.
    BOOST_TEST(expected[0] != expected[1]);
    BOOST_TEST(expected[2] != expected[3]);
}

BOOST_AUTO_TEST_CASE(a_retained_event_meets_the_hooks_without_a_note) {
    auto pub = join();
    pub->send(R"([16, 1, {"retain": true}, "com.t", ["a"]])");
    auto sub = join();
    sub->send(R"([32, 2, {"get_retained": true}, "com.t"])");
    BOOST_TEST(sub->last()[0].GetInt() == 36);
    BOOST_TEST(sub->last()[3]["noted"].GetUint() == 0u);
    BOOST_TEST(hook->outbound_notes.back() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
