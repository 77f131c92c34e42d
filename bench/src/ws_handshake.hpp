#pragma once
// The WebSocket opening handshake (RFC 6455 §4), done by Beast; afterwards the bench
// takes the TCP socket back and frames data itself (wire.hpp). The only translation
// unit of the bench that includes Beast's WebSocket headers.
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <string>

namespace bench {

using ClientHandshakeDone = std::function<void(boost::system::error_code, boost::asio::ip::tcp::socket)>;
// Upgrades `socket` offering exactly one subprotocol; fails unless the server accepts it
// within `timeout`.
void async_websocket_connect(boost::asio::ip::tcp::socket socket, std::string host, std::string path,
                             std::string subprotocol, std::chrono::milliseconds timeout, ClientHandshakeDone done);

// Picks a subprotocol from the Sec-WebSocket-Protocol header, or "" to refuse.
using SubprotocolChooser = std::function<std::string(const std::string& offered)>;
using ServerHandshakeDone =
    std::function<void(boost::system::error_code, boost::asio::ip::tcp::socket, std::string subprotocol)>;
void async_websocket_accept(boost::asio::ip::tcp::socket socket, SubprotocolChooser choose, ServerHandshakeDone done);

}  // namespace bench
