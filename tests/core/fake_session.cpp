#include "core/fake_session.hpp"

#include "blindrouter/codec/decode_result.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>

#include "blindrouter/codec/json_codec.hpp"

namespace blindrouter::testing {

wamp::Message parse(const std::string& json) {
    auto result = codec::decode_json(std::make_shared<const std::string>(json));
    BOOST_REQUIRE_MESSAGE(result, "does not decode: " + json + ": " + result.error());
    return std::move(result.message());
}

std::string json_of(const codec::SharedOutbound& message) {
    const auto& frame = message->encoded(wamp::Serializer::json);
    BOOST_REQUIRE_MESSAGE(frame, "message cannot be expressed in JSON");
    return frame.bytes();
}

rapidjson::Document dom(const std::string& json) {
    rapidjson::Document d;
    d.Parse(json.c_str(), json.size());
    BOOST_REQUIRE_MESSAGE(!d.HasParseError(), "not JSON: " + json);
    return d;
}

std::string one_realm_node(const std::string& realm_keys, const std::string& permissions) {
    std::string text(R"({"version": 2, "workers": [{"type": "router", "realms": [{"name": "realm1", )");
    text += realm_keys;
    text += R"( "roles": [{"name": "anonymous", "permissions": [)";
    text += permissions;
    text += R"(]}]}], "transports": [{"type": "websocket", "endpoint": {"type": "tcp", "port": 9000}}]}]})";
    return text;
}

core::SharedPeer make_peer(core::SessionId id, std::string authid, std::string authrole, wamp::Serializer serializer) {
    auto peer = std::make_shared<core::PeerInfo>();
    peer->session_id = id;
    peer->realm = "realm1";
    peer->authid = std::move(authid);
    peer->authrole = std::move(authrole);
    peer->authmethod = "anonymous";
    peer->serializer = serializer;
    // As a router without hooks would key it (only the serializer counts).
    hooks::HookChain none;
    peer->subscriber_key = none.receiver_key(*peer, "subscriber");
    peer->callee_key = none.receiver_key(*peer, "callee");
    peer->caller_key = none.receiver_key(*peer, "caller");
    return peer;
}

hooks::Verdict RefuseSerializer::outbound(const hooks::OutboundContext& context) {
    ++outbound_calls;
    if (context.receiver_serializer != refused) return hooks::Verdict::pass();
    return hooks::Verdict::error("test.error.refused", "refused by test hook");
}

void FakeTransport::send(const codec::SharedOutbound& message) {
    if (message->encoded(wamp::Serializer::json)) return sent.push_back(json_of(message));
    BOOST_REQUIRE(message->encoded(serializer_));
    sent.push_back("[" + std::to_string(static_cast<int>(message->message().type)) + "]");
}

void Client::send_frame(wamp::Serializer serializer, const std::string& frame) {
    auto decoded = codec::decode(serializer, std::make_shared<const std::string>(frame));
    BOOST_REQUIRE_MESSAGE(decoded, decoded.error());
    session->receive(decoded.message());
}

std::string Client::last_error_uri() {
    BOOST_REQUIRE(!transport.sent.empty());
    auto d = last();
    BOOST_REQUIRE_MESSAGE(d[0].GetInt() == 8, "not an ERROR: " + transport.sent.back());
    return d[4].GetString();
}

RouterHarness::RouterHarness(const std::string& config_json, const config::Extensions& extensions)
    : loaded(config::load_node_config(config_json, extensions)) {
    BOOST_REQUIRE_MESSAGE(loaded.ok(), (loaded.faults.empty() ? std::string() : loaded.faults[0]));
}

core::Router& RouterHarness::router() {
    if (!router_) router_ = std::make_unique<core::Router>(loaded.config, hooks, &timers);
    return *router_;
}

std::unique_ptr<Client> RouterHarness::connect(wamp::Serializer serializer) {
    auto c = std::make_unique<Client>();
    c->transport.serializer_ = serializer;
    c->session = router().open_session(c->transport, loaded.config.transports.at(0).websocket.at(0).auth);
    return c;
}

std::unique_ptr<Client> RouterHarness::join(const std::string& hello, wamp::Serializer serializer) {
    auto c = connect(serializer);
    c->send(hello);
    BOOST_REQUIRE_EQUAL(c->last()[0].GetInt(), 2);
    return c;
}

void expect_abort_with(Client& c, const std::string& reason, const std::string& message) {
    auto abort = c.last();
    BOOST_REQUIRE_EQUAL(abort[0].GetInt(), 3);
    BOOST_TEST(abort[2].GetString() == reason);
    BOOST_TEST(abort[1]["message"].GetString() == message);
    BOOST_TEST(c.transport.closed.has_value());
}

void expect_violation(Client& c, const std::string& reason_part) {
    auto abort = c.last();
    BOOST_REQUIRE_EQUAL(abort[0].GetInt(), 3);
    BOOST_TEST(abort[2].GetString() == std::string("wamp.error.protocol_violation"));
    std::string message = abort[1]["message"].GetString();
    BOOST_TEST(message.find(reason_part) != std::string::npos, message);
    BOOST_TEST((c.transport.closed == core::CloseReason::protocol_error));
}

}  // namespace blindrouter::testing
