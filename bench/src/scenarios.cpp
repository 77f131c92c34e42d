#include "scenarios.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <optional>
#include <stdexcept>

#include "process.hpp"

namespace bench {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using ConnectionPtr = std::shared_ptr<ClientConnection>;
using wamp::MessageType;

std::string Link::name() const {
    return std::string(transport == Transport::rawsocket ? "rs" : "ws") + "/" + std::string(serializer_name(serializer));
}

namespace {

constexpr std::string_view realm = "realm1";
constexpr std::string_view topic = "com.bench.topic";
constexpr std::string_view procedure = "com.bench.echo";
// A run with no delivery for this long has lost a message or a connection.
constexpr auto no_progress_limit = std::chrono::seconds(5);

std::int64_t now_ns() { return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count(); }

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

asio::awaitable<void> pause(double seconds) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds)));
    co_await timer.async_wait(asio::use_awaitable);
}

// Latencies of one phase, kept whole: a few million samples at most.
class Latencies {
public:
    void add(std::int64_t ns) { samples_.push_back(ns); }
    void put(Figures& f, const std::string& prefix) {
        if (samples_.empty()) return;
        std::sort(samples_.begin(), samples_.end());
        auto at = [&](double q) {
            auto index = static_cast<std::size_t>(q * static_cast<double>(samples_.size() - 1));
            return static_cast<double>(samples_[index]) / 1000.0;
        };
        f.values[prefix + "_p50_us"] = at(0.50);
        f.values[prefix + "_p99_us"] = at(0.99);
        f.values[prefix + "_p999_us"] = at(0.999);
        f.values[prefix + "_samples"] = static_cast<double>(samples_.size());
    }

private:
    std::vector<std::int64_t> samples_;
};

// What the target and the load client used over a measured window.
class Window {
public:
    explicit Window(pid_t pid) : pid_(pid) {}
    // A cluster's CPU is its processes' together: every node and NATS server.
    explicit Window(const Target& target) : pid_(target.pid), others_(target.other_pids) {}
    void open() {
        if (pid_) before_ = sample(pid_);
        client_cpu_ = own_cpu_seconds();
        start_ = Clock::now();
    }
    // Puts seconds, the target's CPU (total and per million `delivered`), and the client's CPU share.
    void close(Figures& f, double delivered) {
        double seconds = seconds_since(start_);
        f.values["seconds"] = seconds;
        f.values["delivered"] = delivered;
        f.values["delivered_per_s"] = delivered / seconds;
        f.values["client_cpu_share"] = (own_cpu_seconds() - client_cpu_) / seconds;
        if (!before_) return;
        if (auto after = sample(pid_)) {
            double cpu = after->cpu_seconds - before_->cpu_seconds;
            f.values["target_cpu_s"] = cpu;
            f.values["target_cpu_share"] = cpu / seconds;
            if (delivered > 0) f.values["cpu_s_per_million"] = cpu / delivered * 1e6;
        }
    }

private:
    std::optional<ProcessSample> sample(pid_t pid) const {
        auto total = sample_process(pid);
        for (auto other : others_)
            if (auto s = sample_process(other); s && total) total->cpu_seconds += s->cpu_seconds;
        return total;
    }

    pid_t pid_;
    std::vector<pid_t> others_;
    std::optional<ProcessSample> before_;
    double client_cpu_ = 0;
    Clock::time_point start_;
};

void put_peak_rss(Figures& f, pid_t pid) {
    if (!pid) return;
    if (auto s = sample_process(pid)) f.values["peak_rss_bytes"] = static_cast<double>(s->peak_rss_bytes);
}

