#include <boost/test/unit_test.hpp>

#include "blindrouter/codec/decode_result.hpp"
#include "blindrouter/core/dealer.hpp"
#include "core/fake_session.hpp"

using namespace blindrouter;
using namespace blindrouter::testing;
using wamp::MatchPolicy;

namespace {
struct DealerFixture {
    core::IdGenerator ids{7};
    hooks::HookChain no_hooks;
    core::Dealer dealer{ids, no_hooks};
    core::SharedPeer callee = make_peer(1, "callee", "backend");
    core::SharedPeer caller = make_peer(2, "caller", "frontend");

    wamp::Dict realm_options;

    std::uint64_t register_procedure(const std::string& uri, MatchPolicy match = MatchPolicy::exact) {
        auto r = dealer.register_procedure(callee, wamp::Register(parse("[64, 1, {}, \"" + uri + "\"]")), match);
        auto d = dom(json_of(r.deliveries.at(0).message));
        BOOST_REQUIRE_EQUAL(d[0].GetInt(), 65);
        return d[2].GetUint64();
    }
    // CALL, YIELD and ERROR through a gate over `hooks`.
    core::RouteResult call(const std::string& json, const hooks::HookChain& hooks) {
        auto m = parse(json);
        core::OutboundGate gate(hooks, *caller, m, realm_options);
        return dealer.call(caller, wamp::Call(m), false, gate);
    }
    core::RouteResult call(const std::string& json) { return call(json, no_hooks); }
    core::RouteResult yield(const core::SharedPeer& who, const std::string& json) {
        auto m = parse(json);
        core::OutboundGate gate(no_hooks, *who, m, realm_options);
        return dealer.yield(*who, wamp::Yield(m), gate);
    }
    core::RouteResult error(const core::SharedPeer& who, const std::string& json) {
        auto m = parse(json);
        core::OutboundGate gate(no_hooks, *who, m, realm_options);
        return dealer.invocation_error(*who, wamp::Error(m), gate);
    }
    // Calls and returns the INVOCATION's request id.
    std::uint64_t invoke(const std::string& call_json) {
        auto r = call(call_json);
        BOOST_REQUIRE_EQUAL(r.deliveries.size(), 1u);
        BOOST_REQUIRE_EQUAL(r.deliveries[0].to, callee->session_id);
        return dom(json_of(r.deliveries[0].message))[1].GetUint64();
    }
};
}  // namespace

BOOST_FIXTURE_TEST_SUITE(dealer, DealerFixture)

BOOST_AUTO_TEST_CASE(call_invocation_yield_result_keep_argument_bytes) {
    auto registration = register_procedure("com.add");
    auto r = call(R"([48, 10, {}, "com.add", [2, 3], {"x": "y"}])");
    auto invocation = json_of(r.deliveries.at(0).message);
    auto inv = dom(invocation);
    BOOST_TEST(inv[0].GetInt() == 68);
    BOOST_TEST(inv[2].GetUint64() == registration);
    BOOST_TEST(invocation.find(R"(,[2, 3],{"x": "y"}])") != std::string::npos, invocation);
    auto request = inv[1].GetUint64();
    r = yield(callee, "[70, " + std::to_string(request) + R"(, {}, [5], {"ok": true}])");
    BOOST_REQUIRE_EQUAL(r.deliveries.size(), 1u);
    BOOST_TEST(r.deliveries[0].to == caller->session_id);
    BOOST_TEST(json_of(r.deliveries[0].message) == R"([50,10,{},[5],{"ok": true}])");
    BOOST_TEST(dealer.pending_invocation_count() == 0u);
}

BOOST_AUTO_TEST_CASE(second_registration_of_a_uri_is_refused) {
    register_procedure("com.add");
    auto r = dealer.register_procedure(make_peer(3), wamp::Register(parse(R"([64, 2, {}, "com.add"])")), MatchPolicy::exact);
    auto error = dom(json_of(r.deliveries.at(0).message));
    BOOST_TEST(error[0].GetInt() == 8);
    BOOST_TEST(error[1].GetInt() == 64);
    BOOST_TEST(error[4].GetString() == std::string("wamp.error.procedure_already_exists"));
}

BOOST_AUTO_TEST_CASE(call_to_unknown_procedure) {
    auto r = call(R"([48, 10, {}, "com.none"])");
    auto error = dom(json_of(r.deliveries.at(0).message));
    BOOST_TEST(error[1].GetInt() == 48);
    BOOST_TEST(error[2].GetInt() == 10);
    BOOST_TEST(error[4].GetString() == std::string("wamp.error.no_such_procedure"));
}

