#include "report.hpp"

#include <rapidjson/ostreamwrapper.h>
#include <rapidjson/prettywriter.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>

namespace bench {

namespace {

std::string format(const char* pattern, double value) {
    char text[64];
    std::snprintf(text, sizeof text, pattern, value);
    return text;
}

std::string rate(double x) {
    if (!std::isfinite(x)) return "-";
    if (x >= 1e6) return format("%.2fM", x / 1e6);
    if (x >= 1e3) return format("%.1fk", x / 1e3);
    return format("%.0f", x);
}
std::string duration_us(double us) {
    if (!std::isfinite(us)) return "-";
    if (us < 1000) return format("%.0fus", us);
    if (us < 1e6) return format("%.1fms", us / 1e3);
    return format("%.2fs", us / 1e6);
}
std::string ratio(double x) { return std::isfinite(x) ? format("%.2fx", x) : "-"; }
std::string plain(double x, const char* pattern = "%.2f") { return std::isfinite(x) ? format(pattern, x) : "-"; }
std::string mib(double bytes) { return std::isfinite(bytes) ? format("%.1f", bytes / (1024.0 * 1024.0)) : "-"; }
std::string kib(double bytes) { return std::isfinite(bytes) ? format("%.1f", bytes / 1024.0) : "-"; }

class Table {
public:
    explicit Table(std::vector<std::string> headers) { rows_.push_back(std::move(headers)); }
    void row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
    void print(std::ostream& out) const {
        std::vector<std::size_t> widths;
        for (const auto& r : rows_)
            for (std::size_t i = 0; i < r.size(); ++i) {
                if (widths.size() <= i) widths.push_back(0);
                widths[i] = std::max(widths[i], r[i].size());
            }
        for (std::size_t n = 0; n < rows_.size(); ++n) {
            const auto& r = rows_[n];
            for (std::size_t i = 0; i < r.size(); ++i) {
                auto pad = std::string(widths[i] - r[i].size(), ' ');
                out << (i == 0 ? r[i] + pad : "  " + pad + r[i]);
            }
            out << "\n";
            if (n == 0) {
                std::size_t total = 0;
                for (auto w : widths) total += w + 2;
                out << std::string(total - 2, '-') << "\n";
            }
        }
    }

private:
    std::vector<std::vector<std::string>> rows_;
};

// Footnotes for cells that are "n/a" or "error", numbered in order of appearance.
class Notes {
public:
    // The cell text for a figure that did not run: "n/a[1]"; "" when it ran.
    std::string mark(const ScenarioResult& r, const std::string& target, const Figures* f) {
        if (!f) return "-";
        if (f->ok() && f->note.empty()) return "";
        notes_.push_back(r.id + ", " + target + ": " + (f->ok() ? "" : f->status + ": ") + f->note);
        auto tag = "[" + std::to_string(notes_.size()) + "]";
        return f->ok() ? tag : f->status + tag;
    }
    void print(std::ostream& out) const {
        for (std::size_t i = 0; i < notes_.size(); ++i) out << "  [" << i + 1 << "] " << notes_[i] << "\n";
    }

private:
    std::vector<std::string> notes_;
};

const Figures* figures(const ScenarioResult& r, const std::string& target) {
    auto it = r.by_target.find(target);
    return it == r.by_target.end() ? nullptr : &it->second;
}
double value(const ScenarioResult& r, const std::string& target, const std::string& key) {
    const auto* f = figures(r, target);
    return f && f->ok() ? f->value(key) : NAN;
}

std::vector<std::string> links_in(const Report& report) {
    std::vector<std::string> links;
    for (const auto& r : report.results)
        if (std::find(links.begin(), links.end(), r.link) == links.end()) links.push_back(r.link);
    return links;
}

std::vector<std::string> targets_of(const Report& report) {
    std::vector<std::string> t{report.router_name, report.relay_name};
    if (!report.peer_name.empty()) t.push_back(report.peer_name);
    return t;
}

void print_throughput(std::ostream& out, const Report& report, const std::string& link, Notes& notes) {
    const auto& router = report.router_name;
    const auto& relay = report.relay_name;
    const auto& peer = report.peer_name;
    std::vector<std::string> headers{"scenario (" + link + ")", "router msg/s", "relay msg/s", "x relay"};
    if (!peer.empty()) headers.insert(headers.end(), {peer + " msg/s", "x relay"});
    headers.insert(headers.end(), {"router p50/p99/p99.9", "relay p50/p99/p99.9"});
    if (!peer.empty()) headers.push_back(peer + " p50/p99/p99.9");
    headers.insert(headers.end(), {"router CPU s/M", "relay CPU s/M", "x relay"});
    if (!peer.empty()) headers.push_back(peer + " CPU s/M");
    headers.push_back("router peak MiB");
    if (!peer.empty()) headers.push_back(peer + " peak MiB");
    headers.push_back("client CPU r/rl");
    Table table(headers);
    bool any = false;
    for (const auto& r : report.results) {
        if (r.link != link || (r.family != "pubsub" && r.family != "rpc")) continue;
        any = true;
        auto latency = [&](const std::string& t) {
            const auto* f = figures(r, t);
            if (!f || !f->ok()) return std::string("-");
            return duration_us(f->value("latency_p50_us")) + "/" + duration_us(f->value("latency_p99_us")) + "/" +
                   duration_us(f->value("latency_p999_us"));
        };
        std::vector<std::string> marks;
        for (const auto& t : targets_of(report)) marks.push_back(notes.mark(r, t, figures(r, t)));
        auto with_mark = [](std::string text, const std::string& mark) {
            if (mark.empty()) return text;
            return (text == "-" ? std::string() : text + " ") + mark;
        };
        std::vector<std::string> row{r.id, with_mark(rate(value(r, router, "delivered_per_s")), marks[0]),
                                     with_mark(rate(value(r, relay, "delivered_per_s")), marks[1]),
                                     ratio(value(r, router, "delivered_per_s") / value(r, relay, "delivered_per_s"))};
        if (!peer.empty())
            row.insert(row.end(), {with_mark(rate(value(r, peer, "delivered_per_s")), marks[2]),
                                   ratio(value(r, peer, "delivered_per_s") / value(r, relay, "delivered_per_s"))});
        row.insert(row.end(), {latency(router), latency(relay)});
        if (!peer.empty()) row.push_back(latency(peer));
        row.insert(row.end(), {plain(value(r, router, "cpu_s_per_million")), plain(value(r, relay, "cpu_s_per_million")),
                               ratio(value(r, router, "cpu_s_per_million") / value(r, relay, "cpu_s_per_million"))});
        if (!peer.empty()) row.push_back(plain(value(r, peer, "cpu_s_per_million")));
        row.push_back(mib(value(r, router, "peak_rss_bytes")));
        if (!peer.empty()) row.push_back(mib(value(r, peer, "peak_rss_bytes")));
        row.push_back(plain(100 * value(r, router, "client_cpu_share"), "%.0f%%") + "/" +
                      plain(100 * value(r, relay, "client_cpu_share"), "%.0f%%"));
        table.row(std::move(row));
    }
    if (any) {
        table.print(out);
        out << "\n";
    }
}

// A table with one row per target of each scenario of `family`; `cells` gives the
// figures after the scenario and target columns.
void print_per_target(std::ostream& out, const Report& report, Notes& notes, const std::string& family,
                      std::vector<std::string> headers,
                      const std::function<std::vector<std::string>(const ScenarioResult&, const std::string&,
                                                                   const Figures&)>& cells) {
    Table table(std::move(headers));
    bool any = false;
    for (const auto& r : report.results) {
        if (r.family != family) continue;
        for (const auto& t : targets_of(report)) {
            const auto* f = figures(r, t);
            if (!f) continue;
            any = true;
            auto mark = notes.mark(r, t, f);
            std::vector<std::string> row{r.id, t + (mark.empty() ? "" : " " + mark)};
            for (auto& c : cells(r, t, *f)) row.push_back(std::move(c));
            table.row(std::move(row));
        }
    }
    if (any) {
        table.print(out);
        out << "\n";
    }
}

void print_idle(std::ostream& out, const Report& report, Notes& notes) {
    print_per_target(out, report, notes, "idle",
                     {"idle sessions", "target", "sessions", "KiB/session", "RSS before MiB", "RSS after MiB",
                      "projected 100k MiB", "opened/s"},
                     [](const ScenarioResult& r, const std::string& t, const Figures&) -> std::vector<std::string> {
                         return {plain(value(r, t, "sessions"), "%.0f"), kib(value(r, t, "rss_per_session_bytes")),
                                 mib(value(r, t, "rss_before_bytes")), mib(value(r, t, "rss_after_bytes")),
                                 mib(value(r, t, "projected_rss_100k_bytes")), rate(value(r, t, "sessions_per_s"))};
                     });
}

void print_stall(std::ostream& out, const Report& report, Notes& notes) {
    print_per_target(out, report, notes, "stall",
                     {"stalled subscriber", "target", "healthy msg/s without", "with", "ratio", "slowest 0.5 s",
                      "RSS growth MiB", "queue limit MiB", "dropped after"},
                     [](const ScenarioResult& r, const std::string& t, const Figures& f) -> std::vector<std::string> {
                         double dropped = value(r, t, "dropped_after_s");
                         return {rate(value(r, t, "healthy_per_s_without")), rate(value(r, t, "healthy_per_s_with")),
                                 ratio(value(r, t, "rate_ratio")), ratio(value(r, t, "slowest_half_second_ratio")),
                                 mib(value(r, t, "rss_growth_bytes")), mib(value(r, t, "queue_limit_bytes")),
                                 std::isfinite(dropped) ? plain(dropped, "%.1f s") : (f.ok() ? "not dropped" : "-")};
                     });
}

struct Verdict {
    std::string target;
    std::string state;  // "met", "missed", "not measured"
    std::string detail;
};

std::vector<Verdict> evaluate(const Report& report) {
    const auto& router = report.router_name;
    const auto& relay = report.relay_name;
    std::vector<Verdict> verdicts;
    auto judge = [&](std::string name, const std::vector<std::pair<std::string, bool>>& figures) {
        Verdict v{std::move(name), "not measured", ""};
        for (const auto& [detail, met] : figures) {
            v.detail += (v.detail.empty() ? "" : "; ") + detail;
            if (v.state == "not measured" || v.state == "met") v.state = met ? "met" : "missed";
        }
        verdicts.push_back(std::move(v));
    };

    std::vector<std::pair<std::string, bool>> fanout, single, rpc, forms, bytes, idle, stall;
    auto against_relay = [&](const ScenarioResult& r) {
        return value(r, router, "delivered_per_s") / value(r, relay, "delivered_per_s");
    };
    auto where = [](const ScenarioResult& r) { return r.link + (r.form.empty() ? "" : " " + r.form); };
    // The same scenario in the other payload form, for the enc-against-ppt target.
    auto spec_twin = [&](const ScenarioResult& r) -> const ScenarioResult* {
        if (r.form != "enc") return nullptr;
        auto id = r.id.substr(0, r.id.size() - 3) + "ppt";
        for (const auto& other : report.results)
            if (other.id == id) return &other;
        return nullptr;
    };
    for (const auto& r : report.results) {
        bool one_kib = r.family == "pubsub" && r.params.at("payload") == 1024;
        if (one_kib && r.params.at("fanout") == 100) {
            double x = against_relay(r);
            if (std::isfinite(x)) fanout.emplace_back(where(r) + " " + ratio(x), x >= 0.7);
        }
        if (one_kib && r.params.at("fanout") == 1) {
            double x = against_relay(r), us = value(r, router, "cpu_s_per_million");
            if (std::isfinite(x))
                single.emplace_back(where(r) + " " + ratio(x) + ", " + plain(us) + " us CPU/msg", x >= 0.5 && us <= 2.0);
        }
        if (r.family == "rpc" && r.params.at("callers") == 32 && r.params.at("callees") == 1) {
            double x = against_relay(r);
            if (std::isfinite(x)) rpc.emplace_back(where(r) + " " + ratio(x), x >= 0.7);
        }
        if (const auto* twin = spec_twin(r)) {
            // Each form against the relay of its own run, so that the drift of a shared
            // machine between the two runs cancels; 5% is the noise between two runs here.
            double enc = against_relay(r), spec = against_relay(*twin);
            if (std::isfinite(enc / spec))
                forms.emplace_back(r.id.substr(0, r.id.size() - 4) + " enc " + ratio(enc) + " vs ppt " + ratio(spec),
                                   enc >= 0.95 * spec);
        }
        if (r.family == "pubsub" && r.params.at("payload") == 1024 * 1024) {
            double a = value(r, router, "cpu_s_per_million"), b = value(r, relay, "cpu_s_per_million");
            // The relay's CPU per delivered message is the cost of moving the bytes on this
            // machine; 10% is the noise between two runs here.
            if (std::isfinite(a / b))
                bytes.emplace_back(r.link + " 1->" + std::to_string(static_cast<int>(r.params.at("fanout"))) + " " +
                                       plain(a, "%.0f") + " vs " + plain(b, "%.0f") + " s/M (" + ratio(a / b) + ")",
                                   a <= 1.1 * b);
        }
        if (r.family == "idle" && r.params.at("requested") >= 100000) {
            double projected = value(r, router, "projected_rss_100k_bytes");
            if (std::isfinite(projected))
                idle.emplace_back(r.link + " " + mib(projected) + " MiB for 100k (" +
                                      plain(value(r, router, "sessions"), "%.0f") + " measured, " +
                                      kib(value(r, router, "rss_per_session_bytes")) + " KiB each)",
                                  projected < 1024.0 * 1024 * 1024);
        }
        if (r.family == "stall") {
            double growth = value(r, router, "rss_growth_bytes"), limit = value(r, router, "queue_limit_bytes");
            double x = value(r, router, "rate_ratio");
            if (std::isfinite(growth) && std::isfinite(x))
                stall.emplace_back(r.link + " RSS +" + mib(growth) + " MiB (limit " + mib(limit) + "), rate " + ratio(x),
                                   growth <= limit && x >= 0.9);
        }
    }
    judge("pub/sub 1->100, 1 KiB: >= 0.7x the raw relay's msg/s", fanout);
    judge("pub/sub 1->1, 1 KiB: >= 0.5x the raw relay's msg/s and router CPU <= 2 us per message", single);
    judge("RPC, 32 callers -> 1 callee: >= 0.7x the raw relay's calls/s", rpc);
    judge("legacy enc_* form no slower than the spec ppt_* form (x relay within 5%)", forms);
    judge("1 MiB encrypted payload: router CPU per delivered message <= moving its bytes (the relay's, +10%)", bytes);
    judge("100k idle sessions under 1 GiB RSS", idle);
    judge("stalled subscriber: router RSS growth <= queue limit, healthy rate >= 0.9x", stall);
    return verdicts;
}

}  // namespace

// `text`, followed by the footnote mark of the target's figures when they have one.
std::string marked(Notes& notes, const ScenarioResult& r, const std::string& target, std::string text) {
    auto mark = notes.mark(r, target, figures(r, target));
    return mark.empty() ? text : (text == "-" ? std::string() : text + " ") + mark;
}

// Family "cluster": each row's publisher on node 1 of the cluster, its subscribers on
// the same node or on the others, beside one router (everything on it) and the relay.
void print_cluster(std::ostream& out, const Report& report, Notes& notes) {
    const auto& router = report.router_name;
    const auto& relay = report.relay_name;
    const auto& cluster = report.cluster_name;
    Table table({"cluster scenario", "router msg/s", "cluster msg/s", "x router", "relay msg/s",
                 "router p50/p99 @rate", "cluster p50/p99 @rate", "router p50 1-in-flight",
                 "cluster p50 1-in-flight", "router CPU s/M", "cluster CPU s/M", "client CPU r/c"});
    bool any = false;
    for (const auto& r : report.results) {
        if (r.family != "cluster") continue;
        any = true;
        auto paced = [&](const std::string& t) {
            if (!std::isfinite(value(r, t, "paced_latency_p50_us"))) return std::string("-");
            return duration_us(value(r, t, "paced_latency_p50_us")) + "/" + duration_us(value(r, t, "paced_latency_p99_us")) +
                   " @" + rate(value(r, t, "paced_published_per_s"));
        };
        auto with_mark = [&](std::string text, const std::string& t) { return marked(notes, r, t, std::move(text)); };
        table.row({r.id, with_mark(rate(value(r, router, "delivered_per_s")), router),
                   with_mark(rate(value(r, cluster, "delivered_per_s")), cluster),
                   ratio(value(r, cluster, "delivered_per_s") / value(r, router, "delivered_per_s")),
                   with_mark(rate(value(r, relay, "delivered_per_s")), relay), paced(router), paced(cluster),
                   duration_us(value(r, router, "latency_p50_us")), duration_us(value(r, cluster, "latency_p50_us")),
                   plain(value(r, router, "cpu_s_per_million")), plain(value(r, cluster, "cpu_s_per_million")),
                   plain(100 * value(r, router, "client_cpu_share"), "%.0f%%") + "/" +
                       plain(100 * value(r, cluster, "client_cpu_share"), "%.0f%%")});
    }
    if (!any) return;
    table.print(out);
    out << "cluster: scripts/cluster-up (3 NATS servers, the nodes), unpinned; its CPU s/M counts every node and NATS\n"
           "server. @rate: latency with publications at a fixed rate (the published rate after @).\n\n";
}

std::string p50_p99(const ScenarioResult& r, const std::string& target, const std::string& prefix) {
    double p50 = value(r, target, prefix + "_p50_us");
    if (!std::isfinite(p50)) return "-";
    return duration_us(p50) + "/" + duration_us(value(r, target, prefix + "_p99_us"));
}

// Family "cluster-rpc": the callers on node 1, the callee on the last node; one router
// (caller and callee on it) and the relay beside.
void print_cluster_rpc(std::ostream& out, const Report& report, Notes& notes) {
    const auto& router = report.router_name;
    const auto& relay = report.relay_name;
    const auto& cluster = report.cluster_name;
    Table table({"cluster RPC scenario", "router calls/s", "cluster calls/s", "x router", "relay calls/s",
                 "router p50/p99", "cluster p50/p99", "relay p50/p99", "router CPU s/M", "cluster CPU s/M"});
    bool any = false;
    for (const auto& r : report.results) {
        if (r.family != "cluster-rpc") continue;
        any = true;
        auto with_mark = [&](std::string text, const std::string& t) { return marked(notes, r, t, std::move(text)); };
        table.row({r.id, with_mark(rate(value(r, router, "delivered_per_s")), router),
                   with_mark(rate(value(r, cluster, "delivered_per_s")), cluster),
                   ratio(value(r, cluster, "delivered_per_s") / value(r, router, "delivered_per_s")),
                   with_mark(rate(value(r, relay, "delivered_per_s")), relay), p50_p99(r, router, "latency"),
                   p50_p99(r, cluster, "latency"), p50_p99(r, relay, "latency"),
                   plain(value(r, router, "cpu_s_per_million")), plain(value(r, cluster, "cpu_s_per_million"))});
    }
    if (!any) return;
    table.print(out);
    out << "p50/p99: the calls' round trips (with 1 caller, one call in flight).\n\n";
}

// Family "cluster-meta": one request in flight on node 1, one router beside.
void print_cluster_meta(std::ostream& out, const Report& report, Notes& notes) {
    const auto& router = report.router_name;
    const auto& cluster = report.cluster_name;
    Table table({"cluster meta scenario", "router question p50/p99", "cluster question p50/p99",
                 "router REGISTER p50/p99", "cluster REGISTER p50/p99", "router UNREGISTER p50/p99",
                 "cluster UNREGISTER p50/p99"});
    bool any = false;
    for (const auto& r : report.results) {
        if (r.family != "cluster-meta") continue;
        any = true;
        auto with_mark = [&](std::string text, const std::string& t) { return marked(notes, r, t, std::move(text)); };
        table.row({r.id, with_mark(p50_p99(r, router, "meta_latency"), router),
                   with_mark(p50_p99(r, cluster, "meta_latency"), cluster), p50_p99(r, router, "register_latency"),
                   p50_p99(r, cluster, "register_latency"), p50_p99(r, router, "unregister_latency"),
                   p50_p99(r, cluster, "unregister_latency")});
    }
    if (!any) return;
    table.print(out);
    out << "question: the meta call's round trip on node 1 (a cluster gathers it from every node); REGISTER and\n"
           "UNREGISTER of a new URI each time, one in flight.\n\n";
}

void print_tables(std::ostream& out, const Report& report) {
    Notes notes;
    for (const auto& link : links_in(report)) print_throughput(out, report, link, notes);
    print_cluster(out, report, notes);
    print_cluster_rpc(out, report, notes);
    print_cluster_meta(out, report, notes);
    print_idle(out, report, notes);
    print_stall(out, report, notes);
    out << "msg/s: messages delivered per second (pub/sub: EVENTs received, summed over subscribers; rpc: calls\n"
           "completed). Latency: one message in flight (pub/sub) or the callers' round trips (rpc), timed by the\n"
           "client from the send time in the payload header. CPU s/M: target CPU seconds per million delivered\n"
           "messages (/proc). x relay: against the raw relay measured in the same run. client CPU r/rl: the load\n"
           "client's share of one core during the router / relay run (near 100% means the client set the pace).\n";
    out << "\n";
    notes.print(out);
}

void print_targets(std::ostream& out, const Report& report) {
    out << "\nTargets (benchmark figures, not tests):\n";
    for (const auto& v : evaluate(report))
        out << "  " << (v.state == "met" ? "[met]          " : v.state == "missed" ? "[missed]       " : "[not measured] ")
            << v.target << (v.detail.empty() ? "" : ": " + v.detail) << "\n";
}

void write_json(const std::filesystem::path& path, const Report& report) {
    std::ofstream file(path);
    rapidjson::OStreamWrapper stream(file);
    rapidjson::PrettyWriter<rapidjson::OStreamWrapper> w(stream);
    auto string = [&](const std::string& s) { w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size())); };
    auto numbers = [&](const std::map<std::string, double>& values) {
        w.StartObject();
        for (const auto& [k, v] : values) {
            if (!std::isfinite(v)) continue;  // JSON has no NaN
            string(k);
            w.Double(v);
        }
        w.EndObject();
    };
    w.StartObject();
    string("meta");
    w.StartObject();
    for (const auto& [k, v] : report.meta) {
        string(k);
        string(v);
    }
    w.EndObject();
    string("targets");
    w.StartObject();
    string("router");
    string(report.router_name);
    string("relay");
    string(report.relay_name);
    if (!report.peer_name.empty()) {
        string("peer");
        string(report.peer_name);
    }
    w.EndObject();
    string("results");
    w.StartArray();
    for (const auto& r : report.results) {
        w.StartObject();
        string("id");
        string(r.id);
        string("family");
        string(r.family);
        string("link");
        string(r.link);
        if (!r.form.empty()) {
            string("form");
            string(r.form);
        }
        string("params");
        numbers(r.params);
        string("by_target");
        w.StartObject();
        for (const auto& [name, f] : r.by_target) {
            string(name);
            w.StartObject();
            string("status");
            string(f.status);
            if (!f.note.empty()) {
                string("note");
                string(f.note);
            }
            string("values");
            numbers(f.values);
            if (!f.timeline.empty()) {
                string("timeline");
                w.StartArray();
                for (const auto& p : f.timeline) numbers(p);
                w.EndArray();
            }
            w.EndObject();
        }
        w.EndObject();
        w.EndObject();
    }
    w.EndArray();
    string("targets_evaluation");
    w.StartArray();
    for (const auto& v : evaluate(report)) {
        w.StartObject();
        string("target");
        string(v.target);
        string("state");
        string(v.state);
        string("detail");
        string(v.detail);
        w.EndObject();
    }
    w.EndArray();
    if (!report.uri_index_json.empty()) {
        string("uri_index");
        w.RawValue(report.uri_index_json.c_str(), report.uri_index_json.size(), rapidjson::kArrayType);
    }
    w.EndObject();
    file << "\n";
}

}  // namespace bench
