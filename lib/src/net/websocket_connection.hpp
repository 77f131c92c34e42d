#pragma once
// WAMP over WebSocket (Boost.Beast) on any stream: TCP, Unix socket, TLS.
// Included only by listener.cpp, so Beast is compiled in one translation unit.
#include <spdlog/spdlog.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "blindrouter/auth/cookie_store.hpp"
#include "blindrouter/codec/decode_result.hpp"
#include "blindrouter/codec/outbound_message.hpp"
#include "blindrouter/config/node_config.hpp"
#include "blindrouter/core/router.hpp"
#include "blindrouter/version.hpp"
#include "blindrouter/wamp/log_text.hpp"
#include "available_reader.hpp"
#include "blindrouter/net/websocket_framing.hpp"
#include "connection_writer.hpp"

namespace blindrouter::net {
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace framing = websocket_framing;

// One cookie store per WebSocket service of a transport (null where the service has
// no `cookie` option), in the order of config::Transport::websocket.
using CookieStores = std::vector<std::shared_ptr<auth::CookieStore>>;

// Subprotocols offered in Sec-WebSocket-Protocol, in the client's order of preference.
std::vector<std::string> offered_subprotocols(beast::string_view header);

template <class Stream>
class WebSocketConnection final : public core::SessionTransport,
                                  public ConnectionWriter<WebSocketConnection<Stream>, framing::FrameHeader>,
                                  public std::enable_shared_from_this<WebSocketConnection<Stream>> {
    using Writer = ConnectionWriter<WebSocketConnection<Stream>, framing::FrameHeader>;
    friend Writer;
    using Writer::closing_, Writer::peer_, Writer::queue_, Writer::serializer_, Writer::session_,
        Writer::torn_down_, Writer::writing_, Writer::tear_down;

public:
    // `already_read` holds bytes taken from the stream before (a universal port's first byte).
    WebSocketConnection(Stream stream, beast::flat_buffer already_read, core::Router& router,
                        const config::Transport& transport, std::shared_ptr<const CookieStores> cookie_stores,
                        std::string peer, ConnectionSlot slot, std::shared_ptr<const core::TlsChannel> tls_channel)
        : Writer(std::move(peer), std::move(slot), 0, stream.get_executor(), std::move(tls_channel), router.metrics()),
          ws_(std::move(stream)),
          buffer_(std::move(already_read)),
          router_(router),
          transport_(transport),
          cookie_stores_(std::move(cookie_stores)) {}

    void start() {
        parser_.emplace();
        parser_->header_limit(16 * 1024);
        parser_->body_limit(0);
        beast::get_lowest_layer(ws_).expires_after(transport_.websocket.front().liveness.open_handshake_timeout);
        http::async_read(ws_.next_layer(), buffer_, *parser_,
                         [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_request(ec); });
    }

    void send(const codec::SharedOutbound& message) override {
        if (const auto* frame = this->frame_for(message))
            enqueue(serializer_ == wamp::Serializer::json ? framing::Opcode::text : framing::Opcode::binary, *frame);
    }

    // Queues a close frame after everything already queued; the connection closes once
    // the client answers it, or after a grace period.
    void close(core::CloseReason reason, std::string_view text) override {
        switch (reason) {
            case core::CloseReason::normal: return send_close(framing::close_normal, text);
            case core::CloseReason::protocol_error: return send_close(framing::close_protocol_error, text);
            case core::CloseReason::going_away: return send_close(framing::close_going_away, text);
        }
    }

    wamp::Serializer serializer() const override { return serializer_; }
    const core::TlsChannel* tls_channel() const override { return this->tls_channel_.get(); }
    wamp::Dict details() const override {
        return this->transport_details("websocket", is_tls_stream<Stream>::value, true);
    }

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
        for (std::size_t i = 0; i < transport_.websocket.size(); ++i) {
            const auto& s = transport_.websocket[i];
            if (!s.path || *s.path == path || *s.path + "/" == path) {
                service_ = &s;
                if (cookie_stores_ && i < cookie_stores_->size()) cookie_store_ = (*cookie_stores_)[i];
                break;
            }
        }
        if (!service_) {
            spdlog::info("connection {}: refused, no WebSocket service at path \"{}\"", peer_, wamp::log_text(path));
            return refuse_http(http::status::not_found, "no WebSocket service at this path\n");
        }
        if (!websocket::is_upgrade(request))
            return refuse_http(http::status::upgrade_required,
                               "this is a WAMP router (blindrouter): connect with a WebSocket WAMP client\n");

        std::optional<wamp::Serializer> chosen;
        std::string chosen_name;
        auto offered_header = request[http::field::sec_websocket_protocol];
        for (const auto& offered : offered_subprotocols(offered_header)) {
            auto s = wamp::serializer_from_subprotocol(offered);
            if (s && std::find(service_->serializers.begin(), service_->serializers.end(), *s) !=
                         service_->serializers.end()) {
                chosen = s;
                chosen_name = offered;
                break;
            }
        }
        if (!chosen) {
            spdlog::info("connection {}: refused, no supported WebSocket subprotocol offered (offered: \"{}\")", peer_,
                         wamp::log_text(std::string_view(offered_header.data(), offered_header.size())));
            std::string served;
            for (auto s : service_->serializers) served += std::string(served.empty() ? "" : ", ") +
                                                            std::string(wamp::websocket_subprotocol(s));
            return refuse_http(http::status::bad_request,
                               "no supported WAMP WebSocket subprotocol offered (served: " + served + ")\n");
        }
        serializer_ = *chosen;
        queue_ = SendQueue<framing::FrameHeader>(config::send_queue_limit(*service_));

        auto set_cookie = track_cookie(request);

        beast::get_lowest_layer(ws_).expires_never();
        ws_.set_option(websocket::stream_base::timeout{service_->liveness.open_handshake_timeout,
                                                       websocket::stream_base::none(), false});
        ws_.set_option(websocket::stream_base::decorator(
            [chosen_name, set_cookie = std::move(set_cookie)](websocket::response_type& response) {
                response.set(http::field::sec_websocket_protocol, chosen_name);
                response.set(http::field::server, std::string("blindrouter/") + std::string(version));
                if (set_cookie) response.set(http::field::set_cookie, *set_cookie);
            }));
        buffer_.consume(buffer_.size());
        ws_.async_accept(request, [self = this->shared_from_this()](beast::error_code ec) { self->on_accept(ec); });
    }

