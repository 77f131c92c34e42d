#include "blindrouter/core/metrics.hpp"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <cmath>
#include <iterator>

#include "blindrouter/wamp/error_uri.hpp"

namespace blindrouter::core {
namespace eu = wamp::error_uri;

namespace {

// Every error URI the router, its meta API and the payload-transparency plugin send
// (shared/E2E.md §1, §3, §5); a new one shows as "other" until it is added here.
constexpr std::array<std::string_view, 26> refusal_table{
    "other",
    eu::invalid_uri,
    eu::no_such_procedure,
    eu::procedure_already_exists,
    eu::no_such_registration,
    eu::no_such_subscription,
    eu::no_such_session,
    eu::invalid_argument,
    eu::not_authorized,
    eu::authorization_failed,
    eu::no_such_realm,
    eu::no_such_role,
    eu::no_auth_method,
    eu::no_such_principal,
    eu::authentication_failed,
    eu::protocol_violation,
    eu::canceled,
    eu::timeout,
    eu::option_not_allowed,
    eu::limit_reached,
    eu::runtime_error,
    eu::feature_not_supported,
    "wamp.error.history_unavailable",
    "wamp.error.testament_error",
    "blindrouter.error.serializer_mismatch",
    "blindrouter.error.encryption_required",
};

// auth/method_selection.cpp's known methods.
constexpr std::array<std::string_view, 10> method_table{
    "none", "anonymous", "anonymous-proxy", "ticket", "wampcra", "tls", "cryptosign", "cryptosign-proxy", "cookie",
    "scram",
};

template <std::size_t N>
std::size_t index_in(const std::array<std::string_view, N>& table, std::string_view value) {
    auto it = std::find(table.begin() + 1, table.end(), value);
    return it == table.end() ? 0 : static_cast<std::size_t>(it - table.begin());
}

}  // namespace

std::span<const std::string_view> refusal_uris() { return refusal_table; }
std::size_t refusal_index(std::string_view error_uri) { return index_in(refusal_table, error_uri); }
std::span<const std::string_view> authentication_methods() { return method_table; }
std::size_t authentication_method_index(std::string_view method) { return index_in(method_table, method); }

void LatencyHistogram::observe(std::chrono::nanoseconds elapsed) {
    const double seconds = std::chrono::duration<double>(elapsed).count();
    auto bound = std::lower_bound(call_duration_buckets.begin(), call_duration_buckets.end(), seconds);
    ++counts[static_cast<std::size_t>(bound - call_duration_buckets.begin())];
    ++count;
    sum += elapsed;
}

void RouterMetrics::error_sent(std::string_view error_uri) {
    if (error_uri.starts_with("wamp.") || error_uri.starts_with("blindrouter.")) ++refusals_[refusal_index(error_uri)];
}

void RouterMetrics::uri_used(wamp::MessageType type, std::string_view uri) {
    auto it = uris_.find(std::string(uri));
    UriCount* count = nullptr;
    if (it != uris_.end()) count = &it->second;
    else if (uris_.size() < uri_label_limit_) count = &uris_[std::string(uri)];
    else count = &other_uris_;
    ++(type == wamp::MessageType::publish ? count->publish : count->call);
}

void Exposition::family(std::string_view name, std::string_view type, std::string_view help) {
    fmt::format_to(std::back_inserter(text_), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void Exposition::labels(Labels labels) {
    if (labels.size() == 0) return;
    text_ += '{';
    bool first = true;
    for (const auto& [name, value] : labels) {
        if (!first) text_ += ',';
        first = false;
        text_.append(name);
        text_ += "=\"";
        for (char c : value) {
            if (c == '\\') text_ += "\\\\";
            else if (c == '"') text_ += "\\\"";
            else if (c == '\n') text_ += "\\n";
            else text_ += c;
        }
        text_ += '"';
    }
    text_ += '}';
}

void Exposition::sample(std::string_view name, Labels labels, double value) {
    text_.append(name);
    this->labels(labels);
    if (std::isinf(value)) text_ += value > 0 ? " +Inf\n" : " -Inf\n";
    else fmt::format_to(std::back_inserter(text_), " {}\n", value);
}

void Exposition::sample(std::string_view name, Labels labels, std::uint64_t value) {
    text_.append(name);
    this->labels(labels);
    fmt::format_to(std::back_inserter(text_), " {}\n", value);
}

void write_histogram(Exposition& out, std::string_view name, std::string_view help, const LatencyHistogram& h) {
    out.family(name, "histogram", help);
    const std::string bucket = std::string(name) + "_bucket";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < call_duration_buckets.size(); ++i) {
        cumulative += h.counts[i];
        auto le = fmt::format("{}", call_duration_buckets[i]);
        out.sample(bucket, {{"le", le}}, cumulative);
    }
    out.sample(bucket, {{"le", "+Inf"}}, h.count);
    out.sample(std::string(name) + "_sum", {}, std::chrono::duration<double>(h.sum).count());
    out.sample(std::string(name) + "_count", {}, h.count);
}

}  // namespace blindrouter::core
