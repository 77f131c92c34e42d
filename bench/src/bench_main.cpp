// bench_load: the WAMP load client and the driver of a bench run. For every scenario
// it starts each target afresh (the router on a temp node config, the raw relay, a
// peer router if one is given), runs the scenario against it, stops it, and at the
// end prints the tables and writes the JSON. bench/run is the front door.
#include <signal.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>
#include <tuple>

#include <rapidjson/document.h>

#include "process.hpp"
#include "report.hpp"
#include "scenarios.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace bench {
namespace {

struct Options {
    fs::path router;
    fs::path relay;
    fs::path json;
    bool quick = false;
    std::vector<Link> links;
    std::vector<std::string> families;
    std::vector<int> fanouts;
    std::vector<std::size_t> sizes;
    std::vector<int> idle_sessions;
    std::vector<wamp::PayloadForm> forms;
    int target_cpu = -1;  // pin each target to this CPU (taskset); -1: no pinning
    std::size_t rpc_payload = 64;
    std::size_t stall_payload = 16 * 1024;
    std::size_t max_message_size = 2 * 1024 * 1024;
    Timings timings;
    std::string peer_name;
    std::vector<std::string> peer_command;  // "{port}" is replaced
    std::vector<std::string> peer_env;
    std::optional<Endpoint> peer_url;
    pid_t peer_pid = 0;
    wamp::PayloadForm peer_form = wamp::PayloadForm::transparent;
    std::string perf_match;
    std::vector<std::string> perf_command;  // "{pid}" and "{out}" are replaced
    fs::path perf_dir;
    std::map<std::string, std::string> meta;
    fs::path uri_index_json;
    fs::path cluster_up;     // scripts/cluster-up, for the cluster family
    int cluster_nodes = 3;
    double paced_rate = 2000;  // publications/s of the cluster rows' fixed-rate latency phase
};

std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> parts;
    std::stringstream in(text);
    for (std::string part; std::getline(in, part, separator);)
        if (!part.empty()) parts.push_back(part);
    return parts;
}

Link parse_link(const std::string& text) {
    auto parts = split(text, '-');
    if (parts.size() != 2 || (parts[0] != "rs" && parts[0] != "ws") || (parts[1] != "json" && parts[1] != "msgpack"))
        throw std::invalid_argument("a link is rs-msgpack, rs-json, ws-msgpack or ws-json, not '" + text + "'");
    return {parts[0] == "rs" ? Transport::rawsocket : Transport::websocket,
            parts[1] == "json" ? Serializer::json : Serializer::msgpack};
}

std::size_t parse_size(const std::string& text) {
    std::size_t unit = 1;
    std::string digits = text;
    if (text.ends_with("KiB") || text.ends_with("k") || text.ends_with("K")) unit = 1024;
    if (text.ends_with("MiB") || text.ends_with("m") || text.ends_with("M")) unit = 1024 * 1024;
    while (!digits.empty() && !std::isdigit(static_cast<unsigned char>(digits.back()))) digits.pop_back();
    return std::stoull(digits) * unit;
}

std::string size_name(std::size_t bytes) {
    if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0) return std::to_string(bytes / (1024 * 1024)) + "MiB";
    if (bytes >= 1024 && bytes % 1024 == 0) return std::to_string(bytes / 1024) + "KiB";
    return std::to_string(bytes) + "B";
}

std::string count_name(int n) { return n >= 1000 && n % 1000 == 0 ? std::to_string(n / 1000) + "k" : std::to_string(n); }

std::optional<Endpoint> parse_url(const std::string& url) {
    // ws://host:port/path
    if (!url.starts_with("ws://")) return std::nullopt;
    auto rest = url.substr(5);
    auto slash = rest.find('/');
    auto authority = rest.substr(0, slash);
    auto colon = authority.rfind(':');
    Endpoint e;
    e.host = authority.substr(0, colon);
    e.port = colon == std::string::npos ? 80 : std::stoi(authority.substr(colon + 1));
    e.path = slash == std::string::npos ? "/" : rest.substr(slash);
    if (e.host == "localhost") e.host = "127.0.0.1";
    return e;
}

