// Every rule of shared/E2E.md against the real realm, broker and dealer with the
// plugin installed, through fake sessions. Payload bytes are checked to arrive
// exactly as sent.
#include <boost/test/unit_test.hpp>

#include "core/fake_session.hpp"
#include "blindrouter/hooks/config_view.hpp"
#include "plugin/install.hpp"
#include "plugin/payload_transparency/payload_transparency.hpp"

using namespace blindrouter;
using namespace blindrouter::testing;
using wamp::Serializer;

namespace {
std::string node_json(const std::string& mismatch) {
    return R"({"version": 2, "workers": [{"type": "router",
      "realms": [{"name": "realm1", "payload_transparency": {"serializer_mismatch": ")" + mismatch + R"("},
        "roles": [{"name": "anonymous", "permissions": [
          {"uri": "com.", "match": "prefix", "allow": {"call": true, "register": true, "publish": true, "subscribe": true}},
          {"uri": "com.secret.", "match": "prefix", "require_encryption": true,
           "allow": {"call": true, "register": true, "publish": true, "subscribe": true}}]}]}],
      "transports": [{"type": "websocket", "endpoint": {"type": "tcp", "port": 9000}}]}]})";
}

const std::string ppt_hello =
    R"([1, "realm1", {"roles": {"publisher": {"features": {"payload_passthru_mode": true}},
        "subscriber": {"features": {"payload_passthru_mode": true}},
        "caller": {"features": {"payload_passthru_mode": true}},
        "callee": {"features": {"payload_passthru_mode": true}}}}])";

// A cryptobox payload as Autobahn|Python puts it on a JSON wire.
const std::string payload = R"("\u0000q83vEjRWeJq8AAECAwQFBgcICQ==")";

// The config keys of the installed plugins, as the app registers them.
config::Extensions plugin_extensions() {
    hooks::HookChain chain;
    plugin::install(chain);
    return hooks::config_extensions(chain);
}

struct PluginFixture : RouterHarness {
    explicit PluginFixture(const std::string& mismatch = "reject")
        : RouterHarness(node_json(mismatch), plugin_extensions()) {
        plugin::install(hooks);
    }
    // Subscribes, returns nothing; the subscriber's last message is SUBSCRIBED.
    static void subscribe(Client& c, const std::string& topic) {
        c.send(R"([32, 1, {}, ")" + topic + R"("])");
        BOOST_REQUIRE_EQUAL(c.last()[0].GetInt(), 33);
    }
    // Registers and returns the INVOCATION request id of one call from `caller`.
    static std::uint64_t invoke(Client& callee, Client& caller, const std::string& call) {
        callee.send(R"([64, 1, {}, "com.p"])");
        caller.send(call);
        auto invocation = callee.last();
        BOOST_REQUIRE_EQUAL(invocation[0].GetInt(), 68);
        return invocation[1].GetUint64();
    }
};
struct TranslateFixture : PluginFixture {
    TranslateFixture() : PluginFixture("translate") {}
};
}  // namespace

BOOST_FIXTURE_TEST_SUITE(payload_transparency, PluginFixture)

BOOST_AUTO_TEST_CASE(welcome_announces_passthru_and_crossbar_flags) {
    auto c = join();
    auto welcome = c->last();
    for (const char* role : {"broker", "dealer"})
        for (const char* feature : {"payload_passthru_mode", "payload_transparency", "payload_encryption_cryptobox"})
            BOOST_TEST(welcome[2]["roles"][role]["features"][feature].GetBool());
}

BOOST_AUTO_TEST_CASE(legacy_publish_is_forwarded_byte_for_byte_with_its_keys) {
    auto sub = join();
    auto pub = join();
    subscribe(*sub, "com.t");
    pub->send(R"([16, 2, {"enc_algo": "cryptobox", "enc_serializer": "json", "enc_key": "k1"}, "com.t", )" + payload + "]");
    const auto& event = sub->transport.sent.back();
    BOOST_TEST(event.size() > payload.size());
    BOOST_TEST(event.substr(event.size() - payload.size() - 1) == payload + "]", event);
    auto d = dom(event);
    BOOST_TEST(d[3]["enc_algo"].GetString() == std::string("cryptobox"));
    BOOST_TEST(d[3]["enc_serializer"].GetString() == std::string("json"));
    BOOST_TEST(d[3]["enc_key"].GetString() == std::string("k1"));
}

