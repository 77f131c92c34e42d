#pragma once
// The frames waiting to be written to one connection, each with the header of its
// framing (WebSocket or RawSocket), written in batches by one gather write.
// Bounded: a receiver that does not read stalls only itself, and once `limit` bytes
// are held for it the connection is dropped instead of growing the router's memory
// (`send_queue_limit`, config::default_send_queue_limit). Each frame is charged what
// holding it keeps allocated, not only the bytes it writes (entry_bytes): its entry,
// its written bytes' buffer and the received frame it splices its payload from
// (bench/README.md, "round 5"). The batch being written is charged the same way until
// it is released: it holds its frames as long as the socket does not take them (a
// stalled receiver's batch), so the limit bounds all a connection's frames keep.
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
    struct Entry {
        Header header;
        codec::EncodedFrame frame;
        std::size_t charge;  // entry_bytes(frame), kept so that release matches push exactly
    };

public:
    explicit SendQueue(std::size_t limit) : limit_(limit) {}

    // A frame's charge against the limit: its frame's kept_bytes() and the entry that
    // holds it (the header and the frame's two shared owners), a slot of the deque or
    // of the batch's vector. Every buffer is charged in full even when other receivers'
    // queues share it (an EVENT's written bytes per serializer, the received PUBLISH
    // for all subscribers): the limit bounds what one connection can keep alive should
    // it alone stop reading, and a shared buffer stays alive as long as its slowest
    // holder, so charging less than all of it to each would let a stalled receiver
    // keep more than its limit once the others have let go.
    static std::size_t entry_bytes(const codec::EncodedFrame& frame) { return sizeof(Entry) + frame.kept_bytes(); }

    // False when the frame would exceed the limit; the frame is not queued then. An
    // empty queue takes any frame whose written bytes fit: the limit is at least
    // max_message_size (config), and what a message of that size keeps besides its
    // bytes (its received buffer's spare room, the blocks) must not make it
    // undeliverable.
    bool push(const Header& header, codec::EncodedFrame frame) {
        auto charge = entry_bytes(frame);
        if (bytes() + charge > limit_ && (bytes() != 0 || frame.size() > limit_)) return false;
        bytes_ += charge;
        waiting_.push_back(Entry{header, std::move(frame), charge});
        return true;
    }
    bool empty() const { return waiting_.empty(); }
    // The charge of the frames waiting and of the batch being written.
    std::size_t bytes() const { return bytes_ + batch_bytes_; }

    // Moves up to `most` frames into the batch being written and returns its
    // buffers (header, the frame's pieces, header, ...), valid until release_batch().
    const std::vector<boost::asio::const_buffer>& take_batch(std::size_t most) {
        release_batch();
        while (!waiting_.empty() && batch_.size() < most) {
            bytes_ -= waiting_.front().charge;
            batch_bytes_ += waiting_.front().charge;
            batch_.push_back(std::move(waiting_.front()));
            waiting_.pop_front();
        }
        for (const auto& entry : batch_) {
            buffers_.emplace_back(entry.header.data(), entry.header.size());
            for (auto piece : entry.frame.pieces())
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
    std::deque<Entry> waiting_;
    std::vector<Entry> batch_;
    std::vector<boost::asio::const_buffer> buffers_;
};

}  // namespace blindrouter::net
