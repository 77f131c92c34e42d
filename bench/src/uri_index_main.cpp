// Micro-benchmark of the URI index (see bench/README.md): nanoseconds per lookup with 10,
// 1,000 and 100,000 patterns, a third each exact, prefix and wildcard, for the broker's
// for_each_match, the dealer's best_match and the authorizer's lookup. The cost should
// stay flat as the patterns grow; the last column scans the patterns the way the index
// before it did (prefix and wildcard patterns one by one), for comparison.
//
//   bench_uri_index [--quick] [--json PATH]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "blindrouter/auth/authorizer.hpp"
#include "blindrouter/core/uri_index.hpp"

using namespace blindrouter;
using wamp::MatchPolicy;

namespace {

struct Pattern {
    std::string uri;
    MatchPolicy match;
};

// Patterns i = 0..n-1, the policy by i % 3; the lookups hit every policy and miss too.
std::vector<Pattern> patterns(int n) {
    std::vector<Pattern> out;
    for (int i = 0; i < n; ++i) {
        auto s = std::to_string(i);
        switch (i % 3) {
            case 0: out.push_back({"com.app.s" + s + ".status", MatchPolicy::exact}); break;
            case 1: out.push_back({"com.app.s" + s + ".log.", MatchPolicy::prefix}); break;
            case 2: out.push_back({"com.app.s" + s + "..event", MatchPolicy::wildcard}); break;
        }
    }
    return out;
}

std::vector<std::string> lookups(int n) {
    std::vector<std::string> out;
    for (int k = 0; k < 1024; ++k) {
        int i = static_cast<int>((static_cast<long long>(k) * 7919) % n);
        auto s = std::to_string(i);
        switch (k % 4) {
            case 0: out.push_back("com.app.s" + s + ".status"); break;
            case 1: out.push_back("com.app.s" + s + ".log.warning.disk"); break;
            case 2: out.push_back("com.app.s" + s + ".door.event"); break;
            case 3: out.push_back("com.app.s" + s + ".unknown.topic"); break;
        }
    }
    return out;
}

volatile std::size_t sink;

// Nanoseconds per call of f(uri), cycling through `uris`, for at least `budget` seconds.
template <class F>
double ns_per_lookup(const std::vector<std::string>& uris, double budget, F&& f) {
    using clock = std::chrono::steady_clock;
    std::size_t calls = 0, total = 0;
    auto start = clock::now();
    double elapsed = 0;
    do {
        for (const auto& uri : uris) total += f(uri);
        calls += uris.size();
        elapsed = std::chrono::duration<double>(clock::now() - start).count();
    } while (elapsed < budget);
    sink = total;
    return elapsed * 1e9 / static_cast<double>(calls);
}

struct Row {
    int patterns;
    double for_each_match, best_match, authorizer, scan;
};

Row measure(int n, double budget) {
    auto all = patterns(n);
    auto uris = lookups(n);
    core::UriIndex<int> index;
    config::Realm realm;
    config::Role role;
    role.name = "user";
    role.has_permissions = true;
    for (int i = 0; i < n; ++i) {
        index.insert(all[i].uri, all[i].match, i);
        config::Permission p;
        p.uri = all[i].uri;
        p.match = all[i].match;
        p.allow_publish = i % 2 == 0;
        role.permissions.push_back(std::move(p));
    }
    realm.roles.push_back(std::move(role));
    auth::Authorizer authorizer(realm);

    Row row{n, 0, 0, 0, 0};
    row.for_each_match = ns_per_lookup(uris, budget, [&](const std::string& uri) {
        std::size_t found = 0;
        index.for_each_match(uri, [&](int value) { found += static_cast<std::size_t>(value) + 1; });
        return found;
    });
    row.best_match = ns_per_lookup(uris, budget, [&](const std::string& uri) {
        const int* found = index.best_match(uri);
        return found ? static_cast<std::size_t>(*found) : 0;
    });
    row.authorizer = ns_per_lookup(uris, budget, [&](const std::string& uri) {
        return static_cast<std::size_t>(authorizer.lookup("user", uri).allowed(auth::Action::publish));
    });
    // The index this one replaces: exact URIs hashed, every other pattern tried in turn.
    std::vector<Pattern> scanned;
    for (const auto& p : all)
        if (p.match != MatchPolicy::exact) scanned.push_back(p);
    // Fewer URIs for the slow scan, so that it ends in time.
    std::vector<std::string> scan_uris(uris.begin(), uris.begin() + (n > 1000 ? 64 : 1024));
    row.scan = ns_per_lookup(scan_uris, budget, [&](const std::string& uri) {
        std::size_t found = index.find(uri, MatchPolicy::exact) ? 1 : 0;
        for (const auto& p : scanned) found += wamp::uri_matches(p.uri, p.match, uri);
        return found;
    });
    return row;
}

}  // namespace

int main(int argc, char** argv) {
    double budget = 0.5;
    const char* json = nullptr;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--quick") == 0) budget = 0.1;
        else if (std::strcmp(argv[i], "--json") == 0 && i + 1 < argc) json = argv[++i];
        else {
            std::fprintf(stderr, "usage: bench_uri_index [--quick] [--json PATH]\n");
            return 2;
        }
    }
    std::vector<Row> rows;
    for (int n : {10, 1000, 100000}) rows.push_back(measure(n, budget));

    std::printf("\nURI index, ns per lookup (patterns a third each exact, prefix, wildcard)\n");
    std::printf("%10s %16s %12s %12s %22s\n", "patterns", "for_each_match", "best_match", "authorizer",
                "linear scan (before)");
    for (const auto& r : rows)
        std::printf("%10d %16.0f %12.0f %12.0f %22.0f\n", r.patterns, r.for_each_match, r.best_match, r.authorizer,
                    r.scan);
    if (json) {
        std::ofstream out(json);
        out << "[";
        for (std::size_t i = 0; i < rows.size(); ++i) {
            const auto& r = rows[i];
            out << (i ? ",\n " : "") << "{\"patterns\": " << r.patterns
                << ", \"for_each_match_ns\": " << r.for_each_match << ", \"best_match_ns\": " << r.best_match
                << ", \"authorizer_lookup_ns\": " << r.authorizer << ", \"linear_scan_ns\": " << r.scan << "}";
        }
        out << "]\n";
    }
    return 0;
}