BOOST_AUTO_TEST_CASE(bare_binary_payload_is_forwarded_like_crossbar) {
    auto sub = join();
    auto pub = join();
    subscribe(*sub, "com.t");
    pub->send(R"([16, 2, {}, "com.t", )" + payload + "]");
    BOOST_TEST(sub->transport.sent.back().find(payload) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(legacy_call_result_and_error_keep_form_and_bytes) {
    auto callee = join();
    auto caller = join();
    auto request = invoke(*callee, *caller, R"([48, 7, {"enc_algo": "cryptobox"}, "com.p", )" + payload + "]");
    auto invocation = callee->transport.sent.back();
    BOOST_TEST(invocation.find("," + payload + "]") != std::string::npos, invocation);
    BOOST_TEST(dom(invocation)[3]["enc_algo"].GetString() == std::string("cryptobox"));

    callee->send("[70, " + std::to_string(request) + R"(, {"enc_algo": "cryptobox"}, )" + payload + "]");
    auto result = dom(caller->transport.sent.back());
    BOOST_TEST(result[0].GetInt() == 50);
    BOOST_TEST(result[2]["enc_algo"].GetString() == std::string("cryptobox"));
    BOOST_TEST(caller->transport.sent.back().find(payload) != std::string::npos);

    caller->send(R"([48, 8, {"enc_algo": "cryptobox"}, "com.p", )" + payload + "]");
    auto second = callee->last()[1].GetUint64();
    callee->send("[8, 68, " + std::to_string(second) + R"(, {"enc_algo": "cryptobox"}, "com.app.error", )" + payload + "]");
    auto error = dom(caller->transport.sent.back());
    BOOST_TEST(error[0].GetInt() == 8);
    BOOST_TEST(error[2].GetInt() == 8);
    BOOST_TEST(error[3]["enc_algo"].GetString() == std::string("cryptobox"));
    BOOST_TEST(caller->transport.sent.back().find(payload) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(progressive_results_keep_their_payloads) {
    auto callee = join();
    auto caller = join();
    auto request = std::to_string(
        invoke(*callee, *caller, R"([48, 7, {"enc_algo": "cryptobox", "receive_progress": true}, "com.p", )" + payload + "]"));
    callee->send("[70, " + request + R"(, {"progress": true, "enc_algo": "cryptobox"}, )" + payload + "]");
    auto progress = dom(caller->transport.sent.back());
    BOOST_TEST(progress[2]["progress"].GetBool());
    BOOST_TEST(progress[2]["enc_algo"].GetString() == std::string("cryptobox"));
    callee->send("[70, " + request + R"(, {"enc_algo": "cryptobox"}, )" + payload + "]");
    BOOST_TEST(caller->transport.sent.back().find(payload) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(spec_form_is_forwarded_in_spec_form) {
    auto sub = join(ppt_hello);
    auto pub = join(ppt_hello);
    subscribe(*sub, "com.t");
    pub->send(R"([16, 2, {"ppt_scheme": "x_custom", "ppt_serializer": "cbor", "ppt_cipher": "xsalsa20poly1305", "ppt_keyid": "k"}, "com.t", [)" +
              payload + "]]");
    const auto& event = sub->transport.sent.back();
    BOOST_TEST(event.find(",[" + payload + "]]") != std::string::npos, event);
    auto d = dom(event);
    BOOST_TEST(d[3]["ppt_scheme"].GetString() == std::string("x_custom"));
    BOOST_TEST(d[3]["ppt_keyid"].GetString() == std::string("k"));
    BOOST_TEST(!d[3].HasMember("enc_algo"));
}

BOOST_AUTO_TEST_CASE(keys_without_a_payload_are_dropped) {
    auto sub = join();
    auto pub = join();
    subscribe(*sub, "com.t");
    pub->send(R"([16, 2, {"enc_algo": "cryptobox"}, "com.t"])");
    auto d = dom(sub->transport.sent.back());
    BOOST_TEST(d[0].GetInt() == 36);
    BOOST_TEST(!d[3].HasMember("enc_algo"));
}

BOOST_AUTO_TEST_CASE(malformed_options_are_invalid_argument) {
    auto callee = join(ppt_hello);
    auto caller = join(ppt_hello);
    callee->send(R"([64, 1, {}, "com.p"])");
    auto before = callee->transport.sent.size();
    const std::vector<std::string> bad{
        R"({"enc_algo": 5})",
        R"({"enc_algo": "rot13"})",
        R"({"enc_algo": "cryptobox", "enc_serializer": "yaml"})",
        R"({"enc_algo": "cryptobox", "enc_key": []})",
        R"({"enc_algo": "cryptobox", "enc_bogus": 1})",
        R"({"enc_serializer": "json"})",
        R"({"enc_algo": "cryptobox", "ppt_scheme": "x_a"})",
        R"({"ppt_serializer": "cbor"})",
        R"({"ppt_scheme": ""})",
        R"({"ppt_scheme": "wamp", "ppt_serializer": "json", "ppt_cipher": "xsalsa20poly1305"})",
        R"({"ppt_scheme": "wamp", "ppt_serializer": "cbor"})",
        R"({"ppt_scheme": "x_a", "ppt_cipher": "rot13"})",
    };
    for (const auto& options : bad) {
        BOOST_TEST_CONTEXT(options) {
            bool spec = options.find("ppt_") != std::string::npos && options.find("enc_") == std::string::npos;
            caller->send(R"([48, 9, )" + options + R"(, "com.p", )" + (spec ? "[" + payload + "]" : payload) + "]");
            BOOST_TEST(caller->last_error_uri() == "wamp.error.invalid_argument");
        }
    }
    // Spec form whose Arguments are not exactly one binary item, or with kwargs.
    caller->send(R"([48, 9, {"ppt_scheme": "x_a"}, "com.p", [)" + payload + "," + payload + "]]");
    BOOST_TEST(caller->last_error_uri() == "wamp.error.invalid_argument");
    caller->send(R"([48, 9, {"ppt_scheme": "x_a"}, "com.p", ["plain"]])");
    BOOST_TEST(caller->last_error_uri() == "wamp.error.invalid_argument");
    caller->send(R"([48, 9, {"ppt_scheme": "x_a"}, "com.p", [)" + payload + R"(], {"k": 1}])");
    BOOST_TEST(caller->last_error_uri() == "wamp.error.invalid_argument");
    // Legacy keys with a plain list in place of the payload.
    caller->send(R"([48, 9, {"enc_algo": "cryptobox"}, "com.p", ["plain"]])");
    BOOST_TEST(caller->last_error_uri() == "wamp.error.invalid_argument");
    BOOST_TEST(callee->transport.sent.size() == before);  // nothing reached the callee
}

BOOST_AUTO_TEST_CASE(malformed_publish_without_acknowledge_is_dropped_silently) {
    auto sub = join();
    auto pub = join();
    subscribe(*sub, "com.t");
    auto before = sub->transport.sent.size();
    auto pub_before = pub->transport.sent.size();
    pub->send(R"([16, 2, {"enc_algo": 7}, "com.t", )" + payload + "]");
    BOOST_TEST(sub->transport.sent.size() == before);
    BOOST_TEST(pub->transport.sent.size() == pub_before);  // no ERROR: it did not ask for acknowledgement
    BOOST_TEST(!pub->transport.closed.has_value());
    pub->send(R"([16, 3, {"enc_algo": 7, "acknowledge": true}, "com.t", )" + payload + "]");
    BOOST_TEST(pub->last_error_uri() == "wamp.error.invalid_argument");
}

BOOST_AUTO_TEST_CASE(spec_form_without_announcement_aborts) {
    auto pub = join();
    pub->send(R"([16, 2, {"ppt_scheme": "x_a"}, "com.t", [)" + payload + "]]");
    expect_violation(*pub, "payload_passthru_mode");
}

BOOST_AUTO_TEST_CASE(spec_call_to_callee_without_announcement) {
    auto callee = join();  // announces nothing
    auto caller = join(ppt_hello);
    callee->send(R"([64, 1, {}, "com.p"])");
    auto before = callee->transport.sent.size();
    caller->send(R"([48, 9, {"ppt_scheme": "x_a"}, "com.p", [)" + payload + "]]");
    BOOST_TEST(caller->last_error_uri() == "wamp.error.feature_not_supported");
    BOOST_TEST(callee->transport.sent.size() == before);
}

BOOST_AUTO_TEST_CASE(spec_yield_to_caller_without_announcement) {
    auto callee = join(ppt_hello);
    auto caller = join(R"([1, "realm1", {"roles": {"caller": {}, "callee": {"features": {"payload_passthru_mode": true}}}}])");
    // A plain call; the callee answers in spec form, which the caller did not announce.
    auto request = invoke(*callee, *caller, R"([48, 9, {}, "com.p", [1]])");
    callee->send("[70, " + std::to_string(request) + R"(, {"ppt_scheme": "x_a"}, [)" + payload + "]]");
    BOOST_TEST(callee->last_error_uri() == "wamp.error.feature_not_supported");
    BOOST_TEST(callee->last()[1].GetInt() == 70);
    BOOST_TEST(caller->last_error_uri() == "wamp.error.feature_not_supported");
}

BOOST_AUTO_TEST_CASE(encryption_required_refuses_plaintext) {
    auto sub = join();
    auto pub = join();
    subscribe(*sub, "com.secret.t");
    auto before = sub->transport.sent.size();
    pub->send(R"([16, 2, {"acknowledge": true}, "com.secret.t", ["plaintext"]])");
    BOOST_TEST(pub->last_error_uri() == "blindrouter.error.encryption_required");
    auto pub_messages = pub->transport.sent.size();
    pub->send(R"([16, 3, {}, "com.secret.t", ["plaintext"]])");
    BOOST_TEST(pub->transport.sent.size() == pub_messages);  // dropped without reply
    BOOST_TEST(sub->transport.sent.size() == before);        // nobody got plaintext
    pub->send(R"([16, 4, {"acknowledge": true, "enc_algo": "cryptobox"}, "com.secret.t", )" + payload + "]");
    BOOST_TEST(pub->last()[0].GetInt() == 17);
    BOOST_TEST(sub->last()[0].GetInt() == 36);
    pub->send(R"([16, 5, {"acknowledge": true}, "com.secret.t"])");  // no arguments: nothing to protect
    BOOST_TEST(pub->last()[0].GetInt() == 17);
}

BOOST_AUTO_TEST_CASE(encryption_required_for_calls_yields_and_errors) {
    auto callee = join();
    auto caller = join();
    callee->send(R"([64, 1, {}, "com.secret.p"])");
    caller->send(R"([48, 2, {}, "com.secret.p", ["plaintext"]])");
    BOOST_TEST(caller->last_error_uri() == "blindrouter.error.encryption_required");
    caller->send(R"([48, 3, {"enc_algo": "cryptobox"}, "com.secret.p", )" + payload + "]");
    auto request = std::to_string(callee->last()[1].GetUint64());
    callee->send("[70, " + request + R"(, {}, ["plaintext result"]])");
    BOOST_TEST(callee->last_error_uri() == "blindrouter.error.encryption_required");
    auto outcome = caller->last();
    BOOST_TEST(outcome[2].GetInt() == 3);
    BOOST_TEST(caller->last_error_uri() == "blindrouter.error.encryption_required");
    BOOST_TEST(caller->transport.sent.back().find("plaintext result") == std::string::npos);

    caller->send(R"([48, 4, {"enc_algo": "cryptobox"}, "com.secret.p", )" + payload + "]");
    request = std::to_string(callee->last()[1].GetUint64());
    callee->send("[8, 68, " + request + R"(, {}, "com.app.err", ["plaintext error"]])");
    BOOST_TEST(caller->last_error_uri() == "blindrouter.error.encryption_required");
    BOOST_TEST(caller->transport.sent.back().find("plaintext error") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(serializer_mismatch_is_rejected_by_default) {
    auto json_sub = join();
    auto msgpack_sub = join(hello_all_roles, Serializer::msgpack);
    auto pub = join();
    subscribe(*json_sub, "com.t");
    subscribe(*msgpack_sub, "com.t");
    auto before = msgpack_sub->transport.sent.size();
    pub->send(R"([16, 2, {"acknowledge": true, "enc_algo": "cryptobox", "enc_serializer": "json"}, "com.t", )" +
              payload + "]");
    BOOST_TEST(msgpack_sub->transport.sent.size() == before);
    BOOST_TEST(json_sub->last()[0].GetInt() == 36);
    BOOST_TEST(pub->last_error_uri() == "blindrouter.error.serializer_mismatch");
    auto error = pub->last();
    auto kwargs = error[6].GetObject();
    BOOST_TEST(kwargs["sender_serializer"].GetString() == std::string("json"));
    BOOST_TEST(kwargs["receiver_serializer"].GetString() == std::string("msgpack"));
    BOOST_TEST(kwargs["payload_serializer"].GetString() == std::string("json"));
    BOOST_TEST(kwargs["delivered"].GetUint() == 1u);
    BOOST_TEST(kwargs["skipped"].GetUint() == 1u);
    BOOST_TEST(pub->transport.sent.back().find("q83v") == std::string::npos);  // no payload bytes in the error

    // Plain messages cross serializers as always.
    pub->send(R"([16, 3, {"acknowledge": true}, "com.t", [1]])");
    BOOST_TEST(pub->last()[0].GetInt() == 17);
    BOOST_TEST(msgpack_sub->last()[0].GetInt() == 36);
}

BOOST_AUTO_TEST_CASE(receivers_of_alternating_serializers_are_each_judged_by_their_own) {
    // One subscription, receivers in the order json, msgpack, json, msgpack: the gate
    // remembers its last answer, which must not carry over to the next kind.
    std::vector<std::unique_ptr<Client>> subs;
    for (int i = 0; i < 4; ++i) {
        subs.push_back(join(hello_all_roles, i % 2 ? Serializer::msgpack : Serializer::json));
        subscribe(*subs.back(), "com.t");
    }
    std::vector<std::size_t> before;
    for (const auto& sub : subs) before.push_back(sub->transport.sent.size());
    auto pub = join();
    pub->send(R"([16, 2, {"acknowledge": true, "enc_algo": "cryptobox", "enc_serializer": "json"}, "com.t", )" +
              payload + "]");
    for (int i = 0; i < 4; ++i) BOOST_TEST(subs[i]->transport.sent.size() == before[i] + (i % 2 ? 0u : 1u));
    BOOST_TEST(pub->last_error_uri() == "blindrouter.error.serializer_mismatch");
    auto answer = pub->last();  // kept alive: the object below points into it
    auto kwargs = answer[6].GetObject();
    BOOST_TEST(kwargs["delivered"].GetUint() == 2u);
    BOOST_TEST(kwargs["skipped"].GetUint() == 2u);
}

BOOST_AUTO_TEST_CASE(serializer_mismatch_on_calls_and_yields) {
    auto callee = join(hello_all_roles, Serializer::cbor);
    auto caller = join();
    callee->send(R"([64, 1, {}, "com.p"])");
    auto before = callee->transport.sent.size();
    caller->send(R"([48, 2, {"enc_algo": "cryptobox"}, "com.p", )" + payload + "]");
    BOOST_TEST(caller->last_error_uri() == "blindrouter.error.serializer_mismatch");
    BOOST_TEST(callee->transport.sent.size() == before);

    // A plain call whose encrypted answer would cross serializers: both ends learn it.
    caller->send(R"([48, 3, {}, "com.p", [1]])");
    auto request = std::to_string(callee->last()[1].GetUint64());
    callee->send("[70, " + request + R"(, {"enc_algo": "cryptobox"}, "\u0000AAAA"])");
    BOOST_TEST(callee->last_error_uri() == "blindrouter.error.serializer_mismatch");
    BOOST_TEST(caller->last_error_uri() == "blindrouter.error.serializer_mismatch");
    BOOST_TEST(caller->last()[2].GetInt() == 3);
}

BOOST_AUTO_TEST_CASE(a_matching_callee_of_a_shared_registration_is_chosen_first) {
    auto cbor_callee = join(hello_all_roles, Serializer::cbor);
    auto json_callee = join();
    auto caller = join();
    cbor_callee->send(R"([64, 1, {"invoke": "first"}, "com.p"])");
    json_callee->send(R"([64, 1, {"invoke": "first"}, "com.p"])");
    caller->send(R"([48, 2, {"enc_algo": "cryptobox"}, "com.p", )" + payload + "]");
    BOOST_TEST(json_callee->last()[0].GetInt() == 68);  // not the first (cbor) callee
    BOOST_TEST(cbor_callee->last()[0].GetInt() == 65);
    caller->send(R"([48, 3, {}, "com.p", [1]])");  // plaintext: the policy decides
    BOOST_TEST(cbor_callee->last()[0].GetInt() == 68);
}

BOOST_FIXTURE_TEST_CASE(translate_requires_an_explicit_payload_serializer, TranslateFixture) {
    auto msgpack_sub = join(hello_all_roles, Serializer::msgpack);
    auto pub = join();
    subscribe(*msgpack_sub, "com.t");
    pub->send(R"([16, 2, {"acknowledge": true, "enc_algo": "cryptobox", "enc_serializer": "json"}, "com.t", )" +
              payload + "]");
    BOOST_TEST(pub->last()[0].GetInt() == 17);
    BOOST_TEST(msgpack_sub->last()[0].GetInt() == 36);
    pub->send(R"([16, 3, {"acknowledge": true, "enc_algo": "cryptobox"}, "com.t", )" + payload + "]");
    BOOST_TEST(pub->last_error_uri() == "blindrouter.error.serializer_mismatch");
}

BOOST_AUTO_TEST_CASE(config_keys_are_checked) {
    auto bad = config::load_node_config(R"({"version": 2, "workers": [{"type": "router",
        "realms": [{"name": "realm1", "payload_transparency": {"serializer_mismatch": "maybe", "x": 1},
          "roles": [{"name": "r", "permissions": [{"uri": "", "match": "prefix", "require_encryption": "yes"}]}]}]}]})",
                                        plugin_extensions());
    BOOST_REQUIRE(bad.ok());
    hooks::HookChain chain;
    plugin::install(chain);
    auto faults = chain.check_config(hooks::config_view(bad.config));
    BOOST_REQUIRE_EQUAL(faults.size(), 3u);
    BOOST_TEST(faults[0] == "workers[0].realms[0].payload_transparency.serializer_mismatch: must be \"reject\" or \"translate\"");
    BOOST_TEST(faults[1] == "workers[0].realms[0].payload_transparency: encountered unknown attribute 'x'");
    BOOST_TEST(faults[2] == "workers[0].realms[0].roles[0].permissions[0].require_encryption: must be a bool");
    // Without the plugin's keys registered, the core warns them as unknown (Crossbar
    // does not check a realm's keys).
    auto unregistered = config::load_node_config(R"({"version": 2, "workers": [{"type": "router",
        "realms": [{"name": "realm1", "payload_transparency": {}}]}]})");
    BOOST_TEST(unregistered.config.warnings.at(0) ==
               "workers[0].realms[0].payload_transparency: unknown attribute in realm configuration, which Crossbar.io "
               "does not check; ignored");
}

BOOST_AUTO_TEST_SUITE_END()
