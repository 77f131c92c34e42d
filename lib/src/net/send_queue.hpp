#pragma once
// The frames waiting to be written to one connection. Bounded: a receiver that
// does not read stalls only itself, and once `limit` bytes wait for it the
// connection is dropped instead of growing the router's memory.
#include <algorithm>
#include <cstddef>
#include <deque>
#include <vector>

#include "blindrouter/codec/outbound_message.hpp"

namespace blindrouter::net {

class SendQueue {
public:
    static std::size_t limit_for(std::size_t max_message_size) {
        return std::max<std::size_t>(4 * max_message_size, 16 * 1024 * 1024);
    }
    explicit SendQueue(std::size_t limit) : limit_(limit) {}

    // False when the frame would exceed the limit; the frame is not queued then.
    bool push(codec::EncodedFrame frame) {
        if (bytes_ + frame->size() > limit_) return false;
        bytes_ += frame->size();
        frames_.push_back(std::move(frame));
        return true;
    }
    bool empty() const { return frames_.empty(); }
    std::size_t bytes() const { return bytes_; }

    // Moves up to `most` frames out, for one gather write.
    std::vector<codec::EncodedFrame> take(std::size_t most) {
        std::vector<codec::EncodedFrame> batch;
        while (!frames_.empty() && batch.size() < most) {
            bytes_ -= frames_.front()->size();
            batch.push_back(std::move(frames_.front()));
            frames_.pop_front();
        }
        return batch;
    }
    void clear() {
        frames_.clear();
        bytes_ = 0;
    }

private:
    std::size_t limit_;
    std::size_t bytes_ = 0;
    std::deque<codec::EncodedFrame> frames_;
};

}  // namespace blindrouter::net
