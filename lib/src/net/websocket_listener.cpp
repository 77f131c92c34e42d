#include "blindrouter/net/websocket_listener.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>
#include <optional>
#include <string>

#include "blindrouter/codec/decode_result.hpp"
#include "blindrouter/codec/outbound_message.hpp"
#include "blindrouter/version.hpp"

namespace blindrouter::net {
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = boost::asio::ip::tcp;

namespace {

constexpr std::size_t max_request_header_bytes = 16 * 1024;
// A receiver that does not read stalls only itself: once this much is queued for
// it, its connection is dropped instead of growing the router's memory.
std::size_t send_queue_limit(std::size_t max_message_size) {
    return std::max<std::size_t>(4 * max_message_size, 16 * 1024 * 1024);
}

// Subprotocols offered in Sec-WebSocket-Protocol, in the client's order of preference.
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

class WebSocketConnection final : public core::SessionTransport,
                                  public std::enable_shared_from_this<WebSocketConnection> {
public:
    WebSocketConnection(tcp::socket socket, core::Router& router,
                        const std::vector<const config::WebSocketTransport*>& services)
        : ws_(std::move(socket)), router_(router), services_(services) {
        beast::error_code ec;
        auto remote = beast::get_lowest_layer(ws_).socket().remote_endpoint(ec);
        peer_ = ec ? std::string("?") : remote.address().to_string() + ":" + std::to_string(remote.port());
    }

    void start() {
        parser_.emplace();
        parser_->header_limit(max_request_header_bytes);
        beast::get_lowest_layer(ws_).expires_after(services_.front()->open_handshake_timeout);
        http::async_read(beast::get_lowest_layer(ws_), buffer_, *parser_,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_request(ec); });
    }

    // SessionTransport
    void send(const codec::SharedOutbound& message) override {
        if (closing_ || torn_down_) return;
        const auto& frame = message->encoded(serializer_);
        if (queued_bytes_ + frame->size() > send_queue_limit(service_->max_message_size)) {
            spdlog::warn("connection {}: send queue limit reached ({} bytes queued); dropping the connection", peer_,
                         queued_bytes_);
            return tear_down();
        }
        queued_bytes_ += frame->size();
        queue_.push_back(frame);
        if (!writing_) do_write();
    }

    void close(core::CloseReason reason, std::string_view text) override {
        if (closing_ || torn_down_) return;
        closing_ = true;
        switch (reason) {
            case core::CloseReason::normal: close_code_ = websocket::close_code::normal; break;
            case core::CloseReason::protocol_error: close_code_ = websocket::close_code::protocol_error; break;
            case core::CloseReason::going_away: close_code_ = websocket::close_code::going_away; break;
        }
        // A close frame's reason is limited to 123 bytes (RFC 6455 §5.5).
        close_text_ = std::string(text.substr(0, 120));
        if (!writing_) do_close();
    }

    wamp::Serializer serializer() const override { return serializer_; }

private:
    void on_request(beast::error_code ec) {
        if (ec) {
            if (ec == beast::error::timeout)
                spdlog::info("connection {}: opening handshake timed out", peer_);
            else if (ec != http::error::end_of_stream)
                spdlog::info("connection {}: bad HTTP request: {}", peer_, ec.message());
            return;
        }
        auto& request = parser_->get();
        std::string target(request.target());
        auto query = target.find('?');
        auto path = target.substr(0, query);
        service_ = nullptr;
        for (const auto* s : services_)
            if (!s->path || *s->path == path || (*s->path + "/") == path) {
                service_ = s;
                break;
            }
        if (!service_) return refuse_http(http::status::not_found, "no WebSocket service at this path\n");
        if (!websocket::is_upgrade(request))
            return refuse_http(http::status::upgrade_required,
                               "this is a WAMP router (blindrouter): connect with a WebSocket WAMP client\n");

        std::optional<wamp::Serializer> chosen;
        std::string chosen_name;
        for (const auto& offered : offered_subprotocols(request[http::field::sec_websocket_protocol])) {
            auto s = wamp::serializer_from_subprotocol(offered);
            if (s && std::find(service_->serializers.begin(), service_->serializers.end(), *s) !=
                         service_->serializers.end()) {
                chosen = s;
                chosen_name = offered;
                break;
            }
        }
        if (!chosen) {
            spdlog::info("connection {}: refused, no supported WebSocket subprotocol offered", peer_);
            return refuse_http(http::status::bad_request,
                               "no supported WAMP WebSocket subprotocol offered (this transport serves wamp.2.json)\n");
        }
        serializer_ = *chosen;

        beast::get_lowest_layer(ws_).expires_never();
        websocket::stream_base::timeout timeouts{service_->open_handshake_timeout, websocket::stream_base::none(),
                                                 false};
        ws_.set_option(timeouts);
        ws_.set_option(websocket::stream_base::decorator([chosen_name](websocket::response_type& response) {
            response.set(http::field::sec_websocket_protocol, chosen_name);
            response.set(http::field::server, std::string("blindrouter/") + std::string(version));
        }));
        ws_.read_message_max(service_->max_message_size);
        ws_.async_accept(request, [self = shared_from_this()](beast::error_code ec) { self->on_accept(ec); });
    }

    void refuse_http(http::status status, std::string body) {
        auto response = std::make_shared<http::response<http::string_body>>(status, parser_->get().version());
        response->set(http::field::server, std::string("blindrouter/") + std::string(version));
        response->set(http::field::content_type, "text/plain");
        response->keep_alive(false);
        response->body() = std::move(body);
        response->prepare_payload();
        http::async_write(beast::get_lowest_layer(ws_), *response,
                          [self = shared_from_this(), response](beast::error_code, std::size_t) {
                              beast::error_code ignored;
                              beast::get_lowest_layer(self->ws_).socket().shutdown(tcp::socket::shutdown_send, ignored);
                          });
    }

