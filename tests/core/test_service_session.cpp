// The router's own session: calling components, serving procedures, publishing,
// its bounds, and the first meta procedure it serves (wamp.session.count).
#include "blindrouter/core/service_session.hpp"

#include <boost/test/unit_test.hpp>

#include "blindrouter/core/meta_api.hpp"
#include "blindrouter/wamp/error_uri.hpp"
#include "core/fake_session.hpp"

using namespace blindrouter;
using namespace blindrouter::testing;
using core::CallOutcome;
using wamp::Value;

namespace {
const std::string node_json = R"({"version": 2,
  "workers": [{"type": "router",
    "realms": [{"name": "realm1", "roles": [
      {"name": "anonymous", "permissions": [
        {"uri": "com.", "match": "prefix", "allow": {"call": true, "register": true, "publish": true, "subscribe": true}},
        {"uri": "wamp.", "match": "prefix", "allow": {"call": true, "register": true, "publish": true, "subscribe": true}}]},
      {"name": "viewer", "permissions": [
        {"uri": "com.", "match": "prefix", "allow": {"subscribe": true}}]}]}],
    "transports": [{"type": "websocket", "endpoint": {"type": "tcp", "port": 9000}}]}]})";

struct ServiceFixture : RouterHarness {
    ServiceFixture() : RouterHarness(node_json) {}
    core::Realm& realm() { return *router().find_realm("realm1"); }
    // The service session a dynamic authenticator of role "anonymous" would be called through.
    core::ServiceSession& caller() { return *router().service_session("realm1", "anonymous"); }
    core::ServiceSession& trusted() { return *router().service_session("realm1", "trusted"); }
    // A component that registered `procedure`.
    std::unique_ptr<Client> component(const std::string& procedure) {
        auto c = join();
        c->send(R"([64, 1, {}, ")" + procedure + R"("])");
        BOOST_REQUIRE_EQUAL(c->last()[0].GetInt(), 65);
        return c;
    }
};

// What a call ended with, once it did.
struct Outcome {
    std::optional<CallOutcome> outcome;
    core::ServiceSession::CallDone done() {
        return [this](CallOutcome o) { outcome.emplace(std::move(o)); };
    }
    const core::CallError& error() {
        BOOST_REQUIRE(outcome);
        BOOST_REQUIRE(!outcome->ok());
        return outcome->error();
    }
};

// The request id of the last INVOCATION `c` received.
std::uint64_t last_invocation(Client& c) {
    auto m = c.last();
    BOOST_REQUIRE_MESSAGE(m[0].GetInt() == 68, "not an INVOCATION: " + c.transport.sent.back());
    return m[1].GetUint64();
}
}  // namespace

BOOST_FIXTURE_TEST_SUITE(service_session, ServiceFixture)

BOOST_AUTO_TEST_CASE(calls_a_component_and_reads_its_result) {
    auto auth = component("com.auth");
    Outcome got;
    auto request = caller().call("com.auth", {Value{"realm1"}, Value{"joe"}}, {{"authmethod", Value{"ticket"}}},
                                 got.done());
    BOOST_TEST(request != 0u);
    BOOST_TEST(!got.outcome);
    // The router's arguments reach the component as it wrote them.
    auto invocation = auth->last();
    BOOST_REQUIRE_EQUAL(invocation[0].GetInt(), 68);
    BOOST_TEST(invocation[4][0].GetString() == std::string("realm1"));
    BOOST_TEST(invocation[4][1].GetString() == std::string("joe"));
    BOOST_TEST(invocation[5]["authmethod"].GetString() == std::string("ticket"));
    BOOST_TEST(caller().pending_calls() == 1u);

    auth->send(R"([70, )" + std::to_string(last_invocation(*auth)) +
               R"(, {}, [{"role": "user", "extra": [1, 2.5, null]}], {"cache": true}])");
    BOOST_REQUIRE(got.outcome);
    BOOST_REQUIRE(got.outcome->ok());
    const auto& result = got.outcome->result();
    BOOST_REQUIRE_EQUAL(result.args.size(), 1u);
    const auto* principal = result.args[0].as_dict();
    BOOST_REQUIRE(principal);
    BOOST_TEST(*wamp::find(*principal, "role")->as_string() == "user");
    BOOST_TEST((*wamp::find(*principal, "extra") == Value{wamp::List{Value{std::uint64_t{1}}, Value{2.5}, Value{}}}));
    BOOST_TEST((result.kwargs == wamp::Dict{{"cache", Value{true}}}));
    BOOST_TEST(caller().pending_calls() == 0u);
}