// A node config for the router: one universal port (RawSocket and WebSocket /ws,
// MsgPack and JSON), realm1, anonymous allowed everything.
std::string router_config(int port, std::size_t max_message_size) {
    auto m = std::to_string(max_message_size);
    return R"({
  "version": 2,
  "controller": {},
  "workers": [{
    "type": "router",
    "realms": [{
      "name": "realm1",
      "roles": [{
        "name": "anonymous",
        "permissions": [{
          "uri": "", "match": "prefix",
          "allow": {"call": true, "register": true, "publish": true, "subscribe": true},
          "disclose": {"caller": false, "publisher": false},
          "cache": true
        }]
      }]
    }],
    "transports": [{
      "type": "universal",
      "endpoint": {"type": "tcp", "interface": "127.0.0.1", "port": )" +
           std::to_string(port) + R"(, "backlog": 4096},
      "rawsocket": {"serializers": ["msgpack", "json"], "options": {"max_message_size": )" + m + R"(}},
      "websocket": {"ws": {"type": "websocket", "serializers": ["msgpack", "json"],
                           "options": {"max_message_size": )" + m + R"(}}}
    }]
  }]
}
)";
}

// One target started for one scenario.
struct Running {
    Target target;
    std::unique_ptr<ChildProcess> process;
    fs::path log;
};

class Launcher {
public:
    Launcher(const Options& options, fs::path run_dir) : options_(options), run_dir_(std::move(run_dir)) {}

    std::unique_ptr<Running> start(TargetKind kind, const std::string& tag) {
        auto r = std::make_unique<Running>();
        auto& t = r->target;
        t.kind = kind;
        t.queue_limit = std::max<std::size_t>(4 * options_.max_message_size, 16 * 1024 * 1024);
        if (kind == TargetKind::cluster) {
            start_cluster(*r, tag);
            return r;
        }
        if (kind == TargetKind::peer && options_.peer_url) {
            t.name = options_.peer_name;
            t.endpoint = *options_.peer_url;
            t.pid = options_.peer_pid;
            t.form = options_.peer_form;
            t.queue_limit = 0;
            return r;
        }
        int port = free_port();
        t.endpoint.port = port;
        std::vector<std::string> argv;
        // taskset execs the target: the pid stays the target's.
        if (options_.target_cpu >= 0) argv = {"taskset", "-c", std::to_string(options_.target_cpu)};
        std::vector<std::string> env;
        switch (kind) {
            case TargetKind::router: {
                t.name = "blindrouter";
                auto dir = run_dir_ / (tag + "-router");
                fs::create_directories(dir);
                std::ofstream(dir / "config.json") << router_config(port, options_.max_message_size);
                argv.insert(argv.end(), {options_.router.string(), "start", "--cbdir", dir.string(), "--loglevel", "warn"});
                r->log = dir / "router.log";
                break;
            }
            case TargetKind::relay:
                t.name = "raw relay";
                argv.insert(argv.end(), {options_.relay.string(), "--port", std::to_string(port), "--max-message-size",
                                         std::to_string(options_.max_message_size)});
                r->log = run_dir_ / (tag + "-relay.log");
                break;
            case TargetKind::peer:
                t.name = options_.peer_name;
                t.form = options_.peer_form;
                t.queue_limit = 0;
                for (auto arg : options_.peer_command) {
                    if (auto at = arg.find("{port}"); at != std::string::npos) arg.replace(at, 6, std::to_string(port));
                    argv.push_back(arg);
                }
                env = options_.peer_env;
                r->log = run_dir_ / (tag + "-peer.log");
                break;
            case TargetKind::cluster:
                throw std::logic_error("a cluster is started by start_cluster");
        }
        r->process = std::make_unique<ChildProcess>(argv, r->log, env);
        t.pid = r->process->pid();
        if (!wait_until_listening(port, std::chrono::seconds(20), r->process.get()))
            throw std::runtime_error(t.name + " did not start listening (log: " + r->log.string() + ")");
        return r;
    }

