#include "payload_transparency.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <optional>

#include "blindrouter/wamp/error_uri.hpp"
#include "blindrouter/wamp/log_text.hpp"

namespace blindrouter::plugin {
using wamp::MessageType;
using wamp::Value;

namespace {

enum class Form : unsigned char { none, legacy, spec };

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
bool is_legacy_key(std::string_view key) { return starts_with(key, "enc_"); }
bool is_spec_key(std::string_view key) { return starts_with(key, "ppt_"); }

// A value from a fixed list, or an "x_<name>" extension (E2E.md §1).
bool one_of(std::string_view value, std::initializer_list<std::string_view> allowed) {
    if (starts_with(value, "x_") && value.size() > 2) return true;
    for (auto a : allowed)
        if (a == value) return true;
    return false;
}

struct PayloadInfo {
    Form form = Form::none;
    bool has_payload = false;
    bool legacy_keys = false, spec_keys = false;  // which kinds of keys the options hold
};

// Reads the form in one pass over the options; nothing here looks at payload bytes.
PayloadInfo payload_info(const wamp::Carrier& m) {
    PayloadInfo info;
    for (const auto& [key, value] : m.options()) {
        if (is_legacy_key(key)) info.form = Form::legacy, info.legacy_keys = true;
        else if (is_spec_key(key)) info.form = Form::spec, info.spec_keys = true;
    }
    bool bare_binary = m.arguments() && m.arguments()->kind() == wamp::ElementKind::binary;
    // Crossbar forwards a binary element in place of Arguments as a payload even without enc_algo.
    if (info.form == Form::none && bare_binary) info.form = Form::legacy;
    info.has_payload = info.form != Form::none && m.arguments().has_value();
    return info;
}

// The form and whether there is a payload, as the note inbound() leaves on a message
// (hooks::MessageNote): the forwarded details and the outbound verdicts of one
// message read its options once.
hooks::MessageNote note_of(const PayloadInfo& info) {
    return 1u | static_cast<hooks::MessageNote>(info.form) << 1 | (info.has_payload ? 8u : 0u);
}
PayloadInfo noted_info(const wamp::Carrier& m, hooks::MessageNote note) {
    if (note == 0) return payload_info(m);
    PayloadInfo info;
    info.form = static_cast<Form>(note >> 1 & 3u);
    info.has_payload = (note & 8u) != 0;
    return info;
}

// The explicit enc_serializer / ppt_serializer (not "native"); nullptr when none.
const std::string* payload_serializer(const wamp::Carrier& m, Form form) {
    const auto* declared = wamp::find(m.options(), form == Form::spec ? "ppt_serializer" : "enc_serializer");
    const auto* name = declared ? declared->as_string() : nullptr;
    return name && *name != "native" ? name : nullptr;
}

// "'key' <problem>", built with append: GCC 12 warns falsely (-Wrestrict) on chained operator+ here.
std::string option_problem(std::string_view key, std::string_view problem) {
    std::string text;
    text.append("'").append(key).append("' ").append(problem);
    return text;
}

std::optional<std::string> check_string(const wamp::Dict& options, std::string_view key, bool required,
                                        std::initializer_list<std::string_view> allowed) {
    const auto* v = wamp::find(options, key);
    if (!v) return required ? std::optional<std::string>(option_problem(key, "is required")) : std::nullopt;
    const auto* s = v->as_string();
    if (!s) return option_problem(key, "must be a string");
    if (s->empty()) return option_problem(key, "must not be empty");
    if (allowed.size() > 0 && !one_of(*s, allowed)) return option_problem(key, "has an unknown value");
    return std::nullopt;
}

// E2E.md §1: malformed options of either form are refused with invalid_argument.
std::optional<std::string> malformed(const wamp::Carrier& m, const PayloadInfo& info) {
    const auto& options = m.options();
    auto form = info.form;
    if (info.legacy_keys && info.spec_keys) return "enc_* and ppt_* options mixed in one message";
    if (form == Form::legacy && info.legacy_keys) {
        for (const auto& [key, value] : options)
            if (is_legacy_key(key) && key != "enc_algo" && key != "enc_key" && key != "enc_serializer")
                return "unknown option '" + key + "'";
        if (auto p = check_string(options, "enc_algo", true, {"cryptobox", "mqtt", "xbr"})) return p;
        if (auto p = check_string(options, "enc_key", false, {})) return p;
        if (auto p = check_string(options, "enc_serializer", false, {"json", "msgpack", "cbor", "ubjson", "flatbuffers"}))
            return p;
        if (m.arguments() && m.arguments()->kind() != wamp::ElementKind::binary)
            return "enc_algo is set but Arguments is not one binary payload";
    }
    if (form == Form::spec) {
        for (const auto& [key, value] : options)
            if (is_spec_key(key) && key != "ppt_scheme" && key != "ppt_serializer" && key != "ppt_cipher" &&
                key != "ppt_keyid")
                return "unknown option '" + key + "'";
        if (auto p = check_string(options, "ppt_scheme", true, {"wamp", "mqtt"})) return p;
        if (auto p = check_string(options, "ppt_serializer", false, {"native", "json", "msgpack", "cbor", "flatbuffers"}))
            return p;
        if (auto p = check_string(options, "ppt_cipher", false, {"xsalsa20poly1305", "aes256gcm"})) return p;
        if (auto p = check_string(options, "ppt_keyid", false, {})) return p;
        // The spec: scheme "wamp" is end-to-end encryption with a cbor or flatbuffers payload.
        if (*wamp::find(options, "ppt_scheme")->as_string() == "wamp") {
            const auto* serializer = wamp::find(options, "ppt_serializer");
            if (!serializer || (*serializer->as_string() != "cbor" && *serializer->as_string() != "flatbuffers"))
                return "ppt_scheme 'wamp' requires ppt_serializer 'cbor' or 'flatbuffers'";
            if (!wamp::find(options, "ppt_cipher")) return "ppt_scheme 'wamp' requires ppt_cipher";
        }
        if (m.arguments() && !m.arguments()->is_single_binary_list())
            return "Payload PassThru Mode requires Arguments to be a list of exactly one binary item";
        if (m.arguments_kw() && !m.arguments_kw()->is_empty_dict())
            return "Payload PassThru Mode forbids ArgumentsKw";
    }
    return std::nullopt;
}

// The client role whose HELLO must announce payload_passthru_mode to send `type`.
std::string_view sending_role(MessageType type) {
    switch (type) {
        case MessageType::publish: return "publisher";
        case MessageType::call: return "caller";
        default: return "callee";
    }
}

std::string mismatch_mode(const wamp::Dict& realm_options) {
    const auto* pt = wamp::find(realm_options, "payload_transparency");
    const auto* dict = pt ? pt->as_dict() : nullptr;
    const auto* mode = dict ? wamp::find(*dict, "serializer_mismatch") : nullptr;
    return mode && mode->as_string() ? *mode->as_string() : "reject";
}

}  // namespace

hooks::ConfigKeys PayloadTransparency::config_keys() const { return {{"payload_transparency"}, {"require_encryption"}}; }

std::vector<std::string> PayloadTransparency::check_config(const hooks::ConfigView& config) const {
    std::vector<std::string> faults;
    for (const auto& realm : config.realms) {
        const auto* pt = wamp::find(*realm.options, "payload_transparency");
        if (!pt) continue;
        auto path = realm.json_path + ".payload_transparency";
        const auto* dict = pt->as_dict();
        if (!dict) {
            faults.push_back(path + ": must be a dict");
            continue;
        }
        for (const auto& [key, value] : *dict) {
            if (key != "serializer_mismatch") {
                faults.push_back(path + ": encountered unknown attribute '" + key + "'");
            } else if (!value.as_string() || (*value.as_string() != "reject" && *value.as_string() != "translate")) {
                faults.push_back(path + ".serializer_mismatch: must be \"reject\" or \"translate\"");
            }
        }
    }
    for (const auto& permission : config.permissions)
        if (const auto* required = wamp::find(*permission.options, "require_encryption");
            required && !required->as_bool())
            faults.push_back(permission.json_path + ".require_encryption: must be a bool");
    return faults;
}

hooks::Verdict PayloadTransparency::inbound(const hooks::InboundContext& context, const wamp::Carrier& m) {
    auto info = payload_info(m);
    if (context.note) *context.note = note_of(info);

    if (auto problem = malformed(m, info)) {
        if (auto held_back = malformed_log_.admit())
            spdlog::info("session {}: malformed payload options on {} \"{}\": {}{}", context.sender.session_id,
                         wamp::message_name(m.type()), wamp::log_text(context.uri), wamp::log_text(*problem),
                         wamp::suppressed_note(*held_back));
        return hooks::Verdict::error(std::string(wamp::error_uri::invalid_argument), *problem);
    }
    // The spec: Payload PassThru Mode from a session that did not announce it.
    if (info.form == Form::spec && !context.sender.announces(sending_role(m.type()), "payload_passthru_mode"))
        return hooks::Verdict::abort(std::string(wamp::error_uri::protocol_violation),
                                     std::string(wamp::message_name(m.type())) +
                                         " in Payload PassThru Mode without announcing payload_passthru_mode for role " +
                                         std::string(sending_role(m.type())));

    bool has_arguments = m.carries_arguments();
    const auto* required = context.permission_options ? wamp::find(*context.permission_options, "require_encryption")
                                                      : nullptr;
    if (has_arguments && !info.has_payload && required && required->as_bool() && *required->as_bool()) {
        if (auto held_back = plaintext_log_.admit())
            spdlog::warn("session {}: plaintext {} on \"{}\" refused: encryption required{}", context.sender.session_id,
                         wamp::message_name(m.type()), wamp::log_text(context.uri), wamp::suppressed_note(*held_back));
        return hooks::Verdict::error(std::string(error_uri::encryption_required),
                                     "this URI requires an end-to-end encrypted payload");
    }
    return hooks::Verdict::pass();
}

hooks::Verdict PayloadTransparency::outbound(const hooks::OutboundContext& context) {
    auto info = noted_info(context.inbound, context.note);
    if (!info.has_payload) return hooks::Verdict::pass();

    auto sender_serializer = context.sender_serializer;
    auto receiver_serializer = context.receiver_serializer;
    if (sender_serializer != receiver_serializer) {
        // E2E.md §3: re-framing for another serializer is allowed only under "translate"
        // and only when the payload names its own serializer; otherwise the receiver
        // would decode the payload with the wrong serializer.
        const auto* declared = payload_serializer(context.inbound, info.form);
        bool translate = mismatch_mode(context.realm_options) == "translate" && declared;
        if (!translate) {
            wamp::Dict kwargs{
                {"sender_serializer", Value{std::string(wamp::serializer_name(sender_serializer))}},
                {"receiver_serializer", Value{std::string(wamp::serializer_name(receiver_serializer))}},
                {"payload_serializer",
                 Value{declared ? *declared : std::string(wamp::serializer_name(sender_serializer))}},
            };
            return hooks::Verdict::error(std::string(error_uri::serializer_mismatch),
                                         "the receiver's serializer differs from the sender's; an encrypted payload "
                                         "cannot be re-encoded",
                                         std::move(kwargs));
        }
    }
    if (info.form == Form::spec) {
        // The spec: a callee (for INVOCATION) or caller (for RESULT) that did not
        // announce Payload PassThru Mode cannot take it.
        if (context.outgoing == MessageType::invocation && !context.receiver_announces)
            return hooks::Verdict::error(std::string(wamp::error_uri::feature_not_supported),
                                         "the callee did not announce payload_passthru_mode");
        if ((context.outgoing == MessageType::result || context.outgoing == MessageType::error) &&
            !context.receiver_announces)
            return hooks::Verdict::error(std::string(wamp::error_uri::feature_not_supported),
                                         "the caller did not announce payload_passthru_mode");
    }
    return hooks::Verdict::pass();
}

void PayloadTransparency::publication_refused(const wamp::Carrier&, std::size_t delivered, std::size_t skipped,
                                              hooks::Verdict& answer) const {
    // E2E.md §3: an acknowledged publish that skipped receivers is answered by the
    // refusal with the counts, instead of PUBLISHED.
    wamp::set(answer.kwargs, "delivered", Value{static_cast<std::uint64_t>(delivered)});
    wamp::set(answer.kwargs, "skipped", Value{static_cast<std::uint64_t>(skipped)});
}

void PayloadTransparency::forward_details(const wamp::Carrier& inbound, hooks::MessageNote note,
                                          wamp::Dict& outgoing_details) const {
    auto info = noted_info(inbound, note);
    // E2E.md §2: without a payload the keys are dropped, as Crossbar does.
    if (!info.has_payload) return;
    for (const auto& [key, value] : inbound.options())
        if (is_legacy_key(key) || is_spec_key(key)) wamp::set(outgoing_details, key, value);
}

void PayloadTransparency::announce_features(wamp::Dict& broker_features, wamp::Dict& dealer_features) const {
    for (auto* features : {&broker_features, &dealer_features})
        for (auto name : {"payload_passthru_mode", "payload_transparency", "payload_encryption_cryptobox"})
            wamp::set(*features, name, Value{true});
}

}  // namespace blindrouter::plugin