// Opens a connection and a session: HELLO/WELCOME with a router, the role message with the relay.
asio::awaitable<ConnectionPtr> join(const Target& target, const Link& link, std::string_view role,
                                    const Timings& timings, const Endpoint* at = nullptr) {
    auto c = std::make_shared<ClientConnection>(co_await asio::this_coro::executor, link.transport, link.serializer);
    co_await c->open(at ? *at : target.endpoint, timings.open_timeout);
    if (!target.speaks_wamp()) {
        c->send(std::string("relay:") + std::string(role));
        auto reply = co_await c->receive(timings.open_timeout);
        if (reply != "relay:joined") throw std::runtime_error("the relay did not confirm the role");
        co_return c;
    }
    c->send(wamp::MessageBuilder(link.serializer, target.form).hello(realm));
    auto reply = co_await c->receive(timings.open_timeout);
    std::string error;
    auto decoded = wamp::decode(link.serializer, reply, &error);
    if (!decoded) throw std::runtime_error("answer to HELLO: " + error);
    if (decoded->type == MessageType::abort)
        throw std::runtime_error("ABORT " + (decoded->strings.empty() ? std::string() : decoded->strings.front()));
    if (decoded->type != MessageType::welcome)
        throw std::runtime_error("answer to HELLO is message type " + std::to_string(static_cast<int>(decoded->type)));
    co_return c;
}

// Sends a request and returns the decoded answer (the expected reply or an ERROR).
asio::awaitable<wamp::Decoded> request(ClientConnection& c, std::string message, const Timings& timings) {
    c.send(message);
    auto reply = co_await c.receive(timings.open_timeout);
    std::string error;
    auto decoded = wamp::decode(c.serializer(), reply, &error);
    if (!decoded) throw std::runtime_error("malformed answer: " + error);
    co_return *decoded;
}

asio::awaitable<void> subscribe(ClientConnection& c, const Target& target, const Link& link, const Timings& timings) {
    if (!target.speaks_wamp()) co_return;
    auto answer = co_await request(c, wamp::MessageBuilder(link.serializer, target.form).subscribe(1, topic), timings);
    if (answer.type != MessageType::subscribed)
        throw std::runtime_error("SUBSCRIBE refused: " + (answer.strings.empty() ? std::to_string(static_cast<int>(answer.type)) : answer.strings.back()));
}

std::string describe_unexpected(Serializer s, std::string_view message) {
    // Large messages are not decoded to say what they are.
    auto decoded = message.size() > 65536 ? std::nullopt : wamp::decode(s, message, nullptr);
    if (!decoded) return "an unreadable message of " + std::to_string(message.size()) + " bytes";
    std::string text = "message type " + std::to_string(static_cast<int>(decoded->type));
    for (const auto& s : decoded->strings) text += " " + s;
    return text;
}

// Runs one scenario coroutine on its own io_context; an exception becomes an "error" figure.
Figures run(std::function<asio::awaitable<Figures>()> scenario) {
    asio::io_context io(1);
    Figures result;
    std::exception_ptr failure;
    // Stopping the io_context when the scenario ends drops the reads still pending on
    // its connections, which closes them.
    asio::co_spawn(io, std::move(scenario), [&](std::exception_ptr e, Figures f) {
        failure = e;
        result = std::move(f);
        io.stop();
    });
    io.run();
    if (failure) {
        result = Figures{};
        result.status = "error";
        try {
            std::rethrow_exception(failure);
        } catch (const std::exception& e) {
            result.note = e.what();
        }
    }
    return result;
}

// One publisher, `subscribers` receivers of every publication, a window of publications
// in flight. Shared by the pub/sub and the stalled-subscriber scenarios.
class FanOut {
public:
    FanOut(const Target& target, const Link& link, std::size_t payload, int window, int subscribers,
           bool subscribers_elsewhere = false)
        : target_(target),
          subscribers_elsewhere_(subscribers_elsewhere && target.nodes.size() > 1),
          link_(link),
          builder_(link.serializer, target.form),
          body_(payload),
          locator_(link.serializer, payload),
          ring_(static_cast<std::size_t>(window)),
          window_(window),
          subscribers_(subscribers),
          received_(static_cast<std::size_t>(subscribers)),
          expected_(static_cast<std::size_t>(subscribers)) {}