    // Stops the target and adds what its exit and its log say to `f`.
    static void stop(Running& r, Figures& f) {
        if (!r.process) return;
        // cluster-up stops its nodes, then its NATS servers.
        int status = r.process->stop(std::chrono::milliseconds(r.target.kind == TargetKind::cluster ? 20000 : 5000));
        f.values["exit_status"] = status;
        if (status != 0) f.note += (f.note.empty() ? "" : "; ") + std::string("exited with status ") + std::to_string(status);
        std::ifstream log(r.log);
        int drops = 0;
        for (std::string line; std::getline(log, line);) drops += line.find("queue limit") != std::string::npos;
        f.values["queue_limit_drops_logged"] = drops;
    }

private:
    // scripts/cluster-up: options_.cluster_nodes nodes on copies of the bench's node
    // config and three NATS servers; the target is node 1, the others are its `nodes`.
    void start_cluster(Running& r, const std::string& tag) {
        auto& t = r.target;
        t.name = "cluster";
        auto dir = run_dir_ / (tag + "-cluster");
        fs::create_directories(dir / "cbdir");
        // cluster-up moves the port; the one written here is never listened on.
        std::ofstream(dir / "cbdir" / "config.json") << router_config(free_port(), options_.max_message_size);
        auto state = dir / "state.json";
        std::vector<std::string> argv;
        // Not pinned to the target CPU: N nodes and their NATS servers are to use the cores
        // there are (the load client's included, which the table's client CPU share shows).
        if (options_.target_cpu >= 0)
            argv = {"taskset", "-c", "0-" + std::to_string(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)) - 1)};
        argv.insert(argv.end(), {"/usr/bin/python3", options_.cluster_up.string(), "--router", options_.router.string(),
                                 "--cbdir", (dir / "cbdir").string(), "--dir", (dir / "run").string(), "--state",
                                 state.string(), "--nodes", std::to_string(options_.cluster_nodes)});
        r.log = dir / "cluster-up.log";
        r.process = std::make_unique<ChildProcess>(argv, r.log);
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (!fs::exists(state)) {
            if (!r.process->running() || std::chrono::steady_clock::now() > deadline)
                throw std::runtime_error("scripts/cluster-up did not start (log: " + r.log.string() + ")");
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        // cluster-up writes the state once everything accepts connections; give the
        // write a moment to complete before reading it.
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        std::ifstream in(state);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        rapidjson::Document document;
        document.Parse(text.c_str());
        if (document.HasParseError() || !document.IsObject() || !document.HasMember("nodes") ||
            !document["nodes"].IsArray() || document["nodes"].Empty())
            throw std::runtime_error("scripts/cluster-up wrote no readable state (" + state.string() + ")");
        for (const auto& node : document["nodes"].GetArray()) {
            Endpoint e;
            e.port = node["port"].GetInt();
            t.nodes.push_back(e);
            if (t.pid) t.other_pids.push_back(node["pid"].GetInt());
            else t.pid = node["pid"].GetInt();
        }
        for (const auto& server : document["nats"].GetArray()) t.other_pids.push_back(server["pid"].GetInt());
        t.endpoint = t.nodes.front();
    }

    const Options& options_;
    fs::path run_dir_;
};

// One scenario, ready to run against any target.
struct Planned {
    ScenarioResult result;
    std::function<Figures(const Target&, const WindowHooks&)> run;
    std::optional<wamp::PayloadForm> form;  // the router's and the relay's (a peer keeps its own)
    bool router_decides = false;  // when the router cannot run it, the others do not either
    bool clustered = false;       // run against a cluster too (family "cluster"), and no peer
    bool wamp_only = false;       // not against the relay (no meta API, no registrations there)
};

