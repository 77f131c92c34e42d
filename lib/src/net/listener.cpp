#include "blindrouter/net/listener.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <spdlog/spdlog.h>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <limits>

#include "blindrouter/auth/tls_method.hpp"
#include "connection_slot.hpp"
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

// Over a connection limit, a client is accepted (a full backlog would only make it
// retry) and closed at once. Where it costs nothing it is told why first: an HTTP 503
// on a WebSocket-only port, the RawSocket handshake error "maximum connection count
// reached" on a RawSocket-only one, both without TLS. Before the socket closes, our
// side is shut down and what the client sent is read and dropped for up to a second:
// closing with its bytes unread would reset the connection and lose our answer.
constexpr std::string_view http_503 =
    "HTTP/1.1 503 Service Unavailable\r\nServer: blindrouter\r\nContent-Type: text/plain\r\n"
    "Content-Length: 33\r\nConnection: close\r\n\r\nconnection limit reached; retry later\n";
constexpr std::array<char, 4> rawsocket_limit_reached{
    static_cast<char>(rawsocket::magic), static_cast<char>(static_cast<unsigned>(rawsocket::HandshakeError::connection_limit_reached) << 4), 0,
    0};

template <class Socket>
struct Refusal : std::enable_shared_from_this<Refusal<Socket>> {
    explicit Refusal(Socket s) : socket(std::move(s)), timer(socket.get_executor()) {}

    void start(std::string_view reply) {
        timer.expires_after(std::chrono::seconds(1));
        timer.async_wait([self = this->shared_from_this()](beast::error_code) { self->close(); });
        asio::async_write(socket, asio::buffer(reply.data(), reply.size()),
                          [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->close();
                              beast::error_code ignored;
                              self->socket.shutdown(Socket::shutdown_send, ignored);
                              self->drain();
                          });
    }
    void drain() {
        socket.async_read_some(asio::buffer(sink), [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec) return self->close();
            self->drain();
        });
    }
    void close() {
        beast::error_code ignored;
        socket.close(ignored);
        timer.cancel();
    }

    Socket socket;
    asio::steady_timer timer;
    std::array<char, 512> sink;
};

std::string tls_error(const std::string& what, const std::filesystem::path& file, const boost::system::error_code& ec) {
    return what + " '" + file.string() + "': " + ec.message();
}

// What the session may know of a TLS connection whose handshake is done.
//
// tls-unique (RFC 5929 §3) is the first Finished message of the handshake: on a full
// handshake, the client's. Crossbar takes it with pyOpenSSL's get_peer_finished on the
// router side, and Autobahn's clients take the same bytes (Twisted: get_finished;
// asyncio: ssl's get_channel_binding("tls-unique")); both hash them with SHA-256 into
// the 32-byte channel id that cryptosign XORs into its challenge
// (ab:twisted/util.py, ab:asyncio/util.py transport_channel_id). TLS 1.3 defines no
// tls-unique (RFC 8446 §C.5), yet neither Crossbar nor Autobahn (nor Python's ssl)
// tells the versions apart: over TLS 1.3 they hash the client's TLS 1.3 Finished
// message just the same, and so does this, which keeps Autobahn clients working.
std::shared_ptr<const core::TlsChannel> tls_channel_of(SSL* ssl) {
    auto channel = std::make_shared<core::TlsChannel>();
    unsigned char finished[EVP_MAX_MD_SIZE];
    std::size_t size = SSL_get_peer_finished(ssl, finished, sizeof finished);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_size = 0;
    // Autobahn's value when no Finished message is known: 32 zero bytes.
    channel->tls_unique.assign(32, '\0');
    if (size != 0 && size <= sizeof finished &&
        EVP_Digest(finished, size, digest, &digest_size, EVP_sha256(), nullptr) == 1 && digest_size == 32)
        channel->tls_unique.assign(reinterpret_cast<const char*>(digest), digest_size);
    if (X509* certificate = SSL_get0_peer_certificate(ssl)) {
        unsigned char* der = nullptr;
        int der_size = i2d_X509(certificate, &der);
        if (der_size > 0) {
            if (auto read = auth::read_peer_certificate(
                    std::string_view(reinterpret_cast<const char*>(der), static_cast<std::size_t>(der_size))))
                channel->peer_certificate = std::make_shared<const auth::PeerCertificate>(std::move(*read));
        }
        OPENSSL_free(der);
    }
    return channel;
}
}  // namespace

