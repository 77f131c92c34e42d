#pragma once
// The Prometheus endpoint: plain HTTP/1.1 on the router's io_context, answering
// GET /metrics with the text exposition format and closing the connection. Switched
// on from the command line (--metrics), not config.json, which stays Crossbar's.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

namespace blindrouter::net {

struct MetricsEndpoint {
    std::string host = "127.0.0.1";  // loopback unless the operator names an address
    unsigned short port = 0;
};

// "PORT", "HOST:PORT" or "[IPV6]:PORT"; the error says what is wrong.
std::variant<MetricsEndpoint, std::string> parse_metrics_endpoint(std::string_view text);

// What one scraper may take from the router.
struct MetricsLimits {
    std::size_t max_scrapes = 4;             // connections served at once; more are closed at once
    std::size_t max_request_bytes = 8192;    // request line and headers; no body is read
    std::chrono::milliseconds timeout{5000};  // for the whole exchange
};

class MetricsServer {
public:
    using Render = std::function<std::string()>;
    MetricsServer(boost::asio::io_context& io, MetricsEndpoint endpoint, Render render, MetricsLimits limits = {});
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    // Binds and starts accepting; the error says what failed.
    std::string listen();
    void stop();
    // "http://HOST:PORT/metrics", with the bound port.
    std::string describe() const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace blindrouter::net
