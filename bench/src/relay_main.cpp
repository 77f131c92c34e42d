// The raw relay: the ceiling for any WAMP router on this machine, written as tight as we
// know how, so that a ratio against it is honest. It speaks the same transports
// (RawSocket or WebSocket on one port, told apart by the first byte as a universal port
// does) and forwards the same frames with the same fan-out, with no WAMP logic at all:
// no decoding, no session, no URI, no authorization.
//
// A connection's first message names its role ("relay:pub", "relay:sub",
// "relay:caller", "relay:callee", "relay:idle"), answered "relay:joined"; after that:
//   - a publisher's frame goes to every subscriber;
//   - a caller's frame goes to the next callee (round robin); a callee answers in
//     order, so its answers go back to its callers first in, first out.
// A frame is forwarded as the sender's bytes: the receivers on the sender's transport get
// the very bytes that were read (RawSocket's header is the same both ways; a WebSocket
// client's frame is unmasked and given the server's header in place, over its mask key),
// so nothing is copied per receiver and nothing at all unless a read buffer still
// referenced by a receiver fills up with a frame half read (that part is copied to the
// next buffer). A receiver on the other transport gets its own header in front of the
// same payload bytes.
//
// One thread, epoll (edge-triggered), non-blocking sockets, TCP_NODELAY. Each wakeup reads
// every readable socket until the kernel has nothing more, queues what it read, and then
// writes each receiver's queue with one gather write (adjacent frames of one buffer merged
// into one range). Every connection has one send queue bounded as the router's is
// (max(4 x max_message_size, 16 MiB)); a receiver past it is dropped.
//
// io_uring is not used: Debian 12's liburing is not installed on the bench machines, and
// epoll with one read per socket and one writev per receiver per wakeup leaves little
// for it to save at these message sizes.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <deque>
#include <iostream>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "relay_framing.hpp"
#include "wire.hpp"

namespace bench::relay {
namespace {

// A read buffer, shared by the receivers whose queued frames point into it. Buffers of
// the standard size are pooled (a publisher's buffer is back in the pool as soon as its
// frames are written); larger ones (a frame over the standard size) and small ones
// (control answers) are freed.
class Block {
public:
    static constexpr std::size_t standard = 256 * 1024;
    static constexpr std::size_t pool_limit = 64;  // 16 MiB of free buffers at most

    static Block* get(std::size_t capacity) {
        auto& free = pool();
        if (capacity <= standard && !free.empty() && capacity > small) {
            Block* b = free.back();
            free.pop_back();
            b->refs_ = 1;
            return b;
        }
        if (capacity > small && capacity < standard) capacity = standard;
        void* memory = ::operator new(sizeof(Block) + capacity);
        return new (memory) Block(capacity);
    }
    // A block holding `bytes`, for an answer the relay makes itself.
    static Block* copy_of(std::string_view bytes) {
        Block* b = get(bytes.size());
        std::memcpy(b->data(), bytes.data(), bytes.size());
        return b;
    }

    char* data() { return reinterpret_cast<char*>(this + 1); }
    std::size_t capacity() const { return capacity_; }
    bool shared() const { return refs_ > 1; }
    void ref() { ++refs_; }
    void unref() {
        if (--refs_ > 0) return;
        auto& free = pool();
        if (capacity_ == standard && free.size() < pool_limit) return free.push_back(this);
        this->~Block();
        ::operator delete(this);
    }

private:
    static constexpr std::size_t small = 4 * 1024;
    explicit Block(std::size_t capacity) : capacity_(capacity) {}
    static std::vector<Block*>& pool() {
        static std::vector<Block*> blocks;
        return blocks;
    }
    std::size_t capacity_;
    std::uint32_t refs_ = 1;
};

// One frame (or several adjacent frames of one block) waiting in a receiver's queue: an
// optional header of the receiver's own, then bytes of `block`, which the entry holds a
// reference to.
struct Entry {
    Entry(Block* b, const char* d, std::size_t n) : block(b), data(d), size(n) {}
    Block* block;
    const char* data;
    std::size_t size;
    std::uint8_t header_begin = 0;
    std::uint8_t header_end = 0;
    char header[max_frame_header] = {};
    std::size_t bytes() const { return size + header_end - header_begin; }
};

// A frame as received, ready to forward.
struct Message {
    Block* block;
    const char* frame;  // the frame as this connection's transport writes it
    std::size_t frame_size;
    std::size_t payload_offset;  // payload = frame + payload_offset
    std::uint8_t kind;
    Transport transport;  // the framing of `frame`
    std::string_view payload() const { return {frame + payload_offset, frame_size - payload_offset}; }
};

enum class Role { none, pub, sub, caller, callee, idle };
enum class Stage { first_byte, rawsocket_opening, http_upgrade, open };

class Relay;

struct Connection {
    int fd;
    std::uint64_t serial;
    Stage stage = Stage::first_byte;
    Transport transport = Transport::rawsocket;
    Serializer serializer = Serializer::msgpack;
    Role role = Role::none;
    // The read buffer: bytes [begin, end) not yet taken; `wanted` bytes from `begin` make
    // the next frame (0: unknown yet).
    Block* in = nullptr;
    std::size_t begin = 0, end = 0, wanted = 0;
    std::string fragments;  // a fragmented WebSocket message being joined (rare)
    std::uint8_t fragments_kind = 0;
    // The send queue: entries [head, size) wait.
    std::vector<Entry> queue;
    std::size_t head = 0;
    std::size_t queued_bytes = 0;
    bool dirty = false;  // something to write at the end of this wakeup
    bool closed = false;
    // Callers whose calls this callee has not answered yet, in order: (fd, serial).
    std::deque<std::pair<int, std::uint64_t>> waiting_callers;
};

class Relay {
public:
    Relay(int listener, std::size_t max_message)
        : listener_(listener),
          max_message_(max_message),
          queue_limit_(std::max<std::size_t>(4 * max_message, 16 * 1024 * 1024)) {}

