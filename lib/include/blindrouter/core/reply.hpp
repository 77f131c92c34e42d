#pragma once
// Builders for the router's own messages (ERROR, SUBSCRIBED, ABORT, ...).
#include <optional>
#include <string_view>

#include "blindrouter/codec/outbound_message.hpp"
#include "blindrouter/core/ids.hpp"
#include "blindrouter/wamp/message.hpp"

namespace blindrouter::core::reply {

// [ERROR, request type, request id, {}, error uri, [message]]: like Crossbar, the
// human-readable explanation is the error's first argument.
codec::SharedOutbound error(wamp::MessageType request_type, RequestId request, std::string_view error_uri,
                            std::optional<std::string_view> message = std::nullopt);
// [TYPE, request id, id] (SUBSCRIBED, PUBLISHED, REGISTERED).
codec::SharedOutbound ack(wamp::MessageType type, RequestId request, std::uint64_t id);
// [TYPE, request id] (UNSUBSCRIBED, UNREGISTERED).
codec::SharedOutbound ack(wamp::MessageType type, RequestId request);
codec::SharedOutbound abort(std::string_view reason, std::string_view message);
codec::SharedOutbound goodbye(std::string_view reason, std::optional<std::string_view> message = std::nullopt);

}  // namespace blindrouter::core::reply