    asio::awaitable<void> open(const Timings& timings) {
        publisher_ = co_await join(target_, link_, "pub", timings);
        watch(*publisher_);
        publisher_->on_message([this](std::string_view m) {
            fail("the publisher got " + describe_unexpected(link_.serializer, m));
        });
        for (int i = 0; i < subscribers_; ++i) {
            // Spread over the nodes other than the publisher's (a cluster target).
            const Endpoint* at = subscribers_elsewhere_
                                     ? &target_.nodes[1 + static_cast<std::size_t>(i) % (target_.nodes.size() - 1)]
                                     : nullptr;
            auto s = co_await join(target_, link_, "sub", timings, at);
            co_await subscribe(*s, target_, link_, timings);
            watch(*s);
            s->on_message([this, i](std::string_view m) { deliver(static_cast<std::size_t>(i), m); });
            subs_.push_back(std::move(s));
        }
    }

    void start(std::uint32_t stream) {
        stream_ = stream;
        last_progress_ = Clock::now();
        pump();
    }
    void set_window(int window, std::uint32_t stream) {
        window_ = std::min<int>(window, static_cast<int>(ring_.size()));
        stream_ = stream;
        stream_start_ = next_;
        pump();
    }
    // Publications of the current stream delivered to every subscriber.
    std::uint64_t stream_completed() const { return completed_ > stream_start_ ? completed_ - stream_start_ : 0; }

    // Waits `seconds`, failing on a lost connection or when deliveries stop; calls
    // `tick` every `step` seconds.
    asio::awaitable<void> run_for(double seconds, double step = 0.1, std::function<void()> tick = {}) {
        auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
        while (Clock::now() < end) {
            co_await pause(std::min(step, std::chrono::duration<double>(end - Clock::now()).count()));
            if (!failure_.empty()) throw std::runtime_error(failure_);
            if (window_ > 0 && Clock::now() - last_progress_ > no_progress_limit)
                throw std::runtime_error("no delivery for 5 s (" + std::to_string(completed_) + " of " +
                                         std::to_string(next_) + " publications delivered to every subscriber)");
            if (tick) tick();
        }
    }
    // Publishes `rate` per second for `seconds` whatever the deliveries (stream 3), as
    // long as fewer than the ring's size are in flight; returns how many it published.
    // Latency at a fixed rate, beside the window-limited and one-in-flight figures.
    asio::awaitable<std::uint64_t> run_paced(double rate, double seconds) {
        window_ = 0;
        stream_ = 3;
        auto start = Clock::now();
        std::uint64_t sent = 0;
        for (;;) {
            auto elapsed = seconds_since(start);
            if (elapsed >= seconds) break;
            auto due = static_cast<std::uint64_t>(elapsed * rate);
            for (; sent < due && next_ < completed_ + ring_.size(); ++sent) publish_next();
            if (!failure_.empty()) throw std::runtime_error(failure_);
            co_await pause(0.0005);
        }
        co_return sent;
    }

    // Stops publishing and waits until everything published has been delivered.
    asio::awaitable<void> drain() {
        window_ = 0;
        auto end = Clock::now() + no_progress_limit;
        while (completed_ < next_ && Clock::now() < end && failure_.empty()) co_await pause(0.02);
    }

    std::uint64_t delivered = 0;  // while counting
    bool counting = false;
    Latencies loaded;  // window-limited load
    Latencies quiet;   // stream 2: one publication in flight
    Latencies paced;   // stream 3: a fixed rate

    void put_checks(Figures& f) const {
        f.values["sequence_gaps"] = static_cast<double>(gaps_);
        f.values["corrupted_payloads"] = static_cast<double>(corrupt_);
        f.values["unreadable_messages"] = static_cast<double>(unreadable_);
        f.values["window"] = static_cast<double>(ring_.size());
        if (gaps_ || corrupt_ || unreadable_) {
            f.note += (f.note.empty() ? "" : "; ") + std::to_string(gaps_) + " sequence gaps, " +
                      std::to_string(corrupt_) + " corrupted payloads, " + std::to_string(unreadable_) +
                      " unreadable messages";
        }
    }

private:
    void watch(ClientConnection& c) {
        c.on_failure([this](const std::string& why) { fail("a connection failed: " + why); });
    }
    void fail(std::string why) {
        if (failure_.empty()) failure_ = std::move(why);
    }

    void pump() {
        while (next_ < completed_ + static_cast<std::uint64_t>(window_)) publish_next();
    }
    void publish_next() {
        wamp::PayloadHeader header{next_, now_ns(), stream_, wamp::payload_magic};
        publisher_->send(builder_.publish(next_ + 1, topic, header, body_));
        ++next_;
    }