    int run();

private:
    void accept_all();
    void on_readable(Connection& c);
    void prepare_read(Connection& c);
    void take_frames(Connection& c);
    void on_frame(Connection& c, char* frame, const FrameHead& head);
    void on_message(Connection& c, const Message& m);
    void send(Connection& to, const Message& m);
    // A frame of the relay's own (an answer to a role, a pong).
    void send_copy(Connection& to, std::uint8_t kind, std::string_view payload);
    // Bytes without framing (the answer to an opening handshake).
    void send_raw(Connection& to, std::string_view bytes);
    void enqueue(Connection& to, const Entry& e);
    void flush(Connection& c);
    void close(Connection& c, std::string_view why = {});
    void release_read_buffer(Connection& c);
    Connection* live(int fd, std::uint64_t serial) {
        if (fd < 0 || static_cast<std::size_t>(fd) >= connections_.size()) return nullptr;
        auto* c = connections_[static_cast<std::size_t>(fd)].get();
        return c && c->serial == serial && !c->closed ? c : nullptr;
    }

    int listener_;
    int epoll_ = -1;
    std::size_t max_message_;
    std::size_t queue_limit_;
    std::uint64_t next_serial_ = 1;
    std::vector<std::unique_ptr<Connection>> connections_;  // by descriptor
    std::vector<std::unique_ptr<Connection>> closed_;       // destroyed at the end of the wakeup
    std::vector<Connection*> dirty_;
    std::vector<Connection*> subscribers_;
    std::vector<Connection*> callees_;
    std::size_t next_callee_ = 0;
    std::vector<iovec> iov_;
};

int Relay::run() {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigprocmask(SIG_BLOCK, &stop_signals, nullptr);
    int signals = signalfd(-1, &stop_signals, SFD_NONBLOCK | SFD_CLOEXEC);
    if (epoll_ < 0 || signals < 0) {
        std::cerr << "relay: epoll or signalfd: " << std::strerror(errno) << "\n";
        return 1;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = listener_;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, listener_, &ev);
    ev.data.fd = signals;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, signals, &ev);
    iov_.resize(IOV_MAX);

    constexpr int max_events = 256;
    epoll_event events[max_events];
    for (;;) {
        int n = epoll_wait(epoll_, events, max_events, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            std::cerr << "relay: epoll_wait: " << std::strerror(errno) << "\n";
            return 1;
        }
        for (int i = 0; i < n; ++i) {
            int fd = events[i].data.fd;
            if (fd == listener_) {
                accept_all();
                continue;
            }
            if (fd == signals) return 0;
            auto* c = connections_[static_cast<std::size_t>(fd)].get();
            if (!c || c->closed) continue;
            if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) on_readable(*c);
            if (!c->closed && (events[i].events & EPOLLOUT) && c->head < c->queue.size() && !c->dirty) {
                c->dirty = true;
                dirty_.push_back(c);
            }
        }
        // One gather write per receiver for everything this wakeup queued.
        for (auto* c : dirty_) {
            c->dirty = false;
            if (!c->closed) flush(*c);
        }
        dirty_.clear();
        if (!closed_.empty()) {
            // Taken out of the lists here, not while a fan-out may be walking them.
            std::erase_if(subscribers_, [](const Connection* c) { return c->closed; });
            std::erase_if(callees_, [](const Connection* c) { return c->closed; });
            closed_.clear();
        }
    }
}

