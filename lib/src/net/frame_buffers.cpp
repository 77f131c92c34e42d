#include "frame_buffers.hpp"

#include <vector>

namespace blindrouter::net {
namespace {

// Trivially destructible, so readable while the thread's other objects are
// destroyed: a frame dropped after the pool is gone is freed, not pooled.
enum class PoolState : unsigned char { not_yet, alive, gone };
thread_local PoolState pool_state = PoolState::not_yet;

struct Pool {
    Pool() { pool_state = PoolState::alive; }
    ~Pool() { pool_state = PoolState::gone; }
    std::vector<std::unique_ptr<std::string>> free;
    std::size_t bytes = 0;  // the capacity of the buffers in `free`
};

Pool& pool() {
    thread_local Pool instance;
    return instance;
}

void recycle(std::string* buffer) {
    std::unique_ptr<std::string> owned(buffer);
    if (buffer->capacity() > frame_pool_max_capacity || pool_state == PoolState::gone) return;
    // A thread that drops a frame another thread received starts its own pool.
    auto& kept = pool();
    if (kept.free.size() < frame_pool_buffers && kept.bytes + buffer->capacity() <= frame_pool_bytes) {
        kept.bytes += buffer->capacity();
        kept.free.push_back(std::move(owned));
    }
}

}  // namespace

std::shared_ptr<std::string> pooled_frame_buffer() {
    auto& kept = pool();
    std::unique_ptr<std::string> buffer;
    if (!kept.free.empty()) {
        buffer = std::move(kept.free.back());
        kept.free.pop_back();
        kept.bytes -= buffer->capacity();
        buffer->clear();
    } else {
        buffer = std::make_unique<std::string>();
    }
    return std::shared_ptr<std::string>(buffer.release(), recycle);
}

std::shared_ptr<std::string> pooled_frame(const char* data, std::size_t size) {
    auto buffer = pooled_frame_buffer();
    buffer->assign(data, size);
    return buffer;
}

std::size_t pooled_frame_buffers() { return pool().free.size(); }
std::size_t pooled_frame_bytes() { return pool().bytes; }

}  // namespace blindrouter::net
