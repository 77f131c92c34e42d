// The endpoint's text: counters as RouterMetrics holds them, and gauges read from
// the router when scraped (a scrape walks the sessions; the data path counts nothing
// for them).
#include <map>
#include <tuple>

#include "blindrouter/core/metrics.hpp"
#include "blindrouter/core/router.hpp"
#include "blindrouter/version.hpp"

namespace blindrouter::core {

namespace {

// Transport labels: a fixed set, whatever a transport's details say.
std::string_view framing_of(const PeerInfo& peer) {
    const auto* framing = wamp::find(peer.transport, "channel_framing");
    const auto* name = framing ? framing->as_string() : nullptr;
    if (name && (*name == "websocket" || *name == "rawsocket")) return *name;
    return "other";
}

void write_traffic(Exposition& out, const RouterMetrics& m) {
    struct Direction {
        std::string_view messages, bytes, help_messages, help_bytes;
        const std::array<RouterMetrics::Traffic, RouterMetrics::type_slots>& slots;
    };
    const Direction directions[]{
        {"blindrouter_messages_received_total", "blindrouter_received_bytes_total",
         "WAMP messages received from clients, by message type",
         "Bytes of WAMP messages received from clients (serialized message, without framing), by message type",
         m.received()},
        {"blindrouter_messages_sent_total", "blindrouter_sent_bytes_total",
         "WAMP messages queued for clients, by message type",
         "Bytes of WAMP messages queued for clients (serialized message, without framing), by message type",
         m.sent()},
    };
    for (const auto& d : directions) {
        out.family(d.messages, "counter", d.help_messages);
        for (const auto& row : wamp::schema_table::rows)
            out.sample(d.messages, {{"type", row.name}}, d.slots[static_cast<std::size_t>(row.type)].messages);
        out.family(d.bytes, "counter", d.help_bytes);
        for (const auto& row : wamp::schema_table::rows)
            out.sample(d.bytes, {{"type", row.name}}, d.slots[static_cast<std::size_t>(row.type)].bytes);
    }
}

}  // namespace

std::string metrics_text(const Router& router, const ProcessGauges& process) {
    const auto& m = router.metrics();
    Exposition out;

    out.family("blindrouter_build_info", "gauge", "Always 1; the router's version as a label");
    out.sample("blindrouter_build_info", {{"version", version}}, std::uint64_t{1});
    out.family("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch in seconds");
    out.sample("process_start_time_seconds", {}, process.start_time_seconds);
    out.family("blindrouter_uptime_seconds", "gauge", "Seconds since the router started");
    out.sample("blindrouter_uptime_seconds", {}, process.uptime_seconds);
    out.family("blindrouter_open_connections", "gauge", "Open client connections, on every listener");
    out.sample("blindrouter_open_connections", {}, static_cast<std::uint64_t>(process.open_connections));
    out.family("blindrouter_pending_authentications", "gauge",
               "Sessions between HELLO and WELCOME that wait for an answer (CHALLENGE out, dynamic authenticator)");
    out.sample("blindrouter_pending_authentications", {}, static_cast<std::uint64_t>(router.pending_authentications()));

    // realm → (transport, serializer) → sessions; the router's own sessions are left out.
    std::map<std::tuple<std::string, std::string_view, std::string_view>, std::uint64_t> sessions;
    out.family("blindrouter_sessions", "gauge", "Established client sessions, by realm, transport and serializer");
    router.for_each_realm([&](const Realm& realm) {
        realm.for_each_peer([&](const PeerInfo& peer) {
            if (!peer.router_internal)
                ++sessions[{realm.name(), framing_of(peer), wamp::serializer_name(peer.serializer)}];
        });
    });
    for (const auto& [key, count] : sessions)
        out.sample("blindrouter_sessions",
                   {{"realm", std::get<0>(key)}, {"transport", std::get<1>(key)}, {"serializer", std::get<2>(key)}},
                   count);
    out.family("blindrouter_pending_calls", "gauge", "Invocations waiting for their callee's answer, by realm");
    router.for_each_realm([&](const Realm& realm) {
        out.sample("blindrouter_pending_calls", {{"realm", realm.name()}},
                   static_cast<std::uint64_t>(realm.dealer().pending_invocation_count()));
    });

    write_traffic(out, m);

    out.family("blindrouter_refusals_total", "counter",
               "ERRORs the router sent to clients, by error URI (a fixed set; \"other\" for any URI outside it)");
    auto uris = refusal_uris();
    for (std::size_t i = 0; i < uris.size(); ++i)
        out.sample("blindrouter_refusals_total", {{"uri", uris[i]}}, m.refusals()[i]);
    out.family("blindrouter_authentication_failures_total", "counter",
               "HELLOs answered with ABORT by authentication, by the method chosen (\"none\": no method was)");
    auto methods = authentication_methods();
    for (std::size_t i = 0; i < methods.size(); ++i)
        out.sample("blindrouter_authentication_failures_total", {{"method", methods[i]}},
                   m.authentication_failures()[i]);
    out.family("blindrouter_send_queue_drops_total", "counter",
               "Connections dropped because their send queue reached send_queue_limit");
    out.sample("blindrouter_send_queue_drops_total", {}, m.send_queue_drops());

    out.family("blindrouter_skipped_receivers_total", "counter",
               "EVENT receivers the outbound gate skipped (serializer mismatch of an end-to-end encrypted payload, "
               "or a message the receiver's serializer cannot express), by sender and receiver serializer");
    for (std::size_t s = 0; s < wamp::serializer_count; ++s)
        for (std::size_t r = 0; r < wamp::serializer_count; ++r)
            out.sample("blindrouter_skipped_receivers_total",
                       {{"sender_serializer", wamp::serializer_name(static_cast<wamp::Serializer>(s))},
                        {"receiver_serializer", wamp::serializer_name(static_cast<wamp::Serializer>(r))}},
                       m.skipped()[s][r]);

    write_histogram(out, "blindrouter_call_duration_seconds",
                    "Router-observed time from a CALL to its final RESULT", m.call_duration());

    if (m.counts_uris()) {
        out.family("blindrouter_uri_messages_total", "counter",
                   "PUBLISH and CALL by topic or procedure (--metrics-uri-labels; \"other\" past its limit)");
        auto write = [&](std::string_view uri, const RouterMetrics::UriCount& count) {
            out.sample("blindrouter_uri_messages_total", {{"type", "PUBLISH"}, {"uri", uri}}, count.publish);
            out.sample("blindrouter_uri_messages_total", {{"type", "CALL"}, {"uri", uri}}, count.call);
        };
        for (const auto& [uri, count] : std::map<std::string_view, RouterMetrics::UriCount>(m.uris().begin(), m.uris().end()))
            write(uri, count);
        write("other", m.other_uris());
    }
    return out.text();
}

}  // namespace blindrouter::core