std::vector<Planned> plan(const Options& o) {
    std::vector<Planned> planned;
    auto has = [&](const std::string& family) {
        return std::find(o.families.begin(), o.families.end(), family) != o.families.end();
    };
    auto fd_limit = static_cast<int>(std::min<std::uint64_t>(raise_open_file_limit(), 1u << 30));
    for (const auto& link : o.links) {
        bool first_link = &link == &o.links.front();
        for (auto form : o.forms) {
            std::string form_suffix = " " + std::string(wamp::form_name(form));
            auto with_form = [&](Planned& p) {
                p.form = form;
                p.result.form = wamp::form_name(form);
                planned.push_back(std::move(p));
            };
            if (has("pubsub"))
                for (int fanout : o.fanouts)
                    for (auto size : o.sizes) {
                        PubSubSpec spec{link, fanout, size, static_cast<int>(std::clamp<std::size_t>(2 * 1024 * 1024 / size, 2, 256))};
                        Planned p;
                        p.result = {"pubsub " + link.name() + " 1->" + std::to_string(fanout) + " " + size_name(size) + form_suffix,
                                    "pubsub", link.name(), {{"fanout", fanout}, {"payload", static_cast<double>(size)}, {"window", spec.window}}, {}, {}};
                        p.run = [spec, &o](const Target& t, const WindowHooks& h) { return run_pubsub(t, spec, o.timings, h); };
                        with_form(p);
                    }
            if (has("rpc"))
                for (auto [callers, callees] : {std::pair{1, 1}, std::pair{32, 1}, std::pair{32, 4}}) {
                    // The quick run keeps the RPC row the targets judge (32 callers -> 1 callee).
                    if (o.quick && (callers != 32 || callees != 1)) continue;
                    RpcSpec spec{link, callers, callees, o.rpc_payload};
                    Planned p;
                    p.result = {"rpc " + link.name() + " " + std::to_string(callers) + " caller" + (callers > 1 ? "s" : "") +
                                    " -> " + std::to_string(callees) + " callee" + (callees > 1 ? "s (shared)" : "") + form_suffix,
                                "rpc", link.name(),
                                {{"callers", callers}, {"callees", callees}, {"payload", static_cast<double>(o.rpc_payload)}}, {}, {}};
                    p.run = [spec, &o](const Target& t, const WindowHooks& h) { return run_rpc(t, spec, o.timings, h); };
                    p.router_decides = callees > 1;
                    with_form(p);
                }
        }
        // The quick run measures memory and the stalled subscriber on its first link only;
        // so does the cluster family, in the first payload form.
        if (has("cluster") && (!o.quick || first_link))
            for (auto [fanout, elsewhere, where] : {std::tuple{1, false, "same node"}, std::tuple{1, true, "across nodes"},
                                                    std::tuple{10, true, "across nodes"}}) {
                auto form = o.forms.front();
                PubSubSpec spec{link, fanout, 1024, 64, elsewhere, o.paced_rate, std::max(1.0, o.timings.latency)};
                Planned p;
                p.result = {"cluster " + link.name() + " 1->" + std::to_string(fanout) + " 1KiB " + where + " " +
                                std::string(wamp::form_name(form)),
                            "cluster",
                            link.name(),
                            {{"fanout", fanout}, {"payload", 1024.0}, {"across_nodes", elsewhere ? 1.0 : 0.0},
                             {"paced_rate", o.paced_rate}},
                            {},
                            std::string(wamp::form_name(form))};
                p.run = [spec, &o](const Target& t, const WindowHooks& h) { return run_pubsub(t, spec, o.timings, h); };
                p.form = form;
                p.clustered = true;
                planned.push_back(std::move(p));
            }
        if (has("cluster") && (!o.quick || first_link)) {
            auto form = o.forms.front();
            auto form_name = std::string(wamp::form_name(form));
            // RPC: one caller (one call in flight: the round trip) and 32, the caller(s) on
            // node 1 and the callee on the last node; one router and the relay beside.
            for (int callers : {1, 32}) {
                RpcSpec spec{link, callers, 1, 1024, true};
                Planned p;
                p.result = {"cluster rpc " + link.name() + " " + std::to_string(callers) + " caller" +
                                (callers > 1 ? "s" : "") + " -> 1 callee 1KiB across nodes " + form_name,
                            "cluster-rpc", link.name(),
                            {{"callers", callers}, {"callees", 1}, {"payload", 1024.0}, {"across_nodes", 1.0}}, {},
                            form_name};
                p.run = [spec, &o](const Target& t, const WindowHooks& h) { return run_rpc(t, spec, o.timings, h); };
                p.form = form;
                p.clustered = true;
                planned.push_back(std::move(p));
            }
            MetaSpec spec{link};
            Planned p;
            p.result = {"cluster meta " + link.name() + " " + spec.question + " on node 1, REGISTER/UNREGISTER",
                        "cluster-meta", link.name(), {}, {}, {}};
            p.run = [spec, &o](const Target& t, const WindowHooks&) { return run_meta(t, spec, o.timings); };
            p.form = form;
            p.clustered = true;
            p.wamp_only = true;
            planned.push_back(std::move(p));
        }
        if (o.quick && !first_link) continue;
        if (has("idle"))
            for (int requested : o.idle_sessions) {
                // Each session is a socket in the client and in the target: both need a descriptor.
                int sessions = std::min(requested, fd_limit - 256);
                IdleSpec spec{link, sessions};
                Planned p;
                std::string id = "idle " + link.name() + " " + count_name(requested);
                if (sessions < requested)
                    id += " (" + std::to_string(sessions) + ": open-file limit " + std::to_string(fd_limit) + ")";
                p.result = {id, "idle", link.name(), {{"requested", requested}, {"sessions", sessions}}, {}, {}};
                p.run = [spec, &o](const Target& t, const WindowHooks&) { return run_idle(t, spec, o.timings); };
                planned.push_back(std::move(p));
            }
        if (has("stall")) {
            StallSpec spec{link, 100, o.stall_payload,
                           static_cast<int>(std::clamp<std::size_t>(2 * 1024 * 1024 / o.stall_payload, 2, 256))};
            Planned p;
            p.result = {"stall " + link.name() + " 100 healthy + 1 stalled, " + size_name(o.stall_payload), "stall",
                        link.name(),
                        {{"healthy", 100}, {"payload", static_cast<double>(o.stall_payload)}, {"window", spec.window}},
                        {}, {}};
            p.run = [spec, &o](const Target& t, const WindowHooks&) { return run_stall(t, spec, o.timings); };
            planned.push_back(std::move(p));
        }
    }
    return planned;
}

