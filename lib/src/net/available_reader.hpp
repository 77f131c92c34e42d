#pragma once
// Reading "everything there is" from a connection, for the framings that parse
// many frames per read. Plain TCP and Unix sockets wait until readable, then read
// into a scratch buffer shared by all connections on the thread, so that an idle
// connection holds no read buffer; TLS reads through OpenSSL into the connection's
// own buffer (readiness of the socket says nothing about decrypted bytes).
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <memory>
#include <string>
#include <type_traits>

namespace blindrouter::net {

template <class Stream>
inline constexpr bool is_plain_stream =
    std::is_same_v<Stream, boost::beast::tcp_stream> ||
    std::is_same_v<Stream, boost::beast::basic_stream<boost::asio::local::stream_protocol>>;

inline char* read_scratch() {
    static thread_local std::unique_ptr<char[]> buffer(new char[256 * 1024]);
    return buffer.get();
}
inline constexpr std::size_t read_scratch_size = 256 * 1024;

// Calls handler(error_code, const char* data, std::size_t size) once with what
// arrived. `tls_buffer` must live as long as the handler (the connection owns both).
template <class Stream, class Handler>
void read_available(Stream& stream, std::string& tls_buffer, Handler handler) {
    if constexpr (!is_plain_stream<Stream>) {
        tls_buffer.resize(16 * 1024);
        stream.async_read_some(boost::asio::buffer(tls_buffer),
                               [&tls_buffer, handler = std::move(handler)](boost::beast::error_code ec,
                                                                           std::size_t n) mutable {
                                   handler(ec, tls_buffer.data(), n);
                               });
    } else {
        auto& socket = boost::beast::get_lowest_layer(stream).socket();
        socket.async_wait(socket.wait_read, [&stream, &tls_buffer, handler = std::move(handler)](
                                                boost::beast::error_code ec) mutable {
            if (ec) return handler(ec, nullptr, 0);
            auto& s = boost::beast::get_lowest_layer(stream).socket();
            // Set once per socket: asio's setter is an ioctl each time, its getter reads a flag.
            if (!s.non_blocking()) s.non_blocking(true, ec);
            std::size_t n = ec ? 0 : s.read_some(boost::asio::buffer(read_scratch(), read_scratch_size), ec);
            if (ec == boost::asio::error::would_block || ec == boost::asio::error::try_again)
                return read_available(stream, tls_buffer, std::move(handler));
            handler(ec, read_scratch(), n);
        });
    }
}

}  // namespace blindrouter::net
