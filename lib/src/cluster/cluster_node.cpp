#include "blindrouter/cluster/cluster_node.hpp"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <boost/asio/post.hpp>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "blindrouter/cluster/meta_gather.hpp"
#include "blindrouter/cluster/subject.hpp"
#include "blindrouter/core/meta_api.hpp"
#include "blindrouter/codec/decode_result.hpp"
#include "blindrouter/codec/outbound_message.hpp"
#include "blindrouter/wamp/error_uri.hpp"
#include "blindrouter/wamp/log_text.hpp"
#include "blindrouter/wamp/messages.hpp"

namespace blindrouter::cluster {
namespace {

// Autobahn's constant for a message too large to route (autobahn/wamp/message.py).
constexpr std::string_view payload_size_exceeded = "wamp.error.payload_size_exceeded";
// nats-server's recommended ceiling (SCALE-OUT.md §2.4): below it, large WAMP
// messages are refused for clustered realms that a single node would carry.
constexpr std::int64_t recommended_max_payload = 8 * 1024 * 1024;
// Origins remembered for de-duplication: a restarted node is a new origin, so the
// table is cleared when it reaches this many (a stale entry only costs memory).
constexpr std::size_t max_remembered_origins = 4096;
// The GOODBYE reason of the sessions a node closes when it finds itself declared dead.
constexpr const char* node_declared_dead = "blindrouter.close.node_declared_dead";
constexpr std::int64_t kv_request_timeout_ms = 1000;
// Deletions of br_testament keys kept while NATS is unreachable; beyond it a session
// that left meanwhile may have its testament published a second time if its node dies.
constexpr std::size_t max_pending_deletes = 65536;

// libnats' last error text of this thread, or "" where it recorded none (a request
// that timed out or that the server's permissions refused): a null it may return must
// not reach a std::string.
std::string last_nats_error() {
    const char* text = nats_GetLastError(nullptr);
    return text ? text : "";
}

void check(natsStatus status, const std::string& what) {
    if (status != NATS_OK)
        throw std::runtime_error(what + ": " + natsStatus_GetText(status) + " (" + last_nats_error() + ")");
}

// A JetStream cluster that has just started may not have elected its leaders yet: the
// meta leader that creates a bucket, then the new stream's own leader, the only server
// that answers for the stream's state. A starting node asks again every 250 ms for up
// to 10 s in all (README), however long each unanswered request takes.
template <class Attempt>
auto until_jetstream_answers(Attempt attempt) {
    constexpr auto start_wait = std::chrono::seconds(10);
    constexpr auto retry_wait = std::chrono::milliseconds(250);
    auto deadline = std::chrono::steady_clock::now() + start_wait;
    for (;;) {
        auto answer = attempt();
        if (answer || std::chrono::steady_clock::now() + retry_wait >= deadline) return answer;
        std::this_thread::sleep_for(retry_wait);
    }
}

std::uint64_t random_node_id() {
    std::uint64_t id = 0;
    while (id == 0)
        if (RAND_bytes(reinterpret_cast<unsigned char*>(&id), sizeof id) != 1)
            throw std::runtime_error("cluster: no random bytes for the node id");
    return id;
}

// One line for the first of a kind of event, then one at each power of two, so that
// a flood of them cannot flood the log.
bool worth_logging(std::uint64_t count) { return (count & (count - 1)) == 0; }

// Valid while `entry` lives; empty for a delete or purge marker, whose data pointer
// libnats may leave null.
std::string_view kv_value(kvEntry* entry) {
    const auto* data = static_cast<const char*>(kvEntry_Value(entry));
    auto size = kvEntry_ValueLen(entry);
    return data && size > 0 ? std::string_view(data, static_cast<std::size_t>(size)) : std::string_view();
}

struct KvChange {
    std::string_view key, value;  // valid during the callback only
    std::uint64_t revision = 0;
    bool deleted = false;  // a delete or purge marker
};

// A bucket watcher's thread, until the watcher is stopped: `on_change` for each
// entry, `initial_values_done` where a null entry marks the end of the initial values.
template <class InitialValuesDone, class OnChange>
void run_kv_watch(kvWatcher* watcher, InitialValuesDone initial_values_done, OnChange on_change) {
    for (;;) {
        kvEntry* entry = nullptr;
        auto status = kvWatcher_Next(&entry, watcher, 1000);
        if (status == NATS_TIMEOUT) continue;
        if (status != NATS_OK) return;  // stopped
        if (!entry) {
            initial_values_done();
            continue;
        }
        auto op = kvEntry_Operation(entry);
        on_change(KvChange{kvEntry_Key(entry), kv_value(entry), kvEntry_Revision(entry),
                           op == kvOp_Delete || op == kvOp_Purge});
        kvEntry_Destroy(entry);
    }
}

}  // namespace

// A clustered realm's side of core::ClusterLink: the NATS interest it holds and
// where other nodes' publications for it arrive.
class ClusterNode::RealmLink : public RpcClusterLink, public RpcBus {
public:
    RealmLink(ClusterNode& node, core::Realm& realm)
        : node_(node),
          realm_(realm),
          rpc_(node.router_, realm, node.node_id_, *this,
               RpcLimits{node.config_.max_pending_remote_calls, node.config_.max_remote_callers}),
          gathers_(*node.router_.timers(), std::chrono::milliseconds(node.config_.meta_gather_timeout_ms),
                   node.config_.max_pending_meta_gathers),
          question_subject_("br." + subject_token(realm.name()) + ".meta"),
          answer_subject_("br.n." + node.node_text_ + ".meta." + subject_token(realm.name())) {
        // On conn C, whose deliveries have threads of their own: a flood of events
        // or calls does not hold up the meta API's questions (§2.1).
        for (auto [subject, into] : {std::pair{&question_subject_, &questions_}, std::pair{&answer_subject_, &answers_}})
            check(natsConnection_Subscribe(into, node.control_, subject->c_str(), &RealmLink::on_meta, this),
                  "NATS subscription to " + *subject);
    }
    ~RealmLink() override {
        drop_meta();
        drop_interest();
    }

    core::Realm& realm() { return realm_; }
    ClusterNode& node() { return node_; }
    RealmRpc& rpc() override { return rpc_; }

    // RpcBus: conn R and bucket br_regs. The realm travels as a header, since the
    // node subjects serve every clustered realm.
    bool send(const std::string& subject, const std::string& reply, const Headers& headers,
              std::string_view frame) override {
        natsMsg* message = nullptr;
        auto status = natsMsg_Create(&message, subject.c_str(), reply.empty() ? nullptr : reply.c_str(), frame.data(),
                                     static_cast<int>(frame.size()));
        for (const auto& [key, value] : headers)
            if (status == NATS_OK) status = natsMsgHeader_Set(message, key.c_str(), value.c_str());
        if (status == NATS_OK) status = natsMsgHeader_Set(message, "Br-Realm", percent_encode(realm_.name()).c_str());
        if (status == NATS_OK) status = natsConnection_PublishMsg(node_.rpc_, message);
        natsMsg_Destroy(message);
        if (status != NATS_OK && worth_logging(++send_failures_))
            spdlog::warn("cluster: {} RPC messages not sent to NATS (last: {})", send_failures_,
                         natsStatus_GetText(status));
        return status == NATS_OK;
    }
    Created create_key(const std::string& key, const std::string& value, std::string& existing) override {
        if (!directory_reachable()) return Created::failed;
        std::uint64_t revision = 0;
        auto status = kvStore_Create(&revision, node_.registrations_, key.c_str(), value.data(),
                                     static_cast<int>(value.size()));
        if (status == NATS_OK) return Created::created;
        // The key exists: read through the stream leader (kvStore_Get may be answered
        // by any replica, but a head, once created, only changes by deletion).
        kvEntry* entry = nullptr;
        if (kvStore_Get(&entry, node_.registrations_, key.c_str()) != NATS_OK || !entry) {
            spdlog::warn("cluster: registration directory: creating a head failed: {}", natsStatus_GetText(status));
            return Created::failed;
        }
        existing.assign(kv_value(entry));
        kvEntry_Destroy(entry);
        return Created::exists;
    }
    std::optional<std::uint64_t> put_key(const std::string& key, const std::string& value) override {
        std::uint64_t revision = 0;
        if (!directory_reachable() || kvStore_Put(&revision, node_.registrations_, key.c_str(), value.data(),
                                                 static_cast<int>(value.size())) != NATS_OK)
            return std::nullopt;
        // A member is put when a callee attaches, before REGISTERED: its revision is
        // later than its head's, so once every node's watcher has it, a CALL from any
        // node finds the registration (closes the §2.7 window).
        node_.sync_with_peers({SyncRequest::Kind::directory, 0, revision});
        return revision;
    }
    void delete_key(const std::string& key) override {
        if (directory_reachable()) kvStore_Delete(node_.registrations_, key.c_str());
    }
    // Directory writes wait on the router thread (at most the JetStream wait, 1 s):
    // none is tried while no NATS server is connected (a node stopping with its NATS
    // servers would wait that long for each registration it drops).
    bool directory_reachable() const {
        return node_.registrations_ && natsConnection_Status(node_.rpc_) == NATS_CONN_STATUS_CONNECTED;
    }
    std::size_t max_frame_size() const override { return node_.max_frame_size(); }

