#include "blindrouter/net/metrics_server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>

#include "blindrouter/version.hpp"

namespace blindrouter::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::variant<MetricsEndpoint, std::string> parse_metrics_endpoint(std::string_view text) {
    MetricsEndpoint endpoint;
    std::string_view port = text;
    if (auto colon = text.rfind(':'); colon != std::string_view::npos) {
        std::string_view host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
        if (host.empty()) return std::string("no address before ':' in \"") + std::string(text) + "\"";
        boost::system::error_code ec;
        asio::ip::make_address(std::string(host), ec);
        if (ec) return "\"" + std::string(host) + "\" is not an IP address";
        endpoint.host = std::string(host);
    }
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535)
        return "\"" + std::string(port) + "\" is not a port (1-65535)";
    endpoint.port = static_cast<unsigned short>(value);
    return endpoint;
}

struct MetricsServer::Impl : std::enable_shared_from_this<MetricsServer::Impl> {
    Impl(asio::io_context& io, MetricsEndpoint endpoint, Render render, MetricsLimits limits)
        : acceptor(io), endpoint(std::move(endpoint)), render(std::move(render)), limits(limits) {}

    // One scrape: read the request, answer, close.
    struct Scrape : std::enable_shared_from_this<Scrape> {
        Scrape(tcp::socket socket, std::shared_ptr<Impl> server) : stream(std::move(socket)), server(std::move(server)) {
            ++this->server->active;
        }
        ~Scrape() { --server->active; }

        void start() {
            parser.header_limit(static_cast<std::uint32_t>(server->limits.max_request_bytes));
            parser.body_limit(0);
            stream.expires_after(server->limits.timeout);
            http::async_read(stream, buffer, parser,
                             [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
        }

        void on_read(beast::error_code ec) {
            if (ec) return;  // timed out, too large, not HTTP, or closed: nothing to answer
            const auto& request = parser.get();
            auto target = request.target();
            auto path = target.substr(0, target.find('?'));
            response.version(request.version());
            response.keep_alive(false);
            response.set(http::field::server, std::string("blindrouter/") + std::string(version));
            if (path != "/metrics") {
                response.result(http::status::not_found);
                response.set(http::field::content_type, "text/plain");
                response.body() = "the metrics are at /metrics\n";
            } else if (request.method() != http::verb::get && request.method() != http::verb::head) {
                response.result(http::status::method_not_allowed);
                response.set(http::field::allow, "GET, HEAD");
            } else {
                response.result(http::status::ok);
                response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
                response.body() = server->render();
            }
            response.prepare_payload();
            if (request.method() == http::verb::head) response.body().clear();
            http::async_write(stream, response, [self = shared_from_this()](beast::error_code, std::size_t) {
                beast::error_code ignored;
                self->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
            });
        }

        beast::tcp_stream stream;
        std::shared_ptr<Impl> server;
        beast::flat_buffer buffer;
        http::request_parser<http::empty_body> parser;
        http::response<http::string_body> response;
    };

    void accept() {
        acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
            if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
            if (!ec) {
                if (self->active >= self->limits.max_scrapes) {
                    // A scraper that holds every slot is not worth more: close the newcomer.
                    beast::error_code ignored;
                    socket.close(ignored);
                } else {
                    std::make_shared<Scrape>(std::move(socket), self)->start();
                }
            }
            self->accept();
        });
    }

    tcp::acceptor acceptor;
    MetricsEndpoint endpoint;
    Render render;
    MetricsLimits limits;
    std::size_t active = 0;
};

MetricsServer::MetricsServer(asio::io_context& io, MetricsEndpoint endpoint, Render render, MetricsLimits limits)
    : impl_(std::make_shared<Impl>(io, std::move(endpoint), std::move(render), limits)) {}

MetricsServer::~MetricsServer() { stop(); }

std::string MetricsServer::listen() {
    beast::error_code ec;
    auto address = asio::ip::make_address(impl_->endpoint.host, ec);
    if (ec) return "metrics address \"" + impl_->endpoint.host + "\": " + ec.message();
    tcp::endpoint where(address, impl_->endpoint.port);
    auto& acceptor = impl_->acceptor;
    if (acceptor.open(where.protocol(), ec); ec) return "metrics endpoint: " + ec.message();
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (acceptor.bind(where, ec); ec) return "metrics endpoint " + describe() + ": " + ec.message();
    if (acceptor.listen(asio::socket_base::max_listen_connections, ec); ec)
        return "metrics endpoint " + describe() + ": " + ec.message();
    impl_->accept();
    return {};
}

void MetricsServer::stop() {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
}

std::string MetricsServer::describe() const {
    beast::error_code ec;
    auto port = impl_->acceptor.is_open() ? impl_->acceptor.local_endpoint(ec).port() : impl_->endpoint.port;
    // An open acceptor whose bind failed reads back port 0; the error names the port asked for.
    if (ec || port == 0) port = impl_->endpoint.port;
    const auto& host = impl_->endpoint.host;
    bool v6 = host.find(':') != std::string::npos;
    return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + "/metrics";
}

}  // namespace blindrouter::net
