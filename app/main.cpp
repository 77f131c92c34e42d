// blindrouter command line: `start`, `check` and `version`, shaped like Crossbar.io's.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <sys/resource.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>

#include "blindrouter/auth/cryptosign.hpp"
#include "blindrouter/config/node_config_loader.hpp"
#include "blindrouter/core/router.hpp"
#include "blindrouter/hooks/config_view.hpp"
#include "blindrouter/net/asio_timers.hpp"
#include "blindrouter/net/listener.hpp"
#include "blindrouter/version.hpp"
#include "plugin/install.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;
using namespace blindrouter;

namespace {

struct Options {
    std::string command;
    fs::path cbdir;
    std::optional<fs::path> config;
    std::string loglevel = "info";
};

fs::path config_path(const Options& options) {
    return config::node_config_path(options.cbdir, options.config);
}

std::optional<spdlog::level::level_enum> parse_level(const std::string& level) {
    static const std::map<std::string, spdlog::level::level_enum> levels{
        {"none", spdlog::level::off},   {"critical", spdlog::level::critical}, {"error", spdlog::level::err},
        {"warn", spdlog::level::warn},  {"info", spdlog::level::info},         {"debug", spdlog::level::debug},
        {"trace", spdlog::level::trace},
    };
    auto it = levels.find(level);
    if (it == levels.end()) return std::nullopt;
    return it->second;
}

config::LoadResult load(const Options& options, const hooks::HookChain& hooks) {
    auto path = config_path(options);
    auto result = config::load_node_config_file(path, hooks::config_extensions(hooks));
    if (result.ok())
        for (auto& fault : hooks.check_config(hooks::config_view(result.config))) result.faults.push_back(std::move(fault));
    for (auto& fault : result.faults) fault = path.string() + ": " + fault;
    return result;
}

int check(const Options& options) {
    hooks::HookChain hooks;
    plugin::install(hooks);
    auto result = load(options, hooks);
    for (const auto& warning : result.config.warnings) std::cout << "Warning: " << warning << "\n";
    if (!result.ok()) {
        for (const auto& fault : result.faults) std::cerr << "Error: " << fault << "\n";
        return 1;
    }
    std::cout << "Ok, node configuration looks good!\n";
    return 0;
}

// Every session holds a socket: take the hard file descriptor limit, not the
// (often 1024) soft one, so that a router with many clients does not refuse them.
void raise_file_descriptor_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
    auto before = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) == 0)
        spdlog::debug("file descriptor limit raised from {} to {}", before, limit.rlim_cur);
}

