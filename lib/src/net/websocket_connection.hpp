#pragma once
// WAMP over WebSocket (Boost.Beast) on any stream: TCP, Unix socket, TLS.
// Included only by listener.cpp, so Beast is compiled in one translation unit.
#include <spdlog/spdlog.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <optional>
#include <string>

#include "blindrouter/codec/decode_result.hpp"
#include "blindrouter/codec/outbound_message.hpp"
#include "blindrouter/config/node_config.hpp"
#include "blindrouter/core/router.hpp"
#include "blindrouter/version.hpp"
#include "send_queue.hpp"

namespace blindrouter::net {
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

// Subprotocols offered in Sec-WebSocket-Protocol, in the client's order of preference.
std::vector<std::string> offered_subprotocols(beast::string_view header);

template <class Stream>
class WebSocketConnection final : public core::SessionTransport,
                                  public std::enable_shared_from_this<WebSocketConnection<Stream>> {
public:
    // `already_read` holds bytes taken from the stream before (a universal port's first byte).
    WebSocketConnection(Stream stream, beast::flat_buffer already_read, core::Router& router,
                        const config::Transport& transport, std::string peer)
        : ws_(std::move(stream)),
          buffer_(std::move(already_read)),
          router_(router),
          transport_(transport),
          peer_(std::move(peer)),
          queue_(0) {}

    void start() {
        parser_.emplace();
        parser_->header_limit(16 * 1024);
        parser_->body_limit(0);
        beast::get_lowest_layer(ws_).expires_after(transport_.websocket.front().open_handshake_timeout);
        http::async_read(ws_.next_layer(), buffer_, *parser_,
                         [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_request(ec); });
    }

    void send(const codec::SharedOutbound& message) override {
        if (closing_ || torn_down_) return;
        const auto& frame = message->encoded(serializer_);
        if (!frame) {
            spdlog::warn("connection {}: {} cannot be expressed in {}; not delivered", peer_,
                         wamp::message_name(message->message().type), wamp::serializer_name(serializer_));
            return;
        }
        if (!queue_.push(frame)) {
            spdlog::warn("connection {}: send queue limit reached ({} bytes waiting); dropping the connection", peer_,
                         queue_.bytes());
            return tear_down();
        }
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
            if (ec == beast::error::timeout) spdlog::info("connection {}: opening handshake timed out", peer_);
            else if (ec != http::error::end_of_stream)
                spdlog::info("connection {}: bad HTTP request: {}", peer_, ec.message());
            return;
        }
        auto& request = parser_->get();
        std::string target(request.target());
        auto path = target.substr(0, target.find('?'));
        for (const auto& s : transport_.websocket)
            if (!s.path || *s.path == path || *s.path + "/" == path) {
                service_ = &s;
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
            std::string served;
            for (auto s : service_->serializers) served += std::string(served.empty() ? "" : ", ") +
                                                            std::string(wamp::websocket_subprotocol(s));
            return refuse_http(http::status::bad_request,
                               "no supported WAMP WebSocket subprotocol offered (served: " + served + ")\n");
        }
        serializer_ = *chosen;
        queue_ = SendQueue(SendQueue::limit_for(service_->max_message_size));

        beast::get_lowest_layer(ws_).expires_never();
        ws_.set_option(websocket::stream_base::timeout{service_->open_handshake_timeout,
                                                       websocket::stream_base::none(), false});
        ws_.set_option(websocket::stream_base::decorator([chosen_name](websocket::response_type& response) {
            response.set(http::field::sec_websocket_protocol, chosen_name);
            response.set(http::field::server, std::string("blindrouter/") + std::string(version));
        }));
        ws_.read_message_max(service_->max_message_size);
        // One frame per message: Beast would otherwise cut every message above its
        // 4 KiB write buffer into frames, each its own write.
        ws_.auto_fragment(false);
        buffer_.consume(buffer_.size());
        ws_.async_accept(request, [self = this->shared_from_this()](beast::error_code ec) { self->on_accept(ec); });
    }

    void refuse_http(http::status status, std::string body) {
        auto response = std::make_shared<http::response<http::string_body>>(status, parser_->get().version());
        response->set(http::field::server, std::string("blindrouter/") + std::string(version));
        response->set(http::field::content_type, "text/plain");
        response->keep_alive(false);
        response->body() = std::move(body);
        response->prepare_payload();
        http::async_write(ws_.next_layer(), *response,
                          [self = this->shared_from_this(), response](beast::error_code, std::size_t) {
                              beast::error_code ignored;
                              beast::get_lowest_layer(self->ws_).socket().shutdown(
                                  beast::get_lowest_layer(self->ws_).socket().shutdown_send, ignored);
                          });
    }

    void on_accept(beast::error_code ec) {
        if (ec) {
            spdlog::info("connection {}: WebSocket handshake failed: {}", peer_, ec.message());
            return;
        }
        parser_.reset();  // the upgrade request is not needed any more; idle sessions stay small
        session_ = router_.open_session(*this, service_->auth);
        spdlog::debug("connection {}: WebSocket open ({}), session {}", peer_, wamp::websocket_subprotocol(serializer_),
                      session_->id());
        do_read();
    }

    void do_read() {
        ws_.async_read(buffer_,
                       [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        if (ec) {
            if (ec == websocket::error::message_too_big)
                spdlog::warn("connection {}: message larger than max_message_size ({} bytes); closed with 1009", peer_,
                             service_->max_message_size);
            else if (ec != websocket::error::closed && ec != boost::asio::error::operation_aborted)
                spdlog::info("connection {}: read failed: {}", peer_, ec.message());
            return finish();
        }
        auto frame = std::make_shared<const std::string>(beast::buffers_to_string(buffer_.data()));
        buffer_.consume(buffer_.size());
        bool text_expected = serializer_ == wamp::Serializer::json;
        if (ws_.got_text() != text_expected) {
            session_->receive_malformed(text_expected ? "binary WebSocket message on a JSON session"
                                                      : "text WebSocket message on a binary serializer session");
        } else {
            auto decoded = codec::decode(serializer_, frame);
            if (decoded) session_->receive(decoded.message());
            else session_->receive_malformed(decoded.error());
        }
        do_read();
    }

    void do_write() {
        writing_ = true;
        current_ = queue_.take(1);
        ws_.text(serializer_ == wamp::Serializer::json);
        ws_.async_write(boost::asio::buffer(*current_.front()),
                        [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
    }

    void on_write(beast::error_code ec) {
        writing_ = false;
        current_.clear();
        if (ec) return tear_down();
        if (!queue_.empty()) return do_write();
        if (closing_) do_close();
    }

    void do_close() {
        writing_ = true;  // a close frame is a write: nothing may overlap it
        ws_.async_close(websocket::close_reason(close_code_, close_text_),
                        [self = this->shared_from_this()](beast::error_code) { self->writing_ = false; });
    }

    void tear_down() {
        if (torn_down_) return;
        torn_down_ = true;
        queue_.clear();
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

    websocket::stream<Stream> ws_;
    beast::flat_buffer buffer_;
    core::Router& router_;
    const config::Transport& transport_;
    const config::WebSocketService* service_ = nullptr;
    std::string peer_;
    std::optional<http::request_parser<http::empty_body>> parser_;
    wamp::Serializer serializer_ = wamp::Serializer::json;
    std::shared_ptr<core::Session> session_;
    SendQueue queue_;
    std::vector<codec::EncodedFrame> current_;
    bool writing_ = false;
    bool closing_ = false;
    bool torn_down_ = false;
    websocket::close_code close_code_ = websocket::close_code::normal;
    std::string close_text_;
};

}  // namespace blindrouter::net
