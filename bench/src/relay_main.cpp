// The raw relay: the ceiling for any WAMP router on this machine. It speaks the same
// transports (RawSocket or WebSocket on one port, told apart by the first byte as a
// universal port does) and forwards the same frames with the same fan-out, with no
// WAMP logic at all: no decoding, no session, no URI, no authorization.
//
// A connection's first message names its role ("relay:pub", "relay:sub",
// "relay:caller", "relay:callee", "relay:idle"), answered "relay:joined"; after that:
//   - a publisher's frame goes to every subscriber: built once per transport, the same
//     bytes queued for every receiver;
//   - a caller's frame goes to the next callee (round robin); a callee answers in
//     order, so its answers go back to its callers first in, first out.
// A received payload is copied at most once (a large one not at all: the read buffer
// holding it is handed over), and each receiver gets its own few header bytes in front
// of the same payload bytes. Every connection has one send queue bounded as the
// router's is (max(4 x max_message_size, 16 MiB)); a receiver past it is dropped.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/write.hpp>
#include <cstdio>
#include <cstring>
#include <deque>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "wire.hpp"
#include "ws_handshake.hpp"

namespace bench {
namespace {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// One frame to write: this receiver's header, then payload bytes kept alive by `owner`.
struct Outgoing {
    std::string header;
    std::string_view payload;
    std::shared_ptr<const void> owner;
    std::size_t size() const { return header.size() + payload.size(); }
};

// The payload of a received frame, kept for every receiver.
struct Payload {
    std::string_view bytes;
    std::shared_ptr<const void> owner;
};

enum class Role { none, pub, sub, caller, callee, idle };

class Relay;

class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(Relay& relay, tcp::socket socket);
    void start();
    void send(std::uint8_t kind, const Payload& payload);
    void close();

    Transport transport() const { return transport_; }
    Role role() const { return role_; }
    std::deque<std::weak_ptr<Connection>>& waiting_callers() { return waiting_callers_; }

private:
    void on_peek(boost::system::error_code ec);
    void on_open();
    void do_read();
    void on_read(boost::system::error_code ec, std::size_t n);
    void on_message(const Frame& frame);
    void do_write();

    Relay& relay_;
    tcp::socket socket_;
    Transport transport_ = Transport::rawsocket;
    std::unique_ptr<FrameReader> reader_;
    std::array<unsigned char, 4> handshake_{};
    Role role_ = Role::none;
    std::deque<Outgoing> queue_;
    std::size_t queued_bytes_ = 0;
    std::vector<Outgoing> writing_;
    bool closed_ = false;
    std::deque<std::weak_ptr<Connection>> waiting_callers_;
};

class Relay {
public:
    Relay(asio::io_context& io, unsigned short port, std::size_t max_message)
        : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), port)),
          max_message_(max_message),
          queue_limit_(std::max<std::size_t>(4 * max_message, 16 * 1024 * 1024)) {
        accept();
    }
    std::size_t max_message() const { return max_message_; }
    std::size_t queue_limit() const { return queue_limit_; }

    void joined(const std::shared_ptr<Connection>& c) {
        if (c->role() == Role::sub) subscribers_.push_back(c);
        if (c->role() == Role::callee) callees_.push_back(c);
    }
    void left(const Connection* c) {
        std::erase_if(subscribers_, [c](const auto& s) { return s.get() == c; });
        std::erase_if(callees_, [c](const auto& s) { return s.get() == c; });
    }

    void publish(std::uint8_t kind, const Payload& payload) {
        auto subscribers = subscribers_;  // a send may drop a subscriber
        for (const auto& s : subscribers) s->send(kind, payload);
    }
    void call(const std::shared_ptr<Connection>& caller, std::uint8_t kind, const Payload& payload) {
        if (callees_.empty()) return;
        auto callee = callees_[next_callee_++ % callees_.size()];
        callee->waiting_callers().push_back(caller);
        callee->send(kind, payload);
    }
    void answer(Connection& callee, std::uint8_t kind, const Payload& payload) {
        auto& waiting = callee.waiting_callers();
        if (waiting.empty()) return;
        auto caller = waiting.front().lock();
        waiting.pop_front();
        if (caller) caller->send(kind, payload);
    }

private:
    void accept() {
        acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
            if (!acceptor_.is_open()) return;
            if (!ec) std::make_shared<Connection>(*this, std::move(socket))->start();
            accept();
        });
    }

    tcp::acceptor acceptor_;
    std::size_t max_message_;
    std::size_t queue_limit_;
    std::vector<std::shared_ptr<Connection>> subscribers_;
    std::vector<std::shared_ptr<Connection>> callees_;
    std::size_t next_callee_ = 0;
};

Connection::Connection(Relay& relay, tcp::socket socket) : relay_(relay), socket_(std::move(socket)) {}

void Connection::start() {
    boost::system::error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    // RawSocket opens with 0x7F, which no HTTP request does.
    socket_.async_receive(asio::buffer(handshake_.data(), 1), tcp::socket::message_peek,
                          [self = shared_from_this()](boost::system::error_code ec, std::size_t) { self->on_peek(ec); });
}