    void deliver(std::size_t i, std::string_view m) {
        auto header = locator_.header(m);
        if (!header) {
            auto type = wamp::peek_type(link_.serializer, m);
            if (type == MessageType::error || type == MessageType::goodbye || type == MessageType::abort)
                return fail("a subscriber got " + describe_unexpected(link_.serializer, m));
            ++unreadable_;
            return;
        }
        auto now = now_ns();
        auto& count = received_[i];
        if (count == 0) check_shape(m);
        if (count % 1024 == 0 && !locator_.body_intact(m, body_)) ++corrupt_;
        ++count;
        if (header->sequence != expected_[i]) ++gaps_;
        expected_[i] = header->sequence + 1;
        if (counting) {
            ++delivered;
            loaded.add(now - header->sent_ns);
        }
        if (header->stream == 2) quiet.add(now - header->sent_ns);
        if (header->stream == 3) paced.add(now - header->sent_ns);
        if (header->sequence < completed_ || header->sequence >= completed_ + ring_.size()) return;
        if (++ring_[header->sequence % ring_.size()] < static_cast<std::uint32_t>(subscribers_)) return;
        while (completed_ < next_ && ring_[completed_ % ring_.size()] == static_cast<std::uint32_t>(subscribers_)) {
            ring_[completed_ % ring_.size()] = 0;
            ++completed_;
        }
        last_progress_ = Clock::now();
        pump();
    }

    // The first message each subscriber gets is decoded whole once: an EVENT from a
    // router, the PUBLISH as sent from the relay.
    void check_shape(std::string_view m) {
        std::string error;
        auto decoded = wamp::decode(link_.serializer, m, &error);
        auto expected = target_.speaks_wamp() ? MessageType::event : MessageType::publish;
        if (!decoded) fail("a subscriber got an undecodable message: " + error);
        else if (decoded->type != expected)
            fail("a subscriber got message type " + std::to_string(static_cast<int>(decoded->type)) + " instead of " +
                 std::to_string(static_cast<int>(expected)));
    }

    const Target& target_;
    bool subscribers_elsewhere_;
    Link link_;
    wamp::MessageBuilder builder_;
    wamp::PayloadBody body_;
    wamp::PayloadLocator locator_;
    ConnectionPtr publisher_;
    std::vector<ConnectionPtr> subs_;
    std::vector<std::uint32_t> ring_;  // deliveries per publication in flight
    int window_;
    int subscribers_;
    std::uint64_t next_ = 0;       // the next sequence to publish
    std::uint64_t completed_ = 0;  // every sequence below was delivered to every subscriber
    std::uint32_t stream_ = 1;
    std::uint64_t stream_start_ = 0;  // the first sequence of the current stream
    std::vector<std::uint64_t> received_;
    std::vector<std::uint64_t> expected_;
    std::uint64_t gaps_ = 0, corrupt_ = 0, unreadable_ = 0;
    Clock::time_point last_progress_ = Clock::now();
    std::string failure_;
};

// A registration made on another node of a cluster reaches node 1 through NATS after
// REGISTERED (unless the node waits for the others before answering): calls until one
// is answered with a RESULT rather than wamp.error.no_such_procedure.
asio::awaitable<void> await_registration(ClientConnection& caller, const wamp::MessageBuilder& builder,
                                         const wamp::PayloadBody& body, const Timings& timings) {
    auto deadline = Clock::now() + no_progress_limit;
    wamp::PayloadHeader header{0, 0, 0, wamp::payload_magic};
    for (std::uint64_t call_id = 1;; ++call_id) {
        auto answer = co_await request(caller, builder.call(call_id, procedure, header, body), timings);
        if (answer.type == MessageType::result) co_return;
        if (Clock::now() > deadline)
            throw std::runtime_error("the callee's registration did not reach the caller's node in 5 s (" +
                                     (answer.strings.empty() ? std::string("no error URI") : answer.strings.back()) + ")");
        co_await pause(0.02);
    }
}

}  // namespace

