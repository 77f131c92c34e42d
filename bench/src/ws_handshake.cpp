#include "ws_handshake.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <memory>

namespace bench {
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;


void async_websocket_connect(tcp::socket socket, std::string host, std::string path, std::string subprotocol,
                             std::chrono::milliseconds timeout, ClientHandshakeDone done) {
    struct State {
        beast::websocket::stream<tcp::socket> ws;
        beast::websocket::response_type response;
        std::string subprotocol;
        ClientHandshakeDone done;
    };
    auto state = std::make_shared<State>(State{beast::websocket::stream<tcp::socket>(std::move(socket)), {},
                                               subprotocol, std::move(done)});
    state->ws.set_option(beast::websocket::stream_base::decorator(
        [subprotocol](beast::websocket::request_type& request) {
            request.set(http::field::sec_websocket_protocol, subprotocol);
        }));
    state->ws.set_option(beast::websocket::stream_base::timeout{timeout, beast::websocket::stream_base::none(), false});
    state->ws.async_handshake(state->response, host, path, [state](beast::error_code ec) {
        auto socket = std::move(state->ws.next_layer());
        if (!ec && state->response[http::field::sec_websocket_protocol] != state->subprotocol)
            ec = boost::asio::error::no_protocol_option;
        state->done(ec, std::move(socket));
    });
}

void async_websocket_accept(tcp::socket socket, SubprotocolChooser choose, ServerHandshakeDone done) {
    struct State {
        beast::websocket::stream<tcp::socket> ws;
        beast::flat_buffer buffer;
        http::request<http::empty_body> request;
        std::string chosen;
        ServerHandshakeDone done;
    };
    auto state = std::make_shared<State>(
        State{beast::websocket::stream<tcp::socket>(std::move(socket)), {}, {}, {}, std::move(done)});
    http::async_read(state->ws.next_layer(), state->buffer, state->request,
                     [state, choose = std::move(choose)](beast::error_code ec, std::size_t) {
                         if (ec) return state->done(ec, std::move(state->ws.next_layer()), {});
                         state->chosen = choose(std::string(state->request[http::field::sec_websocket_protocol]));
                         if (state->chosen.empty())
                             return state->done(boost::asio::error::no_protocol_option,
                                                std::move(state->ws.next_layer()), {});
                         state->ws.set_option(beast::websocket::stream_base::decorator(
                             [chosen = state->chosen](beast::websocket::response_type& response) {
                                 response.set(http::field::sec_websocket_protocol, chosen);
                             }));
                         state->ws.async_accept(state->request, [state](beast::error_code ec) {
                             state->done(ec, std::move(state->ws.next_layer()), state->chosen);
                         });
                     });
}

}  // namespace bench