    hooks::Verdict forward_publication(const core::PeerInfo& publisher, const wamp::Message& publish,
                                       bool disclose_publisher, core::PublicationId publication) override {
        // The sender's own frame: the payload crosses the cluster byte-exact, and so do
        // the options the receiving node routes by; it applies the mismatch rules to it.
        auto body = forwarded_body(publish, publisher.serializer);
        if (!body) return hooks::Verdict::pass();  // a router-built PUBLISH its serializer cannot express
        auto limit = node_.max_frame_size();
        if (body->size() > limit)
            return hooks::Verdict::error(std::string(payload_size_exceeded),
                                         "the message is " + std::to_string(body->size()) +
                                             " bytes; a clustered realm carries at most " + std::to_string(limit));
        auto envelope = envelope_of(publisher, disclose_publisher);
        envelope.publication = publication;
        node_.publish(event_subject(realm_.name(), wamp::Publish(publish).topic()), envelope, *body);
        return hooks::Verdict::pass();
    }

    void publication_retained(const core::PeerInfo& publisher, const wamp::Message& publish,
                              bool disclose_publisher) override {
        // The frame forward_publication sent, so within the cluster's size limit.
        auto body = forwarded_body(publish, publisher.serializer);
        if (!body) return;
        RetainedRecord record{realm_.name(), envelope_of(publisher, disclose_publisher), *body};
        record.envelope.node = node_.node_id_;
        record.envelope.sequence = 1;
        node_.store_retained(retained_key(realm_.name(), wamp::Publish(publish).topic()),
                             encode_retained_record(record));
    }

    std::optional<std::vector<core::ClusterRetained>> retained_events(std::string_view uri,
                                                                      wamp::MatchPolicy match) override {
        return node_.read_retained(realm_.name(), uri, match);
    }

    void subscription_created(std::string_view uri, wamp::MatchPolicy match) override {
        auto subject = interest_subject(realm_.name(), uri, match);
        auto& interest = interest_[subject];
        if (interest.count++ > 0) return;
        auto status = natsConnection_Subscribe(&interest.subscription, node_.events_, subject.c_str(),
                                               &ClusterNode::on_message, this);
        // Flushed before SUBSCRIBED goes out: this node's NATS server knows of the
        // interest then; the other servers learn it over routes, which the barrier
        // after the flush waits for (the §2.5 window, closed: sync_with_peers).
        // Not while disconnected: libnats sends the subscription on reconnecting, and
        // waiting here would hold up every session of the node for nothing.
        if (status == NATS_OK && natsConnection_Status(node_.events_) == NATS_CONN_STATUS_CONNECTED)
            status = natsConnection_FlushTimeout(node_.events_, static_cast<std::int64_t>(node_.config_.flush_timeout_ms));
        if (status != NATS_OK)
            spdlog::error("cluster: realm \"{}\": NATS interest in \"{}\" not confirmed: {}",
                          wamp::log_text(realm_.name()), wamp::log_text(uri), natsStatus_GetText(status));
        else
            node_.sync_with_peers({SyncRequest::Kind::interest, 0, 0});
    }

    void subscription_deleted(std::string_view uri, wamp::MatchPolicy match) override {
        auto it = interest_.find(interest_subject(realm_.name(), uri, match));
        if (it == interest_.end() || --it->second.count > 0) return;
        if (it->second.subscription) {
            natsSubscription_Unsubscribe(it->second.subscription);
            natsSubscription_Destroy(it->second.subscription);
        }
        interest_.erase(it);
    }

    void testaments_changed(core::SessionId session) override { node_.store_testaments(*this, session); }

    // The meta API across nodes (SCALE-OUT.md §2.9): one question to every node, the
    // answers of those live now awaited up to meta_gather_timeout_ms.
    bool gather_meta(const std::string& procedure, const core::CallArguments& arguments,
                     const core::InvocationDetails& details, std::function<void(core::MetaAnswers)> done) override {
        std::vector<std::uint64_t> others;
        for (auto node : node_.live_nodes())
            if (node != node_.node_id_) others.push_back(node);
        bool alone = others.empty();
        auto gather = gathers_.start(std::move(others), std::move(done));
        if (!gather) return false;
        if (alone) return true;
        auto question = encode_meta_question(*gather, procedure, arguments, details);
        // Not sent (no NATS server now): the gather ends at its bound, every node missing.
        send_meta(question_subject_, answer_subject_, question);
        return true;
    }
    MetaGathers& gathers() { return gathers_; }

    std::optional<core::RegistrationMatch> best_registration(std::string_view procedure) override {
        if (!node_.registrations_) return std::nullopt;
        const auto* entry = rpc_.view().best_match(procedure);
        return entry ? core::RegistrationMatch{entry->uri, entry->match} : core::RegistrationMatch{};
    }

    void drop_meta() {
        for (auto** subscription : {&questions_, &answers_})
            if (*subscription) {
                natsSubscription_Unsubscribe(*subscription);
                natsSubscription_Destroy(*subscription);
                *subscription = nullptr;
            }
    }

    // On the router thread: a publication of another node's session.
    void deliver(const Envelope& envelope, const std::shared_ptr<const std::string>& frame) {
        if (!node_.first_copy(envelope)) return;
        auto decoded = codec::decode(envelope.serializer, frame);
        if (!decoded || decoded.message().type != wamp::MessageType::publish ||
            !wamp::is_valid_uri(wamp::Publish(decoded.message()).topic())) {
            if (worth_logging(++malformed_))
                spdlog::warn("cluster: realm \"{}\": {} malformed publications from node {} dropped ({})",
                             wamp::log_text(realm_.name()), malformed_, node_id_text(envelope.node),
                             decoded ? "not a PUBLISH to a valid topic" : wamp::log_text(decoded.error()));
            return;
        }
        core::PeerInfo publisher;
        publisher.session_id = envelope.session;
        publisher.realm = realm_.name();
        publisher.authid = envelope.authid;
        publisher.authrole = envelope.authrole;
        publisher.serializer = envelope.serializer;
        realm_.publish_remote(publisher, decoded.message(), envelope.disclose,
                              envelope.publication ? std::optional(envelope.publication) : std::nullopt);
    }