void Connection::on_peek(boost::system::error_code ec) {
    if (ec) return;
    if (handshake_[0] == rawsocket::magic) {
        transport_ = Transport::rawsocket;
        asio::async_read(socket_, asio::buffer(handshake_), [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
            if (ec) return;
            auto serializer = self->handshake_[1] & 0x0F;
            self->handshake_ = {rawsocket::magic, static_cast<unsigned char>(0xF0 | serializer), 0, 0};
            asio::async_write(self->socket_, asio::buffer(self->handshake_),
                              [self](boost::system::error_code ec, std::size_t) {
                                  if (!ec) self->on_open();
                              });
        });
        return;
    }
    transport_ = Transport::websocket;
    async_websocket_accept(
        std::move(socket_),
        [](const std::string& offered) -> std::string {
            for (auto s : {Serializer::msgpack, Serializer::json})
                if (offered.find(websocket_subprotocol(s)) != std::string::npos) return std::string(websocket_subprotocol(s));
            return "";
        },
        [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket, std::string) {
            self->socket_ = std::move(socket);
            if (!ec) self->on_open();
        });
}

void Connection::on_open() {
    boost::system::error_code ignored;
    socket_.non_blocking(true, ignored);
    reader_ = std::make_unique<FrameReader>(transport_, transport_ == Transport::websocket, relay_.max_message());
    do_read();
}

// Waits for the socket to be readable, then reads: a waiting connection holds no read
// buffer, as a minimal server's would not.
void Connection::do_read() {
    reader_->release_if_empty();
    socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this()](boost::system::error_code ec) {
        if (ec) return self->close();
        std::size_t n = self->socket_.read_some(self->reader_->prepare(), ec);
        if (ec == asio::error::would_block) return self->do_read();
        self->on_read(ec, n);
    });
}

void Connection::on_read(boost::system::error_code ec, std::size_t n) {
    if (ec || closed_) return close();
    reader_->commit(n);
    Frame frame;
    for (;;) {
        auto status = reader_->next(frame);
        if (status == FrameReader::Status::need_more) break;
        if (status == FrameReader::Status::error) {
            std::cerr << "relay: " << reader_->error() << "; connection closed\n";
            return close();
        }
        if (is_message(transport_, frame.kind)) on_message(frame);
        else if (frame.kind == ping_kind(transport_))
            send(pong_kind(transport_), {frame.payload, std::make_shared<std::string>(frame.payload)});
        else if (transport_ == Transport::websocket && frame.kind == websocket::close) return close();
        if (closed_) return;
    }
    do_read();
}

void Connection::on_message(const Frame& frame) {
    auto message = frame.payload;
    auto kind = frame.kind;
    auto keep = [&]() -> Payload {
        // A large payload stays where it was read; a small one is copied once.
        if (message.size() >= 64 * 1024 && !frame.joined) return {message, reader_->take_buffer()};
        auto copy = std::make_shared<const std::string>(message);
        return {*copy, copy};
    };
    switch (role_) {
        case Role::none: {
            static constexpr std::pair<std::string_view, Role> roles[] = {
                {"relay:pub", Role::pub}, {"relay:sub", Role::sub},   {"relay:caller", Role::caller},
                {"relay:callee", Role::callee}, {"relay:idle", Role::idle}};
            for (auto [name, role] : roles)
                if (message == name) role_ = role;
            if (role_ == Role::none) {
                std::cerr << "relay: the first message must name a role (relay:pub, relay:sub, ...)\n";
                return close();
            }
            relay_.joined(shared_from_this());
            static const std::string joined = "relay:joined";
            send(kind, {joined, nullptr});
            break;
        }
        case Role::pub: relay_.publish(kind, keep()); break;
        case Role::caller: relay_.call(shared_from_this(), kind, keep()); break;
        case Role::callee: relay_.answer(*this, kind, keep()); break;
        case Role::sub:
        case Role::idle: break;
    }
}

void Connection::send(std::uint8_t kind, const Payload& payload) {
    if (closed_) return;
    Outgoing frame{frame_header(transport_, kind, payload.bytes.size()), payload.bytes, payload.owner};
    if (queued_bytes_ + frame.size() > relay_.queue_limit()) {
        std::cerr << "relay: send queue limit reached (" << queued_bytes_ << " bytes waiting); dropping the connection\n";
        return close();
    }
    queued_bytes_ += frame.size();
    queue_.push_back(std::move(frame));
    if (writing_.empty()) do_write();
}

void Connection::do_write() {
    // One gather write for everything queued, up to a bound, as the router's RawSocket does.
    std::vector<asio::const_buffer> buffers;
    while (!queue_.empty() && writing_.size() < 64) {
        queued_bytes_ -= queue_.front().size();
        writing_.push_back(std::move(queue_.front()));
        queue_.pop_front();
    }
    for (const auto& frame : writing_) {
        buffers.emplace_back(asio::buffer(frame.header));
        buffers.emplace_back(asio::buffer(frame.payload.data(), frame.payload.size()));
    }
    asio::async_write(socket_, buffers, [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
        self->writing_.clear();
        if (ec) return self->close();
        if (!self->queue_.empty()) self->do_write();
    });
}

void Connection::close() {
    if (closed_) return;
    closed_ = true;
    queue_.clear();
    queued_bytes_ = 0;
    relay_.left(this);
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
    unsigned short port = 0;
    std::size_t max_message = 16 * 1024 * 1024;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string option = argv[i];
        if (option == "--port") port = static_cast<unsigned short>(std::stoi(argv[i + 1]));
        else if (option == "--max-message-size") max_message = std::stoull(argv[i + 1]);
        else {
            std::cerr << "usage: bench_relay --port N [--max-message-size BYTES]\n";
            return 2;
        }
    }
    if (port == 0) {
        std::cerr << "usage: bench_relay --port N [--max-message-size BYTES]\n";
        return 2;
    }
    boost::asio::io_context io(1);
    bench::Relay relay(io, port, max_message);
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code, int) { io.stop(); });
    io.run();
    return 0;
}
