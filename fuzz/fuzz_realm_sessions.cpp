// libFuzzer target: the router's state machine, not its decoders (issue 15). The
// input is a script of operations by up to four clients on one realm, over fake
// transports and a fake clock: join, subscribe, publish, register, call, answer,
// cancel, leave, vanish, let time pass, or send a message written by the fuzzer.
// Clients use all three serializers and send plain and end-to-end encrypted
// payloads, so the payload-transparency plugin's rules run too.
//
// Invariants checked while it runs (a broken one traps, which libFuzzer reports):
// - nothing is sent to a session after its connection is gone;
// - a caller gets at most one final answer (RESULT or ERROR) per call it made, and
//   none for a call it did not make;
// - an EVENT names a subscription its receiver holds, an INVOCATION a registration
//   its callee holds, an INTERRUPT an invocation its callee was sent;
// - two live sessions never share a session id;
// and once every client is gone and the clock has run on: no session, subscription,
// registration or pending invocation is left in the router.
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "blindrouter/codec/json_codec.hpp"
#include "blindrouter/codec/outbound_message.hpp"
#include "blindrouter/config/node_config_loader.hpp"
#include "blindrouter/core/router.hpp"
#include "blindrouter/core/session.hpp"
#include "blindrouter/core/manual_timers.hpp"
#include "blindrouter/hooks/config_view.hpp"
#include "blindrouter/wamp/messages.hpp"
#include "plugin/install.hpp"

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

namespace {

using namespace blindrouter;

[[noreturn]] void broken() { __builtin_trap(); }

struct Client;

// What a client's connection received, checked against what the client did.
class Transport final : public core::SessionTransport {
public:
    Transport(Client& owner, wamp::Serializer serializer) : owner_(owner), serializer_(serializer) {}
    void send(const codec::SharedOutbound& message) override;
    void close(core::CloseReason, std::string_view) override { close_requested = true; }
    wamp::Serializer serializer() const override { return serializer_; }

    bool close_requested = false;

private:
    Client& owner_;
    wamp::Serializer serializer_;
};

struct Client {
    explicit Client(wamp::Serializer serializer) : transport(*this, serializer) {}
    Transport transport;
    std::shared_ptr<core::Session> session;
    bool gone = false;  // transport_closed() has run
    std::optional<std::uint64_t> session_id;
    std::set<std::uint64_t> calls;        // calls made and not answered
    std::set<std::uint64_t> subscriptions;
    std::set<std::uint64_t> registrations;
    std::vector<std::uint64_t> invocations;  // invocation ids received, newest last
    std::vector<std::uint64_t> subscriptions_seen;
    std::vector<std::uint64_t> registrations_seen;
    std::map<std::uint64_t, std::uint64_t> unsubscribing;  // UNSUBSCRIBE request → subscription
    std::map<std::uint64_t, std::uint64_t> unregistering;  // UNREGISTER request → registration
    std::uint64_t next_request = 1;
};

std::set<std::uint64_t>* live_session_ids = nullptr;

bool is_progress(const wamp::Dict& dict) {
    const auto* progress = wamp::find(dict, "progress");
    return progress && progress->as_bool() && *progress->as_bool();
}

void Transport::send(const codec::SharedOutbound& outbound) {
    if (owner_.gone) broken();
    // Whatever the router sends must be writable in the receiver's serializer.
    if (!outbound->encoded(serializer_)) broken();
    const auto& m = outbound->message();
    switch (m.type) {
        case wamp::MessageType::welcome: {
            auto id = wamp::Welcome(m).session();
            if (live_session_ids->count(id)) broken();
            live_session_ids->insert(id);
            owner_.session_id = id;
            break;
        }
        case wamp::MessageType::result: {
            wamp::Result result(m);
            if (!owner_.calls.count(result.request())) broken();
            if (!is_progress(result.details())) owner_.calls.erase(result.request());
            break;
        }
        case wamp::MessageType::error: {
            wamp::Error error(m);
            if (error.request_type() == static_cast<std::uint64_t>(wamp::MessageType::call)) {
                if (!owner_.calls.count(error.request())) broken();
                owner_.calls.erase(error.request());
            }
            break;
        }
        case wamp::MessageType::subscribed: {
            auto id = wamp::Subscribed(m).subscription();
            owner_.subscriptions.insert(id);
            owner_.subscriptions_seen.push_back(id);
            break;
        }
        case wamp::MessageType::unsubscribed: {
            wamp::Unsubscribed unsubscribed(m);
            // A revocation names the subscription; an answer to UNSUBSCRIBE its request.
            const auto* revoked = wamp::find(unsubscribed.details(), "subscription");
            if (revoked && revoked->as_unsigned()) owner_.subscriptions.erase(*revoked->as_unsigned());
            auto asked = owner_.unsubscribing.find(unsubscribed.request());
            if (asked != owner_.unsubscribing.end()) owner_.subscriptions.erase(asked->second);
            break;
        }
        case wamp::MessageType::unregistered: {
            wamp::Unregistered unregistered(m);
            const auto* revoked = wamp::find(unregistered.details(), "registration");
            if (revoked && revoked->as_unsigned()) owner_.registrations.erase(*revoked->as_unsigned());
            auto asked = owner_.unregistering.find(unregistered.request());
            if (asked != owner_.unregistering.end()) owner_.registrations.erase(asked->second);
            break;
        }
        case wamp::MessageType::registered: {
            auto id = wamp::Registered(m).registration();
            owner_.registrations.insert(id);
            owner_.registrations_seen.push_back(id);
            break;
        }
        case wamp::MessageType::event:
            if (!owner_.subscriptions.count(wamp::Event(m).subscription())) broken();
            break;
        case wamp::MessageType::invocation: {
            wamp::Invocation invocation(m);
            if (!owner_.registrations.count(invocation.registration())) broken();
            owner_.invocations.push_back(invocation.request());
            break;
        }
        case wamp::MessageType::interrupt: {
            auto id = wamp::Interrupt(m).request();
            bool known = false;
            for (auto i : owner_.invocations) known = known || i == id;
            if (!known) broken();
            break;
        }
        default:
            break;
    }
}

// A small reader over the fuzzer's bytes; zeros once they run out.
class Script {
public:
    Script(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
    bool done() const { return pos_ >= size_; }
    std::uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
    std::size_t pick(std::size_t n) { return n == 0 ? 0 : byte() % n; }
    // A length-prefixed string of the remaining bytes.
    std::string text() {
        std::size_t length = byte();
        std::string s;
        while (s.size() < length && !done()) s.push_back(static_cast<char>(byte()));
        return s;
    }

private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
};

const char* const config_text = R"({
  "version": 2,
  "workers": [{
    "type": "router",
    "realms": [{"name": "realm1", "roles": [{"name": "anonymous", "permissions": [
      {"uri": "", "match": "prefix", "allow": {"call": true, "register": true, "publish": true, "subscribe": true},
       "disclose": {"caller": true, "publisher": true}, "cache": true}]}]}],
    "transports": [{"type": "websocket", "endpoint": {"type": "tcp", "port": 8080}}]
  }]
})";