    void drop_interest() {
        for (auto& [subject, interest] : interest_)
            if (interest.subscription) {
                natsSubscription_Unsubscribe(interest.subscription);
                natsSubscription_Destroy(interest.subscription);
            }
        interest_.clear();
    }

private:
    static Envelope envelope_of(const core::PeerInfo& publisher, bool disclose_publisher) {
        Envelope envelope;
        envelope.serializer = publisher.serializer;
        envelope.session = publisher.session_id;
        envelope.authid = publisher.authid;
        envelope.authrole = publisher.authrole;
        envelope.disclose = disclose_publisher;
        return envelope;
    }

    // On a control connection thread: copied out and handed to the router thread.
    static void on_meta(natsConnection*, natsSubscription*, natsMsg* message, void* closure) {
        auto* link = static_cast<RealmLink*>(closure);
        auto& node = link->node_;
        const char* from_text = nullptr;
        natsMsgHeader_Get(message, "Br-Node", &from_text);
        auto from = from_text ? parse_node_id(from_text) : std::nullopt;
        bool question = link->question_subject_ == natsMsg_GetSubject(message);
        std::string reply = natsMsg_GetReply(message) ? natsMsg_GetReply(message) : "";
        std::string fault = "a meta API message without a valid Br-Node";
        auto frame = node.take_inbound(message, from ? nullptr : &fault);
        if (!frame) return;
        boost::asio::post(node.io_, [link, frame = std::move(frame), from = *from, question, reply = std::move(reply)] {
            link->node_.settle_inbound(frame->size());
            if (question) link->answer_question(from, *frame, reply);
            else if (auto answer = decode_meta_answer(*frame)) link->gathers_.answer(answer->first, from, answer->second);
        });
    }

    // Another node's question, answered for this node's own sessions, subscriptions
    // and registrations; this node's own question comes back (conn C echoes) and is
    // not answered.
    void answer_question(std::uint64_t from, const std::string& frame, const std::string& reply) {
        if (from == node_.node_id_ || reply.empty()) return;
        auto question = decode_meta_question(frame);
        auto outcome = question ? core::answer_meta_locally(realm_, question->procedure, question->arguments,
                                                            question->details)
                                : std::nullopt;
        if (!outcome) {
            if (worth_logging(++malformed_))
                spdlog::warn("cluster: realm \"{}\": {} malformed messages from node {} dropped (no meta API question)",
                             wamp::log_text(realm_.name()), malformed_, node_id_text(from));
            return;
        }
        send_meta(reply, "", encode_meta_answer(question->gather, *outcome));
    }

    void send_meta(const std::string& subject, const std::string& reply, const std::string& frame) {
        natsMsg* message = nullptr;
        auto status = natsMsg_Create(&message, subject.c_str(), reply.empty() ? nullptr : reply.c_str(), frame.data(),
                                     static_cast<int>(frame.size()));
        if (status == NATS_OK) status = natsMsgHeader_Set(message, "Br-Node", node_.node_text_.c_str());
        if (status == NATS_OK) status = natsConnection_PublishMsg(node_.control_, message);
        natsMsg_Destroy(message);
        if (status != NATS_OK && worth_logging(++meta_send_failures_))
            spdlog::warn("cluster: realm \"{}\": {} meta API questions or answers not sent to NATS (last: {})",
                         wamp::log_text(realm_.name()), meta_send_failures_, natsStatus_GetText(status));
    }

