#include "blindrouter/core/reply.hpp"

namespace blindrouter::core::reply {
using wamp::Message;
using wamp::MessageType;
using wamp::Value;

codec::SharedOutbound error(MessageType request_type, RequestId request, std::string_view error_uri,
                            std::optional<std::string_view> message) {
    Message m;
    m.type = MessageType::error;
    m.fields = {Value{static_cast<std::uint64_t>(request_type)}, Value{request}, Value{wamp::Dict{}},
                Value{std::string(error_uri)}};
    if (message) m.router_arguments = wamp::List{Value{std::string(*message)}};
    return codec::make_outbound(std::move(m));
}

codec::SharedOutbound ack(MessageType type, RequestId request, std::uint64_t id) {
    Message m;
    m.type = type;
    m.fields = {Value{request}, Value{id}};
    return codec::make_outbound(std::move(m));
}

codec::SharedOutbound ack(MessageType type, RequestId request) {
    Message m;
    m.type = type;
    m.fields = {Value{request}};
    return codec::make_outbound(std::move(m));
}

codec::SharedOutbound abort(std::string_view reason, std::string_view message) {
    Message m;
    m.type = MessageType::abort;
    m.fields = {Value{wamp::Dict{{"message", Value{std::string(message)}}}}, Value{std::string(reason)}};
    return codec::make_outbound(std::move(m));
}

codec::SharedOutbound goodbye(std::string_view reason, std::optional<std::string_view> message) {
    Message m;
    m.type = MessageType::goodbye;
    wamp::Dict details;
    if (message) details.emplace_back("message", Value{std::string(*message)});
    m.fields = {Value{std::move(details)}, Value{std::string(reason)}};
    return codec::make_outbound(std::move(m));
}

}  // namespace blindrouter::core::reply