Figures run_pubsub(const Target& target, const PubSubSpec& spec, const Timings& timings, const WindowHooks& hooks) {
    return run([&]() -> asio::awaitable<Figures> {
        Figures f;
        FanOut fan(target, spec.link, spec.payload, spec.window, spec.fanout, spec.subscribers_elsewhere);
        co_await fan.open(timings);
        fan.start(1);
        co_await fan.run_for(timings.warmup);

        Window window(target);
        window.open();
        if (hooks.opened) hooks.opened();
        fan.counting = true;
        co_await fan.run_for(timings.measure);
        fan.counting = false;
        window.close(f, static_cast<double>(fan.delivered));
        if (hooks.closed) hooks.closed();
        fan.loaded.put(f, "loaded_latency");

        // Latency without queueing: the next publication only once every subscriber has the last.
        fan.set_window(1, 2);
        co_await fan.run_for(timings.latency);
        // A slow scenario (1 MiB to 100 receivers) still gets a few rounds, within reason.
        auto latency_end = Clock::now() + std::chrono::seconds(10);
        while (fan.stream_completed() < 20 && Clock::now() < latency_end) co_await fan.run_for(0.05);
        co_await fan.drain();
        fan.quiet.put(f, "latency");
        if (spec.paced_rate > 0) {
            auto published = co_await fan.run_paced(spec.paced_rate, spec.paced_seconds);
            co_await fan.drain();
            f.values["paced_rate_per_s"] = spec.paced_rate;
            f.values["paced_published_per_s"] = static_cast<double>(published) / spec.paced_seconds;
            fan.paced.put(f, "paced_latency");
        }
        fan.put_checks(f);
        put_peak_rss(f, target.pid);
        co_return f;
    });
}

Figures run_rpc(const Target& target, const RpcSpec& spec, const Timings& timings, const WindowHooks& hooks) {
    return run([&]() -> asio::awaitable<Figures> {
        Figures f;
        const auto& link = spec.link;
        wamp::MessageBuilder builder(link.serializer, target.form);
        wamp::PayloadBody body(spec.payload);
        wamp::PayloadLocator locator(link.serializer, spec.payload);
        std::string failure;
        auto watch = [&](ClientConnection& c) {
            c.on_failure([&](const std::string& why) {
                if (failure.empty()) failure = "a connection failed: " + why;
            });
        };

        const Endpoint* callee_node = spec.callee_elsewhere && target.nodes.size() > 1 ? &target.nodes.back() : nullptr;
        std::vector<ConnectionPtr> callees;
        for (int i = 0; i < spec.callees; ++i) {
            auto c = co_await join(target, link, "callee", timings, callee_node);
            if (target.speaks_wamp()) {
                std::string invoke = spec.callees > 1 ? "roundrobin" : "single";
                auto answer = co_await request(*c, builder.register_procedure(1, procedure, invoke), timings);
                if (answer.type != MessageType::registered) {
                    f.status = "n/a";
                    f.note = "REGISTER with invoke \"" + invoke + "\" refused: " +
                             (answer.strings.empty() ? std::to_string(static_cast<int>(answer.type)) : answer.strings.back());
                    co_return f;
                }
            }
            watch(*c);
            auto* callee = c.get();
            c->on_message([&, callee](std::string_view m) {
                auto type = wamp::peek_type(link.serializer, m);
                // INVOCATION from a router; the CALL as sent, from the relay.
                if (type != MessageType::invocation && type != MessageType::call) {
                    if (failure.empty()) failure = "a callee got " + describe_unexpected(link.serializer, m);
                    return;
                }
                auto decoded = wamp::decode(link.serializer, m, nullptr);
                auto element = locator.element(m);
                if (!decoded || decoded->integers.empty() || !element) {
                    if (failure.empty()) failure = "a callee got an unreadable call";
                    return;
                }
                callee->send(builder.yield(static_cast<std::uint64_t>(decoded->integers.front()), *element));
            });
            callees.push_back(std::move(c));
        }

        struct Caller {
            ConnectionPtr connection;
            std::uint64_t sequence = 0;
        };
        std::vector<Caller> callers(static_cast<std::size_t>(spec.callers));
        bool counting = false, stopping = false;
        std::uint64_t completed = 0, mismatched = 0, in_flight = 0;
        Latencies latencies;
        auto last_progress = Clock::now();
        auto call = [&](std::size_t i) {
            auto& caller = callers[i];
            wamp::PayloadHeader header{caller.sequence, now_ns(), static_cast<std::uint32_t>(i), wamp::payload_magic};
            caller.connection->send(builder.call(caller.sequence + 1, procedure, header, body));
            ++in_flight;
        };
        for (std::size_t i = 0; i < callers.size(); ++i) {
            callers[i].connection = co_await join(target, link, "caller", timings);
            if (i == 0 && callee_node) co_await await_registration(*callers[i].connection, builder, body, timings);
            watch(*callers[i].connection);
            callers[i].connection->on_message([&, i](std::string_view m) {
                auto header = locator.header(m);
                if (!header) {
                    if (failure.empty()) failure = "a caller got " + describe_unexpected(link.serializer, m);
                    return;
                }
                auto& caller = callers[i];
                if (header->stream != i || header->sequence != caller.sequence) ++mismatched;
                --in_flight;
                last_progress = Clock::now();
                if (counting) {
                    ++completed;
                    latencies.add(now_ns() - header->sent_ns);
                }
                ++caller.sequence;
                if (!stopping) call(i);
            });
        }

        auto run_for = [&](double seconds) -> asio::awaitable<void> {
            auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
            while (Clock::now() < end) {
                co_await pause(0.1);
                if (!failure.empty()) throw std::runtime_error(failure);
                if (Clock::now() - last_progress > no_progress_limit)
                    throw std::runtime_error("no call completed for 5 s");
            }
        };
        for (std::size_t i = 0; i < callers.size(); ++i) call(i);
        co_await run_for(timings.warmup);
        Window window(target);
        window.open();
        if (hooks.opened) hooks.opened();
        counting = true;
        co_await run_for(timings.measure);
        counting = false;
        window.close(f, static_cast<double>(completed));
        if (hooks.closed) hooks.closed();
        stopping = true;
        auto end = Clock::now() + no_progress_limit;
        while (in_flight > 0 && Clock::now() < end && failure.empty()) co_await pause(0.02);
        latencies.put(f, "latency");
        f.values["mismatched_results"] = static_cast<double>(mismatched);
        if (mismatched) f.note = std::to_string(mismatched) + " results did not match their call";
        put_peak_rss(f, target.pid);
        co_return f;
    });
}

