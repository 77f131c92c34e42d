// The publisher and subscribers of test_cluster.py's ordering test at 10^5 events:
// one publisher on the first node publishes to two topics in turn, a subscriber on each
// other node subscribes to both and must receive every event once, in publication
// order. Written in C++ with the bench's client (one thread, frames read in place)
// because Autobahn|Python needs about 3 s per 10^4 events here, too slow for 10^5 in
// every CI run.
//
//   cluster_order_client --events N PUBLISHER_WS_URL SUBSCRIBER_WS_URL...
//
// Exits 0 and prints the time taken when every subscriber got every event in order;
// otherwise prints what went wrong and exits 1.
#include <utility>  // first: Boost 1.74's awaitable.hpp uses std::exchange without including it

#include <csignal>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "client_connection.hpp"
#include "wamp_messages.hpp"

namespace {

namespace asio = boost::asio;
using bench::ClientConnection;
using bench::Endpoint;
using bench::wamp::MessageType;
using Clock = std::chrono::steady_clock;

constexpr std::string_view topics[] = {"com.cl.order.t1", "com.cl.order.t2"};
constexpr std::size_t payload_size = 64;
// Publications sent but not yet received by every subscriber: enough to keep NATS and
// the nodes busy, few enough that no queue on the way reaches its limit.
constexpr std::uint64_t window = 512;
constexpr auto open_timeout = std::chrono::milliseconds(5000);
constexpr auto no_progress_limit = std::chrono::seconds(10);

Endpoint parse_ws_url(const std::string& url) {
    // ws://127.0.0.1:PORT/PATH, as test_cluster.py's Cluster.url gives it.
    auto rest = url.substr(url.find("://") + 3);
    auto slash = rest.find('/');
    auto authority = rest.substr(0, slash);
    Endpoint e;
    e.host = authority.substr(0, authority.rfind(':'));
    e.port = std::stoi(authority.substr(authority.rfind(':') + 1));
    e.path = slash == std::string::npos ? "/" : rest.substr(slash);
    return e;
}

asio::awaitable<void> pause(std::chrono::milliseconds d) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(d);
    co_await timer.async_wait(asio::use_awaitable);
}

asio::awaitable<bench::wamp::Decoded> request(ClientConnection& c, const std::string& message) {
    c.send(message);
    auto reply = co_await c.receive(open_timeout);
    std::string error;
    auto decoded = bench::wamp::decode(c.serializer(), reply, &error);
    if (!decoded) throw std::runtime_error("malformed answer: " + error);
    co_return *decoded;
}

asio::awaitable<std::shared_ptr<ClientConnection>> join(const Endpoint& at, const bench::wamp::MessageBuilder& builder) {
    auto c = std::make_shared<ClientConnection>(co_await asio::this_coro::executor, bench::Transport::websocket,
                                                bench::Serializer::msgpack);
    co_await c->open(at, open_timeout);
    auto welcome = co_await request(*c, builder.hello("realm1"));
    if (welcome.type != MessageType::welcome) throw std::runtime_error("HELLO not answered with WELCOME");
    co_return c;
}

struct Subscriber {
    std::shared_ptr<ClientConnection> connection;
    std::uint64_t next = 0;  // the sequence number the next event must carry
};

asio::awaitable<int> run(std::uint64_t events, std::vector<Endpoint> nodes) {
    bench::wamp::MessageBuilder builder(bench::Serializer::msgpack, bench::wamp::PayloadForm::transparent);
    bench::wamp::PayloadBody body(payload_size);
    bench::wamp::PayloadLocator locator(bench::Serializer::msgpack, payload_size);
    std::string failure;
    auto publisher = co_await join(nodes.front(), builder);
    std::vector<Subscriber> subscribers(nodes.size() - 1);
    for (std::size_t i = 0; i < subscribers.size(); ++i) {
        auto& s = subscribers[i];
        s.connection = co_await join(nodes[i + 1], builder);
        for (std::size_t t = 0; t < std::size(topics); ++t) {
            auto answer = co_await request(*s.connection, builder.subscribe(t + 1, topics[t]));
            if (answer.type != MessageType::subscribed) throw std::runtime_error("SUBSCRIBE refused");
        }
        s.connection->on_message([&, i](std::string_view m) {
            auto& sub = subscribers[i];
            auto header = locator.header(m);
            if (!header) {
                if (failure.empty()) failure = "node " + std::to_string(i + 2) + " got a message that is not an event";
            } else if (header->sequence != sub.next) {
                if (failure.empty())
                    failure = "node " + std::to_string(i + 2) + ": event " + std::to_string(header->sequence) +
                              " where " + std::to_string(sub.next) + " was due (reordered or lost)";
            } else {
                ++sub.next;
            }
        });
        s.connection->on_failure([&](const std::string& why) {
            if (failure.empty()) failure = "a subscriber's connection failed: " + why;
        });
    }
    publisher->on_failure([&](const std::string& why) {
        if (failure.empty()) failure = "the publisher's connection failed: " + why;
    });
    // No pause after SUBSCRIBED: the node answers it only once every other node's NATS
    // server knows the interest (the barrier, README "Clustered realms (NATS)").

    auto slowest = [&] {
        std::uint64_t least = events;
        for (const auto& s : subscribers) least = std::min(least, s.next);
        return least;
    };
    auto started = Clock::now();
    auto last_progress = started;
    std::uint64_t last_seen = 0, sent = 0;
    while (failure.empty() && slowest() < events) {
        while (sent < events && sent < slowest() + window) {
            bench::wamp::PayloadHeader header{sent, 0, 0, bench::wamp::payload_magic};
            publisher->send(builder.publish(sent + 1, topics[sent % 2], header, body));
            ++sent;
        }
        co_await pause(std::chrono::milliseconds(1));
        if (slowest() != last_seen) {
            last_seen = slowest();
            last_progress = Clock::now();
        } else if (Clock::now() - last_progress > no_progress_limit) {
            failure = "no progress for 10 s: " + std::to_string(last_seen) + " of " + std::to_string(events) +
                      " events at every subscriber";
        }
    }
    if (!failure.empty()) {
        std::cout << failure << std::endl;
        co_return 1;
    }
    double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    std::cout << events << " events over 2 topics to " << subscribers.size() << " other nodes in " << seconds << " s"
              << std::endl;
    publisher->close();
    for (auto& s : subscribers) s.connection->close();
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::uint64_t events = 100000;
    std::vector<Endpoint> nodes;
    try {
        for (int i = 1; i < argc; ++i) {
            std::string arg = argv[i];
            if (arg == "--events" && i + 1 < argc) events = std::stoull(argv[++i]);
            else nodes.push_back(parse_ws_url(arg));
        }
        if (nodes.size() < 2) throw std::invalid_argument("give the publisher's node and at least one subscriber's");
    } catch (const std::exception& e) {
        std::cerr << "cluster_order_client: " << e.what() << "\n";
        return 2;
    }
    std::signal(SIGPIPE, SIG_IGN);
    asio::io_context io(1);
    int status = 1;
    asio::co_spawn(io, run(events, nodes), [&](std::exception_ptr e, int result) {
        status = result;
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& error) {
                std::cout << "failed: " << error.what() << std::endl;
                status = 1;
            }
        }
        io.stop();
    });
    io.run();
    return status;
}
