#include "blindrouter/cluster/sync.hpp"

#include "blindrouter/cluster/envelope.hpp"

namespace blindrouter::cluster {
// A body is words separated by single spaces (split keeps empty words, which make it malformed).

std::string encode_sync_request(const SyncRequest& request) {
    if (request.kind == SyncRequest::Kind::interest) return "i " + std::to_string(request.barrier);
    return "d " + std::to_string(request.barrier) + " " + std::to_string(request.revision);
}

std::optional<SyncRequest> parse_sync_request(std::string_view body) {
    auto parts = split(body, ' ');
    SyncRequest request;
    if (parts.size() == 2 && parts[0] == "i") request.kind = SyncRequest::Kind::interest;
    else if (parts.size() == 3 && parts[0] == "d") request.kind = SyncRequest::Kind::directory;
    else return std::nullopt;
    auto barrier = parse_decimal(parts[1]);
    if (!barrier) return std::nullopt;
    request.barrier = *barrier;
    if (request.kind == SyncRequest::Kind::directory) {
        auto revision = parse_decimal(parts[2]);
        if (!revision) return std::nullopt;
        request.revision = *revision;
    }
    return request;
}

std::string encode_sync_answer(std::uint64_t barrier, std::uint64_t node) {
    return std::to_string(barrier) + " " + node_id_text(node);
}

std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_sync_answer(std::string_view body) {
    auto parts = split(body, ' ');
    if (parts.size() != 2) return std::nullopt;
    auto barrier = parse_decimal(parts[0]);
    auto node = parse_node_id(parts[1]);
    if (!barrier || !node) return std::nullopt;
    return std::pair{*barrier, *node};
}

std::optional<SyncAnswer> RevisionWaiters::ask(std::uint64_t revision, SyncAnswer answer, bool& refused) {
    refused = false;
    if (revision <= seen_) return answer;
    if (waiting_.size() >= max_waiting_) {
        refused = true;
        return std::nullopt;
    }
    waiting_.emplace(revision, std::move(answer));
    return std::nullopt;
}

std::vector<SyncAnswer> RevisionWaiters::reached(std::uint64_t revision) {
    std::vector<SyncAnswer> answers;
    if (revision <= seen_) return answers;
    seen_ = revision;
    auto end = waiting_.upper_bound(revision);
    for (auto it = waiting_.begin(); it != end; ++it) answers.push_back(std::move(it->second));
    waiting_.erase(waiting_.begin(), end);
    return answers;
}

}  // namespace blindrouter::cluster