struct Listener::Impl : std::enable_shared_from_this<Listener::Impl> {
    Impl(asio::io_context& io, core::Router& router, const config::Transport& transport, std::filesystem::path dir,
         std::shared_ptr<ConnectionCount> total)
        : io(io), router(router), transport(transport), node_directory(std::move(dir)), tcp_acceptor(io),
          unix_acceptor(io),
          open(std::make_shared<ConnectionCount>(
              transport.endpoint.max_connections.value_or(std::numeric_limits<std::size_t>::max()))),
          total(std::move(total)), cookie_stores(make_cookie_stores(transport)) {}

    static std::shared_ptr<const CookieStores> make_cookie_stores(const config::Transport& transport) {
        auto stores = std::make_shared<CookieStores>();
        for (const auto& service : transport.websocket)
            stores->push_back(service.cookie ? std::make_shared<auth::CookieStore>(*service.cookie) : nullptr);
        return stores;
    }

    // A slot for a new connection, or nullopt (logged, rate-limited) when a limit is reached.
    std::optional<ConnectionSlot> admit(std::string_view peer) {
        const auto* full = open->full() ? open.get() : total->full() ? total.get() : nullptr;
        if (!full) return ConnectionSlot(open, total);
        throttled_warn(WarningKind::connection_limit, "{}: connection limit reached ({} open, {} {}); refused {}",
                       transport.endpoint.describe(), full->open,
                       full == open.get() ? "endpoint.max_connections" : "router max_connections", full->limit, peer);
        return std::nullopt;
    }

