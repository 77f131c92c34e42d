#include "blindrouter/cluster/retained_mirror.hpp"

#include "blindrouter/cluster/subject.hpp"

#include <algorithm>

namespace blindrouter::cluster {

void RetainedMirror::apply(std::string key, std::string value, std::uint64_t revision, bool deleted) {
    {
        std::lock_guard lock(mutex_);
        auto& keys = entries_.get<by_key>();
        auto found = keys.find(key);
        if (found == keys.end()) {
            if (!deleted) entries_.insert(Kept{std::move(key), std::move(value), revision});
        } else if (deleted) {
            keys.erase(found);
        } else {
            keys.modify(found, [&](Kept& kept) {
                kept.value = std::move(value);
                kept.revision = revision;
            });
        }
        applied_ = std::max(applied_, revision);
    }
    changed_.notify_all();
}

void RetainedMirror::caught_up(std::uint64_t last) {
    {
        std::lock_guard lock(mutex_);
        applied_ = std::max(applied_, last);
    }
    changed_.notify_all();
}

bool RetainedMirror::wait_for(std::uint64_t last, std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    return changed_.wait_until(lock, deadline, [&] { return applied_ >= last; });
}

void RetainedMirror::drop_below(std::uint64_t first) {
    std::lock_guard lock(mutex_);
    auto& revisions = entries_.get<by_revision>();
    revisions.erase(revisions.begin(), revisions.lower_bound(first));
}

std::vector<RetainedMirror::Entry> RetainedMirror::matching(std::string_view filter, std::size_t limit,
                                                            bool& more) const {
    std::vector<Entry> found;
    more = false;
    // Every matching key starts with the filter's literal tokens: only that range of
    // the ordered keys is looked at.
    auto wild = filter.find_first_of("*>");
    auto head = filter.substr(0, wild == std::string_view::npos ? filter.size() : wild);
    std::lock_guard lock(mutex_);
    const auto& keys = entries_.get<by_key>();
    for (auto it = keys.lower_bound(head); it != keys.end() && it->key.starts_with(head); ++it) {
        if (!subject_matches(filter, it->key)) continue;
        if (found.size() == limit) {
            more = true;
            break;
        }
        found.push_back({it->key, it->value});
    }
    return found;
}

std::size_t RetainedMirror::size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
}

std::uint64_t RetainedMirror::applied() const {
    std::lock_guard lock(mutex_);
    return applied_;
}

}  // namespace blindrouter::cluster
