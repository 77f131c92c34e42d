#include "blindrouter/core/reply.hpp"

#include "blindrouter/wamp/messages.hpp"

namespace blindrouter::core::reply {
using wamp::MessageType;
using wamp::Value;

namespace {
wamp::Dict revocation_details(std::string_view revoked, std::uint64_t id, const std::optional<std::string>& reason) {
    wamp::Dict details{{std::string(revoked), Value{id}}};
    if (reason) details.emplace_back("reason", Value{*reason});
    return details;
}
}  // namespace

codec::SharedOutbound error(MessageType request_type, RequestId request, std::string_view error_uri,
                            std::optional<std::string_view> message) {
    auto m = wamp::Error::build(request_type, request, {}, std::string(error_uri)).take();
    if (message) m.router_arguments = wamp::List{Value{std::string(*message)}};
    return codec::make_outbound(std::move(m));
}

codec::SharedOutbound error(MessageType request_type, RequestId request, const hooks::Verdict& verdict) {
    auto m = wamp::Error::build(request_type, request, {}, verdict.uri).take();
    m.router_arguments = wamp::List{Value{verdict.message}};
    if (!verdict.kwargs.empty()) m.router_arguments_kw = verdict.kwargs;
    return codec::make_outbound(std::move(m));
}

codec::SharedOutbound published(RequestId request, PublicationId publication) {
    return codec::make_outbound(wamp::Published::make(request, publication));
}
codec::SharedOutbound subscribed(RequestId request, SubscriptionId subscription) {
    return codec::make_outbound(wamp::Subscribed::make(request, subscription));
}
codec::SharedOutbound unsubscribed(RequestId request) {
    return codec::make_outbound(wamp::Unsubscribed::make(request));
}
codec::SharedOutbound registered(RequestId request, RegistrationId registration) {
    return codec::make_outbound(wamp::Registered::make(request, registration));
}
codec::SharedOutbound unregistered(RequestId request) {
    return codec::make_outbound(wamp::Unregistered::make(request));
}
codec::SharedOutbound subscription_revoked(SubscriptionId subscription, const std::optional<std::string>& reason) {
    return codec::make_outbound(wamp::Unsubscribed::make(0, revocation_details("subscription", subscription, reason)));
}
codec::SharedOutbound registration_revoked(RegistrationId registration, const std::optional<std::string>& reason) {
    return codec::make_outbound(wamp::Unregistered::make(0, revocation_details("registration", registration, reason)));
}

codec::SharedOutbound abort(std::string_view reason, std::string_view message) {
    return codec::make_outbound(
        wamp::Abort::make(wamp::Dict{{"message", Value{std::string(message)}}}, std::string(reason)));
}

codec::SharedOutbound goodbye(std::string_view reason, std::optional<std::string_view> message) {
    wamp::Dict details;
    if (message) details.emplace_back("message", Value{std::string(*message)});
    return codec::make_outbound(wamp::Goodbye::make(std::move(details), std::string(reason)));
}

}  // namespace blindrouter::core::reply