    template <class Socket>
    void refuse(Socket socket) {
        std::string_view reply;
        if (!transport.endpoint.tls && !transport.rawsocket) reply = http_503;
        else if (!transport.endpoint.tls && transport.websocket.empty())
            reply = std::string_view(rawsocket_limit_reached.data(), rawsocket_limit_reached.size());
        if (reply.empty()) {
            beast::error_code ignored;
            socket.close(ignored);
            return;
        }
        std::make_shared<Refusal<Socket>>(std::move(socket))->start(reply);
    }

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
        // As Crossbar's CertificateOptions (enableSessions=False, enableSessionTickets=False):
        // every connection makes a full handshake, so its certificate is verified anew
        // and its tls-unique is the client's Finished. The session id context is what
        // OpenSSL requires of a server that verifies client certificates.
        SSL_CTX_set_session_cache_mode(ctx.native_handle(), SSL_SESS_CACHE_OFF);
        SSL_CTX_set_options(ctx.native_handle(), SSL_OP_NO_TICKET);
        static constexpr unsigned char session_context[] = "blindrouter";
        SSL_CTX_set_session_id_context(ctx.native_handle(), session_context, sizeof session_context - 1);
        if (!tls.ca_certificates.empty()) {
            // Twisted's CertificateOptions(verify=True, caCerts=...), as Crossbar builds it:
            // the CAs go into the trust store, a client certificate is required (a client
            // without one, or with one no CA vouches for, fails the handshake) and
            // verified once per connection. Every certificate in each file is trusted.
            X509_STORE* store = SSL_CTX_get_cert_store(ctx.native_handle());
            for (const auto& file : tls.ca_certificates) {
                auto path = resolve(file).string();
                FILE* f = std::fopen(path.c_str(), "r");
                if (!f) return "cannot read TLS CA certificate '" + path + "'";
                int loaded = 0;
                while (X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr)) {
                    bool added = X509_STORE_add_cert(store, cert) == 1;
                    X509_free(cert);
                    if (!added) break;
                    ++loaded;
                }
                std::fclose(f);
                ERR_clear_error();  // the read that ends the loop leaves "no start line"
                if (loaded == 0) return "invalid TLS CA certificate '" + path + "'";
            }
            SSL_CTX_set_verify(ctx.native_handle(),
                               SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT | SSL_VERIFY_CLIENT_ONCE, nullptr);
        }
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
                // Out of file descriptors, accept fails at once again and again.
                throttled_warn(WarningKind::accept_failed, "accept failed on {}: {}", self->transport.endpoint.describe(),
                               ec.message());
            } else {
                beast::error_code ignored;
                auto remote = socket.remote_endpoint(ignored);
                auto peer = remote.address().to_string() + ":" + std::to_string(remote.port());
                if (auto slot = self->admit(peer)) {
                    socket.set_option(tcp::no_delay(true), ignored);
                    keep_alive(socket);
                    if (self->tls_context)
                        self->start_tls(TlsStream(TcpStream(std::move(socket)), *self->tls_context), peer,
                                        std::move(*slot));
                    else self->serve(TcpStream(std::move(socket)), peer, std::move(*slot));
                } else {
                    self->refuse(std::move(socket));
                }
            }
            self->accept_tcp();
        });
    }

    void accept_unix() {
        unix_acceptor.async_accept([self = shared_from_this()](beast::error_code ec, unix_socket::socket socket) {
            if (!self->unix_acceptor.is_open()) return;
            std::string peer = "unix:" + self->transport.endpoint.path;
            if (ec)
                throttled_warn(WarningKind::accept_failed, "accept failed on {}: {}", self->transport.endpoint.describe(),
                               ec.message());
            else if (auto slot = self->admit(peer)) self->serve(UnixStream(std::move(socket)), peer, std::move(*slot));
            else self->refuse(std::move(socket));
            self->accept_unix();
        });
    }

    void start_tls(TlsStream stream, std::string peer, ConnectionSlot slot) {
        auto holder = std::make_shared<TlsStream>(std::move(stream));
        beast::get_lowest_layer(*holder).expires_after(opening_timeout(transport));
        holder->async_handshake(asio::ssl::stream_base::server,
                                [self = shared_from_this(), holder, peer, slot = std::move(slot)](
                                    beast::error_code ec) mutable {
                                    if (ec) {
                                        spdlog::info("connection {}: TLS handshake failed: {}", peer, ec.message());
                                        return;
                                    }
                                    auto channel = tls_channel_of(holder->native_handle());
                                    self->serve(std::move(*holder), peer, std::move(slot), std::move(channel));
                                });
    }

    // WebSocket, RawSocket, or (universal) whichever the first octet says: RawSocket
    // opens with 0x7F, which no HTTP request does.
    template <class Stream>
    void serve(Stream stream, std::string peer, ConnectionSlot slot, std::shared_ptr<const core::TlsChannel> tls = nullptr) {
        if (!transport.rawsocket)
            return start_websocket(std::move(stream), {}, std::move(peer), std::move(slot), std::move(tls));
        if (transport.websocket.empty())
            return start_rawsocket(std::move(stream), std::nullopt, std::move(peer), std::move(slot), std::move(tls));
        auto holder = std::make_shared<Stream>(std::move(stream));
        auto first = std::make_shared<std::array<char, 1>>();
        beast::get_lowest_layer(*holder).expires_after(opening_timeout(transport));
        asio::async_read(*holder, asio::buffer(*first),
                         [self = shared_from_this(), holder, first, peer, slot = std::move(slot), tls](
                             beast::error_code ec, std::size_t) mutable {
                             if (ec) {
                                 if (ec == beast::error::timeout)
                                     spdlog::info("connection {}: opening handshake timed out", peer);
                                 return;
                             }
                             if (static_cast<unsigned char>((*first)[0]) == rawsocket::magic)
                                 return self->start_rawsocket(std::move(*holder), static_cast<unsigned char>((*first)[0]),
                                                              peer, std::move(slot), tls);
                             beast::flat_buffer buffer;
                             auto space = buffer.prepare(1);
                             static_cast<char*>(space.data())[0] = (*first)[0];
                             buffer.commit(1);
                             self->start_websocket(std::move(*holder), std::move(buffer), peer, std::move(slot), tls);
                         });
    }

    template <class Stream>
    void start_websocket(Stream stream, beast::flat_buffer already_read, std::string peer, ConnectionSlot slot,
                         std::shared_ptr<const core::TlsChannel> tls) {
        std::make_shared<WebSocketConnection<Stream>>(std::move(stream), std::move(already_read), router, transport,
                                                      cookie_stores, std::move(peer), std::move(slot), std::move(tls))
            ->start();
    }

    template <class Stream>
    void start_rawsocket(Stream stream, std::optional<unsigned char> first_octet, std::string peer, ConnectionSlot slot,
                         std::shared_ptr<const core::TlsChannel> tls) {
        std::make_shared<RawSocketConnection<Stream>>(std::move(stream), first_octet, router, *transport.rawsocket,
                                                      std::move(peer), std::move(slot), std::move(tls))
            ->start();
    }

    asio::io_context& io;
    core::Router& router;
    const config::Transport& transport;
    std::filesystem::path node_directory;
    std::optional<asio::ssl::context> tls_context;
    tcp::acceptor tcp_acceptor;
    unix_socket::acceptor unix_acceptor;
    std::shared_ptr<ConnectionCount> open;   // on this listener
    std::shared_ptr<ConnectionCount> total;  // on every listener of the router
    std::shared_ptr<const CookieStores> cookie_stores;
};

Listener::Listener(asio::io_context& io, core::Router& router, const config::Transport& transport,
                   std::filesystem::path node_directory, std::shared_ptr<ConnectionCount> total)
    : impl_(std::make_shared<Impl>(io, router, transport, std::move(node_directory), std::move(total))) {}

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
        what += "WebSocket " + ws.path.value_or("(any path)") + " [" + serializers + "]" +
                (ws.cookie ? " with cookie tracking (memory, limit " + std::to_string(ws.cookie->limit) + ")" : "") + "; ";
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
