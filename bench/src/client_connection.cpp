#include "client_connection.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <stdexcept>

#include "ws_handshake.hpp"

namespace bench {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
// Far above any message of the bench (1 MiB payload, base64 in JSON).
constexpr std::size_t max_message = 16 * 1024 * 1024;
}  // namespace

ClientConnection::ClientConnection(asio::any_io_executor executor, Transport transport, Serializer serializer)
    : socket_(executor),
      transport_(transport),
      serializer_(serializer),
      reader_(transport, false, max_message),
      signal_(executor) {}

asio::awaitable<void> ClientConnection::open(const Endpoint& endpoint, std::chrono::milliseconds timeout) {
    // A socket that does not complete the handshake in time is closed, which ends the wait.
    auto timed_out = std::make_shared<bool>(false);
    asio::steady_timer guard(socket_.get_executor());
    guard.expires_after(timeout);
    guard.async_wait([this, timed_out, self = shared_from_this()](boost::system::error_code ec) {
        if (ec) return;
        *timed_out = true;
        boost::system::error_code ignored;
        socket_.close(ignored);
    });
    auto where = endpoint.host + ":" + std::to_string(endpoint.port);
    try {
        tcp::endpoint address(asio::ip::make_address(endpoint.host), static_cast<unsigned short>(endpoint.port));
        co_await socket_.async_connect(address, asio::use_awaitable);
        socket_.set_option(tcp::no_delay(true));
        if (transport_ == Transport::rawsocket) {
            auto hello = rawsocket::handshake(serializer_);
            co_await asio::async_write(socket_, asio::buffer(hello), asio::use_awaitable);
            std::array<unsigned char, 4> reply{};
            co_await asio::async_read(socket_, asio::buffer(reply), asio::use_awaitable);
            if (reply[0] != rawsocket::magic) throw std::runtime_error("not a RawSocket reply");
            if ((reply[1] & 0x0F) != rawsocket::serializer_id(serializer_))
                throw std::runtime_error("RawSocket handshake refused (error " + std::to_string(reply[1] >> 4) + ")");
        } else {
            auto host = endpoint.host + ":" + std::to_string(endpoint.port);
            std::string subprotocol(websocket_subprotocol(serializer_));
            socket_ = co_await asio::async_initiate<decltype(asio::use_awaitable), void(boost::system::error_code, tcp::socket)>(
                [&](auto handler) {
                    auto shared = std::make_shared<decltype(handler)>(std::move(handler));
                    async_websocket_connect(std::move(socket_), host, endpoint.path, subprotocol, timeout,
                                            [shared](boost::system::error_code ec, tcp::socket socket) {
                                                (*shared)(ec, std::move(socket));
                                            });
                },
                asio::use_awaitable);
        }
    } catch (const boost::system::system_error& e) {
        guard.cancel();
        if (*timed_out) throw std::runtime_error("opening " + where + " timed out");
        throw std::runtime_error("opening " + where + ": " + e.code().message());
    } catch (const std::runtime_error& e) {
        guard.cancel();
        throw std::runtime_error("opening " + where + ": " + e.what());
    }
    guard.cancel();
    if (*timed_out) throw std::runtime_error("opening " + where + " timed out");
    open_ = true;
    start_reading();
}

void ClientConnection::send(std::string_view message) {
    queue_frame(encode_frame(transport_, message_kind(transport_, serializer_), message,
                             transport_ == Transport::websocket));
}

asio::awaitable<std::string> ClientConnection::receive(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (inbox_.empty()) {
        if (!open_) throw std::runtime_error("connection closed: " + failure_);
        if (std::chrono::steady_clock::now() >= deadline) throw std::runtime_error("no answer in time");
        signal_.expires_at(deadline);
        boost::system::error_code ec;
        co_await signal_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    auto message = std::move(inbox_.front());
    inbox_.pop_front();
    co_return message;
}

void ClientConnection::close() {
    if (!open_) return;
    open_ = false;
    boost::system::error_code ignored;
    socket_.close(ignored);
    signal_.cancel();
}

void ClientConnection::start_reading() {
    if (reading_) return;
    do_read();
}

void ClientConnection::do_read() {
    reading_ = false;
    if (!open_ || paused_) return;
    reading_ = true;
    socket_.async_read_some(reader_.prepare(), [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
        self->on_read(ec, n);
    });
}

void ClientConnection::on_read(boost::system::error_code ec, std::size_t n) {
    if (ec) return fail(ec == asio::error::eof ? "closed by the peer" : ec.message());
    reader_.commit(n);
    Frame frame;
    for (;;) {
        auto status = reader_.next(frame);
        if (status == FrameReader::Status::need_more) break;
        if (status == FrameReader::Status::error) return fail(reader_.error());
        handle_frame(frame);
        if (!open_) return;
    }
    do_read();
}

void ClientConnection::handle_frame(const Frame& frame) {
    if (is_message(transport_, frame.kind)) {
        if (handler_) {
            handler_(frame.payload);
        } else {
            inbox_.emplace_back(frame.payload);
            signal_.cancel();
        }
    } else if (frame.kind == ping_kind(transport_)) {
        queue_frame(encode_frame(transport_, pong_kind(transport_), frame.payload, transport_ == Transport::websocket));
    } else if (transport_ == Transport::websocket && frame.kind == websocket::close) {
        fail("WebSocket closed by the peer");
    }
}

void ClientConnection::queue_frame(std::string frame) {
    if (!open_) return;
    outbox_.push_back(std::move(frame));
    if (writing_.empty()) do_write();
}

void ClientConnection::do_write() {
    // Everything queued (up to a bound) in one gather write.
    while (!outbox_.empty() && writing_.size() < 64) {
        writing_.push_back(std::move(outbox_.front()));
        outbox_.pop_front();
    }
    std::vector<asio::const_buffer> buffers;
    buffers.reserve(writing_.size());
    for (const auto& f : writing_) buffers.emplace_back(asio::buffer(f));
    asio::async_write(socket_, buffers, [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
        self->writing_.clear();
        if (ec) return self->fail(ec.message());
        if (!self->outbox_.empty()) self->do_write();
    });
}

void ClientConnection::fail(std::string why) {
    if (!open_) return;
    failure_ = std::move(why);
    close();
    outbox_.clear();
    if (failure_handler_) failure_handler_(failure_);
}

}  // namespace bench
