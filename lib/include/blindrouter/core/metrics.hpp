#pragma once
// The router's counters for the Prometheus endpoint (net/metrics_server.hpp). Every
// counter is a plain integer in a slot chosen by a small index (a message type code,
// a serializer, an entry of a fixed URI table): the router runs on one thread, so
// an increment on the data path is one add, with no lookup, lock or atomic.
// Label values come from fixed tables or operator config, never from payloads,
// Arguments or secrets; topic and procedure URIs only when the operator opts in.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "blindrouter/wamp/message.hpp"
#include "blindrouter/wamp/serializer.hpp"

namespace blindrouter::core {

// Fixed buckets (upper bounds, seconds) for the router-observed time from CALL to
// its final RESULT: from a local callee's sub-millisecond answer to the seconds of a
// slow one.
inline constexpr std::array<double, 14> call_duration_buckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                              0.1,    0.25,  0.5,    1,     2.5,  5,     10};

struct LatencyHistogram {
    // counts[i]: observations <= call_duration_buckets[i] and above the bucket before;
    // the last slot holds those above every bound (+Inf).
    std::array<std::uint64_t, call_duration_buckets.size() + 1> counts{};
    std::uint64_t count = 0;
    std::chrono::nanoseconds sum{0};

    void observe(std::chrono::nanoseconds elapsed);
};

// The error URIs the router itself sends, as labels; anything else is "other".
// Index 0 is "other".
std::span<const std::string_view> refusal_uris();
std::size_t refusal_index(std::string_view error_uri);
// The authentication method labels ("none": no method was chosen); index 0 is "none".
std::span<const std::string_view> authentication_methods();
std::size_t authentication_method_index(std::string_view method);

class RouterMetrics {
public:
    struct Traffic {
        std::uint64_t messages = 0;
        std::uint64_t bytes = 0;
    };
    // Indexed by the message type code (WAMP codes are below 71).
    static constexpr std::size_t type_slots = 71;
    using SerializerPairs = std::array<std::array<std::uint64_t, wamp::serializer_count>, wamp::serializer_count>;

    void received(wamp::MessageType type, std::size_t bytes) {
        auto& slot = in_[static_cast<std::size_t>(type)];
        ++slot.messages;
        slot.bytes += bytes;
    }
    void sent(wamp::MessageType type, std::size_t bytes) {
        auto& slot = out_[static_cast<std::size_t>(type)];
        ++slot.messages;
        slot.bytes += bytes;
    }
    // An ERROR sent to a client: counted as a refusal when its URI is in the router's
    // namespaces (wamp.*, blindrouter.*); an application's URI is a callee's answer
    // passed on, not the router's refusal.
    void error_sent(std::string_view error_uri);
    void authentication_failed(std::size_t method_index) { ++authentication_failures_[method_index]; }
    void send_queue_drop() { ++send_queue_drops_; }
    // A receiver the outbound gate skipped (shared/E2E.md §3: a serializer mismatch,
    // or a message its serializer cannot express).
    void receiver_skipped(wamp::Serializer sender, wamp::Serializer receiver) {
        ++skipped_[static_cast<std::size_t>(sender)][static_cast<std::size_t>(receiver)];
    }
    // Call timing costs a clock read per CALL and per RESULT: on only with an endpoint.
    bool times_calls() const { return times_calls_; }
    void set_times_calls(bool on) { times_calls_ = on; }
    LatencyHistogram& call_duration() { return call_duration_; }

    // --metrics-uri-labels: PUBLISH and CALL counted by topic / procedure, for at most
    // `limit` distinct URIs; later ones are counted under "other". 0: off.
    void set_uri_label_limit(std::size_t limit) { uri_label_limit_ = limit; }
    bool counts_uris() const { return uri_label_limit_ != 0; }
    void uri_used(wamp::MessageType type, std::string_view uri);

    const std::array<Traffic, type_slots>& received() const { return in_; }
    const std::array<Traffic, type_slots>& sent() const { return out_; }
    const std::vector<std::uint64_t>& refusals() const { return refusals_; }
    const std::vector<std::uint64_t>& authentication_failures() const { return authentication_failures_; }
    std::uint64_t send_queue_drops() const { return send_queue_drops_; }
    const SerializerPairs& skipped() const { return skipped_; }
    const LatencyHistogram& call_duration() const { return call_duration_; }
    struct UriCount {
        std::uint64_t publish = 0;
        std::uint64_t call = 0;
    };
    const std::unordered_map<std::string, UriCount>& uris() const { return uris_; }
    const UriCount& other_uris() const { return other_uris_; }

private:
    std::array<Traffic, type_slots> in_{};
    std::array<Traffic, type_slots> out_{};
    std::vector<std::uint64_t> refusals_ = std::vector<std::uint64_t>(refusal_uris().size());
    std::vector<std::uint64_t> authentication_failures_ = std::vector<std::uint64_t>(authentication_methods().size());
    std::uint64_t send_queue_drops_ = 0;
    SerializerPairs skipped_{};
    bool times_calls_ = false;
    LatencyHistogram call_duration_;
    std::size_t uri_label_limit_ = 0;
    std::unordered_map<std::string, UriCount> uris_;
    UriCount other_uris_;
};

class Router;

// What the process knows beyond the router: for the endpoint's process series.
struct ProcessGauges {
    double start_time_seconds = 0;  // since the Unix epoch
    double uptime_seconds = 0;
    std::size_t open_connections = 0;
};

// Every series of the endpoint, in the text exposition format (README "Metrics").
std::string metrics_text(const Router& router, const ProcessGauges& process);

// Prometheus text exposition format 0.0.4: families with # HELP and # TYPE, then
// their samples; label values escaped as the format asks.
class Exposition {
public:
    using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;
    void family(std::string_view name, std::string_view type, std::string_view help);
    void sample(std::string_view name, Labels labels, double value);
    void sample(std::string_view name, Labels labels, std::uint64_t value);
    const std::string& text() const { return text_; }

private:
    void labels(Labels labels);
    std::string text_;
};

// The histogram's families (_bucket, _sum, _count) under `name`.
void write_histogram(Exposition& out, std::string_view name, std::string_view help, const LatencyHistogram& h);

}  // namespace blindrouter::core