void Relay::accept_all() {
    for (;;) {
        int fd = accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                std::cerr << "relay: accept: " << std::strerror(errno) << "\n";
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connections_.size() <= static_cast<std::size_t>(fd)) connections_.resize(static_cast<std::size_t>(fd) + 1);
        auto c = std::make_unique<Connection>();
        c->fd = fd;
        c->serial = next_serial_++;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        ev.data.fd = fd;
        if (epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) < 0) {
            ::close(fd);
            continue;
        }
        connections_[static_cast<std::size_t>(fd)] = std::move(c);
    }
}

// Room to read into: at least the rest of the frame being read (bounded by
// max_message), and a good read besides.
void Relay::prepare_read(Connection& c) {
    constexpr std::size_t min_read = 16 * 1024;
    std::size_t have = c.end - c.begin;
    std::size_t need = std::max(c.wanted > have ? c.wanted - have : 0, min_read);
    if (c.in && c.in->capacity() - c.end >= need) return;
    std::size_t capacity = std::max(have + need, Block::standard);
    if (c.in && !c.in->shared() && c.in->capacity() >= capacity) {
        std::memmove(c.in->data(), c.in->data() + c.begin, have);
    } else {
        // The old buffer stays with the receivers still writing from it; only the part
        // of a frame not yet complete moves.
        Block* fresh = Block::get(capacity);
        if (have) std::memcpy(fresh->data(), c.in->data() + c.begin, have);
        if (c.in) c.in->unref();
        c.in = fresh;
    }
    c.begin = 0;
    c.end = have;
}

void Relay::release_read_buffer(Connection& c) {
    if (c.in && c.begin == c.end) {
        c.in->unref();
        c.in = nullptr;
        c.begin = c.end = 0;
    }
}

void Relay::on_readable(Connection& c) {
    for (;;) {
        prepare_read(c);
        std::size_t room = c.in->capacity() - c.end;
        ssize_t n = ::recv(c.fd, c.in->data() + c.end, room, 0);
        if (n > 0) {
            c.end += static_cast<std::size_t>(n);
            take_frames(c);
            if (c.closed) return;
            // A short read took everything the socket held; more arriving later is a new
            // edge, so the extra read that would return EAGAIN is saved.
            if (static_cast<std::size_t>(n) < room) break;
            continue;
        }
        if (n == 0) return close(c);
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        return close(c, std::strerror(errno));
    }
    // An idle connection holds no read buffer.
    release_read_buffer(c);
}

void Relay::take_frames(Connection& c) {
    for (;;) {
        char* data = c.in->data() + c.begin;
        std::size_t size = c.end - c.begin;
        switch (c.stage) {
            case Stage::first_byte:
                if (size == 0) return;
                // RawSocket opens with 0x7F, which no HTTP request does.
                c.stage = static_cast<unsigned char>(data[0]) == rawsocket::magic ? Stage::rawsocket_opening
                                                                                   : Stage::http_upgrade;
                continue;
            case Stage::rawsocket_opening: {
                if (size < 4) return;
                auto serializer = static_cast<unsigned char>(data[1]) & 0x0F;
                c.serializer = serializer == rawsocket::serializer_id(Serializer::json) ? Serializer::json
                                                                                        : Serializer::msgpack;
                const char reply[4] = {static_cast<char>(rawsocket::magic), static_cast<char>(0xF0 | serializer), 0, 0};
                c.begin += 4;
                c.stage = Stage::open;
                send_raw(c, std::string_view(reply, 4));
                continue;
            }
            case Stage::http_upgrade: {
                constexpr std::size_t max_request = 8 * 1024;
                auto upgrade = answer_upgrade(std::string_view(data, size), max_request);
                if (upgrade.status == Upgrade::Status::need_more) return;
                if (upgrade.status == Upgrade::Status::error) {
                    ::send(c.fd, upgrade.response.data(), upgrade.response.size(), MSG_NOSIGNAL);
                    return close(c, "WebSocket upgrade refused");
                }
                c.transport = Transport::websocket;
                c.serializer = upgrade.serializer;
                c.begin += upgrade.request_size;
                c.stage = Stage::open;
                send_raw(c, upgrade.response);
                continue;
            }
            case Stage::open: {
                auto head = parse_frame_head(c.transport, data, size, c.transport == Transport::websocket, max_message_);
                if (head.status == FrameHead::Status::need_more) {
                    c.wanted = head.total;
                    return;
                }
                if (head.status == FrameHead::Status::error) return close(c, head.error);
                c.wanted = 0;
                c.begin += head.total;
                on_frame(c, data, head);
                if (c.closed) return;
                continue;
            }
        }
    }
}

