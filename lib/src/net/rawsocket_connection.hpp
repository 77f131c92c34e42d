#pragma once
// WAMP over RawSocket (WAMP spec framing, see rawsocket_framing.hpp) on any
// stream: TCP, Unix socket, TLS. Included only by listener.cpp.
#include <spdlog/spdlog.h>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <algorithm>
#include <optional>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "blindrouter/codec/decode_result.hpp"
#include "blindrouter/codec/outbound_message.hpp"
#include "blindrouter/config/node_config.hpp"
#include "blindrouter/core/router.hpp"
#include "blindrouter/net/rawsocket_framing.hpp"
#include "available_reader.hpp"
#include "connection_writer.hpp"
#include "frame_buffers.hpp"

namespace blindrouter::net {

template <class Stream>
class RawSocketConnection final : public core::SessionTransport,
                                  public ConnectionWriter<RawSocketConnection<Stream>, rawsocket::Bytes4>,
                                  public std::enable_shared_from_this<RawSocketConnection<Stream>> {
    using Writer = ConnectionWriter<RawSocketConnection<Stream>, rawsocket::Bytes4>;
    friend Writer;
    using Writer::peer_, Writer::serializer_, Writer::session_, Writer::torn_down_, Writer::tear_down;

public:
    // `first_octet`: what a universal port already read to tell RawSocket from HTTP.
    RawSocketConnection(Stream stream, std::optional<unsigned char> first_octet, core::Router& router,
                        const config::RawSocketService& service, std::string peer, ConnectionSlot slot,
                        std::shared_ptr<const core::TlsChannel> tls_channel)
        : Writer(std::move(peer), std::move(slot), config::send_queue_limit(service), stream.get_executor(),
                 std::move(tls_channel), router.metrics()),
          stream_(std::move(stream)),
          router_(router),
          service_(service),
          router_max_length_(rawsocket::announced_max_length(service.max_message_size)) {
        if (first_octet) {
            handshake_[0] = *first_octet;
            handshake_have_ = 1;
        }
    }

    void start() {
        boost::beast::get_lowest_layer(stream_).expires_after(service_.liveness.open_handshake_timeout);
        boost::asio::async_read(
            stream_, boost::asio::buffer(handshake_.data() + handshake_have_, 4 - handshake_have_),
            [self = this->shared_from_this()](boost::beast::error_code ec, std::size_t) { self->on_handshake(ec); });
    }

    void send(const codec::SharedOutbound& message) override {
        const auto* encoded = this->frame_for(message);
        if (!encoded) return;
        enqueue(rawsocket::FrameType::message, *encoded);
    }

    // RawSocket has no close frame: flush, then close the TCP connection.
    void close(core::CloseReason, std::string_view) override { this->close_after_flush(); }

    wamp::Serializer serializer() const override { return serializer_; }
    const core::TlsChannel* tls_channel() const override { return this->tls_channel_.get(); }
    wamp::Dict details() const override {
        return this->transport_details("rawsocket", is_tls_stream<Stream>::value, false);
    }

private:
    void on_handshake(boost::beast::error_code ec) {
        if (ec) {
            if (ec == boost::beast::error::timeout) spdlog::info("connection {}: RawSocket handshake timed out", peer_);
            return;
        }
        auto result = rawsocket::parse_client_handshake(handshake_, service_.serializers);
        if (std::holds_alternative<rawsocket::NotRawSocket>(result)) {
            spdlog::info("connection {}: not a RawSocket handshake; closed", peer_);
            return;
        }
        if (auto* error = std::get_if<rawsocket::HandshakeError>(&result)) {
            spdlog::info("connection {}: RawSocket handshake refused (error {})", peer_, static_cast<int>(*error));
            reply_ = rawsocket::refuse_handshake(*error);
            boost::asio::async_write(stream_, boost::asio::buffer(reply_),
                                     [self = this->shared_from_this()](boost::beast::error_code, std::size_t) {
                                         self->tear_down();
                                     });
            return;
        }
        const auto& hello = std::get<rawsocket::ClientHello>(result);
        serializer_ = hello.serializer;
        client_max_length_ = hello.max_length;
        reply_ = rawsocket::accept_handshake(router_max_length_, serializer_);
        boost::beast::get_lowest_layer(stream_).expires_never();
        boost::asio::async_write(stream_, boost::asio::buffer(reply_),
                                 [self = this->shared_from_this()](boost::beast::error_code ec, std::size_t) {
                                     if (ec) return;
                                     self->session_ = self->router_.open_session(*self, self->service_.auth);
                                     spdlog::debug("connection {}: RawSocket open ({}), session {}", self->peer_,
                                                   wamp::serializer_name(self->serializer_), self->session_->id());
                                     self->start_liveness(self->service_.liveness);
                                     self->read_frames();
                                 });
    }

    // Reading: everything there is at once (see available_reader.hpp), every complete
    // frame handled; only a partial frame is kept, in `partial_`.
    void read_frames() {
        if (large_frame_) {
            // The rest of a large frame is read straight into its own buffer: no copy.
            // The buffer grows as bytes arrive, doubling, never by the declared length
            // alone: a header costs the sender four bytes and must not cost us 16 MiB.
            auto& frame = *large_frame_;
            if (frame.size() == large_frame_have_)
                frame.resize(std::min(large_frame_length_, 2 * large_frame_have_));
            boost::asio::async_read(
                stream_, boost::asio::buffer(frame.data() + large_frame_have_, frame.size() - large_frame_have_),
                [this](const boost::beast::error_code& ec, std::size_t n) {
                    if (n != 0) this->heard();  // a large frame arriving slowly is traffic too
                    return boost::asio::transfer_all()(ec, n);
                },
                [self = this->shared_from_this()](boost::beast::error_code ec, std::size_t) {
                    if (ec) return self->finish(ec);
                    self->large_frame_have_ = self->large_frame_->size();
                    if (self->large_frame_have_ < self->large_frame_length_) return self->read_frames();
                    auto frame = std::move(self->large_frame_);
                    self->large_frame_.reset();
                    self->handle_frame(self->large_frame_type_, std::move(frame));
                    if (self->torn_down_) return self->finish({});
                    self->read_frames();
                });
            return;
        }
        read_available(stream_, tls_buffer_,
                       [self = this->shared_from_this()](boost::beast::error_code ec, const char* data, std::size_t n) {
                           if (ec) return self->finish(ec);
                           self->heard();
                           if (self->received(data, n)) self->read_frames();
                           else self->finish({});
                       });
    }

    // Handles every complete frame in what arrived; false once the connection is done.
    bool received(const char* data, std::size_t size) {
        if (!partial_.empty()) {
            partial_.append(data, size);
            auto used = handle_frames(partial_.data(), partial_.size());
            if (used == npos) return false;
            partial_.erase(0, used);
        } else {
            auto used = handle_frames(data, size);
            if (used == npos) return false;
            partial_.assign(data + used, size - used);
        }
        if (partial_.empty()) std::string().swap(partial_);  // give an emptied large buffer back
        return !torn_down_;
    }

    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

    // Returns how many bytes the complete frames took, or npos when the connection must close.
    std::size_t handle_frames(const char* data, std::size_t size) {
        std::size_t used = 0;
        while (size - used >= 4 && !torn_down_) {
            rawsocket::Bytes4 bytes;
            std::memcpy(bytes.data(), data + used, 4);
            auto header = rawsocket::parse_frame_header(bytes);
            if (!header) {
                // The spec has no way to resynchronize a stream whose framing is broken, so
                // nothing after this header is read; the session ABORTs with
                // protocol_violation, as for any malformed message, and the connection
                // closes once the ABORT is out (finish() leaves a closing flush alone).
                throttled_warn(WarningKind::bad_frame,
                               "connection {}: RawSocket frame with reserved bits or unknown type; closed", peer_);
                session_->receive_malformed("RawSocket frame with reserved bits or unknown frame type");
                return npos;
            }
            if (header->length > router_max_length_) {
                throttled_warn(WarningKind::too_big,
                               "connection {}: RawSocket message of {} bytes exceeds max_message_size {}; closed", peer_,
                               header->length, router_max_length_);
                tear_down();
                return npos;
            }
            std::size_t available = size - used - 4;
            if (available < header->length) {
                if (header->length >= large_frame_threshold) {
                    large_frame_ = std::make_shared<std::string>(data + used + 4, available);
                    large_frame_->resize(std::min<std::size_t>(header->length,
                                                               std::max(available, large_frame_threshold)));
                    large_frame_have_ = available;
                    large_frame_length_ = header->length;
                    large_frame_type_ = header->type;
                    return size;
                }
                break;
            }
            handle_frame(header->type, pooled_frame(data + used + 4, header->length));
            used += 4 + header->length;
        }
        return torn_down_ ? npos : used;
    }

    void handle_frame(rawsocket::FrameType type, std::shared_ptr<std::string> payload) {
        switch (type) {
            case rawsocket::FrameType::message: {
                if (auto decoded = this->receive_frame(std::move(payload)); !decoded)
                    session_->receive_malformed(decoded.error());
                break;
            }
            case rawsocket::FrameType::ping:
                // The spec: a PONG echoes the PING's payload.
                enqueue(rawsocket::FrameType::pong, std::shared_ptr<const std::string>(std::move(payload)));
                break;
            case rawsocket::FrameType::pong:
                this->heard(true);
                break;
        }
    }

    void enqueue(rawsocket::FrameType type, codec::EncodedFrame frame) {
        auto header = rawsocket::frame_header(type, frame.size());
        if (!header || frame.size() > client_max_length_) {
            // The spec: a peer must not send a message longer than the other announced
            // (2^24 - 1 at most, see max_frame_length); the client would fail its
            // connection, and a message left out would leave its receiver waiting.
            spdlog::warn("connection {}: a {} byte message exceeds the client's RawSocket limit of {}; dropping the "
                         "connection",
                         peer_, frame.size(), std::min(client_max_length_, rawsocket::max_frame_length));
            return tear_down();
        }
        Writer::enqueue(*header, std::move(frame));
    }

    Stream& write_stream() { return stream_; }
    static bool close_complete() { return true; }
    void on_flushed_closing() { tear_down(); }
    void send_ping(codec::EncodedFrame payload) { enqueue(rawsocket::FrameType::ping, std::move(payload)); }

    void finish(const boost::beast::error_code& ec) {
        this->log_read_end(ec);
        Writer::finish();
    }

    Stream stream_;
    core::Router& router_;
    const config::RawSocketService& service_;
    std::size_t router_max_length_;
    std::size_t client_max_length_ = 0;
    rawsocket::Bytes4 handshake_{};
    std::size_t handshake_have_ = 0;
    rawsocket::Bytes4 reply_{};
    // Frames of this size or more that arrive in pieces are read into their own buffer.
    static constexpr std::size_t large_frame_threshold = 64 * 1024;
    std::string partial_;     // the start of a small frame not complete yet
    std::shared_ptr<std::string> large_frame_;  // a large frame being read
    std::size_t large_frame_have_ = 0;    // bytes of it read; its buffer may be larger
    std::size_t large_frame_length_ = 0;  // its declared length
    rawsocket::FrameType large_frame_type_ = rawsocket::FrameType::message;
    std::string tls_buffer_;  // TLS streams only
};

}  // namespace blindrouter::net
