// An Autobahn|Cpp (Debian autobahn-cpp-dev) client scenario, run by
// test_interop.py: over RawSocket with MsgPack (the one serializer Autobahn|Cpp
// has), on TCP or a Unix socket (its two transports), one session registers, subscribes, calls
// itself, gets an application error back and receives its own event. Prints
// one "name: value" line per result; any failure is printed and exits non-zero.
//
// The io_service runs on a thread of its own so that the scenario can wait on
// each future in turn.
#include <autobahn/autobahn.hpp>
#include <boost/asio.hpp>

#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <tuple>

namespace {

using Kwargs = std::map<std::string, std::string>;

std::shared_ptr<autobahn::wamp_transport> make_transport(boost::asio::io_service& io, int argc, char** argv) {
    const std::string kind = argv[1];
    if (kind == "tcp" && argc == 4) {
        boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::address::from_string(argv[2]),
                                                static_cast<unsigned short>(std::stoi(argv[3])));
        return std::make_shared<autobahn::wamp_tcp_transport>(io, endpoint);
    }
    if (kind == "unix" && argc == 3)
        return std::make_shared<autobahn::wamp_uds_transport>(io, boost::asio::local::stream_protocol::endpoint(argv[2]));
    return nullptr;
}

int run(int argc, char** argv) {
    boost::asio::io_service io;
    auto transport = make_transport(io, argc, argv);
    if (!transport) {
        std::cerr << "usage: autobahn_cpp_client tcp HOST PORT | unix PATH" << std::endl;
        return 2;
    }
    auto work = std::make_unique<boost::asio::io_service::work>(io);
    std::thread io_thread([&io] { io.run(); });

    auto session = std::make_shared<autobahn::wamp_session>(io);
    transport->attach(std::static_pointer_cast<autobahn::wamp_transport_handler>(session));

    int status = 0;
    try {
        transport->connect().get();
        session->start().get();
        // Autobahn|Cpp sends HELLO.Details.authmethods as given, [] by default;
        // "anonymous" is named so that this test is about the messages after it.
        std::cout << "joined: " << (session->join("realm1", {"anonymous"}).get() > 0) << std::endl;

        session->provide("com.cpp.add", [](autobahn::wamp_invocation invocation) {
            invocation->result(std::make_tuple(invocation->argument<std::uint64_t>(0) +
                                               invocation->argument<std::uint64_t>(1)));
        }).get();
        session->provide("com.cpp.echo", [](autobahn::wamp_invocation invocation) {
            invocation->result(invocation->arguments<std::tuple<std::string, std::uint64_t>>(),
                               invocation->kw_arguments<Kwargs>());
        }).get();
        session->provide("com.cpp.fail", [](autobahn::wamp_invocation invocation) {
            invocation->error("com.cpp.error", std::make_tuple(std::string("nope")), Kwargs{{"what", "ü"}});
        }).get();

        boost::promise<std::string> event;
        session->subscribe("com.cpp.topic", [&event](const autobahn::wamp_event& e) {
            event.set_value(e.argument<std::string>(0) + " " + std::to_string(e.argument<std::uint64_t>(1)) + " " +
                            e.kw_argument<std::string>("k"));
        }).get();
        std::cout << "registered and subscribed" << std::endl;

        auto sum = session->call("com.cpp.add", std::make_tuple(std::uint64_t{20}, std::uint64_t{22})).get();
        std::cout << "add: " << sum.argument<std::uint64_t>(0) << std::endl;

        const std::uint64_t big = std::uint64_t{1} << 40;
        auto echoed = session->call("com.cpp.echo", std::make_tuple(std::string("ü"), big), Kwargs{{"k", "v"}}).get();
        std::cout << "echo: " << echoed.argument<std::string>(0) << " " << echoed.argument<std::uint64_t>(1) << " "
                  << echoed.kw_argument<std::string>("k") << std::endl;

        try {
            session->call("com.cpp.fail").get();
            std::cout << "error: none" << std::endl;
        } catch (const std::exception& e) {
            std::cout << "error: " << e.what() << std::endl;
        }
        try {
            session->call("com.cpp.nobody").get();
            std::cout << "no procedure: none" << std::endl;
        } catch (const std::exception& e) {
            std::cout << "no procedure: " << e.what() << std::endl;
        }

        autobahn::wamp_publish_options options;
        options.set_exclude_me(false);
        session->publish("com.cpp.topic", std::make_tuple(std::string("hello"), big), Kwargs{{"k", "v"}}, options).get();
        auto seen = event.get_future();
        if (seen.wait_for(boost::chrono::seconds(5)) != boost::future_status::ready)
            throw std::runtime_error("no event within 5 s");
        std::cout << "event: " << seen.get() << std::endl;

        std::cout << "left: " << session->leave().get() << std::endl;
        session->stop().get();
        transport->disconnect().get();
    } catch (const std::exception& e) {
        std::cerr << "failed: " << e.what() << std::endl;
        status = 1;
    }
    work.reset();
    io.stop();
    io_thread.join();
    return status;
}

}  // namespace

int main(int argc, char** argv) { return argc < 2 ? 2 : run(argc, argv); }
