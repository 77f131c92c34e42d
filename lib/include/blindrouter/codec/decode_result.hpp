#pragma once
#include <optional>
#include <string>
#include <utility>

#include "blindrouter/wamp/message.hpp"

namespace blindrouter::codec {

// A decoder's answer at the wire boundary: a message, or the reason it is a
// protocol violation (sent in ABORT details and logged; never contains payload bytes).
class DecodeResult {
public:
    static DecodeResult ok(wamp::Message m) { return DecodeResult(std::move(m), {}); }
    static DecodeResult fail(std::string reason) { return DecodeResult(std::nullopt, std::move(reason)); }

    explicit operator bool() const { return message_.has_value(); }
    wamp::Message& message() { return *message_; }
    const std::string& error() const { return error_; }

private:
    DecodeResult(std::optional<wamp::Message> m, std::string e) : message_(std::move(m)), error_(std::move(e)) {}
    std::optional<wamp::Message> message_;
    std::string error_;
};

}  // namespace blindrouter::codec