    // cb:router/protocol.py:223-275: the cookie the request presents, when the store
    // knows it; otherwise a new one, returned as the Set-Cookie value to send.
    std::optional<std::string> track_cookie(const http::request<http::empty_body>& request) {
        if (!cookie_store_) return std::nullopt;
        auto header = request[http::field::cookie];
        if (auto known = cookie_store_->recognise(std::string_view(header.data(), header.size()))) {
            cookie_id_ = std::move(*known);
            return std::nullopt;
        }
        if (auto fresh = cookie_store_->create()) {
            cookie_id_ = std::move(fresh->id);
            return std::move(fresh->set_cookie);
        }
        throttled_warn(WarningKind::cookie_store_full,
                       "connection {}: cookie store full of logins (limit {}); connection not tracked", peer_,
                       cookie_store_->config().limit);
        cookie_store_ = nullptr;
        return std::nullopt;
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
        buffer_ = beast::flat_buffer();
        reader_.emplace(service_->max_message_size, serializer_ != wamp::Serializer::json);
        session_ = router_.open_session(*this, service_->auth);
        if (cookie_store_) session_->track_cookie(std::move(cookie_store_), std::move(cookie_id_));
        spdlog::debug("connection {}: WebSocket open ({}), session {}", peer_, wamp::websocket_subprotocol(serializer_),
                      session_->id());
        this->start_liveness(service_->liveness);
        do_read();
    }

    // The data path is ours (websocket_framing.hpp): Beast did the handshake, and from
    // here on the stream underneath is read and written directly, so that one read
    // takes every frame that arrived and one gather write sends every queued frame.
    void do_read() {
        read_available(ws_.next_layer(), tls_buffer_,
                       [self = this->shared_from_this()](beast::error_code ec, const char* data, std::size_t n) {
                           if (ec) {
                               self->log_read_end(ec);
                               return self->finish();
                           }
                           self->heard();
                           bool more = self->reader_->feed(data, n, [&](framing::Event&& e) { self->on_event(std::move(e)); });
                           if (more && !self->torn_down_) return self->do_read();
                           self->finish();
                       });
    }

