#pragma once
// What a WebSocket and a RawSocket connection share: the session they carry, the
// bounded send queue, flushing it in batches, closing after a flush, and tearing the
// socket down. The framings (websocket_connection.hpp, rawsocket_connection.hpp)
// keep only their handshake, frame parsing and frame headers.
//
// CRTP: `Derived` is the connection, kept alive by its enable_shared_from_this; it
// provides
//   write_stream()        the stream frames are written to (TLS or not)
//   close_complete()      whether, once our last frame is out, the socket may close
//                         (WebSocket: the client answered our close frame)
//   on_flushed_closing()  what happens when the queue is flushed after close began
//   on_torn_down()        releases what the framing holds beyond the socket
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <memory>
#include <string>

#include "blindrouter/codec/outbound_message.hpp"
#include "blindrouter/core/session.hpp"
#include "send_queue.hpp"

namespace blindrouter::net {

template <class Derived, class Header>
class ConnectionWriter {
protected:
    // Frames per gather write: enough to empty a fan-out burst in one system call.
    static constexpr std::size_t batch_frames = 256;

    ConnectionWriter(std::string peer, std::size_t queue_limit) : peer_(std::move(peer)), queue_(queue_limit) {}

    // The frame `message` becomes on this connection, or nullptr (logged) when its
    // serializer cannot express it; nullptr too once the connection is closing.
    const codec::EncodedFrame* frame_for(const codec::SharedOutbound& message) {
        if (closing_ || torn_down_) return nullptr;
        const auto& frame = message->encoded(serializer_);
        if (!frame) {
            spdlog::warn("connection {}: {} cannot be expressed in {}; not delivered", peer_,
                         wamp::message_name(message->message().type), wamp::serializer_name(serializer_));
            return nullptr;
        }
        return &frame;
    }

    // Queues a frame behind what waits; a full queue drops the connection.
    void enqueue(const Header& header, codec::EncodedFrame frame) {
        if (closing_ || torn_down_) return;
        if (!queue_.push(header, std::move(frame))) {
            spdlog::warn("connection {}: send queue limit reached ({} bytes waiting); dropping the connection", peer_,
                         queue_.bytes());
            return tear_down();
        }
        schedule_flush();
    }

    // Nothing more is queued; once what waits is written, on_flushed_closing().
    void close_after_flush() {
        if (closing_ || torn_down_) return;
        closing_ = true;
        if (writing_ || flush_posted_) return;  // the write under way, or the posted flush, ends it
        if (queue_.empty()) return derived().on_flushed_closing();
        do_write();
    }

    // Reading has ended: the session learns that its connection is gone, and the
    // socket closes unless a flush or a close handshake still needs it.
    void finish() {
        if (session_) {
            session_->transport_closed();
            session_.reset();
        }
        if (!closing_ || (!writing_ && queue_.empty() && derived().close_complete())) tear_down();
    }

    void tear_down() {
        if (torn_down_) return;
        torn_down_ = true;
        queue_.clear();
        boost::beast::error_code ignored;
        auto& socket = boost::beast::get_lowest_layer(derived().write_stream()).socket();
        socket.shutdown(socket.shutdown_both, ignored);
        socket.close(ignored);
        derived().on_torn_down();
    }

    // A read ended with `ec`; the ordinary ends of a connection are not worth a line.
    void log_read_end(const boost::beast::error_code& ec) const {
        if (ec && ec != boost::asio::error::eof && ec != boost::asio::error::operation_aborted &&
            ec != boost::asio::error::connection_reset)
            spdlog::info("connection {}: read failed: {}", peer_, ec.message());
    }

    std::string peer_;
    wamp::Serializer serializer_ = wamp::Serializer::json;
    std::shared_ptr<core::Session> session_;
    SendQueue<Header> queue_;
    bool writing_ = false;
    bool flush_posted_ = false;
    bool closing_ = false;
    bool torn_down_ = false;

private:
    Derived& derived() { return static_cast<Derived&>(*this); }
    const Derived& derived() const { return static_cast<const Derived&>(*this); }

    // Writes after the handler that queued this has run: everything it queued (a
    // fan-out, a batch of answers) leaves in one gather write.
    void schedule_flush() {
        if (writing_ || flush_posted_) return;
        flush_posted_ = true;
        boost::asio::post(derived().write_stream().get_executor(), [self = derived().shared_from_this()] {
            self->flush_posted_ = false;
            if (self->writing_ || self->torn_down_) return;
            if (!self->queue_.empty()) self->do_write();
            else if (self->closing_) self->on_flushed_closing();
        });
    }

    void do_write() {
        writing_ = true;
        boost::asio::async_write(derived().write_stream(), queue_.take_batch(batch_frames),
                                 [self = derived().shared_from_this()](boost::beast::error_code ec, std::size_t) {
                                     self->on_write(ec);
                                 });
    }

    void on_write(boost::beast::error_code ec) {
        writing_ = false;
        queue_.release_batch();
        if (ec) return tear_down();
        if (!queue_.empty()) return do_write();
        if (closing_) derived().on_flushed_closing();
    }
};

}  // namespace blindrouter::net
