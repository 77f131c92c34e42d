// The cluster settings file (--cluster FILE).
#include <boost/test/unit_test.hpp>
#include <stdexcept>

#include "blindrouter/cluster/cluster_config.hpp"

using namespace blindrouter::cluster;

namespace {
std::string fault_of(const std::string& text) {
    try {
        parse_cluster_config(text);
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "";
}
}  // namespace

BOOST_AUTO_TEST_SUITE(cluster_config)

BOOST_AUTO_TEST_CASE(urls_realms_and_documented_defaults) {
    auto config = parse_cluster_config(R"({"nats": ["nats://127.0.0.1:1", "nats://127.0.0.1:2"], "realms": ["realm1"]})");
    BOOST_TEST(config.nats.size() == 2u);
    BOOST_TEST(config.realms.at(0) == "realm1");
    BOOST_TEST(config.header_budget == 4096u);
    BOOST_TEST(config.max_inbound_messages == 65536u);
    BOOST_TEST(config.max_inbound_bytes == 64u * 1024 * 1024);
    BOOST_TEST(config.flush_timeout_ms == 1000u);
    BOOST_TEST(config.sync_timeout_ms == 250u);
    auto tuned = parse_cluster_config(R"({"nats": ["n"], "realms": ["r"], "header_budget": 8192,
        "max_inbound_messages": 10, "max_inbound_bytes": 2048, "flush_timeout_ms": 50, "sync_timeout_ms": 40})");
    BOOST_TEST(tuned.header_budget == 8192u);
    BOOST_TEST(tuned.max_inbound_messages == 10u);
    BOOST_TEST(tuned.max_inbound_bytes == 2048u);
    BOOST_TEST(tuned.flush_timeout_ms == 50u);
    BOOST_TEST(tuned.sync_timeout_ms == 40u);
}

BOOST_AUTO_TEST_CASE(liveness_and_testament_store_settings) {
    auto config = parse_cluster_config(R"({"nats": ["a", "b", "c", "d"], "realms": ["r"]})");
    BOOST_TEST(config.heartbeat_interval_ms == 1000u);
    BOOST_TEST(config.heartbeat_misses == 3u);
    BOOST_TEST(config.kv_replicas == 3u);  // one per listed server, up to 3
    BOOST_TEST(config.kv_max_bytes == 64u * 1024 * 1024);
    BOOST_TEST(parse_cluster_config(R"({"nats": ["a"], "realms": ["r"]})").kv_replicas == 1u);
    auto tuned = parse_cluster_config(R"({"nats": ["a"], "realms": ["r"], "heartbeat_interval_ms": 200,
        "heartbeat_misses": 5, "kv_replicas": 2, "kv_max_bytes": 4096})");
    BOOST_TEST(tuned.heartbeat_interval_ms == 200u);
    BOOST_TEST(tuned.heartbeat_misses == 5u);
    BOOST_TEST(tuned.kv_replicas == 2u);
    BOOST_TEST(tuned.kv_max_bytes == 4096u);
    BOOST_TEST(fault_of(R"({"nats": ["n"], "realms": ["r"], "heartbeat_misses": 1})") ==
               "cluster settings: \"heartbeat_misses\" must be an integer of at least 2");
    BOOST_TEST(fault_of(R"({"nats": ["n"], "realms": ["r"], "kv_replicas": 6})") ==
               "cluster settings: \"kv_replicas\" must be at most 5 (JetStream's limit)");
}

BOOST_AUTO_TEST_CASE(the_config_hash_follows_permissions_of_clustered_realms_only) {
    blindrouter::config::NodeConfig node;
    auto& realm = node.realms.emplace_back();
    realm.name = "realm1";
    auto& role = realm.roles.emplace_back();
    role.name = "user";
    role.permissions.emplace_back().uri = "com.";
    node.realms.emplace_back().name = "local";
    auto cluster = parse_cluster_config(R"({"nats": ["n"], "realms": ["realm1"]})");
    auto hash = cluster_config_hash(cluster, node);
    BOOST_TEST(hash.size() == 16u);
    node.realms[1].roles.emplace_back().name = "other";  // a realm that is not clustered
    BOOST_TEST(cluster_config_hash(cluster, node) == hash);
    node.realms[0].roles[0].permissions[0].allow_publish = true;
    BOOST_TEST(cluster_config_hash(cluster, node) != hash);
}

BOOST_AUTO_TEST_CASE(retained_event_store_settings) {
    auto config = parse_cluster_config(R"({"nats": ["a"], "realms": ["r"]})");
    BOOST_TEST(config.retained_max_bytes == 64u * 1024 * 1024);
    BOOST_TEST(config.max_retained_per_subscribe == 1000u);
    auto tuned = parse_cluster_config(
        R"({"nats": ["a"], "realms": ["r"], "retained_max_bytes": 2048, "max_retained_per_subscribe": 5})");
    BOOST_TEST(tuned.retained_max_bytes == 2048u);
    BOOST_TEST(tuned.max_retained_per_subscribe == 5u);
    BOOST_TEST(fault_of(R"({"nats": ["n"], "realms": ["r"], "max_retained_per_subscribe": 0})") ==
               "cluster settings: \"max_retained_per_subscribe\" must be an integer of at least 1");
    BOOST_TEST(fault_of(R"({"nats": ["n"], "realms": ["r"], "retained_max_bytes": 10})") ==
               "cluster settings: \"retained_max_bytes\" must be an integer of at least 1024");
}

BOOST_AUTO_TEST_CASE(faults_are_named) {
    BOOST_TEST(fault_of("[") .starts_with("cluster settings: not JSON"));
    BOOST_TEST(fault_of(R"({"realms": ["r"]})") == "cluster settings: \"nats\" is missing");
    BOOST_TEST(fault_of(R"({"nats": [], "realms": ["r"]})") == "cluster settings: \"nats\" must be a non-empty list");
    BOOST_TEST(fault_of(R"({"nats": ["n"], "realms": [""]})") == "cluster settings: \"realms\" must hold non-empty strings");
    BOOST_TEST(fault_of(R"({"nats": ["n"], "realms": ["r"], "rlinks": 1})") == "cluster settings: unknown key \"rlinks\"");
    BOOST_TEST(fault_of(R"({"nats": ["n"], "realms": ["r"], "header_budget": 10})") ==
               "cluster settings: \"header_budget\" must be an integer of at least 1024");
}

BOOST_AUTO_TEST_CASE(clustered_realms_must_be_configured) {
    blindrouter::config::NodeConfig node;
    node.realms.emplace_back().name = "realm1";
    auto cluster = parse_cluster_config(R"({"nats": ["n"], "realms": ["realm1", "realm2"]})");
    BOOST_CHECK_EXCEPTION(check_cluster_realms(cluster, node), std::runtime_error, [](const std::runtime_error& e) {
        return std::string(e.what()) == "cluster settings: realm \"realm2\" is not in the node configuration";
    });
    node.realms.emplace_back().name = "realm2";
    BOOST_CHECK_NO_THROW(check_cluster_realms(cluster, node));
}

BOOST_AUTO_TEST_CASE(urls_are_logged_without_credentials) {
    BOOST_TEST(url_for_log("nats://user:s3cret@10.0.0.1:4222") == "nats://10.0.0.1:4222");
    BOOST_TEST(url_for_log("nats://t0ken@host:4222/") == "nats://host:4222/");
    BOOST_TEST(url_for_log("tls://host:4222") == "tls://host:4222");
    BOOST_TEST(url_for_log("user:pw@host") == "host");
}

BOOST_AUTO_TEST_SUITE_END()