BOOST_AUTO_TEST_CASE(reads_a_result_from_a_msgpack_component) {
    auto auth = join(hello_all_roles, wamp::Serializer::msgpack);
    auth->send(R"([64, 1, {}, "com.auth"])");
    Outcome got;
    caller().call("com.auth", {}, {}, got.done());
    BOOST_REQUIRE(!auth->transport.sent.empty());
    auto request = last_invocation(*auth);
    // [70, request, {}, ["user"]] in MsgPack.
    std::string frame("\x94\x46\xcf", 3);
    for (int shift = 56; shift >= 0; shift -= 8) frame.push_back(static_cast<char>(request >> shift & 0xff));
    auth->send_frame(wamp::Serializer::msgpack, frame + std::string("\x80\x91\xa4user", 7));
    BOOST_REQUIRE(got.outcome && got.outcome->ok());
    BOOST_TEST((got.outcome->result().args == wamp::List{Value{"user"}}));
}

BOOST_AUTO_TEST_CASE(an_error_from_the_component_is_the_outcome) {
    auto auth = component("com.auth");
    Outcome got;
    caller().call("com.auth", {Value{"realm1"}}, {}, got.done());
    auth->send(R"([8, 68, )" + std::to_string(last_invocation(*auth)) +
               R"(, {}, "com.example.no_such_user", ["no such user"], {"authid": "joe"}])");
    const auto& error = got.error();
    BOOST_TEST(error.uri == "com.example.no_such_user");
    BOOST_TEST((error.args == wamp::List{Value{"no such user"}}));
    BOOST_TEST((error.kwargs == wamp::Dict{{"authid", Value{"joe"}}}));
    BOOST_TEST(caller().pending_calls() == 0u);
}

BOOST_AUTO_TEST_CASE(the_routers_own_refusal_is_the_outcome) {
    Outcome got;
    caller().call("com.nobody", {}, {}, got.done());
    BOOST_TEST(got.error().uri == wamp::error_uri::no_such_procedure);
    BOOST_TEST(caller().pending_calls() == 0u);
    Outcome denied;
    router().service_session("realm1", "viewer")->call("com.auth", {}, {}, denied.done());
    BOOST_TEST(denied.error().uri == wamp::error_uri::not_authorized);
}

BOOST_AUTO_TEST_CASE(a_callee_that_leaves_cancels_the_call) {
    auto auth = component("com.auth");
    Outcome got;
    caller().call("com.auth", {}, {}, got.done());
    auth->session->transport_closed();
    BOOST_TEST(got.error().uri == wamp::error_uri::canceled);
    BOOST_TEST(caller().pending_calls() == 0u);
}

BOOST_AUTO_TEST_CASE(pending_calls_are_bounded) {
    auto auth = component("com.auth");
    core::ServiceSession::Limits limits;
    limits.max_pending_calls = 2;
    core::ServiceSession bounded(router(), realm(), 4242, "test", "anonymous", limits);
    Outcome first, second, third;
    bounded.call("com.auth", {}, {}, first.done());
    bounded.call("com.auth", {}, {}, second.done());
    auto sent = auth->transport.sent.size();
    BOOST_TEST(bounded.call("com.auth", {}, {}, third.done()) == 0u);
    BOOST_TEST(third.error().uri == wamp::error_uri::limit_reached);
    BOOST_TEST(auth->transport.sent.size() == sent);  // never sent
    BOOST_TEST(!first.outcome);
    BOOST_TEST(bounded.pending_calls() == 2u);
    // An answer frees a slot.
    auth->send(R"([70, )" + std::to_string(last_invocation(*auth)) + R"(, {}])");
    BOOST_TEST(bounded.pending_calls() == 1u);
    Outcome fourth;
    BOOST_TEST(bounded.call("com.auth", {}, {}, fourth.done()) != 0u);
}