Figures run_meta(const Target& target, const MetaSpec& spec, const Timings& timings) {
    return run([&]() -> asio::awaitable<Figures> {
        Figures f;
        if (!target.speaks_wamp()) {
            f.status = "n/a";
            f.note = "no meta API or registrations in a relay";
            co_return f;
        }
        const auto& link = spec.link;
        wamp::MessageBuilder builder(link.serializer, target.form);
        // One session on every node besides the asker, so that a cluster's answer is
        // gathered from nodes with sessions of their own.
        auto asker = co_await join(target, link, "meta", timings);
        std::vector<ConnectionPtr> others;
        for (std::size_t n = 1; n < target.nodes.size(); ++n)
            others.push_back(co_await join(target, link, "meta", timings, &target.nodes[n]));
        std::uint64_t request_id = 0;
        // One request in flight; its round trip goes to `into` (when given).
        auto timed = [&](std::string message, MessageType expected, Latencies* into) -> asio::awaitable<wamp::Decoded> {
            auto sent = now_ns();
            auto answer = co_await request(*asker, std::move(message), timings);
            if (into) into->add(now_ns() - sent);
            if (answer.type != expected)
                throw std::runtime_error("answer type " + std::to_string(static_cast<int>(answer.type)) + " " +
                                         (answer.strings.empty() ? std::string() : answer.strings.back()));
            co_return answer;
        };
        auto loop_for = [&](double seconds, std::function<asio::awaitable<void>()> step) -> asio::awaitable<void> {
            auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
            while (Clock::now() < end) co_await step();
        };

        Latencies questions;
        co_await loop_for(timings.warmup, [&]() -> asio::awaitable<void> {
            co_await timed(builder.call_plain(++request_id, spec.question), MessageType::result, nullptr);
        });
        co_await loop_for(timings.measure, [&]() -> asio::awaitable<void> {
            co_await timed(builder.call_plain(++request_id, spec.question), MessageType::result, &questions);
        });
        questions.put(f, "meta_latency");

        // A new URI each time: on a cluster every REGISTER creates its key in the
        // replicated registration store (SCALE-OUT.md §3) and every UNREGISTER deletes it.
        Latencies registers, unregisters;
        std::uint64_t uri_number = 0;
        co_await loop_for(timings.measure, [&]() -> asio::awaitable<void> {
            auto uri = std::string(procedure) + ".r" + std::to_string(++uri_number);
            auto registered = co_await timed(builder.register_procedure(++request_id, uri, "single"),
                                             MessageType::registered, &registers);
            if (registered.integers.size() < 2) throw std::runtime_error("REGISTERED without a registration id");
            co_await timed(builder.unregister(++request_id, static_cast<std::uint64_t>(registered.integers[1])),
                           MessageType::unregistered, &unregisters);
        });
        registers.put(f, "register_latency");
        unregisters.put(f, "unregister_latency");
        asker->close();
        for (auto& c : others) c->close();
        co_return f;
    });
}

