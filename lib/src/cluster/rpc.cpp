#include "blindrouter/cluster/rpc.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

#include "blindrouter/cluster/subject.hpp"
#include "blindrouter/codec/decode_result.hpp"
#include "blindrouter/core/options.hpp"
#include "blindrouter/core/realm.hpp"
#include "blindrouter/core/reply.hpp"
#include "blindrouter/core/router.hpp"
#include "blindrouter/core/session.hpp"
#include "blindrouter/wamp/error_uri.hpp"
#include "blindrouter/wamp/log_text.hpp"
#include "blindrouter/wamp/messages.hpp"

namespace blindrouter::cluster {
using wamp::MessageType;

namespace {

constexpr std::size_t max_caller_features = 32, max_feature_length = 64;
// Autobahn's constant for a message too large to route (autobahn/wamp/message.py).
constexpr std::string_view payload_size_exceeded = "wamp.error.payload_size_exceeded";

std::string_view kind_name(RpcKind kind) {
    switch (kind) {
        case RpcKind::call: return "call";
        case RpcKind::more: return "more";
        case RpcKind::cancel: return "cancel";
        case RpcKind::left: return "left";
        case RpcKind::answer: return "answer";
        case RpcKind::no_target: return "no-target";
    }
    return "call";
}

bool worth_logging(std::uint64_t count) { return (count & (count - 1)) == 0; }

// The announced "caller" features a dealer or hook may ask about on another node.
std::vector<std::string> caller_features(const core::PeerInfo& caller) {
    std::vector<std::string> names;
    const auto* role = wamp::find(caller.client_roles, "caller");
    const auto* role_dict = role ? role->as_dict() : nullptr;
    const auto* features = role_dict ? wamp::find(*role_dict, "features") : nullptr;
    const auto* feature_dict = features ? features->as_dict() : nullptr;
    if (!feature_dict) return names;
    for (const auto& [name, value] : *feature_dict)
        if (value.as_bool() && *value.as_bool() && name.size() <= max_feature_length &&
            names.size() < max_caller_features)
            names.push_back(name);
    return names;
}

// A session of this node joins without HELLO: no transport authentication applies.
const config::TransportAuth no_transport_auth = [] {
    config::TransportAuth none;
    none.anonymous.reset();
    return none;
}();

}  // namespace

// ---- Directory keys and values ----

std::string head_key(std::string_view realm, std::string_view uri, wamp::MatchPolicy match) {
    return hex_lower(realm) + "." + hex_lower(uri) + "." + std::string(wamp::match_name(match));
}

std::string member_key(std::string_view realm, std::string_view uri, wamp::MatchPolicy match, std::uint64_t node,
                       core::SessionId session) {
    return head_key(realm, uri, match) + "." + node_id_text(node) + "." + std::to_string(session);
}

std::optional<DirectoryKey> parse_directory_key(std::string_view key) {
    auto parts = split(key, '.');
    if (parts.size() != 3 && parts.size() != 5) return std::nullopt;
    DirectoryKey parsed;
    auto realm = unhex_lower(parts[0]), uri = unhex_lower(parts[1]);
    auto match = wamp::match_from_name(parts[2]);
    if (!realm || !uri || !match) return std::nullopt;
    parsed.realm = std::move(*realm);
    parsed.uri = std::move(*uri);
    parsed.match = *match;
    if (parts.size() == 5) {
        auto node = parse_node_id(parts[3]);
        auto session = parse_decimal(parts[4]);
        if (!node || !*node || !session || !*session) return std::nullopt;
        parsed.node = *node;
        parsed.session = *session;
    }
    return parsed;
}

std::string member_value(core::InvokePolicy policy) { return "1 " + std::string(core::invoke_policy_name(policy)); }

std::string head_value(std::string_view realm, std::string_view uri, wamp::MatchPolicy match,
                       core::InvokePolicy policy) {
    return member_value(policy) + " " + std::to_string(core::observation_id(realm, uri, match));
}

std::optional<core::InvokePolicy> directory_policy(std::string_view value) {
    auto parts = split(value, ' ');
    if (parts.size() < 2 || parts[0] != "1") return std::nullopt;
    return core::invoke_policy_from_name(parts[1]);
}

// ---- The view ----

void RegistrationView::add(std::string_view uri, wamp::MatchPolicy match, core::InvokePolicy policy, Member member) {
    std::uint64_t id = 0;
    if (const auto* existing = index_.find(uri, match)) {
        id = *existing;
    } else {
        id = next_id_++;
        index_.insert(uri, match, id);
        entries_.emplace(id, Entry{std::string(uri), match, policy, {}, 0});
    }
    auto& members = entries_.at(id).members;
    std::erase(members, member);
    auto at = std::upper_bound(members.begin(), members.end(), member,
                               [](const Member& a, const Member& b) { return a.revision < b.revision; });
    members.insert(at, member);
}

void RegistrationView::remove(std::string_view uri, wamp::MatchPolicy match, std::uint64_t node,
                              core::SessionId session) {
    const auto* id = index_.find(uri, match);
    if (!id) return;
    auto key = *id;
    std::erase(entries_.at(key).members, Member{node, session, 0});
    erase_if_empty(key);
}

void RegistrationView::remove_node(std::uint64_t node) {
    std::vector<std::uint64_t> touched;
    for (auto& [id, entry] : entries_)
        if (std::erase_if(entry.members, [&](const Member& m) { return m.node == node; }) > 0) touched.push_back(id);
    for (auto id : touched) erase_if_empty(id);
}

std::vector<std::tuple<std::string, wamp::MatchPolicy, core::SessionId>> RegistrationView::members_of(
    std::uint64_t node) const {
    std::vector<std::tuple<std::string, wamp::MatchPolicy, core::SessionId>> found;
    for (const auto& [id, entry] : entries_)
        for (const auto& m : entry.members)
            if (m.node == node) found.emplace_back(entry.uri, entry.match, m.session);
    return found;
}

void RegistrationView::erase_if_empty(std::uint64_t id) {
    auto it = entries_.find(id);
    if (it == entries_.end() || !it->second.members.empty()) return;
    index_.erase(it->second.uri, it->second.match);
    entries_.erase(it);
}

RegistrationView::Entry* RegistrationView::best_match(std::string_view procedure) {
    const auto* id = index_.best_match(procedure);
    return id ? &entries_.at(*id) : nullptr;
}

RegistrationView::Entry* RegistrationView::find(std::string_view uri, wamp::MatchPolicy match) {
    const auto* id = index_.find(uri, match);
    return id ? &entries_.at(*id) : nullptr;
}

std::optional<RegistrationView::Member> RegistrationView::pick(Entry& entry, const std::vector<Member>& tried) {
    std::vector<std::size_t> candidates;
    const auto& all = entry.members;
    for (std::size_t i = 0; i < all.size(); ++i)
        if (std::find(tried.begin(), tried.end(), all[i]) == tried.end()) candidates.push_back(i);
    if (candidates.empty()) return std::nullopt;
    switch (entry.policy) {
        case core::InvokePolicy::single:
        case core::InvokePolicy::first: return all[candidates.front()];
        case core::InvokePolicy::last: return all[candidates.back()];
        case core::InvokePolicy::random:
            return all[candidates[std::uniform_int_distribution<std::size_t>(0, candidates.size() - 1)(random_)]];
        case core::InvokePolicy::roundrobin: {
            // As the dealer: the first candidate at or after this node's position.
            auto start = entry.next % all.size();
            auto chosen = candidates.front();
            for (auto i : candidates)
                if (i >= start) {
                    chosen = i;
                    break;
                }
            entry.next = chosen + 1;
            return all[chosen];
        }
    }
    return all[candidates.front()];
}

// ---- The RPC envelope ----

std::string call_subject(std::uint64_t node) { return "br.n." + node_id_text(node) + ".call"; }
std::string reply_subject(std::uint64_t node) { return "br.n." + node_id_text(node) + ".rep"; }
std::string no_responders_subject(std::uint64_t node, std::string_view realm, std::uint64_t call_key) {
    return "br.n." + node_id_text(node) + ".nr." + subject_token(realm) + "." + std::to_string(call_key);
}

Headers rpc_headers(const RpcEnvelope& envelope) {
    Headers headers{
        {"Br-V", std::string(envelope_version)},
        {"Br-Kind", std::string(kind_name(envelope.kind))},
        {"Br-Ser", std::string(wamp::serializer_name(envelope.serializer))},
        {"Br-Node", node_id_text(envelope.node)},
        {"Br-Sess", std::to_string(envelope.session)},
        {"Br-Req", std::to_string(envelope.request)},
    };
    if (envelope.kind == RpcKind::call) headers.emplace_back("Br-Target", std::to_string(envelope.target));
    if (envelope.kind == RpcKind::call || envelope.kind == RpcKind::more) {
        // Each may be empty: marked (envelope.hpp, marked_header).
        headers.emplace_back("Br-Authid", marked_header(envelope.authid));
        headers.emplace_back("Br-Authrole", marked_header(envelope.authrole));
        std::string features = "=";
        for (const auto& feature : envelope.caller_features) {
            if (features.size() > 1) features.push_back(',');
            features += percent_encode(feature);
        }
        headers.emplace_back("Br-Feat", features);
    }
    return headers;
}

std::optional<RpcEnvelope> read_rpc_envelope(const HeaderLookup& header, std::string& fault) {
    auto origin = read_origin(header, fault);
    if (!origin) return std::nullopt;
    auto kind = required(header, "Br-Kind", fault), req = required(header, "Br-Req", fault);
    if (!kind || !req) return std::nullopt;
    RpcEnvelope envelope;
    envelope.serializer = origin->serializer;
    envelope.node = origin->node;
    envelope.session = origin->session;
    bool known = false;
    for (auto k : {RpcKind::call, RpcKind::more, RpcKind::cancel, RpcKind::left, RpcKind::answer, RpcKind::no_target})
        if (kind_name(k) == *kind) {
            envelope.kind = k;
            known = true;
        }
    if (!known) return malformed("Br-Kind", fault);
    auto request = parse_decimal(*req);
    if (!request) return malformed("Br-Req", fault);
    envelope.request = *request;
    if (envelope.kind == RpcKind::call) {
        auto target = required(header, "Br-Target", fault);
        if (!target) return std::nullopt;
        auto id = parse_decimal(*target);
        if (!id || !*id) return malformed("Br-Target", fault);
        envelope.target = *id;
    }
    if (envelope.kind == RpcKind::call || envelope.kind == RpcKind::more) {
        if (!read_identity(header, envelope.authid, envelope.authrole, fault)) return std::nullopt;
        auto features = required(header, "Br-Feat", fault);
        if (!features) return std::nullopt;
        if (features->empty() || features->front() != '=') return malformed("Br-Feat", fault);
        if (features->size() > 1)
            for (auto part : split(features->substr(1), ',')) {
                auto name = percent_decode(part);
                if (!name || name->size() > max_feature_length || envelope.caller_features.size() >= max_caller_features)
                    return malformed("Br-Feat", fault);
                envelope.caller_features.push_back(std::move(*name));
            }
    }
    return envelope;
}

// ---- A caller of another node, as a session of this one ----

// Its transport is the way back to the caller's node: what the dealer sends the
// session (RESULT, ERROR) goes to br.n.<node>.rep in the caller's serializer.
class RemoteCaller : public core::SessionTransport {
public:
    RemoteCaller(RealmRpc& rpc, core::Router& router, core::Realm& realm, const RpcEnvelope& call)
        : rpc_(rpc), node_(call.node), serializer_(call.serializer) {
        session_ = std::make_shared<core::Session>(router, *this, no_transport_auth, call.session);
        auto peer = std::make_shared<core::PeerInfo>();
        peer->session_id = call.session;
        peer->realm = realm.name();
        peer->authid = call.authid;
        peer->authrole = call.authrole;
        peer->authmethod = "cluster";
        peer->serializer = serializer_;
        wamp::Dict features;
        for (const auto& name : call.caller_features) features.emplace_back(name, wamp::Value{true});
        peer->client_roles = wamp::Dict{
            {"caller", wamp::Value{wamp::Dict{{"features", wamp::Value{std::move(features)}}}}}};
        // Not a client of this node: its node counts it, lists it in the meta API
        // and holds it to the per-session limits.
        peer->router_internal = true;
        const auto& hooks = router.hooks();
        peer->caller_key = hooks.receiver_key(*peer, "caller");
        peer->callee_key = hooks.receiver_key(*peer, "callee");
        peer->subscriber_key = hooks.receiver_key(*peer, "subscriber");
        session_->join_internal(realm, std::move(peer));
    }
    ~RemoteCaller() override { leave(); }

