#pragma once
// The frames waiting to be written to one connection, each with the header of its
// framing (WebSocket or RawSocket), written in batches by one gather write.
// Bounded: a receiver that does not read stalls only itself, and once `limit` bytes
// wait for it the connection is dropped instead of growing the router's memory
// (`send_queue_limit`, config::default_send_queue_limit). The batch being written
// counts until it is released: it holds its frames as long as the socket does not
// take them (a stalled receiver's batch), so the limit bounds all the frame bytes
// the connection keeps (bench/README.md, "round 3").
#include <boost/asio/buffer.hpp>
#include <algorithm>
#include <cstddef>
#include <deque>
#include <utility>
#include <vector>

#include "blindrouter/codec/outbound_message.hpp"

namespace blindrouter::net {

// `Header` has data() and size(): the bytes written before its frame.
template <class Header>
class SendQueue {
public:
    explicit SendQueue(std::size_t limit) : limit_(limit) {}

    // False when the frame would exceed the limit; the frame is not queued then.
    bool push(const Header& header, codec::EncodedFrame frame) {
        if (bytes() + frame.size() > limit_) return false;
        bytes_ += frame.size();
        waiting_.emplace_back(header, std::move(frame));
        return true;
    }
    bool empty() const { return waiting_.empty(); }
    // Bytes of the frames waiting and of the batch being written.
    std::size_t bytes() const { return bytes_ + batch_bytes_; }

    // Moves up to `most` frames into the batch being written and returns its
    // buffers (header, the frame's pieces, header, ...), valid until release_batch().
    const std::vector<boost::asio::const_buffer>& take_batch(std::size_t most) {
        release_batch();
        while (!waiting_.empty() && batch_.size() < most) {
            bytes_ -= waiting_.front().second.size();
            batch_bytes_ += waiting_.front().second.size();
            batch_.push_back(std::move(waiting_.front()));
            waiting_.pop_front();
        }
        for (const auto& [header, frame] : batch_) {
            buffers_.emplace_back(header.data(), header.size());
            for (auto piece : frame.pieces())
                if (!piece.empty()) buffers_.emplace_back(piece.data(), piece.size());
        }
        return buffers_;
    }
    void release_batch() {
        batch_.clear();
        buffers_.clear();
        batch_bytes_ = 0;
    }
    // The frames waiting; the batch stays until its write completes (its buffers are
    // in the write).
    void clear() {
        waiting_.clear();
        bytes_ = 0;
    }

private:
    std::size_t limit_;
    std::size_t bytes_ = 0;  // waiting
    std::size_t batch_bytes_ = 0;
    std::deque<std::pair<Header, codec::EncodedFrame>> waiting_;
    std::vector<std::pair<Header, codec::EncodedFrame>> batch_;
    std::vector<boost::asio::const_buffer> buffers_;
};

}  // namespace blindrouter::net
