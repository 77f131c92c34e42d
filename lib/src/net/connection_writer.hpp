#pragma once
// What a WebSocket and a RawSocket connection share: the session they carry, the
// bounded send queue, flushing it in batches, closing after a flush, tearing the
// socket down, and the liveness rules (config::Liveness: pings, the HELLO deadline,
// the write deadline, the close handshake deadline) on one timer. The framings
// (websocket_connection.hpp, rawsocket_connection.hpp) keep only their handshake,
// frame parsing and frame headers.
//
// CRTP: `Derived` is the connection, kept alive by its enable_shared_from_this; it
// provides
//   write_stream()        the stream frames are written to (TLS or not)
//   close_complete()      whether, once our last frame is out, the socket may close
//                         (WebSocket: the client answered our close frame)
//   on_flushed_closing()  what happens when the queue is flushed after close began
//   send_ping(frame)      queues a PING carrying `frame`
//   close(reason, text)   the SessionTransport close: flush, then close
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <type_traits>

#include "blindrouter/codec/outbound_message.hpp"
#include "blindrouter/codec/decode_result.hpp"
#include "blindrouter/config/node_config.hpp"
#include "blindrouter/core/metrics.hpp"
#include "blindrouter/core/session.hpp"
#include "blindrouter/wamp/serializer.hpp"
#include "available_reader.hpp"
#include "connection_slot.hpp"
#include "send_queue.hpp"
#include "transport_log.hpp"

namespace blindrouter::net {

template <class Stream>
struct is_tls_stream : std::false_type {};
template <class Next>
struct is_tls_stream<boost::beast::ssl_stream<Next>> : std::true_type {};

template <class Derived, class Header>
class ConnectionWriter {
protected:
    // Frames per gather write: enough to empty a fan-out burst in one system call.
    static constexpr std::size_t batch_frames = 256;

    using Clock = std::chrono::steady_clock;

    template <class Executor>
    ConnectionWriter(std::string peer, ConnectionSlot slot, std::size_t queue_limit, const Executor& executor,
                     std::shared_ptr<const core::TlsChannel> tls_channel, core::RouterMetrics& metrics)
        : peer_(std::move(peer)), tls_channel_(std::move(tls_channel)), queue_(queue_limit), timer_(executor),
          slot_(std::move(slot)), metrics_(metrics) {}

    // The transport is open and carries session_: the liveness rules apply from now.
    void start_liveness(const config::Liveness& liveness) {
        liveness_ = &liveness;
        last_heard_ = Clock::now();
        if (liveness.hello_timeout.count() != 0) hello_deadline_ = last_heard_ + liveness.hello_timeout;
        schedule();
    }

    // Bytes arrived from the peer; `pong`: they answer our PING. Only a time is
    // stored: the timer finds out when it next fires.
    void heard(bool pong = false) {
        if (liveness_ && (pong || liveness_->auto_ping_restart_on_any_traffic)) last_heard_ = Clock::now();
    }

    // Crossbar's TransportDetails.marshal() keys (shared/ADVANCED.md §6) for
    // SessionTransport::details. Crossbar names a peer "tcp4:host:port"; HTTP headers,
    // cookies and certificates are left out: they may carry credentials.
    wamp::Dict transport_details(std::string_view framing, bool secure, bool websocket) const {
        using wamp::Value;
        bool unix = peer_.starts_with("unix:");
        auto host_end = peer_.rfind(':');
        bool ipv6 = !unix && host_end != std::string::npos && peer_.find(':') != host_end;
        return wamp::Dict{
            {"channel_type", Value{std::string(secure ? "tls" : "tcp")}},
            {"channel_framing", Value{std::string(framing)}},
            {"channel_serializer", Value{std::string(wamp::serializer_name(serializer_))}},
            {"peer", Value{unix ? std::string("unix") : (ipv6 ? "tcp6:" : "tcp4:") + peer_}},
            {"is_server", Value{true}},
            {"is_secure", Value{secure}},
            {"websocket_protocol",
             websocket ? Value{std::string(wamp::websocket_subprotocol(serializer_))} : Value{}},
        };
    }

    // Our close is out: the peer has close_handshake_timeout to answer it.
    void await_close_answer() {
        close_deadline_ = Clock::now() + liveness_->close_handshake_timeout;
        schedule();
    }

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
        metrics_.sent(message->message().type, frame.size());
        return &frame;
    }

