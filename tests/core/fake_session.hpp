#pragma once
// Test doubles and helpers: messages written as JSON text, peers, and a transport
// that records what a session sends.
#include <rapidjson/document.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "blindrouter/codec/outbound_message.hpp"
#include "blindrouter/config/node_config_loader.hpp"
#include "blindrouter/core/manual_timers.hpp"
#include "blindrouter/core/peer.hpp"
#include "blindrouter/core/router.hpp"
#include "blindrouter/core/session.hpp"
#include "blindrouter/hooks/message_hook.hpp"
#include "blindrouter/wamp/message.hpp"

namespace blindrouter::testing {

// Decodes WAMP JSON text; the test fails if it does not decode.
wamp::Message parse(const std::string& json);
// The JSON bytes of an outbound message.
std::string json_of(const codec::SharedOutbound& message);
// A DOM of JSON text, to assert on fields.
rapidjson::Document dom(const std::string& json);

// A node config with realm "realm1" whose role "anonymous" has `permissions` (JSON
// list items); `realm_keys` ("" or `"key": value,` items) go into the realm.
std::string one_realm_node(const std::string& realm_keys, const std::string& permissions);

core::SharedPeer make_peer(core::SessionId id, std::string authid = "authid", std::string authrole = "anonymous",
                           wamp::Serializer serializer = wamp::Serializer::json);

// A hook that refuses outbound messages to receivers on one serializer, and counts
// how often it was asked.
struct RefuseSerializer : hooks::MessageHook {
    explicit RefuseSerializer(wamp::Serializer refused) : refused(refused) {}
    std::string_view name() const override { return "refuse_serializer"; }
    hooks::Verdict inbound(const hooks::InboundContext&, const wamp::Carrier&) override { return {}; }
    hooks::Verdict outbound(const hooks::OutboundContext& context) override;
    std::string_view receiver_feature() const override { return ""; }
    void publication_refused(const wamp::Carrier&, std::size_t, std::size_t, hooks::Verdict&) const override {}
    void forward_details(const wamp::Carrier&, hooks::MessageNote, wamp::Dict&) const override {}
    void announce_features(wamp::Dict&, wamp::Dict&) const override {}
    hooks::ConfigKeys config_keys() const override { return {}; }
    std::vector<std::string> check_config(const hooks::ConfigView&) const override { return {}; }

    wamp::Serializer refused;
    int outbound_calls = 0;
};

// RefuseSerializer (CBOR receivers at first) whose inbound verdict the test sets.
class SettableHook : public RefuseSerializer {
public:
    SettableHook() : RefuseSerializer(wamp::Serializer::cbor) {}
    hooks::Verdict inbound(const hooks::InboundContext&, const wamp::Carrier&) override { return inbound_verdict; }
    hooks::Verdict inbound_verdict = hooks::Verdict::pass();
};

// realm1, where role anonymous may do everything under com.; one WebSocket transport.
inline const std::string open_realm_config = R"({"version": 2,
  "workers": [{"type": "router",
    "realms": [{"name": "realm1", "roles": [{"name": "anonymous", "permissions": [
        {"uri": "com.", "match": "prefix", "allow": {"call": true, "register": true, "publish": true, "subscribe": true}}]}]}],
    "transports": [{"type": "websocket", "endpoint": {"type": "tcp", "port": 9000}}]}]})";

class FakeTransport : public core::SessionTransport {
public:
    // Records JSON text; a message JSON cannot express (a MsgPack NaN sent to a MsgPack
    // receiver) is recorded as its type code alone, once its own serializer encoded it.
    void send(const codec::SharedOutbound& message) override;
    void close(core::CloseReason reason, std::string_view text) override {
        closed = reason;
        close_text = std::string(text);
    }
    wamp::Serializer serializer() const override { return serializer_; }
    const core::TlsChannel* tls_channel() const override { return tls.get(); }

    wamp::Serializer serializer_ = wamp::Serializer::json;
    std::shared_ptr<const core::TlsChannel> tls;  // a TLS connection's channel, when set
    std::vector<std::string> sent;
    std::optional<core::CloseReason> closed;
    std::string close_text;
};

// A client session on a fake transport; messages in and out are JSON text.
struct Client {
    FakeTransport transport;
    std::shared_ptr<core::Session> session;
    // A dropped client is a closed connection, as the network reports it: a session the
    // router still holds (a cookie's other connection) must not keep the dead transport.
    ~Client() {
        if (session) session->transport_closed();
    }
    void send(const std::string& json) { session->receive(parse(json)); }
    // A frame in another serializer, for values JSON cannot express (NaN, binary map keys).
    void send_frame(wamp::Serializer serializer, const std::string& frame);
    rapidjson::Document last() { return dom(transport.sent.back()); }
    std::string last_error_uri();
};

inline const std::string hello_all_roles =
    R"([1, "realm1", {"roles": {"publisher": {}, "subscriber": {}, "caller": {}, "callee": {}}}])";

// Time under the test's control: callbacks fire only when the test advances it.
using FakeTimers = core::ManualTimers;

// A router built from config text, with the given hooks; clients join it through fake transports.
struct RouterHarness {
    RouterHarness(const std::string& config_json, const config::Extensions& extensions = {});
    std::unique_ptr<Client> connect(wamp::Serializer serializer = wamp::Serializer::json);
    std::unique_ptr<Client> join(const std::string& hello = hello_all_roles,
                                 wamp::Serializer serializer = wamp::Serializer::json);
    // Builds the router once the hooks are added.
    core::Router& router();

    config::LoadResult loaded;
    hooks::HookChain hooks;
    FakeTimers timers;
    std::unique_ptr<core::Router> router_;
};

// Captures what the router logs while it lives.
struct LogCapture {
    std::ostringstream lines;
    std::shared_ptr<spdlog::logger> previous = spdlog::default_logger();
    LogCapture() {
        auto logger = std::make_shared<spdlog::logger>("capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(lines));
        logger->set_level(spdlog::level::trace);
        spdlog::set_default_logger(logger);
    }
    ~LogCapture() { spdlog::set_default_logger(previous); }
    std::size_t count(const std::string& needle) const {
        std::size_t n = 0;
        auto text = lines.str();
        for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
        return n;
    }
};

// The last message is ABORT wamp.error.protocol_violation mentioning `reason_part`, and the connection closes.
void expect_violation(Client& c, const std::string& reason_part);
// The last message is ABORT `reason` with Details.message `message`, and the connection closes.
void expect_abort_with(Client& c, const std::string& reason, const std::string& message);

}  // namespace blindrouter::testing