void Relay::on_frame(Connection& c, char* frame, const FrameHead& head) {
    Message m{c.in, frame, head.total, head.header, head.kind, c.transport};
    if (c.transport == Transport::websocket) {
        std::size_t start = rewrite_client_frame(frame, head);
        m.frame = frame + start;
        m.frame_size = head.total - start;
        m.payload_offset = head.header - start;
        if (head.kind == websocket::close) return close(c);
        if (head.kind == websocket::ping) return send_copy(c, websocket::pong, m.payload());
        if (head.kind == websocket::pong) return;
        if (!head.fin || head.kind == websocket::continuation) {
            // A fragmented message (neither the router nor the load client sends one) is
            // joined, then forwarded as one frame of the relay's own.
            if ((head.kind == websocket::continuation) == (c.fragments_kind == 0))
                return close(c, "WebSocket fragments out of order");
            if (c.fragments_kind == 0) c.fragments_kind = head.kind;
            c.fragments.append(m.payload());
            if (c.fragments.size() > max_message_) return close(c, "fragmented WebSocket message too large");
            if (!head.fin) return;
            char header[max_frame_header];
            auto size = write_frame_header(Transport::websocket, c.fragments_kind, c.fragments.size(), false, header);
            Block* joined = Block::get(size + c.fragments.size());
            std::memcpy(joined->data(), header, size);
            std::memcpy(joined->data() + size, c.fragments.data(), c.fragments.size());
            Message whole{joined, joined->data(), size + c.fragments.size(), size, c.fragments_kind, Transport::websocket};
            c.fragments.clear();
            c.fragments_kind = 0;
            on_message(c, whole);
            return joined->unref();
        }
    } else if (head.kind == static_cast<std::uint8_t>(rawsocket::FrameType::ping)) {
        return send_copy(c, static_cast<std::uint8_t>(rawsocket::FrameType::pong), m.payload());
    } else if (head.kind == static_cast<std::uint8_t>(rawsocket::FrameType::pong)) {
        return;
    }
    on_message(c, m);
}

void Relay::on_message(Connection& c, const Message& m) {
    switch (c.role) {
        case Role::none: {
            static constexpr std::pair<std::string_view, Role> roles[] = {
                {"relay:pub", Role::pub}, {"relay:sub", Role::sub},   {"relay:caller", Role::caller},
                {"relay:callee", Role::callee}, {"relay:idle", Role::idle}};
            for (auto [name, role] : roles)
                if (m.payload() == name) c.role = role;
            if (c.role == Role::none)
                return close(c, "the first message must name a role (relay:pub, relay:sub, ...)");
            if (c.role == Role::sub) subscribers_.push_back(&c);
            if (c.role == Role::callee) callees_.push_back(&c);
            return send_copy(c, m.kind, "relay:joined");
        }
        case Role::pub:
            for (auto* s : subscribers_) send(*s, m);  // a subscriber dropped here stays listed, closed
            return;
        case Role::caller: {
            Connection* callee = nullptr;
            for (std::size_t tries = 0; tries < callees_.size() && !callee; ++tries) {
                auto* next = callees_[next_callee_++ % callees_.size()];
                if (!next->closed) callee = next;
            }
            if (!callee) return;
            callee->waiting_callers.emplace_back(c.fd, c.serial);
            return send(*callee, m);
        }
        case Role::callee: {
            if (c.waiting_callers.empty()) return;
            auto [fd, serial] = c.waiting_callers.front();
            c.waiting_callers.pop_front();
            if (auto* caller = live(fd, serial)) send(*caller, m);
            return;
        }
        case Role::sub:
        case Role::idle: return;
    }
}

void Relay::send(Connection& to, const Message& m) {
    if (to.closed) return;
    if (to.transport == m.transport) return enqueue(to, {m.block, m.frame, m.frame_size});
    // The other transport: the receiver's own header in front of the same payload bytes.
    auto payload = m.payload();
    Entry e{m.block, payload.data(), payload.size()};
    e.header_end = static_cast<std::uint8_t>(
        write_frame_header(to.transport, message_kind(to.transport, to.serializer), payload.size(), false, e.header));
    enqueue(to, e);
}