constexpr std::array topics{"a.b", "a.c", "a", "a..c", "b"};
constexpr std::array matches{"exact", "exact", "prefix", "wildcard", "exact"};
constexpr std::array policies{"single", "roundrobin", "random", "first", "last"};
constexpr std::array cancel_modes{"skip", "kill", "killnowait"};
constexpr std::array serializers{wamp::Serializer::json, wamp::Serializer::msgpack, wamp::Serializer::cbor};

// Arguments: plain, or an encrypted payload in the cryptobox form or the spec's ppt form.
std::string payload(Script& s, std::string& options) {
    switch (s.pick(4)) {
        case 0:
            return "";
        case 1:
            return R"(, [1, "two"], {"k": 3})";
        case 2:
            options += std::string(R"(, "enc_algo": "cryptobox", "enc_key": "\u0000AAAA", "enc_serializer": "json")");
            return R"(, ["\u0000q83vEjRWeJA="])";
        default:
            options += R"(, "ppt_scheme": "x_custom", "ppt_serializer": "native")";
            return R"(, ["\u0000q83vEjRWeJA="], {})";
    }
}

std::uint64_t chosen(Script& s, const std::vector<std::uint64_t>& seen) {
    if (seen.empty() || s.pick(8) == 0) return 1 + s.pick(4);  // sometimes an id the client never got
    return seen[seen.size() - 1 - s.pick(seen.size())];
}

// The router, built once and reused by every input: building one (its realms, the
// meta API's thirty-odd registrations) cost more than most inputs. An input leaves
// no session, registration, subscription, pending call or timer behind, or finish()
// traps; what it may leave that a fresh router would not have (a retained event) makes
// the next input get a fresh router. Carried over on purpose: the fake clock (finish()
// moves it an hour on, past every deadline and log-throttle interval, so an input sees
// only time relative to its start) and the id and random-policy generators (seeded
// at random in a fresh router too).
class World {
public:
    static World& get() {
        static World world;
        return world;
    }

    core::Router& router() { return *router_; }
    core::ManualTimers& timers() { return *timers_; }
    const config::NodeConfig& config() const { return loaded_.config; }