    struct Interest {
        std::size_t count = 0;  // this realm's broker subscriptions that map to the subject
        natsSubscription* subscription = nullptr;
    };
    ClusterNode& node_;
    core::Realm& realm_;
    std::map<std::string, Interest> interest_;
    std::uint64_t malformed_ = 0;
    std::uint64_t send_failures_ = 0;
    RealmRpc rpc_;
    MetaGathers gathers_;
    std::string question_subject_;  // br.<realm>.meta: every node's questions
    std::string answer_subject_;    // br.n.<node>.meta.<realm>: the answers to this node's
    natsSubscription* questions_ = nullptr;
    natsSubscription* answers_ = nullptr;
    std::uint64_t meta_send_failures_ = 0;
};

ClusterNode::ClusterNode(boost::asio::io_context& io, core::Router& router, ClusterConfig config)
    : io_(io),
      config_(std::move(config)),
      node_id_(random_node_id()),
      node_text_(node_id_text(node_id_)),
      router_(router),
      liveness_(node_id_, std::chrono::milliseconds(config_.heartbeat_interval_ms),
                static_cast<unsigned>(config_.heartbeat_misses), Liveness::Clock::now()),
      ticker_(io),
      started_(Liveness::Clock::now()),
      last_tick_(started_) {
    // The meta API's gathers have deadlines (cluster/meta_gather.hpp).
    if (!router.timers()) throw std::runtime_error("cluster: the router has no timer service");
    std::vector<core::Realm*> realms;
    for (const auto& name : config_.realms) {
        auto* realm = router.find_realm(name);
        // A realm whose worker is disabled is configured but not run.
        if (!realm) throw std::runtime_error("cluster settings: realm \"" + name + "\" is not run by this node");
        realms.push_back(realm);
    }
    // One delivery thread for every subscription: NATS keeps one connection's order,
    // and per-subscription threads would lose it across topics (§2.6).
    check(nats_Open(-1), "nats_Open");
    check(nats_SetMessageDeliveryPoolSize(1), "nats_SetMessageDeliveryPoolSize");
    natsOptions* options = nullptr;
    check(natsOptions_Create(&options), "natsOptions_Create");
    std::unique_ptr<natsOptions, decltype(&natsOptions_Destroy)> owned(options, &natsOptions_Destroy);
    check(natsOptions_SetNoEcho(options, true), "NATS options");
    check(natsOptions_UseGlobalMessageDelivery(options, true), "NATS options");
    events_ = connect(options, "events");
    open_sync();
    open_control();

    auto max_payload = natsConnection_GetMaxPayload(events_);
    spdlog::info("cluster: node {} connected to NATS, max_payload {} bytes; clustered messages up to {} bytes",
                 node_text_, max_payload, max_frame_size());
    if (max_payload < recommended_max_payload)
        spdlog::warn("cluster: the NATS server's max_payload is {} bytes: WAMP messages above {} bytes are refused "
                     "on clustered realms (set max_payload: 8MB in nats-server.conf)",
                     max_payload, max_frame_size());
    for (auto* realm : realms) {
        links_.push_back(std::make_unique<RealmLink>(*this, *realm));
        realm->set_cluster_link(links_.back().get());
        spdlog::warn("cluster: realm \"{}\" is shared with other nodes for publish & subscribe, calls and "
                     "registrations, testaments, retained events and the meta API; event history stays on this "
                     "node for now (README: Clustered realms (NATS))",
                     wamp::log_text(realm->name()));
    }
    start_rpc(options);
    // A death verdict ends the calls waiting on that node (SCALE-OUT.md §2.8).
    on_node_dead([this](std::uint64_t node) { node_dead(node); });
    send_heartbeat();
    ticker_.expires_after(std::chrono::milliseconds(config_.heartbeat_interval_ms));
    ticker_.async_wait([this](const boost::system::error_code& error) {
        if (!error) tick();
    });
}

natsConnection* ClusterNode::connect(natsOptions* options, const char* role) {
    std::vector<const char*> servers;
    for (const auto& url : config_.nats) servers.push_back(url.c_str());
    check(natsOptions_SetServers(options, servers.data(), static_cast<int>(servers.size())), "NATS servers");
    check(natsOptions_SetNoRandomize(options, true), "NATS options");
    check(natsOptions_SetMaxReconnect(options, -1), "NATS options");
    check(natsOptions_SetReconnectWait(options, 250), "NATS options");
    // A frozen or partitioned server is noticed within 10 s (§2.8).
    check(natsOptions_SetPingInterval(options, 5000), "NATS options");
    check(natsOptions_SetMaxPingsOut(options, 2), "NATS options");
    // Written from the router thread at once rather than by libnats' flusher thread,
    // which adds about a millisecond to every cross-node event (measured: README).
    check(natsOptions_SetSendAsap(options, true), "NATS options");
    check(natsOptions_SetErrorHandler(options, &ClusterNode::on_error, this), "NATS options");
    check(natsOptions_SetDisconnectedCB(options, &ClusterNode::on_disconnected, this), "NATS options");
    check(natsOptions_SetReconnectedCB(options, &ClusterNode::on_reconnected, this), "NATS options");
    auto name = "blindrouter " + node_text_ + " " + role;
    check(natsOptions_SetName(options, name.c_str()), "NATS options");
    natsConnection* connection = nullptr;
    check(natsConnection_Connect(&connection, options), "cannot connect to NATS");
    return connection;
}

ClusterNode::~ClusterNode() {
    ticker_.cancel();
    for (auto& link : links_) link->drop_meta();
    if (watcher_) kvWatcher_Stop(watcher_);
    if (watch_thread_.joinable()) watch_thread_.join();
    if (watcher_) kvWatcher_Destroy(watcher_);
    if (retained_watcher_) kvWatcher_Stop(retained_watcher_);
    if (retained_thread_.joinable()) retained_thread_.join();
    if (retained_watcher_) kvWatcher_Destroy(retained_watcher_);
    for (auto* subscription : {heartbeats_, control_inbox_, sync_questions_, sync_answers_})
        if (subscription) {
            natsSubscription_Unsubscribe(subscription);
            natsSubscription_Destroy(subscription);
        }
    if (testament_store_) kvStore_Destroy(testament_store_);
    if (retained_store_) kvStore_Destroy(retained_store_);
    if (jetstream_) jsCtx_Destroy(jetstream_);
    if (control_) {
        natsConnection_Close(control_);
        natsConnection_Destroy(control_);
    }
    for (auto* subscription : rpc_subscriptions_) {
        natsSubscription_Unsubscribe(subscription);
        natsSubscription_Destroy(subscription);
    }
    for (auto& link : links_) {
        link->realm().set_cluster_link(nullptr);
        link->drop_interest();
    }
    links_.clear();
    if (registrations_) kvStore_Destroy(registrations_);
    if (rpc_jetstream_) jsCtx_Destroy(rpc_jetstream_);
    if (rpc_) {
        natsConnection_Close(rpc_);
        natsConnection_Destroy(rpc_);
    }
    if (events_) {
        natsConnection_Close(events_);
        natsConnection_Destroy(events_);
    }
    // No libnats thread may call back into the links once they are gone.
    nats_CloseAndWait(2000);
}

void ClusterNode::start_rpc(natsOptions* options) {
    // Conn E's settings, SendAsap included (a call's round trip is two messages),
    // and no_echo, harmless here: a node never sends a call to itself.
    auto name = "blindrouter " + node_text_ + " rpc";
    check(natsOptions_SetName(options, name.c_str()), "NATS options");
    check(natsOptions_SetDisconnectedCB(options, nullptr, nullptr), "NATS options");
    check(natsOptions_SetReconnectedCB(options, nullptr, nullptr), "NATS options");
    check(natsConnection_Connect(&rpc_, options), "cannot connect to NATS (rpc)");
    for (const auto& subject : {call_subject(node_id_), reply_subject(node_id_),
                                "br.n." + node_text_ + ".nr.>"}) {
        natsSubscription* subscription = nullptr;
        check(natsConnection_Subscribe(&subscription, rpc_, subject.c_str(), &ClusterNode::on_rpc_message, this),
              "NATS subscribe " + subject);
        rpc_subscriptions_.push_back(subscription);
    }
    check(natsConnection_FlushTimeout(rpc_, 5000), "NATS flush");

    // The registration directory: memory storage (SCALE-OUT.md §2.7 says file; a
    // directory outlives no node process anyway), kv_replicas replicas as br_testament.
    jsOptions js_options;
    jsOptions_Init(&js_options);
    js_options.Wait = 1000;
    check(natsConnection_JetStream(&rpc_jetstream_, rpc_, &js_options), "JetStream");
    kvConfig kv;
    kvConfig_Init(&kv);
    kv.Bucket = registrations_bucket.data();
    kv.History = 1;
    kv.StorageType = js_MemoryStorage;
    kv.Replicas = static_cast<int>(config_.kv_replicas);
    // A JetStream cluster elects its meta leader after the servers are up: retried
    // for a while, then the node starts without a directory (calls stay local).
    natsStatus status = NATS_ERR;
    for (int attempt = 0; attempt < 60 && status != NATS_OK; ++attempt) {
        status = js_CreateKeyValue(&registrations_, rpc_jetstream_, &kv);
        if (status != NATS_OK) status = js_KeyValue(&registrations_, rpc_jetstream_, kv.Bucket);
        if (status != NATS_OK) std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    if (status != NATS_OK) {
        registrations_ = nullptr;
        spdlog::error("cluster: node {}: no registration directory (JetStream bucket {}: {}); calls stay on this node",
                      node_text_, registrations_bucket, natsStatus_GetText(status));
        return;
    }
    check(kvStore_WatchAll(&watcher_, registrations_, nullptr), "watching the registration directory");
    watch_thread_ = std::thread([this] { watch_directory(); });
}

void ClusterNode::watch_directory() {
    run_kv_watch(watcher_, [] {}, [this](const KvChange& change) {
        if (auto parsed = parse_directory_key(change.key))
            boost::asio::post(io_, [this, key = std::move(*parsed), value = std::string(change.value),
                                    revision = change.revision, deleted = change.deleted] {
                if (auto* link = link_for(key.realm)) link->rpc().directory_changed(key, value, revision, deleted);
            });
        // Answered after the change is posted: a client's CALL that this answer lets
        // happen reaches the router thread after it (the io_context runs posted
        // handlers in order, and the CALL's bytes arrive later still).
        std::vector<SyncAnswer> answers;
        {
            std::lock_guard lock(directory_mutex_);
            answers = directory_waiters_.reached(change.revision);
        }
        for (const auto& answer : answers) send_sync_answer(answer);
    });
}

void ClusterNode::open_sync() {
    // On conn E, where the subscriptions whose interest a barrier confirms are made:
    // a question sent on it after the flush leaves through the same NATS server.
    auto questions = "br.n." + node_text_ + ".sync";
    check(natsConnection_Subscribe(&sync_questions_, events_, questions.c_str(), &ClusterNode::on_sync, this),
          "NATS subscription to " + questions);
    auto answers = "br.n." + node_text_ + ".synced";
    check(natsConnection_SubscribeSync(&sync_answers_, events_, answers.c_str()), "NATS subscription to " + answers);
    check(natsConnection_FlushTimeout(events_, 5000), "NATS flush");
}

void ClusterNode::sync_with_peers(SyncRequest request) {
    if (natsConnection_Status(events_) != NATS_CONN_STATUS_CONNECTED) return;
    std::vector<std::uint64_t> waiting;
    for (auto node : live_nodes())
        if (node != node_id_) waiting.push_back(node);
    if (waiting.empty()) return;
    // Why an answer to an interest question proves enough (nats-server 2.9, one route
    // connection per pair of servers; 2.10's route pools pin an account to one of
    // them): this node's server processed the SUB before the flush returned, and its
    // processing queued RS+ on every route (server/route.go,
    // updateRouteSubscriptionMap, called from processSub); the question, published
    // after it through the same server, follows RS+ on the route to the peer's server,
    // which handles a route's messages in order. So when the peer answers, its server
    // knows the interest, and a PUBLISH its clients make afterwards reaches this node.
    request.barrier = ++barriers_;
    auto question = encode_sync_request(request);
    auto reply = "br.n." + node_text_ + ".synced";
    for (auto node : waiting) {
        auto subject = "br.n." + node_id_text(node) + ".sync";
        natsConnection_PublishRequestString(events_, subject.c_str(), reply.c_str(), question.c_str());
    }
    using Clock = std::chrono::steady_clock;
    auto deadline = Clock::now() + std::chrono::milliseconds(config_.sync_timeout_ms);
    // A peer whose question no NATS server has interest in (it was killed and is not
    // yet declared dead) comes back at once as "no responders" (libnats' NextMsg
    // returns NATS_NO_RESPONDERS for it): nothing of it can publish or call, so it is
    // not waited for. The status names no peer; counted against those still waited for.
    std::size_t unreachable = 0;
    while (waiting.size() > unreachable) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        natsMsg* message = nullptr;
        auto status = left > 0 ? natsSubscription_NextMsg(&message, sync_answers_, left) : NATS_TIMEOUT;
        if (status == NATS_NO_RESPONDERS) {
            ++unreachable;
            continue;
        }
        if (status != NATS_OK) break;
        auto answer = parse_sync_answer(
            std::string_view(natsMsg_GetData(message), static_cast<std::size_t>(natsMsg_GetDataLength(message))));
        natsMsg_Destroy(message);
        // Answers of an earlier barrier that timed out are late, not this one's.
        if (answer && answer->first == request.barrier) std::erase(waiting, answer->second);
    }
    if (waiting.size() <= unreachable) return;
    spdlog::warn("cluster: {} of the other live nodes did not confirm the new {} within sync_timeout_ms ({} ms); "
                 "the acknowledgement went out anyway ({} times so far)",
                 waiting.size() - unreachable,
                 request.kind == SyncRequest::Kind::interest ? "subscription interest" : "registration",
                 config_.sync_timeout_ms, ++barrier_timeouts_);
}

void ClusterNode::on_sync(natsConnection*, natsSubscription*, natsMsg* message, void* closure) {
    auto* node = static_cast<ClusterNode*>(closure);
    auto request = parse_sync_request(
        std::string_view(natsMsg_GetData(message), static_cast<std::size_t>(natsMsg_GetDataLength(message))));
    const char* reply = natsMsg_GetReply(message);
    std::optional<SyncAnswer> answer;
    if (request && reply) answer = SyncAnswer{reply, encode_sync_answer(request->barrier, node->node_id_)};
    natsMsg_Destroy(message);
    if (!answer) return;
    if (request->kind == SyncRequest::Kind::directory) {
        bool refused = false;
        {
            std::lock_guard lock(node->directory_mutex_);
            answer = node->directory_waiters_.ask(request->revision, std::move(*answer), refused);
        }
        if (refused && worth_logging(++node->sync_refusals_))
            spdlog::warn("cluster: {} registration barriers of other nodes not answered: {} wait for this node's "
                         "directory watcher already",
                         node->sync_refusals_.load(), max_waiting_directory_syncs);
        if (!answer) return;
    }
    node->send_sync_answer(*answer);
}

void ClusterNode::send_sync_answer(const SyncAnswer& answer) {
    natsConnection_PublishString(events_, answer.subject.c_str(), answer.body.c_str());
}

ClusterNode::RealmLink* ClusterNode::link_for(std::string_view realm) const {
    for (const auto& link : links_)
        if (link->realm().name() == realm) return link.get();
    return nullptr;
}

void ClusterNode::node_dead(std::uint64_t node) {
    for (auto& link : links_) {
        link->rpc().node_dead(node);
        link->gathers().node_dead(node);
    }
}

void ClusterNode::on_rpc_message(natsConnection*, natsSubscription*, natsMsg* message, void* closure) {
    static_cast<ClusterNode*>(closure)->receive_rpc(message);
}

void ClusterNode::receive_rpc(natsMsg* message) {
    std::string subject = natsMsg_GetSubject(message);
    if (natsMsg_IsNoResponders(message)) {
        natsMsg_Destroy(message);
        // br.n.<self>.nr.<realm token>.<call key>
        auto last = subject.rfind('.');
        auto before = subject.rfind('.', last - 1);
        auto token = subject.substr(before + 1, last - before - 1);
        std::uint64_t key = 0;
        try {
            key = std::stoull(subject.substr(last + 1));
        } catch (const std::exception&) {
            return;
        }
        boost::asio::post(io_, [this, token = std::move(token), key] {
            for (auto& link : links_)
                if (subject_token(link->realm().name()) == token) link->rpc().no_responders(key);
        });
        return;
    }
    auto header = headers_of(message);
    std::string fault;
    auto envelope = read_rpc_envelope(header, fault);
    auto realm_header = header("Br-Realm");
    auto realm = realm_header ? percent_decode(*realm_header) : std::nullopt;
    if (envelope && !realm) fault = "header Br-Realm missing or malformed";
    auto frame = take_inbound(message, envelope && realm ? nullptr : &fault);
    if (!frame) return;
    bool request = subject == call_subject(node_id_);
    boost::asio::post(io_, [this, envelope = std::move(*envelope), realm = std::move(*realm), frame = std::move(frame),
                            request] {
        settle_inbound(frame->size());
        auto* link = link_for(realm);
        if (!link) return;
        if (request) link->rpc().receive_request(envelope, frame);
        else link->rpc().receive_answer(envelope, frame);
    });
}

std::size_t ClusterNode::max_frame_size() const {
    auto max_payload = natsConnection_GetMaxPayload(events_);
    auto budget = static_cast<std::int64_t>(config_.header_budget);
    return max_payload > budget ? static_cast<std::size_t>(max_payload - budget) : 0;
}

void ClusterNode::publish(const std::string& subject, const Envelope& envelope, const std::string& frame) {
    Envelope stamped = envelope;
    stamped.node = node_id_;
    stamped.sequence = ++sequence_;
    natsMsg* message = nullptr;
    auto status = natsMsg_Create(&message, subject.c_str(), nullptr, frame.data(), static_cast<int>(frame.size()));
    for (const auto& [key, value] : envelope_headers(stamped))
        if (status == NATS_OK) status = natsMsgHeader_Set(message, key.c_str(), value.c_str());
    if (status == NATS_OK) status = natsConnection_PublishMsg(events_, message);
    natsMsg_Destroy(message);
    // Core NATS is at-most-once: a publication that cannot go out now is lost, as one
    // lost in flight would be; the local subscribers still get it.
    if (status != NATS_OK && worth_logging(++publish_failures_))
        spdlog::warn("cluster: {} publications not sent to NATS (last: {})", publish_failures_,
                     natsStatus_GetText(status));
}

bool ClusterNode::first_copy(const Envelope& envelope) {
    auto [it, fresh] = last_seen_.try_emplace(envelope.node, envelope.sequence);
    if (fresh) {
        if (last_seen_.size() > max_remembered_origins) {
            last_seen_.clear();
            last_seen_.emplace(envelope.node, envelope.sequence);
        }
        return true;
    }
    if (envelope.sequence <= it->second) return false;
    it->second = envelope.sequence;
    return true;
}

void ClusterNode::on_message(natsConnection*, natsSubscription*, natsMsg* message, void* closure) {
    auto* link = static_cast<RealmLink*>(closure);
    link->node().receive(*link, message);
}

HeaderLookup ClusterNode::headers_of(natsMsg* message) {
    return [message](std::string_view name) -> std::optional<std::string_view> {
        const char* value = nullptr;
        if (natsMsgHeader_Get(message, std::string(name).c_str(), &value) != NATS_OK || !value) return std::nullopt;
        return std::string_view(value);
    };
}

std::shared_ptr<const std::string> ClusterNode::take_inbound(natsMsg* message, const std::string* fault) {
    std::size_t size = static_cast<std::size_t>(natsMsg_GetDataLength(message));
    if (fault || inbound_messages_ >= config_.max_inbound_messages ||
        inbound_bytes_ + size > config_.max_inbound_bytes) {
        auto dropped = ++inbound_dropped_;
        if (worth_logging(dropped))
            spdlog::warn("cluster: {} messages from NATS dropped ({})", dropped,
                         fault ? wamp::log_text(*fault)
                               : std::string("the router thread is behind: max_inbound_messages/bytes reached"));
        natsMsg_Destroy(message);
        return nullptr;
    }
    auto frame = std::make_shared<const std::string>(natsMsg_GetData(message), size);
    natsMsg_Destroy(message);
    ++inbound_messages_;
    inbound_bytes_ += size;
    return frame;
}

void ClusterNode::settle_inbound(std::size_t size) {
    --inbound_messages_;
    inbound_bytes_ -= size;
}

void ClusterNode::receive(RealmLink& link, natsMsg* message) {
    std::string fault;
    auto envelope = read_envelope(headers_of(message), fault);
    auto frame = take_inbound(message, envelope ? nullptr : &fault);
    if (!frame) return;
    boost::asio::post(io_, [this, &link, envelope = std::move(*envelope), frame = std::move(frame)] {
        settle_inbound(frame->size());
        link.deliver(envelope, frame);
    });
}

void ClusterNode::open_control() {
    natsOptions* options = nullptr;
    check(natsOptions_Create(&options), "natsOptions_Create");
    std::unique_ptr<natsOptions, decltype(&natsOptions_Destroy)> owned(options, &natsOptions_Destroy);
    // Its own connection and delivery threads, so that a flood of events cannot hold
    // up heartbeats and bring false death verdicts (§2.1). Echo on: a node hears its
    // own heartbeats come back (cluster/liveness.hpp).
    control_ = connect(options, "control");
    check(natsConnection_Subscribe(&heartbeats_, control_, "br.hb", &ClusterNode::on_heartbeat, this),
          "NATS subscription to br.hb");
    auto inbox = "br.n." + node_text_ + ".ctl";
    check(natsConnection_Subscribe(&control_inbox_, control_, inbox.c_str(), &ClusterNode::on_control, this),
          "NATS subscription to " + inbox);
    jsOptions js;
    check(jsOptions_Init(&js), "jsOptions_Init");
    // KV requests run on the router thread: a JetStream that does not answer holds
    // every session of the node up for this long at most.
    js.Wait = kv_request_timeout_ms;
    check(natsConnection_JetStream(&jetstream_, control_, &js), "JetStream");
    kvConfig kv;
    check(kvConfig_Init(&kv), "kvConfig_Init");
    kv.Bucket = "br_testament";
    kv.Description = "blindrouter: testaments of the sessions of live nodes";
    // Memory storage: testaments may be plaintext of a plaintext realm; none reaches disk (§2.11).
    kv.StorageType = js_MemoryStorage;
    kv.History = 1;
    kv.Replicas = static_cast<int>(config_.kv_replicas);
    kv.MaxBytes = static_cast<std::int64_t>(config_.kv_max_bytes);
    testament_store_ = open_bucket(kv);
    // Retained events: one per topic (history 1), memory storage for the same reason.
    kv.Bucket = "br_ret";
    kv.Description = "blindrouter: the last retained event of each topic of the clustered realms";
    kv.MaxBytes = static_cast<std::int64_t>(config_.retained_max_bytes);
    retained_store_ = open_bucket(kv);
    // This node's copy of it (cluster/retained_mirror.hpp). The last sequence is read
    // before the watch begins: once the watch's initial values are in, everything up
    // to it is, deleted entries (never delivered) included.
    auto last = until_jetstream_answers([this] { return retained_stream_state(); });
    check(last ? NATS_OK : NATS_ERR, "reading the state of JetStream stream KV_br_ret");
    kvWatchOptions watch;
    kvWatchOptions_Init(&watch);
    watch.IgnoreDeletes = false;  // a delete or purge marker removes the key from the copy
    check(kvStore_WatchAll(&retained_watcher_, retained_store_, &watch), "watching JetStream KV br_ret");
    retained_thread_ = std::thread([this, caught_up_at = last->second] { watch_retained(caught_up_at); });
}

std::optional<std::pair<std::uint64_t, std::uint64_t>> ClusterNode::retained_stream_state() {
    jsStreamInfo* info = nullptr;
    jsErrCode error = static_cast<jsErrCode>(0);
    if (js_GetStreamInfo(&info, jetstream_, "KV_br_ret", nullptr, &error) != NATS_OK || !info) return std::nullopt;
    std::pair range{info->State.FirstSeq, info->State.LastSeq};
    jsStreamInfo_Destroy(info);
    return range;
}

void ClusterNode::watch_retained(std::uint64_t caught_up_at) {
    run_kv_watch(
        retained_watcher_, [this, caught_up_at] { retained_mirror_.caught_up(caught_up_at); },
        [this](const KvChange& change) {
            retained_mirror_.apply(std::string(change.key), std::string(change.value), change.revision,
                                   change.deleted);
        });
}

kvStore* ClusterNode::open_bucket(kvConfig& kv) {
    // Creating an existing bucket of the same settings is no error; another node may
    // have made it with other settings, which this node then uses as they are.
    auto* store = until_jetstream_answers([&]() -> kvStore* {
        kvStore* opened = nullptr;
        if (js_CreateKeyValue(&opened, jetstream_, &kv) == NATS_OK || js_KeyValue(&opened, jetstream_, kv.Bucket) == NATS_OK)
            return opened;
        return nullptr;
    });
    if (!store)
        throw std::runtime_error(std::string("cluster: no JetStream KV ") + kv.Bucket +
                                 " (is JetStream enabled on the NATS servers, with room for " +
                                 std::to_string(config_.kv_replicas) + " replicas?): " + last_nats_error());
    return store;
}

void ClusterNode::on_node_dead(std::function<void(std::uint64_t node_id)> observer) {
    dead_observers_.push_back(std::move(observer));
}

void ClusterNode::send_heartbeat() {
    rapidjson::StringBuffer body;
    rapidjson::Writer<rapidjson::StringBuffer> out(body);
    auto now = Liveness::Clock::now();
    out.StartObject();
    out.Key("node");
    out.String(node_text_.c_str());
    out.Key("incarnation");
    out.Uint64(liveness_.incarnation());
    out.Key("realms");
    out.StartArray();
    for (const auto& realm : config_.realms) out.String(realm.c_str(), static_cast<rapidjson::SizeType>(realm.size()));
    out.EndArray();
    out.Key("config");
    out.String(config_.config_hash.c_str());
    out.Key("uptime");
    out.Double(std::chrono::duration<double>(now - started_).count());
    out.Key("sent");
    out.Int64(std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count());
    out.EndObject();
    // Lost while NATS is unreachable, as a heartbeat should be.
    natsConnection_Publish(control_, "br.hb", body.GetString(), static_cast<int>(body.GetSize()));
}

void ClusterNode::on_heartbeat(natsConnection*, natsSubscription*, natsMsg* message, void* closure) {
    auto* node = static_cast<ClusterNode*>(closure);
    Heartbeat heartbeat;
    heartbeat.received = Liveness::Clock::now();
    rapidjson::Document doc;
    doc.Parse(natsMsg_GetData(message), static_cast<std::size_t>(natsMsg_GetDataLength(message)));
    natsMsg_Destroy(message);
    if (doc.HasParseError() || !doc.IsObject()) return;
    auto text = [&doc](const char* key) -> std::string_view {
        auto it = doc.FindMember(key);
        return it != doc.MemberEnd() && it->value.IsString()
                   ? std::string_view(it->value.GetString(), it->value.GetStringLength())
                   : std::string_view();
    };
    auto id = parse_node_id(text("node"));
    auto incarnation = doc.FindMember("incarnation");
    auto sent = doc.FindMember("sent");
    if (!id || incarnation == doc.MemberEnd() || !incarnation->value.IsUint64() || sent == doc.MemberEnd() ||
        !sent->value.IsInt64())
        return;
    heartbeat.node = *id;
    heartbeat.incarnation = incarnation->value.GetUint64();
    heartbeat.config_hash = text("config");
    heartbeat.sent = Liveness::Clock::time_point(std::chrono::nanoseconds(sent->value.GetInt64()));
    boost::asio::post(node->io_, [node, heartbeat = std::move(heartbeat)] { node->heard(heartbeat); });
}

void ClusterNode::heard(const Heartbeat& heartbeat) {
    if (heartbeat.node == node_id_) {
        // The time it was sent, not received: an echo of a heartbeat sent before a
        // freeze, read after it, must not hide the freeze.
        liveness_.heard_self(heartbeat.incarnation, heartbeat.sent);
        return;
    }
    auto outcome = liveness_.heard(heartbeat.node, heartbeat.incarnation, heartbeat.received);
    if (outcome.replaced) declare_dead(*outcome.replaced);
    if (!outcome.joined) return;
    spdlog::info("cluster: node {} (incarnation {}) is live", node_id_text(heartbeat.node), heartbeat.incarnation);
    // At once rather than at the next tick: a node that started just after this one
    // missed its last heartbeat, and should know it before either can die.
    send_heartbeat();
    // Nodes must run the same realm and role configuration (§2.10); this one goes on,
    // but says so at every (re)join of a node that differs.
    if (heartbeat.config_hash != config_.config_hash)
        spdlog::error("cluster: node {} runs a different configuration of the clustered realms (hash {}, here {}): "
                      "permissions and limits now depend on the node a client reaches; give every node the same "
                      "realms and roles",
                      node_id_text(heartbeat.node), wamp::log_text(heartbeat.config_hash), config_.config_hash);
}

void ClusterNode::on_control(natsConnection*, natsSubscription*, natsMsg* message, void* closure) {
    auto* node = static_cast<ClusterNode*>(closure);
    std::string body(natsMsg_GetData(message), static_cast<std::size_t>(natsMsg_GetDataLength(message)));
    std::string reply = natsMsg_GetReply(message) ? natsMsg_GetReply(message) : "";
    natsMsg_Destroy(message);
    // Answered on the router thread: a node whose router thread is stuck is not live.
    boost::asio::post(node->io_, [node, body = std::move(body), reply = std::move(reply)] {
        if (body == "ping") {
            if (!reply.empty()) {
                auto pong = "pong " + std::to_string(node->liveness_.incarnation());
                natsConnection_PublishString(node->control_, reply.c_str(), pong.c_str());
            }
        } else if (body.starts_with("dead ")) {
            // Another node declared this one dead while it still runs (its heartbeats
            // were late on the way): the janitor has its testaments now.
            if (body.substr(5) == std::to_string(node->liveness_.incarnation())) node->rejoin();
        }
    });
}

void ClusterNode::tick() {
    auto now = Liveness::Clock::now();
    auto interval = std::chrono::milliseconds(config_.heartbeat_interval_ms);
    bool stalled = now - last_tick_ > 2 * interval;
    last_tick_ = now;
    ++ticks_;
    // Judged only while NATS is there: a node without any server does not restart
    // over and over; it finds itself declared dead once it is connected again.
    bool connected = natsConnection_Status(control_) == NATS_CONN_STATUS_CONNECTED;
    // Before any janitor work: a testament its session's leave published must not be
    // found again.
    if (connected) {
        for (const auto& key : pending_deletes_) kvStore_Delete(testament_store_, key.c_str());
        pending_deletes_.clear();
    }
    if (connected && liveness_.self_expired(now)) {
        rejoin();
    } else if (!connected || stalled) {
        // No NATS, or this thread did not run for a while (the peers' heartbeats
        // wait unread in the queue): their silence is ours; they get a fresh window.
        liveness_.restart_window(now);
    } else {
        for (const auto& verdict : liveness_.expire(now)) declare_dead(verdict);
    }
    send_heartbeat();
    // Deleted keys leave a marker each; one node (the lowest live id) drops the old
    // ones, so that the bucket holds the testaments of live sessions only.
    constexpr std::uint64_t purge_every_ticks = 60;
    if (ticks_ % purge_every_ticks == 0 && liveness_.janitor()) {
        kvPurgeOptions purge;
        kvPurgeOptions_Init(&purge);
        purge.DeleteMarkersOlderThan = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::minutes(1)).count();
        kvStore_PurgeDeletes(testament_store_, &purge);
    }
    ticker_.expires_after(interval);
    ticker_.async_wait([this](const boost::system::error_code& error) {
        if (!error) tick();
    });
}