BOOST_AUTO_TEST_CASE(an_abandoned_call_frees_its_slot_and_drops_its_outcome) {
    auto auth = component("com.auth");
    Outcome got;
    auto request = caller().call("com.auth", {}, {}, got.done());
    caller().abandon(request);
    BOOST_TEST(caller().pending_calls() == 0u);
    auth->send(R"([70, )" + std::to_string(last_invocation(*auth)) + R"(, {}, ["late"]])");
    BOOST_TEST(!got.outcome);
}

BOOST_AUTO_TEST_CASE(a_result_beyond_the_limits_is_refused_unread) {
    auto auth = component("com.auth");
    core::ServiceSession::Limits limits;
    limits.arguments.max_bytes = 16;
    core::ServiceSession bounded(router(), realm(), 4242, "test", "anonymous", limits);
    Outcome got;
    bounded.call("com.auth", {}, {}, got.done());
    auth->send(R"([70, )" + std::to_string(last_invocation(*auth)) + R"(, {}, ["a string longer than sixteen bytes"]])");
    BOOST_TEST(got.error().uri == wamp::error_uri::invalid_argument);
    BOOST_TEST(*got.error().args.at(0).as_string() == "the arguments cannot be read: larger than 16 bytes");
}

BOOST_AUTO_TEST_CASE(serves_a_reserved_procedure_with_the_callers_identity) {
    std::optional<core::InvocationDetails> seen;
    trusted().register_procedure("wamp.test.echo", [&](const core::CallArguments& in, const core::InvocationDetails& d) {
        seen = d;
        return CallOutcome(in);
    });
    BOOST_TEST(trusted().registered("wamp.test.echo"));
    auto client = join();
    client->send(R"([48, 7, {}, "wamp.test.echo", [1, "two"], {"three": 3}])");
    auto result = client->last();
    BOOST_REQUIRE_MESSAGE(result[0].GetInt() == 50, client->transport.sent.back());
    BOOST_TEST(result[1].GetInt() == 7);
    BOOST_TEST(result[3][0].GetInt() == 1);
    BOOST_TEST(result[3][1].GetString() == std::string("two"));
    BOOST_TEST(result[4]["three"].GetInt() == 3);
    // Crossbar discloses the caller to wamp.* procedures whatever the permission says.
    BOOST_REQUIRE(seen);
    BOOST_TEST(seen->procedure == "wamp.test.echo");
    BOOST_TEST(seen->caller.value_or(0) == client->session->id());
    BOOST_TEST(*seen->caller_authrole == "anonymous");
    BOOST_TEST(*seen->caller_authid == client->session->peer()->authid);
}

BOOST_AUTO_TEST_CASE(a_handlers_error_reaches_the_caller) {
    trusted().register_procedure("wamp.test.fail", [](const core::CallArguments&, const core::InvocationDetails&) {
        return CallOutcome(core::CallError::with_message("wamp.error.no_such_session", "no session 5"));
    });
    auto client = join();
    client->send(R"([48, 8, {}, "wamp.test.fail"])");
    BOOST_TEST(client->last_error_uri() == "wamp.error.no_such_session");
    BOOST_TEST(client->last()[5][0].GetString() == std::string("no session 5"));
}

BOOST_AUTO_TEST_CASE(only_a_trusted_service_session_registers_reserved_procedures) {
    caller().register_procedure("wamp.test.other", [](const core::CallArguments& in, const core::InvocationDetails&) {
        return CallOutcome(in);
    });
    BOOST_TEST(!caller().registered("wamp.test.other"));
    caller().register_procedure("com.test.other", [](const core::CallArguments& in, const core::InvocationDetails&) {
        return CallOutcome(in);
    });
    BOOST_TEST(caller().registered("com.test.other"));
}

BOOST_AUTO_TEST_CASE(a_publication_reaches_subscribers) {
    auto subscriber = join();
    subscriber->send(R"([32, 1, {}, "com.news"])");
    trusted().publish("com.news", {Value{"hello"}}, {{"n", Value{1}}});
    auto event = subscriber->last();
    BOOST_REQUIRE_EQUAL(event[0].GetInt(), 36);
    BOOST_TEST(event[4][0].GetString() == std::string("hello"));
    BOOST_TEST(event[5]["n"].GetInt() == 1);
    // Crossbar discloses trusted publishers.
    BOOST_TEST(event[3]["publisher"].GetUint64() == trusted().id());
}