    // Traps on what an input must never leave behind; rebuilds on what it may.
    void settle() {
        if (router_->session_count() != 0) broken();
        if (router_->pending_authentications() != 0) broken();
        if (realm_->dealer().pending_invocation_count() != 0) broken();
        if (realm_->dealer().registration_count() != baseline_registrations_) broken();
        if (realm_->broker().subscription_count() != baseline_subscriptions_) broken();
        if (timers_->scheduled() != baseline_timers_) broken();
        if (realm_->broker().retained_count() != 0) build();
    }

private:
    World() : loaded_(load()) {
        plugin::install(hooks_);
        if (!loaded_.ok()) broken();
        build();
    }

    static config::LoadResult load() {
        hooks::HookChain hooks;
        plugin::install(hooks);
        return config::load_node_config(config_text, hooks::config_extensions(hooks));
    }

    void build() {
        router_.reset();  // before the timers it scheduled on
        timers_ = std::make_unique<core::ManualTimers>();
        router_ = std::make_unique<core::Router>(loaded_.config, hooks_, timers_.get());
        realm_ = router_->find_realm("realm1");
        if (!realm_) broken();
        // The meta API's own registrations and timers stay while the router lives.
        baseline_registrations_ = realm_->dealer().registration_count();
        baseline_subscriptions_ = realm_->broker().subscription_count();
        baseline_timers_ = timers_->scheduled();
    }

    hooks::HookChain hooks_;
    config::LoadResult loaded_;
    std::unique_ptr<core::ManualTimers> timers_;
    std::unique_ptr<core::Router> router_;
    core::Realm* realm_ = nullptr;
    std::size_t baseline_registrations_ = 0;
    std::size_t baseline_subscriptions_ = 0;
    std::size_t baseline_timers_ = 0;
};

class Run {
public:
    explicit Run(World& world) : world_(world), router_(world.router()), timers_(world.timers()) {
        live_session_ids = &live_ids_;
    }
    ~Run() { live_session_ids = nullptr; }

    void play(Script& s) {
        while (!s.done()) {
            reap();
            auto slot = s.pick(clients_.size());
            auto op = s.pick(16);
            if (op == 0 || !clients_[slot]) {
                connect(slot, s);
                continue;
            }
            auto& c = *clients_[slot];
            switch (op) {
                case 1:
                case 2:
                    subscribe(c, s);
                    break;
                case 3: {
                    auto id = c.next_request;
                    auto subscription = chosen(s, c.subscriptions_seen);
                    c.unsubscribing[id] = subscription;
                    send(c, "[34, " + request(c) + ", " + std::to_string(subscription) + "]");
                    break;
                }
                case 4:
                case 5:
                    publish(c, s);
                    break;
                case 6:
                    send(c, std::string("[64, ") + request(c) + R"(, {"invoke": ")" + policies[s.pick(5)] +
                                R"(", "match": ")" + matches[s.pick(5)] + R"("}, ")" + topics[s.pick(5)] + "\"]");
                    break;
                case 7: {
                    auto id = c.next_request;
                    auto registration = chosen(s, c.registrations_seen);
                    c.unregistering[id] = registration;
                    send(c, "[66, " + request(c) + ", " + std::to_string(registration) + "]");
                    break;
                }
                case 8:
                case 9:
                    call(c, s);
                    break;
                case 10:
                case 11:
                    answer(c, s);
                    break;
                case 12: {
                    auto id = c.calls.empty() ? 1 + s.pick(4) : *std::next(c.calls.begin(), s.pick(c.calls.size()));
                    send(c, "[49, " + std::to_string(id) + R"(, {"mode": ")" + cancel_modes[s.pick(3)] + "\"}]");
                    break;
                }
                case 13:
                    if (s.pick(2)) send(c, R"([6, {}, "wamp.close.normal"])");
                    else vanish(slot);
                    break;
                case 14:
                    timers_.advance(std::chrono::milliseconds(1 + s.byte() * 40));
                    break;
                default:
                    send(c, s.text());  // whatever the fuzzer writes, if it decodes
                    break;
            }
        }
        finish();
    }