BOOST_AUTO_TEST_CASE(callee_leaving_mid_call_cancels_the_call) {
    register_procedure("com.slow");
    invoke(R"([48, 10, {}, "com.slow"])");
    auto r = dealer.detach(callee->session_id);
    BOOST_REQUIRE_EQUAL(r.deliveries.size(), 1u);
    BOOST_TEST(r.deliveries[0].to == caller->session_id);
    auto error = dom(json_of(r.deliveries[0].message));
    BOOST_TEST(error[2].GetInt() == 10);
    BOOST_TEST(error[4].GetString() == std::string("wamp.error.canceled"));
    BOOST_TEST(dealer.registration_count() == 0u);
}

BOOST_AUTO_TEST_CASE(result_for_a_caller_that_left_is_dropped) {
    register_procedure("com.slow");
    auto request = invoke(R"([48, 10, {}, "com.slow"])");
    BOOST_TEST(dealer.detach(caller->session_id).deliveries.empty());
    auto r = yield(callee, "[70, " + std::to_string(request) + ", {}]");
    BOOST_TEST(r.deliveries.empty());
    BOOST_TEST(!r.protocol_violation);
    BOOST_TEST(dealer.pending_invocation_count() == 0u);
}

BOOST_AUTO_TEST_CASE(invocation_error_travels_back_with_arguments) {
    register_procedure("com.fail");
    auto request = invoke(R"([48, 10, {}, "com.fail"])");
    auto r = error(callee, "[8, 68, " + std::to_string(request) + R"(, {}, "com.app.oops", ["a", 1], {"b": [2]}])");
    BOOST_REQUIRE_EQUAL(r.deliveries.size(), 1u);
    BOOST_TEST(json_of(r.deliveries[0].message) == R"([8,48,10,{},"com.app.oops",["a", 1],{"b": [2]}])");
}

BOOST_AUTO_TEST_CASE(yield_for_unknown_invocation_is_a_protocol_violation) {
    auto r = yield(callee, "[70, 12345, {}]");
    BOOST_TEST(r.protocol_violation.has_value());
    register_procedure("com.p");
    auto request = invoke(R"([48, 10, {}, "com.p"])");
    // Another session may not answer someone else's invocation.
    BOOST_TEST(yield(caller, "[70, " + std::to_string(request) + ", {}]").protocol_violation.has_value());
    BOOST_TEST(error(callee, R"([8, 68, 999, {}, "x.y"])").protocol_violation.has_value());
}

BOOST_AUTO_TEST_CASE(progressive_results_keep_the_call_open) {
    register_procedure("com.stream");
    auto request = std::to_string(invoke(R"([48, 10, {"receive_progress": true}, "com.stream"])"));
    auto r = yield(callee, "[70, " + request + R"(, {"progress": true}, [1]])");
    BOOST_TEST(json_of(r.deliveries.at(0).message) == R"([50,10,{"progress":true},[1]])");
    BOOST_TEST(dealer.pending_invocation_count() == 1u);
    r = yield(callee, "[70, " + request + ", {}, [2]]");
    BOOST_TEST(json_of(r.deliveries.at(0).message) == R"([50,10,{},[2]])");
    BOOST_TEST(dealer.pending_invocation_count() == 0u);
}

BOOST_AUTO_TEST_CASE(pattern_registrations_and_caller_disclosure) {
    register_procedure("com.", MatchPolicy::prefix);
    register_procedure("com.exact");
    auto r = call(R"([48, 10, {"disclose_me": true}, "com.other"])");
    auto inv = dom(json_of(r.deliveries.at(0).message));
    BOOST_TEST(inv[3]["procedure"].GetString() == std::string("com.other"));
    BOOST_TEST(inv[3]["caller"].GetUint64() == 2u);
    BOOST_TEST(inv[3]["caller_authid"].GetString() == std::string("caller"));
    r = call(R"([48, 11, {}, "com.exact"])");
    auto exact = dom(json_of(r.deliveries.at(0).message));
    BOOST_TEST(!exact[3].HasMember("procedure"));
    BOOST_TEST(!exact[3].HasMember("caller"));
}