void ClusterNode::declare_dead(const Liveness::Verdict& verdict) {
    auto dead = node_id_text(verdict.node);
    spdlog::warn("cluster: node {} (incarnation {}) declared dead: no heartbeat for {} ms", dead, verdict.incarnation,
                 std::chrono::duration_cast<std::chrono::milliseconds>(liveness_.verdict_after()).count());
    // If it still runs and reads this, it learns it is out (on_control).
    auto subject = "br.n." + dead + ".ctl";
    auto body = "dead " + std::to_string(verdict.incarnation);
    natsConnection_PublishString(control_, subject.c_str(), body.c_str());
    clean_up_after(verdict);
    for (const auto& observer : dead_observers_) observer(verdict.node);
}

void ClusterNode::rejoin() {
    auto old = liveness_.restart(Liveness::Clock::now());
    std::size_t closed = 0;
    for (auto& link : links_) {
        auto& realm = link->realm();
        std::vector<core::SessionId> sessions;
        realm.for_each_peer([&sessions](const core::PeerInfo& peer) {
            if (!peer.router_internal) sessions.push_back(peer.session_id);
        });
        for (auto session : sessions) {
            // The janitor publishes them, from br_testament; not here a second time.
            realm.testaments().discard(session);
            closed += realm.kill(session, node_declared_dead,
                                 "this router node was declared dead by the cluster (frozen or cut off from NATS); "
                                 "connect again");
        }
        // Fresh NATS interest for what the router's own sessions still subscribe to.
        link->drop_interest();
        realm.set_cluster_link(link.get());
    }
    spdlog::error("cluster: node {} was declared dead by the cluster (its own heartbeats stopped coming back for {} ms: "
                  "frozen or cut off from NATS); closed its {} sessions on clustered realms with {} and rejoins as "
                  "incarnation {}",
                  node_text_, std::chrono::duration_cast<std::chrono::milliseconds>(liveness_.verdict_after()).count(),
                  closed, node_declared_dead, liveness_.incarnation());
    send_heartbeat();
    // Peers that never noticed the silence (a newer incarnation is their verdict too)
    // may leave it to this node: whoever takes the lock first.
    clean_up_after(old);
}