    void send(const codec::SharedOutbound& message) override { rpc_.answer(*this, message); }
    void close(core::CloseReason, std::string_view) override { closed_ = true; }
    wamp::Serializer serializer() const override { return serializer_; }

    // Its calls' callees are interrupted as when a local caller leaves.
    void leave() {
        if (!session_) return;
        auto session = std::move(session_);
        session->transport_closed();
    }

    core::Session* session() const { return session_.get(); }
    bool closed() const { return closed_ || !session_; }
    std::uint64_t node() const { return node_; }
    core::SessionId id() const { return session_ ? session_->id() : 0; }

private:
    RealmRpc& rpc_;
    std::uint64_t node_;
    wamp::Serializer serializer_;
    std::shared_ptr<core::Session> session_;
    bool closed_ = false;
};

// ---- RealmRpc ----

RealmRpc::RealmRpc(core::Router& router, core::Realm& realm, std::uint64_t node, RpcBus& bus, RpcLimits limits)
    : router_(router), realm_(realm), node_(node), bus_(bus), limits_(limits) {}

RealmRpc::~RealmRpc() {
    auto callers = std::move(callers_);
    callers.clear();
}

hooks::Verdict RealmRpc::claim_registration(const core::PeerInfo&, std::string_view uri, wamp::MatchPolicy match,
                                            core::InvokePolicy policy) {
    // Held here already: the dealer answers as on a single node.
    if (realm_.dealer().lookup(uri, match)) return hooks::Verdict::pass();
    std::string existing;
    auto key = head_key(realm_.name(), uri, match);
    switch (bus_.create_key(key, head_value(realm_.name(), uri, match, policy), existing)) {
        case RpcBus::Created::created: return hooks::Verdict::pass();
        case RpcBus::Created::failed:
            // No directory now: the registration serves this node's callers only.
            spdlog::warn("cluster: realm \"{}\": the registration directory is unavailable; procedure \"{}\" is "
                         "registered for this node's callers only",
                         wamp::log_text(realm_.name()), wamp::log_text(uri));
            return hooks::Verdict::pass();
        case RpcBus::Created::exists: break;
    }
    auto held = directory_policy(existing);
    // The dealer's answers (core/dealer.cpp), Crossbar's: shared only when both sides
    // ask for the same non-single policy.
    if (!held || *held == core::InvokePolicy::single || *held != policy) {
        auto text = "register for already registered procedure '" + std::string(uri) + "'";
        if (held && *held != policy) text += " with a different invocation policy";
        return hooks::Verdict::error(std::string(wamp::error_uri::procedure_already_exists), std::move(text));
    }
    return hooks::Verdict::pass();
}

void RealmRpc::release_registration(std::string_view uri, wamp::MatchPolicy match) {
    // A head no node has a member of would refuse the procedure everywhere.
    if (!view_.find(uri, match)) bus_.delete_key(head_key(realm_.name(), uri, match));
}

void RealmRpc::registration_changed(const core::ObservationChange& change) {
    using Kind = core::ObservationChange::Kind;
    const auto& info = change.observation;
    auto policy = core::invoke_policy_from_name(info.invoke).value_or(core::InvokePolicy::single);
    switch (change.kind) {
        case Kind::attached: {
            auto revision = bus_.put_key(member_key(realm_.name(), info.uri, info.match, node_, change.session),
                                         member_value(policy));
            // Entered now rather than when the watch brings it back: a CALL right
            // after REGISTERED finds it.
            view_.add(info.uri, info.match, policy, {node_, change.session, revision.value_or(0)});
            return;
        }
        case Kind::detached:
            bus_.delete_key(member_key(realm_.name(), info.uri, info.match, node_, change.session));
            view_.remove(info.uri, info.match, node_, change.session);
            return;
        case Kind::deleted:
            // The last callee here left; the head goes when no node has one. Known
            // window: a node joining the shared registration at this moment keeps
            // its member without a head (SCALE-OUT.md §2.7 leaves this to the janitor).
            if (!view_.find(info.uri, info.match)) bus_.delete_key(head_key(realm_.name(), info.uri, info.match));
            return;
        case Kind::created: return;
    }
}

core::CallRoute RealmRpc::route_call(const core::SharedPeer& caller, const wamp::Message& message) {
    core::CallRoute route;
    wamp::Call call(message);
    const wamp::Value* progress = wamp::find(call.options(), "progress");
    bool more_input = progress && progress->as_bool() && *progress->as_bool();
    // WAMP spec, progressive call invocations: the dealer's rule for its own calls
    // (dealer.cpp), applied here, on the caller's node: on the callee's node the
    // violation would end the caller's stand-in session, and the caller hear nothing.
    if (more_input && !caller->announces("caller", "progressive_call_invocations")) {
        route.protocol_violation = "CALL.Options.progress from a caller that did not announce "
                                   "progressive_call_invocations";
        return route;
    }
    if (auto pending = by_call_.find({caller->session_id, call.request()}); pending != by_call_.end()) {
        auto& record = pending_.at(pending->second);
        // The local dealer's rule for its own calls (WAMP spec, request id verification).
        if (!record.input_open) {
            route.protocol_violation = "CALL reuses the request id " + std::to_string(call.request()) +
                                       " of a call in progress whose input is closed";
            return route;
        }
        route.taken = true;
        record.input_open = more_input;
        record.frame.reset();  // its input went on: no retry elsewhere any more
        codec::OutboundMessage outbound(message);
        const auto& frame = outbound.encoded(caller->serializer);
        auto envelope = record.envelope;
        envelope.kind = RpcKind::more;
        if (frame) bus_.send(call_subject(record.target.node), "", rpc_headers(envelope), frame.bytes());
        return route;
    }
    auto* entry = view_.best_match(call.procedure());
    if (!entry) return route;  // none known elsewhere: the dealer answers
    auto member = view_.pick(*entry, {});
    if (!member || member->node == node_) {
        if (member) route.local_target = member->session;
        return route;
    }
    route.taken = true;
    codec::OutboundMessage outbound(message);
    const auto& encoded = outbound.encoded(caller->serializer);
    auto refuse = [&](std::string_view uri, std::string text) {
        to_caller(caller->session_id, core::reply::error(MessageType::call, call.request(), uri, text));
    };
    if (!encoded) return route;  // what its caller wrote always encodes
    if (auto limit = bus_.max_frame_size(); encoded.size() > limit) {
        refuse(payload_size_exceeded, "the message is " + std::to_string(encoded.size()) +
                                          " bytes; a clustered realm carries at most " + std::to_string(limit));
        return route;
    }
    if (auto over = realm_.dealer().over_call_limit(*caller)) {
        refuse(wamp::error_uri::limit_reached, *over);
        return route;
    }
    if (pending_per_node_[member->node] >= limits_.max_pending_calls_per_node) {
        refuse(wamp::error_uri::limit_reached, "this node waits on " + std::to_string(limits_.max_pending_calls_per_node) +
                                                   " calls to the callee's node, the cluster's limit");
        return route;
    }
    auto key = ++next_key_;
    PendingCall record;
    record.caller = caller->session_id;
    record.request = call.request();
    record.serializer = caller->serializer;
    record.target = *member;
    record.uri = entry->uri;
    record.match = entry->match;
    record.input_open = more_input;
    record.frame = std::make_shared<const std::string>(encoded.bytes());
    record.envelope.kind = RpcKind::call;
    record.envelope.serializer = caller->serializer;
    record.envelope.node = node_;
    record.envelope.session = caller->session_id;
    record.envelope.request = call.request();
    record.envelope.authid = caller->authid;
    record.envelope.authrole = caller->authrole;
    record.envelope.caller_features = caller_features(*caller);
    // A malformed timeout is the callee node's dealer's to refuse, as on one node.
    core::OptionReader options(call.options());
    auto timeout = options.count("timeout");
    if (auto* timers = router_.timers(); timers && !options.fault() && timeout && *timeout > 0)
        record.deadline = timers->schedule(std::chrono::milliseconds(*timeout), [this, key] { expire(key); });
    auto& stored = pending_.emplace(key, std::move(record)).first->second;
    by_call_[{stored.caller, stored.request}] = key;
    ++pending_per_node_[member->node];
    realm_.dealer().call_elsewhere_began(stored.caller);
    if (!send_call(key, stored)) retry(key);
    return route;
}

bool RealmRpc::send_call(std::uint64_t key, PendingCall& call) {
    nodes_called_[call.caller].insert(call.target.node);
    auto envelope = call.envelope;
    envelope.kind = RpcKind::call;
    envelope.target = call.target.session;
    // A reply subject of its own: "no responders" (nobody serves that node's
    // subject: it is gone) comes back there, and means the CALL was not delivered.
    return bus_.send(call_subject(call.target.node), no_responders_subject(node_, realm_.name(), key), rpc_headers(envelope),
                     *call.frame);
}

void RealmRpc::retry(std::uint64_t key) {
    auto it = pending_.find(key);
    if (it == pending_.end()) return;
    auto& call = it->second;
    if (call.answered || !call.frame) return fail(key, wamp::error_uri::canceled, "the callee's node is gone");
    call.tried.push_back(call.target);
    auto* entry = view_.find(call.uri, call.match);
    // Another member on another node; a local one would need the CALL run here from
    // the start, which this node's view did not choose: the caller may call again.
    while (entry) {
        auto member = view_.pick(*entry, call.tried);
        if (!member) break;
        if (member->node == node_) {
            call.tried.push_back(*member);
            continue;
        }
        --pending_per_node_[call.target.node];
        ++pending_per_node_[member->node];
        call.target = *member;
        if (send_call(key, call)) return;
        call.tried.push_back(*member);
    }
    fail(key, wamp::error_uri::no_such_procedure, "no callee registered for procedure <" + call.uri + ">");
}

void RealmRpc::fail(std::uint64_t key, std::string_view error_uri, std::string text) {
    auto it = pending_.find(key);
    if (it == pending_.end()) return;
    auto caller = it->second.caller;
    auto request = it->second.request;
    erase(key);
    to_caller(caller, core::reply::error(MessageType::call, request, error_uri, text));
}

void RealmRpc::expire(std::uint64_t key) {
    auto it = pending_.find(key);
    if (it == pending_.end()) return;
    const auto& call = it->second;
    auto cancel = codec::make_outbound(
        wamp::Cancel::make(call.request, wamp::Dict{{"mode", wamp::Value{std::string("killnowait")}}}));
    auto envelope = call.envelope;
    envelope.kind = RpcKind::cancel;
    if (const auto& frame = cancel->encoded(call.serializer))
        bus_.send(call_subject(call.target.node), "", rpc_headers(envelope), frame.bytes());
    fail(key, wamp::error_uri::timeout, "call timed out");
}

void RealmRpc::erase(std::uint64_t key) {
    auto it = pending_.find(key);
    if (it == pending_.end()) return;
    by_call_.erase({it->second.caller, it->second.request});
    realm_.dealer().call_elsewhere_ended(it->second.caller);
    if (auto count = pending_per_node_.find(it->second.target.node); count != pending_per_node_.end())
        if (--count->second == 0) pending_per_node_.erase(count);
    pending_.erase(it);
}

void RealmRpc::to_caller(core::SessionId caller, codec::SharedOutbound message) {
    realm_.deliver_from_node(caller, message);
}

bool RealmRpc::forward_cancel(const core::PeerInfo& caller, const wamp::Message& cancel) {
    auto it = by_call_.find({caller.session_id, wamp::Cancel(cancel).request()});
    if (it == by_call_.end()) return false;
    const auto& call = pending_.at(it->second);
    codec::OutboundMessage outbound(cancel);
    const auto& frame = outbound.encoded(caller.serializer);
    auto envelope = call.envelope;
    envelope.kind = RpcKind::cancel;
    // Its callee's node runs the dealer's CANCEL (skip, kill, killnowait) and answers.
    if (frame) bus_.send(call_subject(call.target.node), "", rpc_headers(envelope), frame.bytes());
    return true;
}

void RealmRpc::session_left(core::SessionId session) {
    auto nodes = nodes_called_.find(session);
    if (nodes == nodes_called_.end()) return;
    RpcEnvelope envelope;
    envelope.kind = RpcKind::left;
    envelope.node = node_;
    envelope.session = session;
    for (auto node : nodes->second) bus_.send(call_subject(node), "", rpc_headers(envelope), {});
    nodes_called_.erase(nodes);
    std::vector<std::uint64_t> ended;
    for (const auto& [key, call] : pending_)
        if (call.caller == session) ended.push_back(key);
    for (auto key : ended) erase(key);
}

void RealmRpc::receive_request(const RpcEnvelope& envelope, const std::shared_ptr<const std::string>& frame) {
    auto id = std::make_pair(envelope.node, envelope.session);
    auto found = callers_.find(id);
    if (found != callers_.end() && found->second->closed()) {
        callers_.erase(found);
        found = callers_.end();
    }
    if (envelope.kind == RpcKind::left) {
        if (found != callers_.end()) callers_.erase(found);
        return;
    }
    if (envelope.kind == RpcKind::cancel || envelope.kind == RpcKind::more) {
        if (found == callers_.end()) return;  // the call ended here already
    }
    if (envelope.kind != RpcKind::call && envelope.kind != RpcKind::more && envelope.kind != RpcKind::cancel) return;
    auto decoded = codec::decode(envelope.serializer, frame);
    auto expected = envelope.kind == RpcKind::cancel ? MessageType::cancel : MessageType::call;
    if (!decoded || decoded.message().type != expected) {
        if (worth_logging(++refused_))
            spdlog::warn("cluster: realm \"{}\": {} malformed RPC messages from node {} dropped",
                         wamp::log_text(realm_.name()), refused_, node_id_text(envelope.node));
        return;
    }
    if (found == callers_.end()) {
        if (callers_.size() >= limits_.max_remote_callers)
            return answer_error(envelope, wamp::error_uri::limit_reached,
                                "the callee's node serves " + std::to_string(limits_.max_remote_callers) +
                                    " callers of other nodes, the cluster's limit");
        found = callers_.emplace(id, std::make_unique<RemoteCaller>(*this, router_, realm_, envelope)).first;
    }
    auto* session = found->second->session();
    if (envelope.kind == RpcKind::cancel) return session->receive(decoded.message());
    if (!realm_.call_from_node(*session, decoded.message(), envelope.target, envelope.kind == RpcKind::call))
        send_no_target(envelope);
}

void RealmRpc::answer(const RemoteCaller& caller, const codec::SharedOutbound& message) {
    const auto& m = message->message();
    core::RequestId request = 0;
    if (m.type == MessageType::result) request = wamp::Result(m).request();
    else if (m.type == MessageType::error) request = wamp::Error(m).request();
    else return;  // a caller session receives nothing else here
    RpcEnvelope envelope;
    envelope.kind = RpcKind::answer;
    envelope.serializer = caller.serializer();
    envelope.node = node_;
    envelope.session = caller.id();
    envelope.request = request;
    const auto& frame = message->encoded(caller.serializer());
    if (!frame) return;  // the dealer's gate sends only what encodes
    if (auto limit = bus_.max_frame_size(); frame.size() > limit) {
        auto refusal = core::reply::error(MessageType::call, request, payload_size_exceeded,
                                          "the result is " + std::to_string(frame.size()) +
                                              " bytes; a clustered realm carries at most " + std::to_string(limit));
        bus_.send(reply_subject(caller.node()), "", rpc_headers(envelope),
                  refusal->encoded(caller.serializer()).bytes());
        return;
    }
    bus_.send(reply_subject(caller.node()), "", rpc_headers(envelope), frame.bytes());
}

RpcEnvelope RealmRpc::reply_to(const RpcEnvelope& request, RpcKind kind) const {
    RpcEnvelope envelope;
    envelope.kind = kind;
    envelope.serializer = request.serializer;
    envelope.node = node_;
    envelope.session = request.session;
    envelope.request = request.request;
    return envelope;
}

void RealmRpc::send_no_target(const RpcEnvelope& request) {
    bus_.send(reply_subject(request.node), "", rpc_headers(reply_to(request, RpcKind::no_target)), {});
}

void RealmRpc::answer_error(const RpcEnvelope& request, std::string_view error_uri, std::string text) {
    auto error = core::reply::error(MessageType::call, request.request, error_uri, text);
    bus_.send(reply_subject(request.node), "", rpc_headers(reply_to(request, RpcKind::answer)),
              error->encoded(request.serializer).bytes());
}

void RealmRpc::receive_answer(const RpcEnvelope& envelope, const std::shared_ptr<const std::string>& frame) {
    auto it = by_call_.find({envelope.session, envelope.request});
    if (it == by_call_.end()) return;  // the call ended here (cancel skip, timeout, caller left)
    auto key = it->second;
    auto& call = pending_.at(key);
    if (call.target.node != envelope.node) return;
    if (envelope.kind == RpcKind::no_target) return retry(key);
    if (envelope.kind != RpcKind::answer) return;
    auto decoded = codec::decode(envelope.serializer, frame);
    if (!decoded || (decoded.message().type != MessageType::result && decoded.message().type != MessageType::error)) {
        if (worth_logging(++refused_))
            spdlog::warn("cluster: realm \"{}\": {} malformed RPC messages from node {} dropped",
                         wamp::log_text(realm_.name()), refused_, node_id_text(envelope.node));
        return;
    }
    bool final = true;
    if (decoded.message().type == MessageType::result) {
        const auto* progress = wamp::find(wamp::Result(decoded.message()).details(), "progress");
        final = !(progress && progress->as_bool() && *progress->as_bool());
    }
    call.answered = true;
    call.frame.reset();
    auto caller = call.caller;
    if (final) erase(key);
    // In the caller's serializer, as its callee's node built it: the payload is spliced unchanged.
    to_caller(caller, codec::make_outbound(decoded.message()));
}

void RealmRpc::no_responders(std::uint64_t call_key) { retry(call_key); }

void RealmRpc::directory_changed(const DirectoryKey& key, std::string_view value, std::uint64_t revision,
                                 bool deleted) {
    // This node's own members are kept by registration_changed, in step with the dealer.
    if (!key.node || key.node == node_) return;
    if (deleted) return view_.remove(key.uri, key.match, key.node, key.session);
    auto policy = directory_policy(value);
    if (!policy) return;
    view_.add(key.uri, key.match, *policy, {key.node, key.session, revision});
}

void RealmRpc::node_dead(std::uint64_t node) {
    std::vector<std::uint64_t> waiting;
    for (const auto& [key, call] : pending_)
        if (call.target.node == node) waiting.push_back(key);
    for (auto key : waiting) fail(key, wamp::error_uri::canceled, "the callee's node left the cluster");
    // Its keys go from the directory too, and each head left without a member, or
    // its `single` procedures would stay refused everywhere. Every node that reaches
    // the verdict does this; deleting twice is harmless.
    auto gone = view_.members_of(node);
    view_.remove_node(node);
    for (const auto& [uri, match, session] : gone) {
        bus_.delete_key(member_key(realm_.name(), uri, match, node, session));
        if (!view_.find(uri, match)) bus_.delete_key(head_key(realm_.name(), uri, match));
    }
    for (auto it = callers_.begin(); it != callers_.end();)
        it = it->first.first == node ? callers_.erase(it) : std::next(it);
}

}  // namespace blindrouter::cluster