BOOST_AUTO_TEST_CASE(unregister) {
    auto id = register_procedure("com.p");
    auto r = dealer.unregister(*caller, wamp::Unregister(parse("[66, 3, " + std::to_string(id) + "]")));
    BOOST_TEST(dom(json_of(r.deliveries.at(0).message))[4].GetString() == std::string("wamp.error.no_such_registration"));
    r = dealer.unregister(*callee, wamp::Unregister(parse("[66, 4, " + std::to_string(id) + "]")));
    BOOST_TEST(json_of(r.deliveries.at(0).message) == "[67,4]");
    BOOST_TEST(dealer.registration_count() == 0u);
}

BOOST_AUTO_TEST_CASE(shared_registrations_follow_their_invoke_policy) {
    auto callees = std::vector<core::SharedPeer>{make_peer(11), make_peer(12), make_peer(13)};
    auto share = [&](const std::string& uri, const std::string& policy, core::InvokePolicy p) {
        std::uint64_t id = 0;
        for (const auto& c : callees) {
            auto r = dealer.register_procedure(c, wamp::Register(parse(R"([64, 1, {"invoke": ")" + policy + R"("}, ")" + uri + R"("])")),
                                               MatchPolicy::exact, p);
            auto d = dom(json_of(r.deliveries.at(0).message));
            BOOST_REQUIRE_EQUAL(d[0].GetInt(), 65);
            if (id) BOOST_TEST(d[2].GetUint64() == id);  // one registration, shared
            id = d[2].GetUint64();
        }
    };
    int request = 0;  // calls stay pending: each has its own request id
    auto callee_of = [&](const std::string& uri) {
        auto r = call("[48, " + std::to_string(++request) + R"(, {}, ")" + uri + R"("])");
        return r.deliveries.at(0).to;
    };
    share("com.rr", "roundrobin", core::InvokePolicy::roundrobin);
    BOOST_TEST((std::vector<core::SessionId>{callee_of("com.rr"), callee_of("com.rr"), callee_of("com.rr"),
                                             callee_of("com.rr")} == std::vector<core::SessionId>{11, 12, 13, 11}));
    share("com.first", "first", core::InvokePolicy::first);
    share("com.last", "last", core::InvokePolicy::last);
    BOOST_TEST(callee_of("com.first") == 11u);
    BOOST_TEST(callee_of("com.last") == 13u);
    share("com.random", "random", core::InvokePolicy::random);
    for (int i = 0; i < 20; ++i) {
        auto to = callee_of("com.random");
        BOOST_TEST((to >= 11u && to <= 13u));
    }
}

BOOST_AUTO_TEST_CASE(the_gate_steers_a_shared_registration_and_refuses_when_no_callee_may_take_the_call) {
    for (auto [id, serializer] : {std::pair{31, wamp::Serializer::json}, std::pair{32, wamp::Serializer::msgpack},
                                  std::pair{33, wamp::Serializer::json}})
        dealer.register_procedure(make_peer(id, "c", "backend", serializer),
                                  wamp::Register(parse(R"([64, 1, {"invoke": "first"}, "com.first"])")),
                                  MatchPolicy::exact, core::InvokePolicy::first);
    hooks::HookChain refuse_json;
    refuse_json.add(std::make_unique<RefuseSerializer>(wamp::Serializer::json));
    auto r = call(R"([48, 6, {}, "com.first", [1]])", refuse_json);
    BOOST_TEST(r.deliveries.at(0).to == 32u);
    BOOST_TEST(dealer.pending_invocation_count() == 1u);

    hooks::HookChain refuse_msgpack;
    refuse_msgpack.add(std::make_unique<RefuseSerializer>(wamp::Serializer::msgpack));
    BOOST_TEST(call(R"([48, 7, {}, "com.first", [1]])", refuse_msgpack).deliveries.at(0).to == 31u);

    // No callee may take it: the caller gets the refusal and nothing waits.
    dealer.detach(31);
    dealer.detach(33);
    r = call(R"([48, 8, {}, "com.first", [1]])", refuse_msgpack);
    BOOST_REQUIRE_EQUAL(r.deliveries.size(), 1u);
    BOOST_TEST(r.deliveries[0].to == caller->session_id);
    BOOST_TEST(json_of(r.deliveries[0].message) == R"([8,48,8,{},"test.error.refused",["refused by test hook"]])");
    BOOST_TEST(dealer.pending_invocation_count() == 1u);  // only the first call's
}

