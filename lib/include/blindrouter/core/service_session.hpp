#pragma once
// The router talking WAMP to itself (STYLE.md; Crossbar's realm service session):
// one session, joined to a realm under an authid and authrole the router gives it,
// that calls procedures of components (dynamic authenticators and authorizers) and
// registers the router's own procedures (the meta API). It goes through the same
// Session and realm as a network client, so URI checks, authorization, hooks and
// the dealer apply to it unchanged; only its transport is in-process: messages
// reach it as the router built them, not encoded, and it reads their routing
// fields through the typed views.
//
// Everything runs on the router's thread and synchronously: a callback or handler
// may run before the call that caused it returns.
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>

#include "blindrouter/codec/element_value.hpp"
#include "blindrouter/core/ids.hpp"
#include "blindrouter/core/session.hpp"
#include "blindrouter/wamp/log_text.hpp"
#include "blindrouter/wamp/message.hpp"

namespace blindrouter::core {

class Realm;
class Router;

// Arguments as the service session reads and writes them.
struct CallArguments {
    wamp::List args;
    wamp::Dict kwargs;
};

struct CallError {
    std::string uri;
    wamp::List args;
    wamp::Dict kwargs;
    // Like Crossbar's errors: the explanation is the first argument.
    static CallError with_message(std::string_view uri, std::string message);
};

// A call's outcome: the result, or the error it ended with.
class CallOutcome {
public:
    CallOutcome(CallArguments result) : outcome_(std::move(result)) {}
    CallOutcome(CallError error) : outcome_(std::move(error)) {}
    bool ok() const { return std::holds_alternative<CallArguments>(outcome_); }
    const CallArguments& result() const { return std::get<CallArguments>(outcome_); }
    const CallError& error() const { return std::get<CallError>(outcome_); }

private:
    std::variant<CallArguments, CallError> outcome_;
};

// What a procedure of the service session learns of its invocation. The caller is
// known when the dealer disclosed it, which it always does for wamp.* procedures.
struct InvocationDetails {
    std::string procedure;  // the URI called (for a pattern registration, the concrete one)
    std::optional<SessionId> caller;
    std::optional<std::string> caller_authid;
    std::optional<std::string> caller_authrole;
};

class ServiceSession {
public:
    struct Limits {
        // Calls waiting for their outcome; one more is refused with
        // wamp.error.limit_reached and not sent. A callee that never answers holds its
        // slot until it leaves (the dealer then ends the call with wamp.error.canceled)
        // or until the caller abandons the call.
        std::size_t max_pending_calls = 1024;
        // Arguments of a result, an error or an invocation: beyond these they are not
        // read, and the call ends with wamp.error.invalid_argument.
        codec::ElementLimits arguments{};
    };
    using CallDone = std::function<void(CallOutcome)>;
    using Handler = std::function<CallOutcome(const CallArguments&, const InvocationDetails&)>;
    // How a procedure that answers later gives its outcome: at most once, from the
    // router thread; nothing when the session has gone meanwhile.
    using Answer = std::function<void(CallOutcome)>;
    using AsyncHandler = std::function<void(const CallArguments&, const InvocationDetails&, Answer)>;

    // Joins `realm` at once. The router keeps its service sessions (Router::service_session).
    ServiceSession(Router& router, Realm& realm, SessionId id, std::string authid, std::string authrole,
                   Limits limits);
    ServiceSession(Router& router, Realm& realm, SessionId id, std::string authid, std::string authrole)
        : ServiceSession(router, realm, id, std::move(authid), std::move(authrole), Limits{}) {}
    ~ServiceSession();
    ServiceSession(const ServiceSession&) = delete;
    ServiceSession& operator=(const ServiceSession&) = delete;

    // CALL `procedure`; `done` gets the outcome exactly once, unless the call is
    // abandoned. Returns the call's request id, 0 when it was refused unsent (limit
    // reached, session closed: `done` has run then).
    RequestId call(std::string procedure, wamp::List args, wamp::Dict kwargs, CallDone done);
    // Forgets a pending call: its outcome, when it comes, is dropped (an authentication
    // that timed out, for instance).
    void abandon(RequestId call);
    // REGISTER `uri`; each INVOCATION runs `handler` and is answered with YIELD or
    // ERROR. A refused registration is logged.
    void register_procedure(std::string uri, Handler handler);
    // The same for a procedure that may answer after its handler returned (the meta
    // API waiting for other cluster nodes' parts).
    void register_async_procedure(std::string uri, AsyncHandler handler);
    // PUBLISH without acknowledgement.
    void publish(std::string topic, wamp::List args, wamp::Dict kwargs);

    SessionId id() const { return session_->id(); }
    const PeerInfo& peer() const { return *session_->peer(); }
    std::size_t pending_calls() const { return pending_calls_.size(); }
    bool registered(std::string_view uri) const;

private:
    // The in-process end of the session: what the router sends arrives here.
    class Inbox final : public SessionTransport {
    public:
        explicit Inbox(ServiceSession& owner) : owner_(owner) {}
        void send(const codec::SharedOutbound& message) override { owner_.receive(message->message()); }
        void close(CloseReason reason, std::string_view text) override;
        // The widest of the serializers: whatever a component answers can be written
        // in it, so the outbound gate refuses nothing for want of an encoding.
        wamp::Serializer serializer() const override { return wamp::Serializer::msgpack; }

    private:
        ServiceSession& owner_;
    };
    struct Registration {
        std::string uri;
        AsyncHandler handler;
    };

    void receive(const wamp::Message& message);
    void on_result(const wamp::Message& result);
    void on_error(const wamp::Message& error);
    void on_registered(const wamp::Message& registered);
    void on_invocation(const wamp::Message& invocation);
    void answer_invocation(RequestId request, const CallOutcome& outcome);
    void closed(std::string_view text);
    // Ends a pending call with `outcome`; nothing when it is no longer pending.
    void finish(RequestId request, CallOutcome outcome);
    // The arguments of a message addressed to this session; nullopt and `problem`
    // filled when they cannot be read.
    std::optional<CallArguments> read_arguments(const wamp::Message& message, std::string& problem) const;
    RequestId next_request();

    Limits limits_;
    Inbox inbox_;
    std::shared_ptr<Session> session_;
    bool closed_ = false;
    RequestId last_request_ = 0;
    std::unordered_map<RequestId, CallDone> pending_calls_;
    // Clients fill pending_calls_ (each dynamic authorization is a call): one line per interval.
    wamp::LogThrottle pending_calls_log_;
    std::unordered_map<RequestId, Registration> pending_registrations_;
    std::unordered_map<RegistrationId, Registration> registrations_;
    // Expires with this session: an answer given after it is dropped.
    std::shared_ptr<const int> alive_ = std::make_shared<const int>(0);
};

}  // namespace blindrouter::core
