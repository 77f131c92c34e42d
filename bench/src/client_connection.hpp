#pragma once
// One client connection of the load client: TCP, the transport's opening handshake,
// framing, a write queue drained by gather writes, and each received message handed
// to a handler in place (no copy, no decode). All of it runs on one io_context thread.
#include <utility>  // first: Boost 1.74's awaitable.hpp uses std::exchange without including it

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "wire.hpp"

namespace bench {

struct Endpoint {
    std::string host = "127.0.0.1";
    int port = 0;
    std::string path = "/ws";  // WebSocket only
};

class ClientConnection : public std::enable_shared_from_this<ClientConnection> {
public:
    using MessageHandler = std::function<void(std::string_view message)>;

    ClientConnection(boost::asio::any_io_executor executor, Transport transport, Serializer serializer);

    // Connects and completes the opening handshake; throws std::runtime_error.
    boost::asio::awaitable<void> open(const Endpoint& endpoint, std::chrono::milliseconds timeout);

    void send(std::string_view message);
    // From now on every message goes to `handler` (the delivery path).
    void on_message(MessageHandler handler) { handler_ = std::move(handler); }
    // Called once when the connection fails or the peer closes it.
    void on_failure(std::function<void(const std::string&)> handler) { failure_handler_ = std::move(handler); }
    // The next message, while no handler is set (session setup); throws on timeout or close.
    boost::asio::awaitable<std::string> receive(std::chrono::milliseconds timeout);

    // Stops reading the socket: a stalled receiver, as the router sees it.
    void pause_reading() { paused_ = true; }
    void close();

    bool is_open() const { return open_; }
    const std::string& failure() const { return failure_; }
    Transport transport() const { return transport_; }
    Serializer serializer() const { return serializer_; }

private:
    void start_reading();
    void do_read();
    void on_read(boost::system::error_code ec, std::size_t n);
    void handle_frame(const Frame& frame);
    void queue_frame(std::string frame);
    void do_write();
    void fail(std::string why);

    boost::asio::ip::tcp::socket socket_;
    Transport transport_;
    Serializer serializer_;
    FrameReader reader_;
    boost::asio::steady_timer signal_;  // wakes receive()
    std::deque<std::string> inbox_;
    MessageHandler handler_;
    std::function<void(const std::string&)> failure_handler_;
    std::deque<std::string> outbox_;
    std::vector<std::string> writing_;
    bool open_ = false;
    bool paused_ = false;
    bool reading_ = false;
    std::string failure_;
};

}  // namespace bench