    void on_event(framing::Event&& event) {
        switch (event.kind) {
            case framing::Event::Kind::message: {
                if (!session_) return;
                bool text_expected = serializer_ == wamp::Serializer::json;
                if ((event.opcode == framing::Opcode::text) != text_expected)
                    return session_->receive_malformed(text_expected
                                                           ? "binary WebSocket message on a JSON session"
                                                           : "text WebSocket message on a binary serializer session");
                auto decoded = this->receive_frame(event.payload);
                if (decoded) return;
                // A JSON decoder accepts only UTF-8 (RFC 8259 §8.1), so the text is
                // validated once, by it; a text it refused may have been no UTF-8 at all,
                // which fails the connection as the framing would (RFC 6455 §8.1).
                if (text_expected && !wamp::is_valid_utf8(*event.payload)) {
                    reader_->stop();
                    return on_event(framing::Event{framing::Event::Kind::error, framing::Opcode::text, nullptr,
                                                   framing::close_invalid_payload, "text message is not valid UTF-8"});
                }
                session_->receive_malformed(decoded.error());
                return;
            }
            case framing::Event::Kind::ping:
                enqueue(framing::Opcode::pong, std::shared_ptr<const std::string>(std::move(event.payload)));
                return;
            case framing::Event::Kind::pong:
                return this->heard(true);
            case framing::Event::Kind::close:
                close_received_ = true;
                // Echo the code, as RFC 6455 §5.5.1 asks; codes that may not travel become 1000.
                if (!closing_)
                    send_close(event.close_code >= 1000 && event.close_code < 5000 && event.close_code != 1005 &&
                                       event.close_code != 1006 && event.close_code != 1015
                                   ? event.close_code
                                   : framing::close_normal,
                               {});
                else if (!writing_ && queue_.empty()) tear_down();
                return;
            case framing::Event::Kind::error:
                if (event.close_code == framing::close_too_big)
                    throttled_warn(WarningKind::too_big,
                                   "connection {}: message larger than max_message_size ({} bytes); closed with 1009",
                                   peer_, service_->max_message_size);
                else
                    throttled_warn(WarningKind::bad_frame, "connection {}: WebSocket protocol error: {}; closed with {}",
                                   peer_, event.reason, event.close_code);
                close_received_ = true;  // nothing more will be read
                return send_close(event.close_code, event.reason);
        }
    }

    void enqueue(framing::Opcode opcode, codec::EncodedFrame frame) {
        auto header = framing::server_frame_header(opcode, frame.size());
        Writer::enqueue(header, std::move(frame));
    }

    // The close frame goes after everything already queued; nothing follows it.
    void send_close(std::uint16_t code, std::string_view reason) {
        if (closing_ || torn_down_) return;
        enqueue(framing::Opcode::close, std::make_shared<const std::string>(framing::close_payload(code, reason)));
        this->close_after_flush();
    }

    auto& write_stream() { return ws_.next_layer(); }
    bool close_complete() const { return close_received_; }

    void on_flushed_closing() {
        if (close_received_) return tear_down();
        this->await_close_answer();
    }

    void send_ping(codec::EncodedFrame payload) { enqueue(framing::Opcode::ping, std::move(payload)); }

    websocket::stream<Stream> ws_;
    beast::flat_buffer buffer_;
    core::Router& router_;
    const config::Transport& transport_;
    const config::WebSocketService* service_ = nullptr;
    std::shared_ptr<const CookieStores> cookie_stores_;
    std::shared_ptr<auth::CookieStore> cookie_store_;  // the service's, until the session takes it
    std::string cookie_id_;                            // never logged
    std::optional<http::request_parser<http::empty_body>> parser_;
    std::optional<framing::ClientFrameReader> reader_;
    std::string tls_buffer_;
    bool close_received_ = false;
};

}  // namespace blindrouter::net
