#pragma once
#include <cstdint>
#include <random>

namespace blindrouter::core {

using SessionId = std::uint64_t;
using RequestId = std::uint64_t;
using SubscriptionId = std::uint64_t;
using PublicationId = std::uint64_t;
using RegistrationId = std::uint64_t;

// Global-scope ids (WAMP spec "IDs"): drawn at random from [1, 2^53] so that a
// client cannot guess another session's subscription or publication ids.
class IdGenerator {
public:
    IdGenerator() : engine_(std::random_device{}()) {}
    explicit IdGenerator(std::uint64_t seed) : engine_(seed) {}
    std::uint64_t next() { return distribution_(engine_); }

private:
    std::mt19937_64 engine_;
    std::uniform_int_distribution<std::uint64_t> distribution_{1, 9007199254740992ULL};
};

}  // namespace blindrouter::core