private:
    std::string request(Client& c) { return std::to_string(c.next_request++); }

    void connect(std::size_t slot, Script& s) {
        if (clients_[slot]) vanish(slot);
        clients_[slot] = std::make_unique<Client>(serializers[s.pick(3)]);
        auto& c = *clients_[slot];
        c.session = router_.open_session(c.transport, world_.config().transports.at(0).websocket.at(0).auth);
        static const std::array hellos{
            R"([1, "realm1", {"roles": {"publisher": {}, "subscriber": {}, "caller": {}, "callee": {}}}])",
            R"([1, "realm1", {"roles": {"publisher": {"features": {"payload_passthru_mode": true}},
                "subscriber": {"features": {"payload_passthru_mode": true, "subscription_revocation": true}},
                "caller": {"features": {"call_canceling": true, "progressive_call_results": true, "payload_passthru_mode": true}},
                "callee": {"features": {"call_canceling": true, "progressive_call_results": true,
                           "progressive_call_invocations": true, "registration_revocation": true,
                           "payload_passthru_mode": true}}}}])",
            R"([1, "nosuchrealm", {"roles": {"caller": {}}}])",
        };
        send(c, hellos[s.pick(hellos.size())]);
    }

    void subscribe(Client& c, Script& s) {
        auto t = s.pick(topics.size());
        std::string options = std::string(R"({"match": ")") + matches[t] + "\"";
        if (s.pick(2)) options += R"(, "get_retained": true)";
        send(c, "[32, " + request(c) + ", " + options + "}, \"" + topics[t] + "\"]");
    }

    void publish(Client& c, Script& s) {
        std::string options = R"({"acknowledge": true)";
        if (s.pick(2)) options += R"(, "exclude_me": false)";
        if (s.pick(4) == 0) options += R"(, "retain": true)";
        std::string topic = s.pick(2) ? "a.b" : topics[s.pick(topics.size())];
        auto args = payload(s, options);
        send(c, "[16, " + request(c) + ", " + options + "}, \"" + topic + "\"" + args + "]");
    }

    void call(Client& c, Script& s) {
        std::uint64_t id;
        std::string options = "{";
        bool progressive = s.pick(4) == 0;
        // A progressive call goes on under its own request id; any other call takes a
        // new one, since a client reusing a live id is a protocol violation we do not
        // want to mistake for a second answer.
        if (progressive && !c.calls.empty()) id = *std::next(c.calls.begin(), s.pick(c.calls.size()));
        else id = c.next_request++;
        options += progressive ? R"("progress": true)" : R"("progress": false)";
        if (s.pick(3) == 0) options += R"(, "timeout": )" + std::to_string(s.byte() * 10);
        if (s.pick(2)) options += R"(, "receive_progress": true)";
        auto args = payload(s, options);
        c.calls.insert(id);
        send(c, "[48, " + std::to_string(id) + ", " + options + "}, \"" + topics[s.pick(topics.size())] + "\"" + args +
                    "]");
    }

    void answer(Client& c, Script& s) {
        auto id = chosen(s, c.invocations);
        std::string options = "{";
        auto args = payload(s, options);
        if (options.size() > 1) options.erase(1, 2);  // the leading ", "
        if (s.pick(3) == 0) {
            send(c, "[8, 68, " + std::to_string(id) + ", " + options + R"(}, "app.error.failed")" + args + "]");
        } else {
            if (s.pick(4) == 0) options += options.size() > 1 ? R"(, "progress": true)" : R"("progress": true)";
            send(c, "[70, " + std::to_string(id) + ", " + options + "}" + args + "]");
        }
    }

    // The client writes `json` in its own serializer, as it would on the wire.
    void send(Client& c, const std::string& json) {
        if (c.gone) return;
        auto decoded = codec::decode_json(std::make_shared<const std::string>(json));
        if (!decoded) return;
        auto outbound = codec::make_outbound(decoded.message());
        const auto& frame = outbound->encoded(c.transport.serializer());
        if (!frame) return;
        auto message = codec::decode(c.transport.serializer(), std::make_shared<const std::string>(frame.bytes()));
        if (!message) return;
        c.session->receive(message.message());
    }

    // The connection goes away as the network would report it.
    void vanish(std::size_t slot) {
        auto& c = *clients_[slot];
        if (!c.gone) {
            c.gone = true;
            c.session->transport_closed();
            router_.session_closed(c.session->id());
        }
        if (c.session_id) live_ids_.erase(*c.session_id);
        clients_[slot].reset();
    }

    // Connections the router closed are gone by the next step, as after an event loop turn.
    void reap() {
        for (std::size_t i = 0; i < clients_.size(); ++i)
            if (clients_[i] && clients_[i]->transport.close_requested) vanish(i);
    }

    void finish() {
        for (std::size_t i = 0; i < clients_.size(); ++i)
            if (clients_[i]) vanish(i);
        timers_.advance(std::chrono::hours(1));
        world_.settle();
    }

    World& world_;
    core::Router& router_;
    core::ManualTimers& timers_;
    std::array<std::unique_ptr<Client>, 4> clients_;
    std::set<std::uint64_t> live_ids_;
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    // Every log line is formatted, as at trace level, and written nowhere.
    auto logger = std::make_shared<spdlog::logger>("fuzz", std::make_shared<spdlog::sinks::null_sink_mt>());
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Script script(data, size);
    Run run(World::get());
    run.play(script);
    return 0;
}