void Relay::send_copy(Connection& to, std::uint8_t kind, std::string_view payload) {
    char header[max_frame_header];
    std::size_t header_size = write_frame_header(to.transport, kind, payload.size(), false, header);
    Block* b = Block::get(header_size + payload.size());
    std::memcpy(b->data(), header, header_size);
    std::memcpy(b->data() + header_size, payload.data(), payload.size());
    enqueue(to, {b, b->data(), header_size + payload.size()});
    b->unref();
}

void Relay::send_raw(Connection& to, std::string_view bytes) {
    Block* b = Block::get(bytes.size());
    std::memcpy(b->data(), bytes.data(), bytes.size());
    enqueue(to, {b, b->data(), bytes.size()});
    b->unref();
}

void Relay::enqueue(Connection& to, const Entry& e) {
    if (to.queued_bytes + e.bytes() > queue_limit_)
        return close(to, "send queue limit reached; dropping the connection");
    to.queued_bytes += e.bytes();
    bool merged = false;
    if (to.head < to.queue.size()) {
        // The next frame of the same buffer, right after the last one: one range.
        auto& last = to.queue.back();
        if (last.block == e.block && e.header_end == 0 && last.data + last.size == e.data) {
            last.size += e.size;
            merged = true;
        }
    }
    if (!merged) {
        e.block->ref();
        to.queue.push_back(e);
    }
    if (!to.dirty) {
        to.dirty = true;
        dirty_.push_back(&to);
    }
}

void Relay::flush(Connection& c) {
    while (c.head < c.queue.size()) {
        std::size_t count = 0, offered = 0;
        for (std::size_t i = c.head; i < c.queue.size() && count + 2 <= iov_.size(); ++i) {
            auto& e = c.queue[i];
            if (e.header_end > e.header_begin)
                iov_[count++] = {e.header + e.header_begin, static_cast<std::size_t>(e.header_end - e.header_begin)};
            iov_[count++] = {const_cast<char*>(e.data), e.size};
            offered += e.bytes();
        }
        ssize_t n = ::writev(c.fd, iov_.data(), static_cast<int>(count));
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;  // EPOLLOUT brings us back
            return close(c, std::strerror(errno));
        }
        auto written = static_cast<std::size_t>(n);
        c.queued_bytes -= written;
        bool all = written == offered;
        while (written > 0) {
            auto& e = c.queue[c.head];
            std::size_t from_header = std::min<std::size_t>(written, e.header_end - e.header_begin);
            e.header_begin = static_cast<std::uint8_t>(e.header_begin + from_header);
            written -= from_header;
            std::size_t from_data = std::min(written, e.size);
            e.data += from_data;
            e.size -= from_data;
            written -= from_data;
            if (e.size == 0 && e.header_begin == e.header_end) {
                e.block->unref();
                ++c.head;
            }
        }
        if (c.head == c.queue.size()) {
            c.queue.clear();
            c.head = 0;
        }
        // A short write means the socket is full: the rest waits for EPOLLOUT.
        if (!all) return;
    }
}

void Relay::close(Connection& c, std::string_view why) {
    if (c.closed) return;
    if (!why.empty()) std::cerr << "relay: " << why << "; connection closed\n";
    c.closed = true;
    epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    for (std::size_t i = c.head; i < c.queue.size(); ++i) c.queue[i].block->unref();
    c.queue.clear();
    c.head = 0;
    c.queued_bytes = 0;
    if (c.in) c.in->unref();
    c.in = nullptr;
    closed_.push_back(std::move(connections_[static_cast<std::size_t>(c.fd)]));
}

}  // namespace
}  // namespace bench::relay

int main(int argc, char** argv) {
    unsigned short port = 0;
    std::size_t max_message = 16 * 1024 * 1024;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string option = argv[i];
        if (option == "--port") port = static_cast<unsigned short>(std::stoi(argv[i + 1]));
        else if (option == "--max-message-size") max_message = std::stoull(argv[i + 1]);
        else port = 0, i = argc;
    }
    if (port == 0) {
        std::cerr << "usage: bench_relay --port N [--max-message-size BYTES]\n";
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (listener < 0 || bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) < 0 ||
        listen(listener, 4096) < 0) {
        std::cerr << "relay: cannot listen on 127.0.0.1:" << port << ": " << std::strerror(errno) << "\n";
        return 1;
    }
    return bench::relay::Relay(listener, max_message).run();
}