Figures run_idle(const Target& target, const IdleSpec& spec, const Timings& timings) {
    return run([&]() -> asio::awaitable<Figures> {
        Figures f;
        std::optional<ProcessSample> before;
        if (target.pid) before = sample_process(target.pid);
        std::vector<ConnectionPtr> sessions(static_cast<std::size_t>(spec.sessions));
        std::size_t next = 0, failures = 0;
        int running = 0;
        std::string last_error;
        auto start = Clock::now();
        auto executor = co_await asio::this_coro::executor;
        // A bounded number of sessions opening at a time, so that the listen backlog holds.
        const int parallel = std::min(spec.sessions, 200);
        for (int w = 0; w < parallel; ++w) {
            ++running;
            asio::co_spawn(executor, [&]() -> asio::awaitable<void> {
                while (next < sessions.size()) {
                    auto i = next++;
                    try {
                        sessions[i] = co_await join(target, spec.link, "idle", timings);
                    } catch (const std::exception& e) {
                        ++failures;
                        last_error = e.what();
                    }
                }
                --running;
            }, asio::detached);
        }
        while (running > 0) co_await pause(0.05);
        double open_seconds = seconds_since(start);
        co_await pause(timings.idle_settle);
        std::size_t open = 0;
        for (const auto& s : sessions) open += s && s->is_open();
        f.values["sessions"] = static_cast<double>(open);
        f.values["failed_sessions"] = static_cast<double>(failures);
        f.values["open_seconds"] = open_seconds;
        f.values["sessions_per_s"] = static_cast<double>(sessions.size() - failures) / open_seconds;
        if (failures) f.note = std::to_string(failures) + " sessions failed to open (last: " + last_error + ")";
        if (before) {
            if (auto after = sample_process(target.pid)) {
                double grown = static_cast<double>(after->rss_bytes) - static_cast<double>(before->rss_bytes);
                f.values["rss_before_bytes"] = static_cast<double>(before->rss_bytes);
                f.values["rss_after_bytes"] = static_cast<double>(after->rss_bytes);
                f.values["peak_rss_bytes"] = static_cast<double>(after->peak_rss_bytes);
                if (open > 0) {
                    double per_session = grown / static_cast<double>(open);
                    f.values["rss_per_session_bytes"] = per_session;
                    f.values["projected_rss_100k_bytes"] = static_cast<double>(before->rss_bytes) + per_session * 100000;
                }
            }
        }
        for (auto& s : sessions)
            if (s) s->close();
        co_return f;
    });
}

