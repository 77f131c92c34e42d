#include "blindrouter/cluster/cluster_config.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <openssl/sha.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace blindrouter::cluster {
namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error("cluster settings: " + what); }

std::vector<std::string> strings(const rapidjson::Value& doc, const char* key, std::size_t most) {
    auto it = doc.FindMember(key);
    if (it == doc.MemberEnd()) fail(std::string("\"") + key + "\" is missing");
    if (!it->value.IsArray() || it->value.Empty()) fail(std::string("\"") + key + "\" must be a non-empty list");
    if (it->value.Size() > most) fail(std::string("\"") + key + "\" lists more than " + std::to_string(most));
    std::vector<std::string> out;
    for (const auto& item : it->value.GetArray()) {
        if (!item.IsString() || item.GetStringLength() == 0)
            fail(std::string("\"") + key + "\" must hold non-empty strings");
        out.emplace_back(item.GetString(), item.GetStringLength());
    }
    return out;
}

void number(const rapidjson::Value& doc, const char* key, std::size_t& into, std::size_t least) {
    auto it = doc.FindMember(key);
    if (it == doc.MemberEnd()) return;
    if (!it->value.IsUint64() || it->value.GetUint64() < least)
        fail(std::string("\"") + key + "\" must be an integer of at least " + std::to_string(least));
    into = static_cast<std::size_t>(it->value.GetUint64());
}

}  // namespace

ClusterConfig parse_cluster_config(const std::string& json_text) {
    rapidjson::Document doc;
    doc.Parse(json_text.c_str(), json_text.size());
    if (doc.HasParseError())
        fail(std::string("not JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()) + " at offset " +
             std::to_string(doc.GetErrorOffset()));
    if (!doc.IsObject()) fail("must be a JSON object");
    static constexpr const char* known[] = {"nats", "realms", "header_budget", "max_inbound_messages",
                                            "max_inbound_bytes", "flush_timeout_ms", "sync_timeout_ms",
                                            "heartbeat_interval_ms",
                                            "heartbeat_misses", "kv_replicas", "kv_max_bytes",
                                            "retained_max_bytes", "max_retained_per_subscribe",
                                            "max_pending_remote_calls", "max_remote_callers",
                                            "meta_gather_timeout_ms", "max_pending_meta_gathers"};
    for (const auto& member : doc.GetObject()) {
        std::string_view key(member.name.GetString(), member.name.GetStringLength());
        bool found = false;
        for (const char* k : known) found |= key == k;
        if (!found) fail("unknown key \"" + std::string(key) + "\"");
    }
    ClusterConfig config;
    config.nats = strings(doc, "nats", 16);
    config.realms = strings(doc, "realms", 1024);
    number(doc, "header_budget", config.header_budget, 1024);
    number(doc, "max_inbound_messages", config.max_inbound_messages, 1);
    number(doc, "max_inbound_bytes", config.max_inbound_bytes, 1024);
    number(doc, "flush_timeout_ms", config.flush_timeout_ms, 1);
    number(doc, "sync_timeout_ms", config.sync_timeout_ms, 1);
    number(doc, "heartbeat_interval_ms", config.heartbeat_interval_ms, 50);
    number(doc, "heartbeat_misses", config.heartbeat_misses, 2);
    number(doc, "kv_replicas", config.kv_replicas, 1);
    number(doc, "kv_max_bytes", config.kv_max_bytes, 1024);
    number(doc, "retained_max_bytes", config.retained_max_bytes, 1024);
    number(doc, "max_retained_per_subscribe", config.max_retained_per_subscribe, 1);
    if (config.kv_replicas == 0) config.kv_replicas = std::min<std::size_t>(config.nats.size(), 3);
    if (config.kv_replicas > 5) fail("\"kv_replicas\" must be at most 5 (JetStream's limit)");
    number(doc, "max_pending_remote_calls", config.max_pending_remote_calls, 1);
    number(doc, "max_remote_callers", config.max_remote_callers, 1);
    number(doc, "meta_gather_timeout_ms", config.meta_gather_timeout_ms, 1);
    number(doc, "max_pending_meta_gathers", config.max_pending_meta_gathers, 1);
    return config;
}

ClusterConfig load_cluster_config(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail("cannot read " + path.string());
    std::ostringstream text;
    text << in.rdbuf();
    return parse_cluster_config(text.str());
}

std::string url_for_log(std::string_view url) {
    auto scheme = url.find("://");
    auto authority = scheme == std::string_view::npos ? 0 : scheme + 3;
    auto end = url.find('/', authority);
    auto at = url.rfind('@', end == std::string_view::npos ? url.size() : end);
    if (at == std::string_view::npos || at < authority) return std::string(url);
    return std::string(url.substr(0, authority)) + std::string(url.substr(at + 1));
}

std::string cluster_config_hash(const ClusterConfig& cluster, const config::NodeConfig& node) {
    // Fields joined with separators no config string can blur: each string is
    // length-prefixed.
    std::string text;
    auto put = [&text](std::string_view field) {
        text += std::to_string(field.size());
        text += ':';
        text += field;
    };
    auto put_number = [&put](std::uint64_t n) { put(std::to_string(n)); };
    for (const auto& name : cluster.realms)
        for (const auto& realm : node.realms) {
            if (realm.name != name) continue;
            put(realm.name);
            const auto& limits = realm.limits;
            for (auto n : {limits.max_sessions, limits.max_subscriptions_per_session, limits.max_registrations_per_session,
                           limits.max_pending_calls_per_caller, limits.max_pending_invocations_per_callee})
                put_number(n);
            const auto& store = realm.store;
            for (auto n : {std::size_t{store.configured}, store.limit, store.max_retained_events,
                           store.max_retained_bytes, store.max_history_bytes, store.max_testaments_per_session})
                put_number(n);
            for (const auto& topic : store.event_history) {
                put(topic.uri);
                put(wamp::match_name(topic.match));
                put_number(topic.limit);
            }
            for (const auto& role : realm.roles) {
                put(role.name);
                put(role.authorizer ? role.authorizer->procedure : "-");
                put_number(role.has_permissions * 2 + role.allow_by_default);
                for (const auto& permission : role.permissions) {
                    put(permission.uri);
                    put(wamp::match_name(permission.match));
                    put_number(permission.allow_call | permission.allow_register << 1 | permission.allow_publish << 2 |
                               permission.allow_subscribe << 3 | permission.disclose_caller << 4 |
                               permission.disclose_publisher << 5);
                }
            }
        }
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < 8; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 15];
    }
    return out;
}

void check_cluster_realms(const ClusterConfig& cluster, const config::NodeConfig& node) {
    for (const auto& name : cluster.realms) {
        bool found = false;
        for (const auto& realm : node.realms) found |= realm.name == name;
        if (!found) fail("realm \"" + name + "\" is not in the node configuration");
    }
}

}  // namespace blindrouter::cluster
