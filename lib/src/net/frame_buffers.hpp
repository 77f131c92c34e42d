#pragma once
// A received frame's own buffer, taken from a pool of buffers of frames already
// handled on this thread. A 1 KiB message's buffer is above glibc's per-thread
// cache (1,032 bytes): each was a trip through _int_malloc, which consolidates the
// fast bins, and _int_free (bench/README.md, "round 3"). Frames keep the type the
// codec and the session see (a shared string), so nothing above net/ changes.
#include <cstddef>
#include <memory>
#include <string>

namespace blindrouter::net {

// Buffers kept per thread, their capacity in all and the largest capacity kept: at
// most 4 MiB per thread held for reuse, nothing while no frame was received. A read
// can hand over hundreds of small frames at once (a publisher's burst): with 64
// buffers, most of a burst's frames missed the pool on the way in and were freed on
// the way out (bench/README.md, "Issue 16: round 5").
inline constexpr std::size_t frame_pool_buffers = 1024;
inline constexpr std::size_t frame_pool_bytes = 4 * 1024 * 1024;
inline constexpr std::size_t frame_pool_max_capacity = 64 * 1024;

// `size` bytes from `data` in a buffer from the pool (or a new one); the buffer
// returns to the pool of the thread that drops the last reference to it.
std::shared_ptr<std::string> pooled_frame(const char* data, std::size_t size);
// An empty buffer from the pool (or a new one), for a frame put together piece by
// piece (a WebSocket message); it returns to the pool as pooled_frame's does.
std::shared_ptr<std::string> pooled_frame_buffer();

// Buffers waiting in this thread's pool, and their capacity in all (tests).
std::size_t pooled_frame_buffers();
std::size_t pooled_frame_bytes();

}  // namespace blindrouter::net