BOOST_AUTO_TEST_CASE(a_call_its_callee_cannot_be_sent_is_refused_before_anything_is_recorded) {
    // A MsgPack caller's NaN has no JSON form; the JSON callee could never get it.
    register_procedure("com.nan");
    auto msgpack_caller = make_peer(5, "m", "frontend", wamp::Serializer::msgpack);
    // [48, 9, {}, "com.nan", [NaN]]
    auto frame = std::make_shared<const std::string>(
        std::string("\x95\x30\x09\x80\xa7" "com.nan" "\x91\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00", 22));
    auto decoded = codec::decode(wamp::Serializer::msgpack, frame);
    BOOST_REQUIRE_MESSAGE(decoded, decoded.error());
    core::OutboundGate gate(no_hooks, *msgpack_caller, decoded.message(), realm_options);
    auto r = dealer.call(msgpack_caller, wamp::Call(decoded.message()), false, gate);
    BOOST_REQUIRE_EQUAL(r.deliveries.size(), 1u);
    BOOST_TEST(r.deliveries[0].to == 5u);
    BOOST_TEST(dom(json_of(r.deliveries[0].message))[4].GetString() == std::string("wamp.error.invalid_argument"));
    BOOST_TEST(dealer.pending_invocation_count() == 0u);
}

BOOST_AUTO_TEST_CASE(a_late_yield_for_an_invocation_the_router_ended_is_dropped_not_a_violation) {
    register_procedure("com.stream");
    auto request = invoke(R"([48, 10, {"receive_progress": true}, "com.stream"])");
    // The router ends the invocation (e.g. it refused a progressive result).
    BOOST_TEST(dealer.abandon(request, callee->session_id).has_value());
    auto late = yield(callee, "[70, " + std::to_string(request) + R"(, {"progress": true}, [2]])");
    BOOST_TEST(!late.protocol_violation.has_value());
    BOOST_TEST(late.dropped.has_value());
    BOOST_TEST(late.deliveries.empty());
    // An id the router never issued is still a violation.
    BOOST_TEST(yield(callee, "[70, 4242, {}]").protocol_violation.has_value());
}

BOOST_AUTO_TEST_CASE(registration_ids_are_drawn_again_on_a_collision) {
    core::IdGenerator repeating(std::vector<std::uint64_t>{5, 5, 5, 6});
    core::Dealer fresh(repeating, no_hooks);
    auto first = fresh.register_procedure(callee, wamp::Register(parse(R"([64, 1, {}, "com.a"])")), MatchPolicy::exact);
    auto second = fresh.register_procedure(callee, wamp::Register(parse(R"([64, 2, {}, "com.b"])")), MatchPolicy::exact);
    BOOST_TEST(json_of(first.deliveries.at(0).message) == "[65,1,5]");
    BOOST_TEST(json_of(second.deliveries.at(0).message) == "[65,2,6]");
}

BOOST_AUTO_TEST_CASE(shared_registration_rules) {
    auto a = make_peer(21), b = make_peer(22);
    auto reg = [&](const core::SharedPeer& who, core::InvokePolicy p) {
        return dom(json_of(dealer.register_procedure(who, wamp::Register(parse(R"([64, 1, {}, "com.s"])")), MatchPolicy::exact, p)
                               .deliveries.at(0).message));
    };
    BOOST_TEST(reg(a, core::InvokePolicy::roundrobin)[0].GetInt() == 65);
    BOOST_TEST(reg(b, core::InvokePolicy::random)[4].GetString() == std::string("wamp.error.procedure_already_exists"));
    BOOST_TEST(reg(a, core::InvokePolicy::roundrobin)[4].GetString() == std::string("wamp.error.procedure_already_exists"));
    auto id = reg(b, core::InvokePolicy::roundrobin)[2].GetUint64();
    // One callee leaving keeps the registration for the other.
    dealer.detach(21);
    BOOST_TEST(dealer.registration_count() == 1u);
    BOOST_TEST(call(R"([48, 8, {}, "com.s"])").deliveries.at(0).to == 22u);
    auto r = dealer.unregister(*b, wamp::Unregister(parse("[66, 9, " + std::to_string(id) + "]")));
    BOOST_TEST(json_of(r.deliveries.at(0).message) == "[67,9]");
    BOOST_TEST(dealer.registration_count() == 0u);
    BOOST_TEST(!core::invoke_policy_from_name("fastest").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
