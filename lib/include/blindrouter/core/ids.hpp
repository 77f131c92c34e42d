#pragma once
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace blindrouter::core {

using SessionId = std::uint64_t;
using RequestId = std::uint64_t;
using SubscriptionId = std::uint64_t;
using PublicationId = std::uint64_t;
using RegistrationId = std::uint64_t;

// Global-scope ids (WAMP spec "IDs"): drawn at random from [1, 2^53] so that a
// client cannot guess another session's subscription or publication ids. Random
// ids can repeat: whoever keeps ids in a table draws again on a collision.
class IdGenerator {
public:
    IdGenerator() : engine_(std::random_device{}()) {}
    explicit IdGenerator(std::uint64_t seed) : engine_(seed) {}
    // Tests: the given ids in turn, over and over (to force collisions).
    explicit IdGenerator(std::vector<std::uint64_t> script) : script_(std::move(script)) {}

    std::uint64_t next() {
        if (!script_.empty()) return script_[position_++ % script_.size()];
        return distribution_(engine_);
    }
    // The next id not in `taken` (anything with count()).
    template <class Table>
    std::uint64_t next_free(const Table& taken) {
        std::uint64_t id;
        do id = next();
        while (taken.count(id) != 0);
        return id;
    }

private:
    std::mt19937_64 engine_;
    std::uniform_int_distribution<std::uint64_t> distribution_{1, 9007199254740992ULL};
    std::vector<std::uint64_t> script_;
    std::size_t position_ = 0;
};

}  // namespace blindrouter::core