std::string summary(const Figures& f) {
    if (!f.ok()) return f.status + ": " + f.note;
    std::ostringstream s;
    s.precision(3);
    if (f.values.count("delivered_per_s")) s << f.value("delivered_per_s") << " msg/s";
    if (f.values.count("rss_per_session_bytes")) s << f.value("rss_per_session_bytes") / 1024 << " KiB/session";
    if (f.values.count("meta_latency_p50_us"))
        s << "question p50 " << f.value("meta_latency_p50_us") << " us, REGISTER p50 " << f.value("register_latency_p50_us") << " us";
    if (f.values.count("rate_ratio")) s << "rate x" << f.value("rate_ratio") << ", RSS +" << f.value("rss_growth_bytes") / 1048576 << " MiB";
    if (!f.note.empty()) s << " (" << f.note << ")";
    return s.str();
}

std::string machine_description() {
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string model;
    for (std::string line; std::getline(cpuinfo, line);)
        if (line.starts_with("model name")) {
            model = line.substr(line.find(':') + 2);
            break;
        }
    utsname u{};
    uname(&u);
    return std::to_string(sysconf(_SC_NPROCESSORS_ONLN)) + " CPUs (" + model + "), Linux " + u.release;
}

int run_bench(const Options& options, const std::string& command) {
    char pattern[] = "/tmp/blindrouter-bench-XXXXXX";
    fs::path run_dir = mkdtemp(pattern);
    Launcher launcher(options, run_dir);
    auto planned = plan(options);

    Report report;
    report.router_name = "blindrouter";
    report.relay_name = "raw relay";
    report.cluster_name = "cluster (" + std::to_string(options.cluster_nodes) + " nodes, 3 NATS)";
    bool with_peer = !options.peer_name.empty();
    if (with_peer) report.peer_name = options.peer_name;
    report.meta = options.meta;
    report.meta["command"] = command;
    report.meta["mode"] = options.quick ? "quick" : "full";
    report.meta["machine"] = machine_description();
    report.meta["open_file_limit"] = std::to_string(raise_open_file_limit());
    report.meta["logs"] = run_dir.string();
    auto now = std::time(nullptr);
    char date[32];
    std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    report.meta["date"] = date;
    if (!options.uri_index_json.empty()) {
        std::ifstream in(options.uri_index_json);
        report.uri_index_json.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }

    std::vector<TargetKind> kinds{TargetKind::router, TargetKind::relay};
    if (with_peer) kinds.push_back(TargetKind::peer);
    std::map<std::string, std::string> peer_refusal;  // link -> why the peer cannot serve it
    auto started = std::chrono::steady_clock::now();
    for (std::size_t n = 0; n < planned.size(); ++n) {
        auto& p = planned[n];
        auto row_kinds = p.clustered ? std::vector<TargetKind>{TargetKind::router, TargetKind::relay, TargetKind::cluster}
                                     : kinds;
        if (p.wamp_only) std::erase(row_kinds, TargetKind::relay);
        for (auto kind : row_kinds) {
            std::string name = kind == TargetKind::router    ? report.router_name
                               : kind == TargetKind::relay   ? report.relay_name
                               : kind == TargetKind::cluster ? report.cluster_name
                                                             : report.peer_name;
            Figures f;
            if (p.router_decides && kind != TargetKind::router && !p.result.by_target[report.router_name].ok()) {
                f.status = "n/a";
                f.note = "not run: the router cannot serve this scenario";
            } else if (kind == TargetKind::peer && peer_refusal.count(p.result.link)) {
                f.status = "n/a";
                f.note = peer_refusal[p.result.link];
            } else {
                try {
                    auto tag = std::to_string(n + 1) + "-" + std::string(name == "raw relay" ? "relay" : kind == TargetKind::cluster ? "cluster" : name);
                    auto running = launcher.start(kind, tag);
                    if (p.form && kind != TargetKind::peer) running->target.form = *p.form;
                    std::optional<std::string> refusal;
                    if (kind == TargetKind::peer) {
                        auto link = std::find_if(options.links.begin(), options.links.end(),
                                                 [&](const Link& l) { return l.name() == p.result.link; });
                        if (auto why = probe(running->target, *link, options.timings); !why.empty())
                            refusal = peer_refusal[p.result.link] = name + " cannot open a session on " + p.result.link + " (" + why + ")";
                    }
                    if (refusal) {
                        f.status = "n/a";
                        f.note = *refusal;
                    } else {
                        WindowHooks hooks;
                        std::unique_ptr<ChildProcess> perf;
                        if (kind != TargetKind::peer && !options.perf_match.empty() &&
                            p.result.id.find(options.perf_match) != std::string::npos) {
                            fs::create_directories(options.perf_dir);
                            std::string file_name = p.result.id + " " + (kind == TargetKind::router ? "router" : "relay");
                            for (auto& c : file_name)
                                if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                            auto data = options.perf_dir / (file_name + ".perf.data");
                            std::vector<std::string> argv;
                            for (auto arg : options.perf_command) {
                                if (auto at = arg.find("{pid}"); at != std::string::npos)
                                    arg.replace(at, 5, std::to_string(running->target.pid));
                                if (auto at = arg.find("{out}"); at != std::string::npos) arg.replace(at, 5, data.string());
                                argv.push_back(arg);
                            }
                            hooks.opened = [&perf, data, argv] {
                                perf = std::make_unique<ChildProcess>(argv, data.string() + ".log");
                            };
                            hooks.closed = [&perf] {
                                if (perf) perf->stop(std::chrono::milliseconds(10000), SIGINT);
                            };
                        }
                        f = p.run(running->target, hooks);
                        if (perf) perf->stop(std::chrono::milliseconds(10000), SIGINT);
                    }
                    Launcher::stop(*running, f);
                } catch (const std::exception& e) {
                    f.status = "error";
                    f.note = e.what();
                }
            }
            std::cerr << "[" << n + 1 << "/" << planned.size() << " "
                      << static_cast<int>(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count())
                      << "s] " << p.result.id << " | " << name << ": " << summary(f) << std::endl;
            p.result.by_target[name] = std::move(f);
        }
        report.results.push_back(p.result);
    }
    report.meta["seconds"] = std::to_string(
        static_cast<int>(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()));

    std::cout << "\n";
    print_tables(std::cout, report);
    print_targets(std::cout, report);
    write_json(options.json, report);
    std::cout << "\nJSON: " << options.json.string() << "\nlogs: " << run_dir.string() << "\n";
    return 0;
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
    using namespace bench;
    Options o;
    std::string links, families, fanouts, sizes, idle, forms, peer_cmd, peer_url, peer_form, perf_cmd;
    std::vector<std::string> meta;
    po::options_description d("bench_load: WAMP router benchmark (use bench/run)");
    d.add_options()("help", "this text")
        ("router", po::value<fs::path>(&o.router)->required(), "the blindrouter binary")
        ("relay", po::value<fs::path>(&o.relay)->required(), "the bench_relay binary")
        ("json", po::value<fs::path>(&o.json)->default_value("bench/results.json"), "where to write the JSON")
        ("quick", po::bool_switch(&o.quick),
         "the CI smoke run: short windows, 1 KiB pub/sub 1->1 and 1->100, RPC 32 callers, idle and stall on the first link")
        ("links", po::value<std::string>(&links), "rs-msgpack,ws-json,... (default rs-msgpack,ws-json)")
        ("scenarios", po::value<std::string>(&families)->default_value("pubsub,rpc,idle,stall"),
         "families to run; 'cluster' adds pub/sub, RPC and the meta API across the nodes of a NATS cluster "
         "(bench/run --cluster)")
        ("fanouts", po::value<std::string>(&fanouts), "pub/sub subscriber counts (quick: 1,100; full: 1,10,100)")
        ("sizes", po::value<std::string>(&sizes), "pub/sub payload sizes (quick: 1KiB; full: 64,1KiB,64KiB,1MiB)")
        ("idle-sessions", po::value<std::string>(&idle), "idle session counts (quick: 10000; full: 10000,100000)")
        ("forms", po::value<std::string>(&forms)->default_value("enc,ppt"),
         "payload forms of pub/sub and RPC: enc (legacy enc_algo cryptobox), ppt (spec ppt_scheme)")
        ("target-cpu", po::value<int>(&o.target_cpu)->default_value(-1),
         "pin the router, the relay and a started peer to this CPU (taskset); -1: no pinning")
        ("rpc-payload", po::value<std::size_t>(&o.rpc_payload)->default_value(64), "RPC payload bytes")
        ("stall-payload", po::value<std::size_t>(&o.stall_payload)->default_value(16 * 1024),
         "payload bytes of the stalled-subscriber scenario (large enough to reach the queue limit in seconds)")
        ("max-message-size", po::value<std::size_t>(&o.max_message_size)->default_value(2 * 1024 * 1024),
         "max_message_size of the router (its send queue limit is max(4x, 16 MiB))")
        ("measure", po::value<double>(&o.timings.measure), "seconds of each measured window")
        ("warmup", po::value<double>(&o.timings.warmup), "seconds of load before it")
        ("latency", po::value<double>(&o.timings.latency), "seconds of the one-in-flight latency phase")
        ("peer-name", po::value<std::string>(&o.peer_name), "name of a peer router (its column)")
        ("peer-cmd", po::value<std::string>(&peer_cmd), "command starting the peer; {port} is replaced")
        ("peer-env", po::value<std::vector<std::string>>(&o.peer_env)->composing(), "KEY=VALUE for the peer command")
        ("peer-url", po::value<std::string>(&peer_url), "ws://host:port/path of a peer already running")
        ("peer-pid", po::value<pid_t>(&o.peer_pid), "its pid, for CPU and RSS")
        ("peer-form", po::value<std::string>(&peer_form)->default_value("transparent"),
         "transparent (binary in place of Arguments) or list ([binary])")
        ("perf-match", po::value<std::string>(&o.perf_match), "perf record the router and the relay in scenarios whose id contains this")
        ("perf-dir", po::value<fs::path>(&o.perf_dir)->default_value("build/bench-perf"), "where perf data goes")
        ("perf-cmd", po::value<std::string>(&perf_cmd)->default_value("perf record -g -F 999 -p {pid} -o {out}"),
         "profiler command for --perf-match, run over the measured window ({pid}, {out} replaced)")
        ("meta", po::value<std::vector<std::string>>(&meta)->composing(), "KEY=VALUE recorded in the JSON")
        ("uri-index-json", po::value<fs::path>(&o.uri_index_json),
         "bench_uri_index --json output to include in the JSON")
        ("cluster-up", po::value<fs::path>(&o.cluster_up)->default_value("scripts/cluster-up"),
         "scripts/cluster-up, which starts the cluster of the 'cluster' scenarios")
        ("cluster-nodes", po::value<int>(&o.cluster_nodes)->default_value(3), "router nodes of that cluster (2 or more)")
        ("paced-rate", po::value<double>(&o.paced_rate)->default_value(2000),
         "publications per second of the cluster scenarios' fixed-rate latency phase");
    po::variables_map vm;
    try {
        po::store(po::parse_command_line(argc, argv, d), vm);
        if (vm.count("help")) {
            std::cout << d;
            return 0;
        }
        po::notify(vm);
        if (o.quick) o.timings = Timings{0.3, 1.0, 0.3, 1.5, 2.5, 1.0, std::chrono::milliseconds(5000)};
        else o.timings = Timings{0.5, 3.0, 1.0, 3.0, 6.0, 1.0, std::chrono::milliseconds(5000)};
        if (vm.count("measure")) o.timings.measure = vm["measure"].as<double>();
        if (vm.count("warmup")) o.timings.warmup = vm["warmup"].as<double>();
        if (vm.count("latency")) o.timings.latency = vm["latency"].as<double>();
        if (o.cluster_nodes < 2) throw std::invalid_argument("--cluster-nodes is 2 or more");
        if (links.empty()) links = "rs-msgpack,ws-json";
        if (fanouts.empty()) fanouts = o.quick ? "1,100" : "1,10,100";
        if (sizes.empty()) sizes = o.quick ? "1KiB" : "64,1KiB,64KiB,1MiB";
        for (const auto& f : split(forms, ',')) {
            if (f == "enc") o.forms.push_back(wamp::PayloadForm::transparent);
            else if (f == "ppt") o.forms.push_back(wamp::PayloadForm::spec);
            else throw std::invalid_argument("a payload form is enc or ppt, not '" + f + "'");
        }
        for (const auto& l : split(links, ',')) o.links.push_back(parse_link(l));
        o.families = split(families, ',');
        for (const auto& f : split(fanouts, ',')) o.fanouts.push_back(std::stoi(f));
        for (const auto& s : split(sizes, ',')) o.sizes.push_back(parse_size(s));
        if (idle.empty()) idle = o.quick ? "10000" : "10000,100000";
        for (const auto& s : split(idle, ',')) o.idle_sessions.push_back(std::stoi(s));
        o.peer_command = split(peer_cmd, ' ');
        o.perf_command = split(perf_cmd, ' ');
        if (!peer_url.empty()) {
            o.peer_url = parse_url(peer_url);
            if (!o.peer_url) throw std::invalid_argument("--peer-url must be ws://host:port/path");
        }
        if ((!o.peer_command.empty() || o.peer_url) && o.peer_name.empty()) o.peer_name = "peer";
        if (peer_form == "list") o.peer_form = wamp::PayloadForm::list;
        else if (peer_form != "transparent") throw std::invalid_argument("--peer-form is transparent or list");
        for (const auto& m : meta)
            if (auto eq = m.find('='); eq != std::string::npos) o.meta[m.substr(0, eq)] = m.substr(eq + 1);
    } catch (const std::exception& e) {
        std::cerr << "bench_load: " << e.what() << "\n" << d;
        return 2;
    }
    std::string command;
    for (int i = 0; i < argc; ++i) command += (i ? " " : "") + std::string(argv[i]);
    signal(SIGPIPE, SIG_IGN);
    return run_bench(o, command);
}
