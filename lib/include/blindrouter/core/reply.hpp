#pragma once
// Builders for the router's own messages (ERROR, SUBSCRIBED, ABORT, ...).
#include <optional>
#include <string>
#include <string_view>

#include "blindrouter/codec/outbound_message.hpp"
#include "blindrouter/core/ids.hpp"
#include "blindrouter/hooks/message_hook.hpp"
#include "blindrouter/wamp/message.hpp"

namespace blindrouter::core::reply {

// [ERROR, request type, request id, {}, error uri, [message]]: like Crossbar, the
// human-readable explanation is the error's first argument.
codec::SharedOutbound error(wamp::MessageType request_type, RequestId request, std::string_view error_uri,
                            std::optional<std::string_view> message = std::nullopt);
// The same for a refusal, with its kwargs.
codec::SharedOutbound error(wamp::MessageType request_type, RequestId request, const hooks::Verdict& verdict);
codec::SharedOutbound published(RequestId request, PublicationId publication);
codec::SharedOutbound subscribed(RequestId request, SubscriptionId subscription);
codec::SharedOutbound unsubscribed(RequestId request);
codec::SharedOutbound registered(RequestId request, RegistrationId registration);
codec::SharedOutbound unregistered(RequestId request);
// Subscription and registration revocation (WAMP spec, advanced profile; Crossbar's
// removeSubscriber, removeCallee): the UNSUBSCRIBED / UNREGISTERED no request asked
// for (request 0), with details {subscription | registration, reason}.
codec::SharedOutbound subscription_revoked(SubscriptionId subscription, const std::optional<std::string>& reason);
codec::SharedOutbound registration_revoked(RegistrationId registration, const std::optional<std::string>& reason);
codec::SharedOutbound abort(std::string_view reason, std::string_view message);
codec::SharedOutbound goodbye(std::string_view reason, std::optional<std::string_view> message = std::nullopt);

}  // namespace blindrouter::core::reply
