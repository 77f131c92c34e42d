#include "blindrouter/cluster/cluster_config.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

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
                                            "max_inbound_bytes", "flush_timeout_ms", "max_pending_remote_calls",
                                            "max_remote_callers"};
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
    number(doc, "max_pending_remote_calls", config.max_pending_remote_calls, 1);
    number(doc, "max_remote_callers", config.max_remote_callers, 1);
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

void check_cluster_realms(const ClusterConfig& cluster, const config::NodeConfig& node) {
    for (const auto& name : cluster.realms) {
        bool found = false;
        for (const auto& realm : node.realms) found |= realm.name == name;
        if (!found) fail("realm \"" + name + "\" is not in the node configuration");
    }
}

}  // namespace blindrouter::cluster