BOOST_AUTO_TEST_CASE(the_trusted_session_may_publish_reserved_topics) {
    auto subscriber = join();
    subscriber->send(R"([32, 1, {}, "wamp.session.on_join"])");
    trusted().publish("wamp.session.on_join", {Value{wamp::Dict{{"session", Value{1}}}}}, {});
    BOOST_TEST(subscriber->last()[0].GetInt() == 36);
}

BOOST_AUTO_TEST_CASE(session_count_as_crossbar_counts) {
    auto a = join();
    auto b = join();
    // Service sessions are not counted, whatever their role (Crossbar's are no clients).
    caller();
    a->send(R"([48, 1, {}, "wamp.session.count"])");
    auto result = a->last();
    BOOST_REQUIRE_MESSAGE(result[0].GetInt() == 50, a->transport.sent.back());
    BOOST_TEST(result[3][0].GetInt() == 2);

    a->send(R"([48, 2, {}, "wamp.session.count", [["viewer", 5]]])");
    BOOST_TEST(a->last()[3][0].GetInt() == 0);
    a->send(R"([48, 3, {}, "wamp.session.count", [], {"filter_authroles": ["viewer", "anonymous"]}])");
    BOOST_TEST(a->last()[3][0].GetInt() == 2);
    a->send(R"([48, 4, {}, "wamp.session.count", [null]])");
    BOOST_TEST(a->last()[3][0].GetInt() == 2);
    b->session->transport_closed();
    a->send(R"([48, 5, {}, "wamp.session.count"])");
    BOOST_TEST(a->last()[3][0].GetInt() == 1);
}

BOOST_AUTO_TEST_CASE(session_count_refuses_what_crossbars_signature_refuses) {
    auto a = join();
    a->send(R"([48, 1, {}, "wamp.session.count", ["anonymous"]])");
    BOOST_TEST(a->last_error_uri() == wamp::error_uri::runtime_error);
    a->send(R"([48, 2, {}, "wamp.session.count", [[], []]])");
    BOOST_TEST(a->last_error_uri() == wamp::error_uri::runtime_error);
    a->send(R"([48, 3, {}, "wamp.session.count", [], {"authroles": []}])");
    BOOST_TEST(a->last_error_uri() == wamp::error_uri::runtime_error);
    a->send(R"([48, 4, {}, "wamp.session.count", [[]], {"filter_authroles": []}])");
    BOOST_TEST(a->last_error_uri() == wamp::error_uri::runtime_error);
}

BOOST_AUTO_TEST_CASE(session_count_is_authorized_like_any_procedure) {
    Outcome got;
    router().service_session("realm1", "viewer")->call("wamp.session.count", {}, {}, got.done());
    BOOST_TEST(got.error().uri == wamp::error_uri::not_authorized);
}

BOOST_AUTO_TEST_CASE(a_configured_trusted_role_replaces_the_built_in_one) {
    // As Crossbar's add_role replaces the built-in entry: this one may not register
    // wamp.*, so the meta API is not served.
    RouterHarness restricted(R"({"version": 2,
      "workers": [{"type": "router",
        "realms": [{"name": "realm1", "roles": [
          {"name": "anonymous", "permissions": [{"uri": "", "match": "prefix", "allow": {"call": true}}]},
          {"name": "trusted", "permissions": [{"uri": "com.", "match": "prefix", "allow": {"call": true}}]}]}],
        "transports": [{"type": "websocket", "endpoint": {"type": "tcp", "port": 9000}}]}]})");
    auto client = restricted.join();
    client->send(R"([48, 1, {}, "wamp.session.count"])");
    BOOST_TEST(client->last_error_uri() == wamp::error_uri::no_such_procedure);
    // WELCOME announces no meta API that is not served.
    auto welcome = dom(client->transport.sent.front());
    BOOST_TEST(!welcome[2]["roles"]["broker"]["features"].HasMember("session_meta_api"));
    BOOST_TEST(!welcome[2]["roles"]["dealer"]["features"].HasMember("registration_revocation"));
    // The built-in role serves it.
    auto served = join();
    served->send(R"([48, 1, {}, "wamp.session.count"])");
    BOOST_TEST(served->last()[0].GetInt() == 50);
}

BOOST_AUTO_TEST_SUITE_END()
