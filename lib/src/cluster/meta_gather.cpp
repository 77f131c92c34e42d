#include "blindrouter/cluster/meta_gather.hpp"

#include <algorithm>
#include <type_traits>

#include "blindrouter/codec/decode_result.hpp"
#include "blindrouter/codec/element_value.hpp"
#include "blindrouter/codec/outbound_message.hpp"
#include "blindrouter/wamp/messages.hpp"

namespace blindrouter::cluster {
namespace {

// Questions and answers cross in MsgPack: it carries every Value the meta API
// returns (JSON would turn byte strings into text).
constexpr auto meta_serializer = wamp::Serializer::msgpack;

std::string encoded(wamp::Message message) {
    codec::OutboundMessage outbound(std::move(message));
    const auto& frame = outbound.encoded(meta_serializer);
    return frame ? frame.bytes() : std::string();
}

std::optional<wamp::Message> decoded(const std::string& frame) {
    auto result = codec::decode(meta_serializer, std::make_shared<const std::string>(frame));
    if (!result) return std::nullopt;
    return result.message();
}

// The arguments of a message the router wrote; nullopt when they are not a list and a dict.
std::optional<core::CallArguments> arguments_of(const wamp::Message& message) {
    core::CallArguments arguments;
    auto read = [](const std::optional<wamp::EncodedElement>& element, auto& into) {
        if (!element) return true;
        auto value = codec::decode_element(*element);
        if (!value) return false;
        using Wanted = std::decay_t<decltype(into)>;
        auto* wanted = std::get_if<Wanted>(&value.value().data);
        if (!wanted) return false;
        into = std::move(*wanted);
        return true;
    };
    if (!read(message.arguments, arguments.args) || !read(message.arguments_kw, arguments.kwargs)) return std::nullopt;
    return arguments;
}

const std::string* string_in(const wamp::Dict& dict, std::string_view key) {
    const auto* value = wamp::find(dict, key);
    return value ? value->as_string() : nullptr;
}

}  // namespace

std::optional<std::uint64_t> MetaGathers::start(std::vector<std::uint64_t> nodes, Done done) {
    if (nodes.empty()) {
        done(core::MetaAnswers{});
        return 0;
    }
    if (pending_.size() >= max_pending_) return std::nullopt;
    auto id = ++last_id_;
    auto& gather = pending_[id];
    gather.awaited = std::move(nodes);
    gather.done = std::move(done);
    gather.deadline = timers_.schedule(bound_, [this, id] {
        if (auto it = pending_.find(id); it != pending_.end()) finish(it);
    });
    return id;
}

void MetaGathers::answer(std::uint64_t gather, std::uint64_t node, core::CallOutcome outcome) {
    auto it = pending_.find(gather);
    if (it == pending_.end()) return;
    auto& awaited = it->second.awaited;
    auto at = std::find(awaited.begin(), awaited.end(), node);
    if (at == awaited.end()) return;
    awaited.erase(at);
    it->second.answers.answers.push_back(std::move(outcome));
    if (awaited.empty()) finish(it);
}

void MetaGathers::node_dead(std::uint64_t node) {
    std::vector<std::uint64_t> complete;
    for (auto& [id, gather] : pending_) {
        auto& awaited = gather.awaited;
        awaited.erase(std::remove(awaited.begin(), awaited.end(), node), awaited.end());
        if (awaited.empty()) complete.push_back(id);
    }
    // Collected first: a `done` may start another gather.
    for (auto id : complete)
        if (auto it = pending_.find(id); it != pending_.end()) finish(it);
}

void MetaGathers::finish(Pending::iterator it) {
    auto answers = std::move(it->second.answers);
    answers.missing = it->second.awaited.size();
    auto done = std::move(it->second.done);
    pending_.erase(it);
    done(std::move(answers));
}

std::string encode_meta_question(std::uint64_t gather, const std::string& procedure,
                                 const core::CallArguments& arguments, const core::InvocationDetails& details) {
    wamp::Dict options;
    if (details.caller) options.emplace_back("caller", wamp::Value{*details.caller});
    if (details.caller_authid) options.emplace_back("caller_authid", wamp::Value{*details.caller_authid});
    if (details.caller_authrole) options.emplace_back("caller_authrole", wamp::Value{*details.caller_authrole});
    return encoded(
        wamp::Call::build(gather, std::move(options), procedure).router_arguments(arguments.args, arguments.kwargs).take());
}

std::optional<MetaQuestion> decode_meta_question(const std::string& frame) {
    auto message = decoded(frame);
    if (!message || message->type != wamp::MessageType::call) return std::nullopt;
    auto arguments = arguments_of(*message);
    if (!arguments) return std::nullopt;
    wamp::Call call(*message);
    MetaQuestion question;
    question.gather = call.request();
    question.procedure = call.procedure();
    question.arguments = std::move(*arguments);
    question.details.procedure = call.procedure();
    if (const auto* caller = wamp::find(call.options(), "caller")) question.details.caller = caller->as_unsigned();
    if (const auto* authid = string_in(call.options(), "caller_authid")) question.details.caller_authid = *authid;
    if (const auto* authrole = string_in(call.options(), "caller_authrole")) question.details.caller_authrole = *authrole;
    return question;
}

std::string encode_meta_answer(std::uint64_t gather, const core::CallOutcome& outcome) {
    if (!outcome.ok()) {
        const auto& error = outcome.error();
        return encoded(wamp::Error::build(wamp::MessageType::call, gather, {}, error.uri)
                           .router_arguments(error.args, error.kwargs)
                           .take());
    }
    const auto& result = outcome.result();
    return encoded(wamp::Yield::build(gather, {}).router_arguments(result.args, result.kwargs).take());
}

std::optional<std::pair<std::uint64_t, core::CallOutcome>> decode_meta_answer(const std::string& frame) {
    auto message = decoded(frame);
    if (!message) return std::nullopt;
    auto arguments = arguments_of(*message);
    if (!arguments) return std::nullopt;
    if (message->type == wamp::MessageType::yield)
        return std::pair{wamp::Yield(*message).request(), core::CallOutcome(std::move(*arguments))};
    if (message->type != wamp::MessageType::error) return std::nullopt;
    wamp::Error error(*message);
    return std::pair{error.request(),
                     core::CallOutcome(core::CallError{error.error(), std::move(arguments->args),
                                                       std::move(arguments->kwargs)})};
}

}  // namespace blindrouter::cluster