std::string ClusterNode::testament_key(std::uint64_t incarnation, core::SessionId session) const {
    return node_text_ + "." + std::to_string(incarnation) + "." + std::to_string(session);
}

void ClusterNode::store_testaments(RealmLink& link, core::SessionId session) {
    auto key = testament_key(liveness_.incarnation(), session);
    auto& realm = link.realm();
    auto testaments = realm.testaments().list(session);
    const auto* peer = realm.find_peer(session);
    natsStatus status = NATS_OK;
    bool leaving = testaments.empty() || !peer;
    if (natsConnection_Status(control_) != NATS_CONN_STATUS_CONNECTED) {
        // Not waited for on the router thread while no NATS server is there; a
        // deletion is done once one is back (tick), before any janitor work.
        if (leaving && pending_deletes_.size() < max_pending_deletes) pending_deletes_.push_back(key);
        else status = NATS_CONNECTION_DISCONNECTED;
    } else if (leaving) {
        // Deleted before the leaving node publishes them itself: no janitor can find
        // them afterwards, so they go out once.
        status = kvStore_Delete(testament_store_, key.c_str());
    } else {
        TestamentRecord record;
        record.realm = realm.name();
        record.envelope.serializer = peer->serializer;
        record.envelope.node = node_id_;
        record.envelope.sequence = 1;
        record.envelope.session = session;
        record.envelope.authid = peer->authid;
        record.envelope.authrole = peer->authrole;
        for (const auto* publish : testaments) {
            codec::OutboundMessage outbound(*publish);
            const auto& frame = outbound.encoded(peer->serializer);
            if (frame) record.frames.push_back(frame.bytes());
        }
        auto value = encode_testament_record(record);
        status = kvStore_Put(nullptr, testament_store_, key.c_str(), value.data(), static_cast<int>(value.size()));
    }
    // The testaments stay here and are published if the session leaves; only a death
    // of this node would lose them.
    if (status != NATS_OK && worth_logging(++testament_failures_))
        spdlog::warn("cluster: {} testament updates not stored in JetStream KV br_testament (last: {}); they are "
                     "lost if this node dies",
                     testament_failures_, natsStatus_GetText(status));
}

