#include "blindrouter/net/listener.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <spdlog/spdlog.h>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl.hpp>

#include "rawsocket_connection.hpp"
#include "websocket_connection.hpp"

namespace blindrouter::net {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using unix_socket = asio::local::stream_protocol;
using TcpStream = beast::tcp_stream;
using UnixStream = beast::basic_stream<unix_socket>;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

std::vector<std::string> offered_subprotocols(beast::string_view header) {
    std::vector<std::string> offered;
    std::string current;
    for (char c : header) {
        if (c == ',') {
            if (!current.empty()) offered.push_back(current);
            current.clear();
        } else if (c != ' ' && c != '\t') {
            current += c;
        }
    }
    if (!current.empty()) offered.push_back(current);
    return offered;
}

namespace {
std::chrono::milliseconds opening_timeout(const config::Transport& t) {
    if (!t.websocket.empty()) return t.websocket.front().liveness.open_handshake_timeout;
    return t.rawsocket->liveness.open_handshake_timeout;
}

// A peer whose host is gone sends nothing, not even a reset: keepalive probes find
// it even where WAMP pings are off (Crossbar leaves the system default, 2 hours).
void keep_alive(tcp::socket& socket) {
    beast::error_code ignored;
    socket.set_option(asio::socket_base::keep_alive(true), ignored);
    using L = config::Liveness;
    int idle = static_cast<int>(L::tcp_keepalive_idle.count());
    int interval = static_cast<int>(L::tcp_keepalive_interval.count());
    int count = L::tcp_keepalive_count;
    auto fd = socket.native_handle();
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
}

std::string tls_error(const std::string& what, const std::filesystem::path& file, const boost::system::error_code& ec) {
    return what + " '" + file.string() + "': " + ec.message();
}
}  // namespace

struct Listener::Impl : std::enable_shared_from_this<Listener::Impl> {
    Impl(asio::io_context& io, core::Router& router, const config::Transport& transport, std::filesystem::path dir)
        : io(io), router(router), transport(transport), node_directory(std::move(dir)), tcp_acceptor(io),
          unix_acceptor(io) {}

    std::filesystem::path resolve(const std::string& file) const {
        std::filesystem::path p(file);
        return p.is_absolute() ? p : node_directory / p;
    }

    std::string make_tls_context() {
        const auto& tls = *transport.endpoint.tls;
        tls_context.emplace(asio::ssl::context::tls_server);
        auto& ctx = *tls_context;
        ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                        asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                        asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
        boost::system::error_code ec;
        ctx.use_certificate_file(resolve(tls.certificate).string(), asio::ssl::context::pem, ec);
        if (ec) return tls_error("cannot load TLS certificate", resolve(tls.certificate), ec);
        for (const auto& chain : tls.chain_certificates) {
            // Intermediate certificates are sent after the server's own.
            auto path = resolve(chain).string();
            FILE* f = std::fopen(path.c_str(), "r");
            if (!f) return "cannot read TLS chain certificate '" + path + "'";
            X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
            std::fclose(f);
            if (!cert || SSL_CTX_add0_chain_cert(ctx.native_handle(), cert) != 1) {
                if (cert) X509_free(cert);
                return "invalid TLS chain certificate '" + path + "'";
            }
        }
        ctx.use_private_key_file(resolve(tls.key).string(), asio::ssl::context::pem, ec);
        if (ec) return tls_error("cannot load TLS key", resolve(tls.key), ec);
        if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) return "TLS key does not match the certificate";
        if (tls.dhparam) {
            ctx.use_tmp_dh_file(resolve(*tls.dhparam).string(), ec);
            if (ec) return tls_error("cannot load TLS dhparam", resolve(*tls.dhparam), ec);
        }
        if (tls.ciphers && SSL_CTX_set_cipher_list(ctx.native_handle(), tls.ciphers->c_str()) != 1)
            return "no usable cipher in TLS ciphers '" + *tls.ciphers + "'";
        return {};
    }

    std::string listen() {
        const auto& e = transport.endpoint;
        if (e.tls) {
            if (auto error = make_tls_context(); !error.empty()) return error;
        }
        boost::system::error_code ec;
        if (e.kind == config::Endpoint::Kind::unix_socket) {
            auto path = resolve(e.path);
            // A socket file left by an earlier run would make bind fail (Crossbar removes it too).
            std::error_code stale;
            if (std::filesystem::is_socket(path, stale)) std::filesystem::remove(path, stale);
            unix_socket::endpoint endpoint(path.string());
            unix_acceptor.open(endpoint.protocol(), ec);
            if (!ec) unix_acceptor.bind(endpoint, ec);
            if (!ec) unix_acceptor.listen(e.backlog, ec);
            if (ec) return "cannot listen on " + path.string() + ": " + ec.message();
            accept_unix();
            return {};
        }
        auto address = asio::ip::make_address(e.interface, ec);
        if (ec) return "invalid interface '" + e.interface + "': " + ec.message();
        tcp::endpoint endpoint(address, e.port);
        tcp_acceptor.open(endpoint.protocol(), ec);
        if (!ec) tcp_acceptor.set_option(asio::socket_base::reuse_address(true), ec);
        if (!ec) tcp_acceptor.bind(endpoint, ec);
        if (!ec) tcp_acceptor.listen(e.backlog, ec);
        if (ec) return "cannot listen on " + e.describe() + ": " + ec.message();
        accept_tcp();
        return {};
    }