    // A WAMP message arrived: decoded, counted and handed to the session. A frame that
    // does not decode comes back to the caller, whose transport may read more into
    // the refusal (a WebSocket text that is no UTF-8 at all fails the connection).
    codec::DecodeResult receive_frame(std::shared_ptr<const std::string> frame) {
        const auto bytes = frame->size();
        auto decoded = codec::decode(serializer_, std::move(frame));
        if (!decoded) return decoded;
        metrics_.received(decoded.message().type, bytes);
        session_->receive(decoded.message());
        return decoded;
    }

    // Queues a frame behind what waits; a full queue drops the connection.
    void enqueue(const Header& header, codec::EncodedFrame frame) {
        if (closing_ || torn_down_) return;
        if (!queue_.push(header, std::move(frame))) {
            metrics_.send_queue_drop();
            throttled_warn(WarningKind::send_queue_full,
                           "connection {}: send queue limit reached ({} bytes held); dropping the connection", peer_,
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
        timer_.cancel();
    }

    // A read ended with `ec`; the ordinary ends of a connection are not worth a line.
    void log_read_end(const boost::beast::error_code& ec) const {
        if (ec && ec != boost::asio::error::eof && ec != boost::asio::error::operation_aborted &&
            ec != boost::asio::error::connection_reset)
            spdlog::info("connection {}: read failed: {}", peer_, ec.message());
    }

    std::string peer_;
    std::shared_ptr<const core::TlsChannel> tls_channel_;  // null unless TLS
    wamp::Serializer serializer_ = wamp::Serializer::json;
    std::shared_ptr<core::Session> session_;
    SendQueue<Header> queue_;
    bool writing_ = false;
    bool flush_posted_ = false;
    bool closing_ = false;
    bool torn_down_ = false;

private:
    static constexpr auto never = Clock::time_point::max();
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
        write_progress_at_ = Clock::now();
        // The timer is moved earlier only when it would fire after this write's
        // deadline, which with pings on is rare: no timer call per write.
        if (liveness_ && liveness_->write_timeout.count() != 0 &&
            (!timer_waiting_ || timer_.expiry() > write_progress_at_ + liveness_->write_timeout))
            schedule();
        if constexpr (is_plain_stream<std::remove_cvref_t<decltype(derived().write_stream())>>) {
            next_batch();
            return write_directly();
        }
        boost::asio::async_write(
            derived().write_stream(), queue_.take_batch(batch_frames),
            [this](const boost::beast::error_code& ec, std::size_t written) {
                // Called after every partial write: progress, however slow, is not a stall.
                if (written != 0) write_progress_at_ = Clock::now();
                return boost::asio::transfer_all()(ec, written);
            },
            [self = derived().shared_from_this()](boost::beast::error_code ec, std::size_t) { self->on_write(ec); });
    }

    // Plain sockets: each batch goes out in one sendmsg with all its pieces, as many
    // batches as the socket takes now; the socket is waited for only when it is full.
    // asio's async_write hands a system call at most 16 buffers (4 frames) and posts
    // its next step through the scheduler, a sendmsg and an epoll_wait per 4 frames.
    void write_directly() {
        auto& socket = boost::beast::get_lowest_layer(derived().write_stream()).socket();
        boost::beast::error_code ec;
        if (!socket.non_blocking()) socket.non_blocking(true, ec);
        while (!ec) {
            auto written = send_batch(socket.native_handle(), ec);
            if (written != 0) write_progress_at_ = Clock::now();
            if (ec == boost::asio::error::would_block || ec == boost::asio::error::try_again) {
                socket.async_wait(socket.wait_write, [self = derived().shared_from_this()](boost::beast::error_code ec) {
                    if (ec || self->torn_down_) return self->on_write(ec ? ec : boost::asio::error::operation_aborted);
                    self->write_directly();
                });
                return;
            }
            if (ec || batch_written_ < batch_bytes_) continue;
            queue_.release_batch();
            if (queue_.empty()) break;
            next_batch();
        }
        on_write(ec);
    }

    // One sendmsg of what is left of the batch; bytes written.
    std::size_t send_batch(int fd, boost::beast::error_code& ec) {
        std::array<iovec, batch_frames * 4> iov;
        std::size_t count = 0, skip = batch_written_;
        for (const auto& buffer : *batch_) {
            if (skip >= buffer.size()) {
                skip -= buffer.size();
                continue;
            }
            iov[count++] = iovec{const_cast<char*>(static_cast<const char*>(buffer.data())) + skip, buffer.size() - skip};
            skip = 0;
            if (count == iov.size()) break;
        }
        msghdr message{};
        message.msg_iov = iov.data();
        message.msg_iovlen = count;
        auto n = ::sendmsg(fd, &message, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR) n = ::sendmsg(fd, &message, MSG_NOSIGNAL);
        if (n < 0) {
            ec.assign(errno, boost::system::system_category());
            return 0;
        }
        batch_written_ += static_cast<std::size_t>(n);
        return static_cast<std::size_t>(n);
    }

    void next_batch() {
        batch_ = &queue_.take_batch(batch_frames);
        batch_written_ = 0;
        batch_bytes_ = 0;
        for (const auto& buffer : *batch_) batch_bytes_ += buffer.size();
    }

    void on_write(boost::beast::error_code ec) {
        writing_ = false;
        queue_.release_batch();
        if (ec) return tear_down();
        if (!queue_.empty()) return do_write();
        if (closing_) derived().on_flushed_closing();
    }

    // Liveness: the earliest moment a rule may act, `never` when none is running.
    Clock::time_point next_deadline() const {
        if (!liveness_ || torn_down_) return never;
        auto next = close_deadline_;
        if (writing_ && liveness_->write_timeout.count() != 0)
            next = std::min(next, write_progress_at_ + liveness_->write_timeout);
        if (closing_) return next;
        next = std::min(next, hello_deadline_);
        if (liveness_->auto_ping_interval.count() != 0) {
            if (!awaiting_pong()) next = std::min(next, std::max(last_heard_, ping_sent_at_) + liveness_->auto_ping_interval);
            else if (liveness_->auto_ping_timeout.count() != 0)
                next = std::min(next, ping_sent_at_ + liveness_->auto_ping_timeout);
        }
        return next;
    }

    bool awaiting_pong() const { return ping_sent_at_ > last_heard_; }

    // One timer per connection, set to the earliest deadline. Traffic only moves the
    // deadlines later, so a timer that fires early just sets itself again.
    void schedule() {
        auto next = next_deadline();
        if (next == never || (timer_waiting_ && timer_.expiry() <= next)) return;
        timer_.expires_at(next);  // cancels a wait for later
        timer_waiting_ = true;
        timer_.async_wait([self = derived().shared_from_this()](boost::beast::error_code ec) {
            if (ec == boost::asio::error::operation_aborted) return;  // set again, or torn down
            self->timer_waiting_ = false;
            self->on_deadline(Clock::now());
        });
    }

    void on_deadline(Clock::time_point now) {
        if (torn_down_ || !liveness_) return;
        using std::chrono::milliseconds;
        if (writing_ && liveness_->write_timeout.count() != 0 && now >= write_progress_at_ + liveness_->write_timeout) {
            spdlog::warn("connection {}: the socket took no bytes for {} ms ({} bytes held); dropping the connection",
                         peer_, liveness_->write_timeout.count(), queue_.bytes());
            return tear_down();
        }
        if (now >= close_deadline_) {
            spdlog::info("connection {}: no answer to our close within {} ms; closed", peer_,
                         liveness_->close_handshake_timeout.count());
            return tear_down();
        }
        if (!closing_ && now >= hello_deadline_) {
            hello_deadline_ = never;
            if (session_ && !session_->established()) {
                spdlog::info("connection {}: no WAMP session established within {} ms; closing", peer_,
                             liveness_->hello_timeout.count());
                derived().close(core::CloseReason::protocol_error, "no WAMP session established in time");
            }
        }
        if (!closing_ && liveness_->auto_ping_interval.count() != 0) {
            if (awaiting_pong()) {
                if (liveness_->auto_ping_timeout.count() != 0 && now >= ping_sent_at_ + liveness_->auto_ping_timeout) {
                    spdlog::info("connection {}: no answer to a ping within {} ms; dropping the connection", peer_,
                                 liveness_->auto_ping_timeout.count());
                    return tear_down();
                }
            } else if (now >= std::max(last_heard_, ping_sent_at_) + liveness_->auto_ping_interval) {
                ping_sent_at_ = now;
                derived().send_ping(std::make_shared<const std::string>(liveness_->auto_ping_size, '*'));
            }
        }
        schedule();
    }

    boost::asio::steady_timer timer_;
    const config::Liveness* liveness_ = nullptr;  // set once the transport is open
    Clock::time_point last_heard_{};
    Clock::time_point ping_sent_at_{};
    Clock::time_point write_progress_at_{};
    Clock::time_point hello_deadline_ = never;
    Clock::time_point close_deadline_ = never;
    bool timer_waiting_ = false;
    // The batch a plain socket is writing (write_directly), and how much of it is out.
    const std::vector<boost::asio::const_buffer>* batch_ = nullptr;
    std::size_t batch_written_ = 0;
    std::size_t batch_bytes_ = 0;
    ConnectionSlot slot_;  // counts this connection until it is gone
    core::RouterMetrics& metrics_;
};

}  // namespace blindrouter::net