void ClusterNode::store_retained(const std::string& key, const std::string& record) {
    auto status = natsConnection_Status(control_) != NATS_CONN_STATUS_CONNECTED
                      ? NATS_CONNECTION_DISCONNECTED
                      : kvStore_Put(nullptr, retained_store_, key.c_str(), record.data(), static_cast<int>(record.size()));
    // The broker here keeps it all the same, for this node's subscribers.
    if (status != NATS_OK && worth_logging(++retained_failures_))
        spdlog::warn("cluster: {} retained events not stored in JetStream KV br_ret (last: {}; retained_max_bytes "
                     "{}); they reach new subscribers on their publisher's node only",
                     retained_failures_, natsStatus_GetText(status), config_.retained_max_bytes);
}

std::optional<std::vector<core::ClusterRetained>> ClusterNode::read_retained(std::string_view realm,
                                                                             std::string_view uri,
                                                                             wamp::MatchPolicy match) {
    if (natsConnection_Status(control_) != NATS_CONN_STATUS_CONNECTED) return std::nullopt;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kv_request_timeout_ms);
    // Only the stream leader answers a stream info request in a JetStream cluster
    // (nats-server server/jetstream_api.go, jsStreamInfoRequest), so its last sequence
    // counts every retained PUBLISH acknowledged so far on any node.
    auto state = retained_stream_state();
    if (!state || !retained_mirror_.wait_for(state->second, deadline)) {
        spdlog::warn("cluster: realm \"{}\": retained events not read from JetStream KV br_ret within {} ms ({}); "
                     "this node's own stand in",
                     wamp::log_text(realm), kv_request_timeout_ms,
                     state ? "this node's copy lags behind" : "the stream leader did not answer");
        return std::nullopt;
    }
    retained_mirror_.drop_below(state->first);
    bool more = false;
    auto entries = retained_mirror_.matching(retained_filter(realm, uri, match), config_.max_retained_per_subscribe,
                                             more);
    std::vector<core::ClusterRetained> found;
    std::size_t malformed = 0;
    for (const auto& entry : entries) {
        std::string fault;
        if (auto retained = retained_from_record(realm, entry.key, entry.value, fault))
            found.push_back(std::move(*retained));
        else if (worth_logging(++malformed))
            spdlog::warn("cluster: a record in br_ret dropped: {}", wamp::log_text(fault));
    }
    if (more)
        spdlog::warn("cluster: realm \"{}\": a get_retained subscription to \"{}\" matches more than "
                     "max_retained_per_subscribe ({}) retained events; the first {} delivered",
                     wamp::log_text(realm), wamp::log_text(uri), config_.max_retained_per_subscribe, found.size());
    return found;
}