Figures run_stall(const Target& target, const StallSpec& spec, const Timings& timings) {
    return run([&]() -> asio::awaitable<Figures> {
        Figures f;
        FanOut fan(target, spec.link, spec.payload, spec.window, spec.healthy);
        co_await fan.open(timings);
        fan.counting = true;
        fan.start(1);
        co_await fan.run_for(timings.warmup);

        // One timeline point every 100 ms: healthy deliveries per second, target RSS and open files.
        auto started = Clock::now();
        auto last = started;
        std::uint64_t last_delivered = fan.delivered;
        double phase = 0;
        auto tick = [&] {
            auto now = Clock::now();
            std::map<std::string, double> point{
                {"t", std::chrono::duration<double>(now - started).count()},
                {"stalled", phase},
                {"healthy_per_s", static_cast<double>(fan.delivered - last_delivered) /
                                      std::chrono::duration<double>(now - last).count()}};
            if (target.pid)
                if (auto s = sample_process(target.pid)) {
                    point["rss_bytes"] = static_cast<double>(s->rss_bytes);
                    point["peak_rss_bytes"] = static_cast<double>(s->peak_rss_bytes);
                    point["open_fds"] = s->open_fds;
                }
            f.timeline.push_back(std::move(point));
            last = now;
            last_delivered = fan.delivered;
        };
        auto before_delivered = fan.delivered;
        auto before_start = Clock::now();
        co_await fan.run_for(timings.stall_before, 0.1, tick);
        double rate_before = static_cast<double>(fan.delivered - before_delivered) / seconds_since(before_start);

        // The stalled subscriber: subscribes, then never reads again.
        auto stalled = co_await join(target, spec.link, "sub", timings);
        co_await subscribe(*stalled, target, spec.link, timings);
        stalled->pause_reading();
        phase = 1;
        double stalled_at = seconds_since(started);
        auto during_delivered = fan.delivered;
        auto during_start = Clock::now();
        co_await fan.run_for(timings.stall_during, 0.1, tick);
        double rate_during = static_cast<double>(fan.delivered - during_delivered) / seconds_since(during_start);
        co_await fan.drain();
        stalled->close();

        f.values["healthy_per_s_without"] = rate_before;
        f.values["healthy_per_s_with"] = rate_during;
        f.values["rate_ratio"] = rate_during / rate_before;
        // The slowest half second with the stalled subscriber, against the mean without it.
        double slowest = INFINITY;
        for (std::size_t i = 0; i + 5 <= f.timeline.size(); ++i) {
            if (f.timeline[i]["stalled"] != 1) continue;
            double sum = 0;
            for (std::size_t k = i; k < i + 5; ++k) sum += f.timeline[k]["healthy_per_s"];
            slowest = std::min(slowest, sum / 5);
        }
        if (std::isfinite(slowest)) f.values["slowest_half_second_ratio"] = slowest / rate_before;
        if (target.pid) {
            // The peak (VmHWM) up to each point, not the RSS sampled every 100 ms: the
            // stalled queue fills and is dropped within a few samples, and a sample
            // caught its top or missed it by chance (+11.7 or +16.5 MiB in two runs).
            double rss_before = 0, rss_during = 0, fds_at_stall = -1, dropped_at = -1;
            for (auto& p : f.timeline) {
                if (!p.count("peak_rss_bytes")) continue;
                if (p["stalled"] == 0) {
                    rss_before = std::max(rss_before, p["peak_rss_bytes"]);
                } else {
                    rss_during = std::max(rss_during, p["peak_rss_bytes"]);
                    if (fds_at_stall < 0) fds_at_stall = p["open_fds"];
                    else if (dropped_at < 0 && p["open_fds"] < fds_at_stall) dropped_at = p["t"];
                }
            }
            f.values["rss_max_without_bytes"] = rss_before;
            f.values["rss_max_with_bytes"] = rss_during;
            f.values["rss_growth_bytes"] = rss_during - rss_before;
            if (dropped_at >= 0) f.values["dropped_after_s"] = dropped_at - stalled_at;
            put_peak_rss(f, target.pid);
        }
        if (target.queue_limit) f.values["queue_limit_bytes"] = static_cast<double>(target.queue_limit);
        fan.put_checks(f);
        co_return f;
    });
}

std::string probe(const Target& target, const Link& link, const Timings& timings) {
    Timings quick = timings;
    quick.open_timeout = std::chrono::milliseconds(3000);
    auto f = run([&]() -> asio::awaitable<Figures> {
        auto c = co_await join(target, link, "idle", quick);
        c->close();
        co_return Figures{};
    });
    return f.ok() ? "" : f.note;
}

}  // namespace bench