    void accept_tcp() {
        tcp_acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
            if (!self->tcp_acceptor.is_open()) return;
            if (ec) {
                spdlog::warn("accept failed on {}: {}", self->transport.endpoint.describe(), ec.message());
            } else {
                beast::error_code ignored;
                socket.set_option(tcp::no_delay(true), ignored);
                keep_alive(socket);
                auto remote = socket.remote_endpoint(ignored);
                auto peer = remote.address().to_string() + ":" + std::to_string(remote.port());
                if (self->tls_context) self->start_tls(TlsStream(TcpStream(std::move(socket)), *self->tls_context), peer);
                else self->serve(TcpStream(std::move(socket)), peer);
            }
            self->accept_tcp();
        });
    }

    void accept_unix() {
        unix_acceptor.async_accept([self = shared_from_this()](beast::error_code ec, unix_socket::socket socket) {
            if (!self->unix_acceptor.is_open()) return;
            if (ec) spdlog::warn("accept failed on {}: {}", self->transport.endpoint.describe(), ec.message());
            else self->serve(UnixStream(std::move(socket)), "unix:" + self->transport.endpoint.path);
            self->accept_unix();
        });
    }

    void start_tls(TlsStream stream, std::string peer) {
        auto holder = std::make_shared<TlsStream>(std::move(stream));
        beast::get_lowest_layer(*holder).expires_after(opening_timeout(transport));
        holder->async_handshake(asio::ssl::stream_base::server,
                                [self = shared_from_this(), holder, peer](beast::error_code ec) {
                                    if (ec) {
                                        spdlog::info("connection {}: TLS handshake failed: {}", peer, ec.message());
                                        return;
                                    }
                                    self->serve(std::move(*holder), peer);
                                });
    }

    // WebSocket, RawSocket, or (universal) whichever the first octet says: RawSocket
    // opens with 0x7F, which no HTTP request does.
    template <class Stream>
    void serve(Stream stream, std::string peer) {
        if (!transport.rawsocket) return start_websocket(std::move(stream), {}, std::move(peer));
        if (transport.websocket.empty()) return start_rawsocket(std::move(stream), std::nullopt, std::move(peer));
        auto holder = std::make_shared<Stream>(std::move(stream));
        auto first = std::make_shared<std::array<char, 1>>();
        beast::get_lowest_layer(*holder).expires_after(opening_timeout(transport));
        asio::async_read(*holder, asio::buffer(*first),
                         [self = shared_from_this(), holder, first, peer](beast::error_code ec, std::size_t) {
                             if (ec) {
                                 if (ec == beast::error::timeout)
                                     spdlog::info("connection {}: opening handshake timed out", peer);
                                 return;
                             }
                             if (static_cast<unsigned char>((*first)[0]) == rawsocket::magic)
                                 return self->start_rawsocket(std::move(*holder), static_cast<unsigned char>((*first)[0]), peer);
                             beast::flat_buffer buffer;
                             auto space = buffer.prepare(1);
                             static_cast<char*>(space.data())[0] = (*first)[0];
                             buffer.commit(1);
                             self->start_websocket(std::move(*holder), std::move(buffer), peer);
                         });
    }

    template <class Stream>
    void start_websocket(Stream stream, beast::flat_buffer already_read, std::string peer) {
        std::make_shared<WebSocketConnection<Stream>>(std::move(stream), std::move(already_read), router, transport,
                                                      std::move(peer))
            ->start();
    }

    template <class Stream>
    void start_rawsocket(Stream stream, std::optional<unsigned char> first_octet, std::string peer) {
        std::make_shared<RawSocketConnection<Stream>>(std::move(stream), first_octet, router,
                                                      *transport.rawsocket, std::move(peer))
            ->start();
    }

    asio::io_context& io;
    core::Router& router;
    const config::Transport& transport;
    std::filesystem::path node_directory;
    std::optional<asio::ssl::context> tls_context;
    tcp::acceptor tcp_acceptor;
    unix_socket::acceptor unix_acceptor;
};

Listener::Listener(asio::io_context& io, core::Router& router, const config::Transport& transport,
                   std::filesystem::path node_directory)
    : impl_(std::make_shared<Impl>(io, router, transport, std::move(node_directory))) {}

Listener::~Listener() { stop(); }

std::string Listener::listen() { return impl_->listen(); }

void Listener::stop() {
    beast::error_code ignored;
    if (impl_->tcp_acceptor.is_open()) impl_->tcp_acceptor.close(ignored);
    if (impl_->unix_acceptor.is_open()) impl_->unix_acceptor.close(ignored);
}

std::string Listener::describe() const {
    const auto& t = impl_->transport;
    std::string what;
    for (const auto& ws : t.websocket) {
        std::string serializers;
        for (auto s : ws.serializers) serializers += std::string(serializers.empty() ? "" : ",") + std::string(wamp::serializer_name(s));
        what += "WebSocket " + ws.path.value_or("(any path)") + " [" + serializers + "]; ";
    }
    if (t.rawsocket) {
        std::string serializers;
        for (auto s : t.rawsocket->serializers) serializers += std::string(serializers.empty() ? "" : ",") + std::string(wamp::serializer_name(s));
        what += "RawSocket [" + serializers + "]; ";
    }
    std::string where = t.endpoint.describe();
    if (impl_->tcp_acceptor.is_open()) {
        beast::error_code ec;
        auto local = impl_->tcp_acceptor.local_endpoint(ec);
        if (!ec) where = local.address().to_string() + ":" + std::to_string(local.port()) + (t.endpoint.tls ? " (TLS)" : "");
    }
    return where + ": " + what.substr(0, what.size() - 2);
}

}  // namespace blindrouter::net