void ClusterNode::clean_up_after(const Liveness::Verdict& dead) {
    // The janitor is the node that creates this key first (a KV create fails when the
    // key exists), not the lowest live id: nodes' views differ, and a node that never
    // heard the dead one (it died within its first heartbeat interval) would otherwise
    // be the janitor and do nothing. Deleted afterwards: a late verdict that takes
    // the lock again finds every testament claimed or gone.
    auto lock = "janitor." + node_id_text(dead.node) + "." + std::to_string(dead.incarnation);
    if (kvStore_CreateString(nullptr, testament_store_, lock.c_str(), node_text_.c_str()) != NATS_OK) return;
    publish_testaments_of(dead);
    kvStore_Delete(testament_store_, lock.c_str());
}

void ClusterNode::publish_testaments_of(const Liveness::Verdict& dead) {
    auto keys = node_id_text(dead.node) + "." + std::to_string(dead.incarnation) + ".*";
    kvWatchOptions options;
    kvWatchOptions_Init(&options);
    options.IgnoreDeletes = true;
    kvWatcher* watcher = nullptr;
    if (kvStore_Watch(&watcher, testament_store_, keys.c_str(), &options) != NATS_OK) {
        spdlog::error("cluster: the testaments of node {} cannot be read from JetStream: {}", node_id_text(dead.node),
                      last_nats_error());
        return;
    }
    std::size_t published = 0, sessions = 0;
    for (;;) {
        kvEntry* entry = nullptr;
        // A null entry marks the end of what the bucket held.
        if (kvWatcher_Next(&entry, watcher, 2000) != NATS_OK || !entry) break;
        std::string key = kvEntry_Key(entry);
        std::string value(kv_value(entry));
        auto revision = kvEntry_Revision(entry);
        kvEntry_Destroy(entry);
        if (value.empty()) continue;  // claimed by another janitor
        // The claim: only one node's compare-and-set of this revision succeeds.
        if (kvStore_Update(nullptr, testament_store_, key.c_str(), "", 0, revision) != NATS_OK) continue;
        std::string fault;
        auto record = decode_testament_record(value, fault);
        core::Realm* realm = nullptr;
        if (record)
            for (auto& link : links_)
                if (link->realm().name() == record->realm) realm = &link->realm();
        if (!realm) {
            spdlog::warn("cluster: a testament of node {} dropped: {}", node_id_text(dead.node),
                         record ? "its realm is not clustered here" : wamp::log_text(fault));
        } else {
            ++sessions;
            core::PeerInfo publisher;
            publisher.session_id = record->envelope.session;
            publisher.realm = record->realm;
            publisher.authid = record->envelope.authid;
            publisher.authrole = record->envelope.authrole;
            publisher.serializer = record->envelope.serializer;
            for (const auto& frame : record->frames) {
                auto decoded = codec::decode(publisher.serializer, std::make_shared<const std::string>(frame));
                if (decoded && decoded.message().type == wamp::MessageType::publish &&
                    realm->publish_testament(publisher, decoded.message()))
                    ++published;
            }
        }
        kvStore_Delete(testament_store_, key.c_str());
    }
    kvWatcher_Destroy(watcher);
    if (sessions > 0)
        spdlog::info("cluster: published {} testaments of {} sessions of node {} (incarnation {})", published, sessions,
                     node_id_text(dead.node), dead.incarnation);
}

void ClusterNode::on_error(natsConnection*, natsSubscription*, natsStatus status, void* closure) {
    auto* node = static_cast<ClusterNode*>(closure);
    // NATS_SLOW_CONSUMER means the server or libnats dropped messages for this node.
    spdlog::error("cluster: node {}: NATS reports {}", node->node_text_, natsStatus_GetText(status));
}

void ClusterNode::on_disconnected(natsConnection*, void* closure) {
    spdlog::warn("cluster: node {} lost its NATS server; reconnecting",
                 static_cast<ClusterNode*>(closure)->node_text_);
}

void ClusterNode::on_reconnected(natsConnection* connection, void* closure) {
    char url[256] = {};
    natsConnection_GetConnectedUrl(connection, url, sizeof url);
    spdlog::info("cluster: node {} reconnected to NATS at {}", static_cast<ClusterNode*>(closure)->node_text_,
                 wamp::log_text(url_for_log(url)));
}

}  // namespace blindrouter::cluster