int start(const Options& options) {
    hooks::HookChain hooks;
    plugin::install(hooks);
    auto result = load(options, hooks);
    if (!result.ok()) {
        spdlog::critical("Invalid node configuration");
        for (const auto& fault : result.faults) spdlog::critical("{}", fault);
        return 1;
    }
    const auto& node = result.config;
    for (const auto& warning : node.warnings) spdlog::warn("config: {}", warning);

    raise_file_descriptor_limit();

    boost::asio::io_context io(1);
    net::AsioTimers timers(io);
    core::Router router(node, hooks, &timers);
    // Like Crossbar, the node key lives in the node directory and is created on first
    // use; only a node that serves cryptosign needs it.
    auto cryptosign = [](const config::TransportAuth& auth) {
        return auth.cryptosign.has_value() || auth.dynamic.count("cryptosign") != 0;
    };
    bool serves_cryptosign = false;
    for (const auto& transport : node.transports)
        for (const auto& service : transport.websocket) serves_cryptosign |= cryptosign(service.auth);
    for (const auto& transport : node.transports)
        if (transport.rawsocket) serves_cryptosign |= cryptosign(transport.rawsocket->auth);
    if (serves_cryptosign) {
        try {
            router.set_node_key(auth::NodeKey::load_or_create(config_path(options).parent_path()));
        } catch (const std::exception& e) {
            spdlog::critical("node key: {}", e.what());
            return 1;
        }
    }

    auto node_directory = config_path(options).parent_path();
    std::vector<std::unique_ptr<net::Listener>> listeners;
    auto connections = std::make_shared<net::ConnectionCount>(node.max_connections);
    for (const auto& transport : node.transports) {
        auto listener = std::make_unique<net::Listener>(io, router, transport, node_directory, connections);
        if (auto error = listener->listen(); !error.empty()) {
            spdlog::critical("transport {}: {}", transport.id, error);
            return 1;
        }
        spdlog::info("listening: {}", listener->describe());
        listeners.push_back(std::move(listener));
    }
    for (const auto& realm : node.realms) spdlog::info("realm \"{}\" started", realm.name);

    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    boost::asio::steady_timer drain(io);
    auto deadline = std::chrono::steady_clock::now();
    std::function<void()> wait_for_sessions = [&] {
        if (router.session_count() == 0 || std::chrono::steady_clock::now() >= deadline) return io.stop();
        drain.expires_after(std::chrono::milliseconds(20));
        drain.async_wait([&](boost::system::error_code) { wait_for_sessions(); });
    };
    signals.async_wait([&](boost::system::error_code ec, int signal) {
        if (ec) return;
        spdlog::info("received signal {}, shutting down", signal);
        // What each realm still holds: the soak test (tests/e2e/test_soak.py) reads
        // the pending invocations here, which the meta API does not show.
        for (const auto& realm_config : node.realms) {
            const core::Realm* realm = router.find_realm(realm_config.name);
            if (realm == nullptr) continue;
            spdlog::info(
                "realm \"{}\" at shutdown: {} sessions (the router's own included), {} subscriptions, {} "
                "registrations, {} pending invocations, {} sessions with calls on record",
                realm->name(), realm->session_count(), realm->broker().subscription_count(),
                realm->dealer().registration_count(), realm->dealer().pending_invocation_count(),
                realm->dealer().sessions_with_load());
        }
        for (auto& listener : listeners) listener->stop();
        router.shut_down();
        // Give clients a moment to answer GOODBYE before the process ends.
        deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        wait_for_sessions();
    });

    spdlog::info("blindrouter {} started", version);
    io.run();
    spdlog::info("blindrouter stopped");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    po::options_description described("Options");
    described.add_options()("help,h", "show this help")(
        "cbdir", po::value<fs::path>()->default_value(".crossbar"), "node directory (holds config.yaml or config.json)")(
        "config", po::value<fs::path>(), "configuration file, relative to --cbdir unless absolute")(
        "loglevel", po::value<std::string>()->default_value("info"),
        "none, critical, error, warn, info, debug or trace");
    po::options_description hidden;
    hidden.add_options()("command", po::value<std::string>());
    po::positional_options_description positional;
    positional.add("command", 1);
    po::options_description all;
    all.add(described).add(hidden);

    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "blindrouter: " << e.what() << "\n";
        return 2;
    }
    auto usage = [&](std::ostream& out) {
        out << "usage: blindrouter {start|check|version} [options]\n\n"
               "  start    run the router on the node directory's configuration\n"
               "  check    check the configuration and exit\n"
               "  version  print the version and exit\n\n"
            << described;
    };
    if (vm.count("help")) {
        usage(std::cout);
        return 0;
    }
    if (!vm.count("command")) {
        usage(std::cerr);
        return 2;
    }
    options.command = vm["command"].as<std::string>();
    options.cbdir = vm["cbdir"].as<fs::path>();
    if (vm.count("config")) options.config = vm["config"].as<fs::path>();
    options.loglevel = vm["loglevel"].as<std::string>();

    auto level = parse_level(options.loglevel);
    if (!level) {
        std::cerr << "blindrouter: invalid --loglevel '" << options.loglevel << "'\n";
        return 2;
    }
    auto logger = spdlog::stderr_color_mt("blindrouter");
    spdlog::set_default_logger(logger);
    spdlog::set_level(*level);
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %v");

    if (options.command == "version") {
        std::cout << "blindrouter " << version << "\n";
        return 0;
    }
    if (options.command == "check") return check(options);
    if (options.command == "start") return start(options);
    std::cerr << "blindrouter: unknown command '" << options.command << "'\n";
    usage(std::cerr);
    return 2;
}