    void on_accept(beast::error_code ec) {
        if (ec) {
            spdlog::info("connection {}: WebSocket handshake failed: {}", peer_, ec.message());
            return;
        }
        session_ = router_.open_session(*this, service_->auth);
        spdlog::debug("connection {}: WebSocket open ({}), session {}", peer_,
                      wamp::websocket_subprotocol(serializer_), session_->id());
        do_read();
    }

    void do_read() {
        ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        if (ec) {
            if (ec == websocket::error::message_too_big)
                spdlog::warn("connection {}: message larger than max_message_size ({} bytes); closed with 1009",
                             peer_, service_->max_message_size);
            else if (ec != websocket::error::closed && ec != boost::asio::error::operation_aborted)
                spdlog::info("connection {}: read failed: {}", peer_, ec.message());
            return finish();
        }
        auto frame = std::make_shared<const std::string>(beast::buffers_to_string(buffer_.data()));
        buffer_.consume(buffer_.size());
        if (serializer_ == wamp::Serializer::json && !ws_.got_text()) {
            session_->receive_malformed("binary WebSocket message on a JSON session");
        } else {
            auto decoded = codec::decode(serializer_, frame);
            if (decoded) session_->receive(decoded.message());
            else session_->receive_malformed(decoded.error());
        }
        do_read();
    }

    void do_write() {
        writing_ = true;
        ws_.text(serializer_ == wamp::Serializer::json);
        ws_.async_write(boost::asio::buffer(*queue_.front()),
                        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
    }

    void on_write(beast::error_code ec) {
        writing_ = false;
        if (ec) return tear_down();
        queued_bytes_ -= queue_.front()->size();
        queue_.pop_front();
        if (!queue_.empty()) return do_write();
        if (closing_) do_close();
    }

    void do_close() {
        writing_ = true;  // a close frame is a write: nothing may overlap it
        ws_.async_close(websocket::close_reason(close_code_, close_text_),
                        [self = shared_from_this()](beast::error_code) { self->writing_ = false; });
    }

    void tear_down() {
        if (torn_down_) return;
        torn_down_ = true;
        queue_.clear();
        queued_bytes_ = 0;
        beast::error_code ignored;
        beast::get_lowest_layer(ws_).socket().close(ignored);
    }

    // The read loop has ended: the session learns that its connection is gone.
    void finish() {
        if (session_) {
            session_->transport_closed();
            session_.reset();
        }
    }

    websocket::stream<beast::tcp_stream> ws_;
    core::Router& router_;
    std::vector<const config::WebSocketTransport*> services_;
    const config::WebSocketTransport* service_ = nullptr;
    std::string peer_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::empty_body>> parser_;
    wamp::Serializer serializer_ = wamp::Serializer::json;
    std::shared_ptr<core::Session> session_;
    std::deque<codec::EncodedFrame> queue_;
    std::size_t queued_bytes_ = 0;
    bool writing_ = false;
    bool closing_ = false;
    bool torn_down_ = false;
    websocket::close_code close_code_ = websocket::close_code::normal;
    std::string close_text_;
};

}  // namespace

struct WebSocketListener::Impl : std::enable_shared_from_this<WebSocketListener::Impl> {
    Impl(boost::asio::io_context& io, core::Router& router, std::vector<const config::WebSocketTransport*> services)
        : io(io), router(router), services(std::move(services)), acceptor(io) {}

    void accept() {
        acceptor.async_accept([self = shared_from_this()](beast::error_code ec,
                                                                                        tcp::socket socket) {
            if (ec == boost::asio::error::operation_aborted || !self->acceptor.is_open()) return;
            if (ec) {
                spdlog::warn("accept failed on port {}: {}", self->services.front()->port, ec.message());
            } else {
                beast::error_code ignored;
                socket.set_option(tcp::no_delay(true), ignored);
                std::make_shared<WebSocketConnection>(std::move(socket), self->router, self->services)->start();
            }
            self->accept();
        });
    }

    boost::asio::io_context& io;
    core::Router& router;
    std::vector<const config::WebSocketTransport*> services;
    tcp::acceptor acceptor;
};

WebSocketListener::WebSocketListener(boost::asio::io_context& io, core::Router& router,
                                     std::vector<const config::WebSocketTransport*> services)
    : impl_(std::make_shared<Impl>(io, router, std::move(services))) {}

WebSocketListener::~WebSocketListener() { stop(); }

boost::system::error_code WebSocketListener::listen() {
    const auto& first = *impl_->services.front();
    beast::error_code ec;
    auto address = boost::asio::ip::make_address(first.interface, ec);
    if (ec) return ec;
    tcp::endpoint endpoint(address, first.port);
    auto& acceptor = impl_->acceptor;
    acceptor.open(endpoint.protocol(), ec);
    if (ec) return ec;
    acceptor.set_option(boost::asio::socket_base::reuse_address(true), ec);
    if (ec) return ec;
    acceptor.bind(endpoint, ec);
    if (ec) return ec;
    acceptor.listen(first.backlog, ec);
    if (ec) return ec;
    impl_->accept();
    return {};
}

void WebSocketListener::stop() {
    beast::error_code ignored;
    if (impl_->acceptor.is_open()) impl_->acceptor.close(ignored);
}

unsigned short WebSocketListener::bound_port() const {
    beast::error_code ec;
    auto endpoint = impl_->acceptor.local_endpoint(ec);
    return ec ? 0 : endpoint.port();
}

}  // namespace blindrouter::net
