// blindrouter command line, shaped like Crossbar.io's (crossbar/node/main.py): `init`,
// `start`, `stop`, `status`, `check` and `version`, with Crossbar's options and exit codes.
#include <spdlog/spdlog.h>
#include <openssl/crypto.h>
#include <sodium/core.h>
#include <sodium/version.h>
#include <sys/utsname.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/version.hpp>
#include <sys/resource.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "blindrouter/auth/cryptosign.hpp"
#include "blindrouter/cluster/cluster_node.hpp"
#include "blindrouter/config/node_config_loader.hpp"
#include "blindrouter/core/router.hpp"
#include "blindrouter/hooks/config_view.hpp"
#include "blindrouter/net/asio_timers.hpp"
#include "blindrouter/net/listener.hpp"
#include "blindrouter/net/metrics_server.hpp"
#include "blindrouter/version.hpp"
#include "log_setup.hpp"
#include "node_directory.hpp"
#include "plugin/install.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;
using namespace blindrouter;

namespace {

// Crossbar's exit code for `stop` with no node running and a failed `status --assert`
// (os.EX_UNAVAILABLE).
constexpr int exit_unavailable = 69;

struct Options {
    std::string command;
    std::vector<std::string> argv;
    fs::path cbdir;
    std::optional<fs::path> config;
    std::optional<fs::path> cluster;  // --cluster: cluster settings (cluster/cluster_config.hpp)
    std::string loglevel = "info";
    std::optional<net::MetricsEndpoint> metrics;  // --metrics
    std::size_t metrics_uri_labels = 0;           // --metrics-uri-labels: most URIs labelled; 0: none
    std::string logformat = "standard";
    std::string color = "auto";
    std::optional<fs::path> logdir;
    bool logtofile = false;
    std::uint64_t logmaxbytes = app::default_log_file_max_bytes;
    std::optional<double> shutdownafter;
    fs::path appdir = ".";
    std::optional<std::string> expected_status;
};

// The node's configuration file, found as Crossbar finds it (config::node_config_path).
fs::path config_path(const Options& options) {
    return config::node_config_path(options.cbdir, options.config);
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
    std::cout << "Checking local node configuration file: " << config_path(options).string() << "\n";
    auto result = load(options, hooks);
    for (const auto& warning : result.config.warnings) std::cout << "Warning: " << warning << "\n";
    if (!result.ok()) {
        for (const auto& fault : result.faults) std::cerr << "Error: " << fault << "\n";
        return 1;
    }
    if (options.cluster) {
        try {
            cluster::check_cluster_realms(cluster::load_cluster_config(*options.cluster), result.config);
        } catch (const std::exception& e) {
            std::cerr << "Error: " << options.cluster->string() << ": " << e.what() << "\n";
            return 1;
        }
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

int run_node(const Options& options) {
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

    // Linked before any client can connect, so that no subscription predates it.
    std::optional<cluster::ClusterNode> cluster_node;
    if (options.cluster) {
        try {
            auto settings = cluster::load_cluster_config(*options.cluster);
            cluster::check_cluster_realms(settings, node);
            settings.config_hash = cluster::cluster_config_hash(settings, node);
            cluster_node.emplace(io, router, std::move(settings));
        } catch (const std::exception& e) {
            spdlog::critical("{}", e.what());
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

    std::optional<net::MetricsServer> metrics;
    if (options.metrics) {
        router.metrics().set_times_calls(true);
        router.metrics().set_uri_label_limit(options.metrics_uri_labels);
        const auto started = std::chrono::steady_clock::now();
        const double started_at =
            std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
        metrics.emplace(io, *options.metrics, [&router, connections, started, started_at] {
            core::ProcessGauges process;
            process.start_time_seconds = started_at;
            process.uptime_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            process.open_connections = connections->open;
            return core::metrics_text(router, process);
        });
        if (auto error = metrics->listen(); !error.empty()) {
            spdlog::critical("{}", error);
            return 1;
        }
        spdlog::info("metrics: {}", metrics->describe());
    }

    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    boost::asio::steady_timer drain(io);
    auto deadline = std::chrono::steady_clock::now();
    std::function<void()> wait_for_sessions = [&] {
        if (router.session_count() == 0 || std::chrono::steady_clock::now() >= deadline) return io.stop();
        drain.expires_after(std::chrono::milliseconds(20));
        drain.async_wait([&](boost::system::error_code) { wait_for_sessions(); });
    };
    bool shutting_down = false;
    auto shut_down = [&](const std::string& why) {
        if (shutting_down) return;
        shutting_down = true;
        signals.cancel();
        spdlog::info("{}, shutting down", why);
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
        if (metrics) metrics->stop();
        router.shut_down();
        // Give clients a moment to answer GOODBYE before the process ends.
        deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        wait_for_sessions();
    };
    signals.async_wait([&](boost::system::error_code ec, int signal) {
        if (!ec) shut_down("received signal " + std::to_string(signal));
    });
    // Crossbar's `start --shutdownafter SECONDS`.
    boost::asio::steady_timer shutdown_after(io);
    if (options.shutdownafter) {
        shutdown_after.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::duration<double>(*options.shutdownafter)));
        shutdown_after.async_wait([&](boost::system::error_code ec) {
            if (!ec) shut_down("--shutdownafter elapsed");
        });
    }

    spdlog::info("blindrouter {} started", version);
    io.run();
    shutdown_after.cancel();
    spdlog::info("blindrouter stopped");
    return 0;
}

// Crossbar's `start`: one node per node directory, told by CBDIR/node.pid.
int start(const Options& options) {
    std::vector<std::string> notes;
    auto running = app::running_node(options.cbdir, notes);
    for (const auto& note : notes) spdlog::info("{}", note);
    if (running) {
        std::cout << "blindrouter is already running from node directory " << options.cbdir.string() << " (PID "
                  << *running << ").\n";
        return 1;
    }
    std::vector<std::pair<std::string, std::string>> recorded{
        {"command", options.command},
        {"cbdir", options.cbdir.string()},
        {"config", config_path(options).string()},
        {"loglevel", options.loglevel},
        {"logformat", options.logformat},
        {"color", options.color},
        {"logdir", options.logdir ? options.logdir->string() : ""},
        {"logtofile", options.logtofile ? "true" : "false"},
    };
    if (auto error = app::write_pid_file(options.cbdir, options.argv, recorded); !error.empty()) {
        spdlog::critical("{}", error);
        return 1;
    }
    // Crossbar leaves the pid file behind when start-up fails (its next start removes
    // it as stale); every exit here removes it.
    struct PidFileRemover {
        const fs::path& cbdir;
        ~PidFileRemover() { app::remove_pid_file(cbdir); }
    } remover{options.cbdir};
    return run_node(options);
}

// Crossbar's `stop`: SIGINT, then SIGTERM, then SIGKILL, 5 seconds apart.
int stop(const Options& options) {
    std::vector<std::string> notes;
    auto running = app::running_node(options.cbdir, notes);
    for (const auto& note : notes) std::cout << note << "\n";
    if (!running) {
        std::cout << "No blindrouter is currently running from node directory " << options.cbdir.string() << ".\n";
        return exit_unavailable;
    }
    pid_t pid = *running;
    std::cout << "Stopping blindrouter currently running from node directory " << options.cbdir.string() << " (PID "
              << pid << ") ..." << std::endl;
    auto exited_within = [pid](std::chrono::seconds limit) {
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (app::process_alive(pid)) {
            if (std::chrono::steady_clock::now() >= deadline) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return true;
    };
    constexpr std::chrono::seconds grace{5};
    struct Step {
        int signal;
        const char* name;
        const char* done;
        const char* next;
    };
    static constexpr Step steps[] = {
        {SIGINT, "SIGINT", "has exited gracefully.", "will _terminate_ now."},
        {SIGTERM, "SIGTERM", "terminated.", "will KILL now."},
    };
    for (const auto& step : steps) {
        ::kill(pid, step.signal);
        std::cout << step.name << " sent to process " << pid << " .. waiting for exit (" << grace.count()
                  << " seconds) ..." << std::endl;
        if (exited_within(grace)) {
            std::cout << "Process " << pid << " " << step.done << "\n";
            return 0;
        }
        std::cout << "... process " << pid << " still alive - " << step.next << std::endl;
    }
    ::kill(pid, SIGKILL);
    std::cout << "SIGKILL sent to process " << pid << ".\n";
    return 0;
}

// Crossbar's `status [--assert running|stopped]`.
int status(const Options& options) {
    std::vector<std::string> notes;
    auto running = app::running_node(options.cbdir, notes);
    for (const auto& note : notes) std::cout << note << "\n";
    std::string state = running ? "RUNNING" : "STOPPED";
    if (!options.expected_status) {
        std::cout << "Status is " << state << "\n";
        return 0;
    }
    std::string expected = *options.expected_status == "running" ? "RUNNING" : "STOPPED";
    bool holds = expected == state;
    std::cout << "Assert status " << expected << (holds ? " succeeded" : " failed") << ": status is " << state << "\n";
    return holds ? 0 : exit_unavailable;
}

// Crossbar's `init [--appdir DIR]`: lays out a node directory, skipping files that exist.
int init(const Options& options) {
    std::error_code ec;
    auto appdir = fs::absolute(options.appdir, ec);
    if (fs::exists(appdir)) {
        std::cout << "Application directory '" << appdir.string() << "' already exists!\n";
    } else if (!fs::create_directories(appdir, ec)) {
        std::cerr << "could not create application directory '" << appdir.string() << "' (" << ec.message() << ")\n";
        return 1;
    }
    std::cout << "Initializing application directory '" << appdir.string() << "' ..\n";
    for (const auto& file : app::init_template()) {
        auto path = appdir / file.relative_path;
        fs::create_directories(path.parent_path(), ec);
        if (fs::exists(path)) {
            std::cout << "File " << path.string() << " already exists - SKIPPING\n";
            continue;
        }
        std::ofstream out(path, std::ios::binary);
        out << file.content;
        out.close();
        if (!out) {
            std::cerr << "could not write " << path.string() << "\n";
            return 1;
        }
        std::cout << "Creating file " << path.string() << "\n";
    }
    auto cbdir = appdir / ".crossbar";
    try {
        // As Crossbar's _maybe_generate_key: the node key exists from the start.
        auth::NodeKey::load_or_create(cbdir);
    } catch (const std::exception& e) {
        std::cerr << "node key: " << e.what() << "\n";
        return 1;
    }
    std::cout << "Application directory initialized\n\nTo start your node, run 'blindrouter start --cbdir "
              << cbdir.string() << "'\n";
    return 0;
}

int print_version() {
    utsname system{};
    uname(&system);
    std::cout << "blindrouter " << version << "\n\n"
              << " blindrouter        : " << version << "\n"
              << "   Boost            : " << BOOST_VERSION / 100000 << "." << BOOST_VERSION / 100 % 1000 << "."
              << BOOST_VERSION % 100 << "\n"
              << "   OpenSSL          : " << OpenSSL_version(OPENSSL_VERSION) << "\n"
              << "   libsodium        : " << sodium_version_string() << "\n"
              << "   spdlog           : " << SPDLOG_VER_MAJOR << "." << SPDLOG_VER_MINOR << "." << SPDLOG_VER_PATCH
              << "\n"
              << " Operating system   : " << system.sysname << " " << system.release << "\n"
              << " Host machine       : " << system.machine << "\n";
    return 0;
}

// Crossbar's node directory: --cbdir, else $CROSSBAR_DIR, else ./.crossbar if it is a
// directory, else "."; a config file given as --cbdir means its directory; a missing
// directory is created.
std::optional<fs::path> node_directory(const po::variables_map& vm) {
    fs::path cbdir;
    if (vm.count("cbdir")) {
        cbdir = vm["cbdir"].as<fs::path>();
    } else if (const char* env = std::getenv("CROSSBAR_DIR"); env != nullptr && *env != '\0') {
        cbdir = env;
    } else {
        std::error_code ec;
        cbdir = fs::is_directory(".crossbar", ec) ? ".crossbar" : ".";
    }
    std::error_code ec;
    cbdir = fs::absolute(cbdir, ec).lexically_normal();
    if (fs::is_regular_file(cbdir, ec)) cbdir = cbdir.parent_path();
    if (!fs::is_directory(cbdir, ec)) {
        if (!fs::create_directories(cbdir, ec)) {
            std::cout << "Could not create node directory: " << ec.message() << "\n";
            return std::nullopt;
        }
        std::cout << "Auto-created node directory " << cbdir.string() << "\n";
    }
    return cbdir;
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    po::options_description described("Options");
    // One option per line, so that options added by other features merge cleanly.
    described.add_options()
        ("help,h", "show this help")
        ("cbdir", po::value<fs::path>(), "node directory (default: $CROSSBAR_DIR, else ./.crossbar if it exists, else .)")
        ("config", po::value<fs::path>(), "configuration file, relative to --cbdir unless absolute "
                                          "(default: config.yaml, else config.json)")
        ("cluster", po::value<fs::path>(), "start: share the realms FILE names with other nodes over NATS "
                                           "(README: Clustered realms (NATS)); check: check FILE too")
        ("loglevel", po::value<std::string>()->default_value("info"), "none, critical, error, warn, info, debug or trace")
        ("logformat", po::value<std::string>()->default_value("standard"),
         "standard, syslogd, none (Crossbar's) or json (one object per line)")
        ("color", po::value<std::string>()->default_value("auto"), "colour the terminal log: true, false or auto")
        ("logdir", po::value<fs::path>(), "directory of node.log with --logtofile, relative to --cbdir (default: --cbdir)")
        ("logtofile", po::bool_switch(), "log to LOGDIR/node.log instead of the terminal")
        ("logmaxbytes", po::value<std::uint64_t>()->default_value(app::default_log_file_max_bytes),
         "rotate node.log early when it would grow past this many bytes")
        ("shutdownafter", po::value<double>(), "start: shut down after this many seconds")
        ("appdir", po::value<fs::path>()->default_value("."), "init: directory to create the node in")
        ("assert", po::value<std::string>(), "status: running or stopped; exit 69 when the node is not in it")
        ("metrics", po::value<std::string>(),
         "serve Prometheus metrics over HTTP at [HOST:]PORT/metrics (HOST defaults to 127.0.0.1)")
        ("metrics-uri-labels", po::value<std::size_t>()->implicit_value(100),
         "label PUBLISH and CALL counts by topic/procedure, for at most N URIs (default 100)");
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
        out << "usage: blindrouter {init|start|stop|status|check|version} [options]\n\n"
               "  init     create a node directory (APPDIR/.crossbar/config.json)\n"
               "  start    run the router on the node directory's configuration\n"
               "  stop     stop the router running from the node directory\n"
               "  status   say whether a router runs from the node directory\n"
               "  check    check the configuration and exit\n"
               "  version  print the versions and exit\n\n"
            << described;
    };
    if (vm.count("help")) {
        usage(std::cout);
        return 0;
    }
    if (!vm.count("command")) {
        // Crossbar prints its usage and exits 0 when given no command.
        usage(std::cout);
        return 0;
    }
    options.command = vm["command"].as<std::string>();
    options.argv.assign(argv, argv + argc);
    options.loglevel = vm["loglevel"].as<std::string>();
    options.logformat = vm["logformat"].as<std::string>();
    options.color = vm["color"].as<std::string>();
    options.logtofile = vm["logtofile"].as<bool>();
    options.logmaxbytes = vm["logmaxbytes"].as<std::uint64_t>();
    options.appdir = vm["appdir"].as<fs::path>();
    if (vm.count("config")) options.config = vm["config"].as<fs::path>();
    if (vm.count("cluster")) options.cluster = vm["cluster"].as<fs::path>();
    if (vm.count("shutdownafter")) options.shutdownafter = vm["shutdownafter"].as<double>();
    if (vm.count("assert")) options.expected_status = vm["assert"].as<std::string>();

    static const std::set<std::string> commands{"init", "start", "stop", "status", "check", "version"};
    if (commands.count(options.command) == 0) {
        std::cerr << "blindrouter: unknown command '" << options.command << "'\n";
        usage(std::cerr);
        return 2;
    }
    if (vm.count("metrics")) {
        auto parsed = net::parse_metrics_endpoint(vm["metrics"].as<std::string>());
        if (auto* error = std::get_if<std::string>(&parsed)) {
            std::cerr << "blindrouter: invalid --metrics: " << *error << "\n";
            return 2;
        }
        options.metrics = std::get<net::MetricsEndpoint>(parsed);
    }
    if (vm.count("metrics-uri-labels")) options.metrics_uri_labels = vm["metrics-uri-labels"].as<std::size_t>();
    auto invalid = [](const std::string& option, const std::string& value) {
        std::cerr << "blindrouter: invalid --" << option << " '" << value << "'\n";
        return 2;
    };
    app::LogSettings log;
    auto level = app::parse_log_level(options.loglevel);
    if (!level) return invalid("loglevel", options.loglevel);
    log.level = *level;
    auto format = app::parse_log_format(options.logformat);
    if (!format) return invalid("logformat", options.logformat);
    log.format = *format;
    auto color = app::parse_log_color(options.color);
    if (!color) return invalid("color", options.color);
    log.color = *color;
    if (options.logmaxbytes == 0) return invalid("logmaxbytes", "0");
    log.max_file_bytes = options.logmaxbytes;
    if (options.expected_status && *options.expected_status != "running" && *options.expected_status != "stopped")
        return invalid("assert", *options.expected_status);
    if (options.shutdownafter && !(*options.shutdownafter > 0)) return invalid("shutdownafter", "not positive");

    if (options.command == "version") return print_version();
    if (options.command == "init") return init(options);

    auto cbdir = node_directory(vm);
    if (!cbdir) return 1;
    options.cbdir = *cbdir;
    if (vm.count("logdir")) {
        // Crossbar: relative to the node directory, created when missing.
        std::error_code ec;
        options.logdir = (options.cbdir / vm["logdir"].as<fs::path>()).lexically_normal();
        if (!fs::is_directory(*options.logdir, ec)) {
            if (!fs::create_directories(*options.logdir, ec)) {
                std::cout << "Could not create log directory: " << ec.message() << "\n";
                return 1;
            }
            std::cout << "Auto-created log directory " << options.logdir->string() << "\n";
        }
    }
    if (options.logtofile) log.file = options.logdir.value_or(options.cbdir) / "node.log";
    try {
        app::start_logging(log);
    } catch (const spdlog::spdlog_ex& e) {
        std::cerr << "blindrouter: " << e.what() << "\n";
        return 1;
    }

    if (options.command == "check") return check(options);
    if (options.command == "stop") return stop(options);
    if (options.command == "status") return status(options);
    return start(options);
}
