#include "blindrouter/cluster/cluster_node.hpp"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <chrono>
#include <stdexcept>

#include "blindrouter/cluster/subject.hpp"
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

void check(natsStatus status, const std::string& what) {
    if (status != NATS_OK)
        throw std::runtime_error(what + ": " + natsStatus_GetText(status) + " (" + nats_GetLastError(nullptr) + ")");
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

}  // namespace

// A clustered realm's side of core::ClusterLink: the NATS interest it holds and
// where other nodes' publications for it arrive.
class ClusterNode::RealmLink : public RpcClusterLink, public RpcBus {
public:
    RealmLink(ClusterNode& node, core::Realm& realm)
        : node_(node),
          realm_(realm),
          rpc_(node.router_, realm, node.node_id_, *this,
               RpcLimits{node.config_.max_pending_remote_calls, node.config_.max_remote_callers}) {}
    ~RealmLink() override { drop_interest(); }

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
        existing.assign(static_cast<const char*>(kvEntry_Value(entry)), static_cast<std::size_t>(kvEntry_ValueLen(entry)));
        kvEntry_Destroy(entry);
        return Created::exists;
    }
    std::optional<std::uint64_t> put_key(const std::string& key, const std::string& value) override {
        std::uint64_t revision = 0;
        if (!directory_reachable() || kvStore_Put(&revision, node_.registrations_, key.c_str(), value.data(),
                                                 static_cast<int>(value.size())) != NATS_OK)
            return std::nullopt;
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
                                       bool disclose_publisher) override {
        // The PUBLISH in its sender's own serializer: Arguments, ArgumentsKw and a
        // transparent payload are the received bytes, spliced, so the payload crosses
        // the cluster byte-exact and receivers apply the mismatch rules to it.
        codec::OutboundMessage outbound(publish);
        const auto& frame = outbound.encoded(publisher.serializer);
        if (!frame) return hooks::Verdict::pass();  // what its sender wrote always encodes; nothing to forward
        auto limit = node_.max_frame_size();
        if (frame.size() > limit)
            return hooks::Verdict::error(std::string(payload_size_exceeded),
                                         "the message is " + std::to_string(frame.size()) +
                                             " bytes; a clustered realm carries at most " + std::to_string(limit));
        Envelope envelope;
        envelope.serializer = publisher.serializer;
        envelope.session = publisher.session_id;
        envelope.authid = publisher.authid;
        envelope.authrole = publisher.authrole;
        envelope.disclose = disclose_publisher;
        node_.publish(event_subject(realm_.name(), wamp::Publish(publish).topic()), envelope, frame.bytes());
        return hooks::Verdict::pass();
    }

    void subscription_created(std::string_view uri, wamp::MatchPolicy match) override {
        auto subject = interest_subject(realm_.name(), uri, match);
        auto& interest = interest_[subject];
        if (interest.count++ > 0) return;
        auto status = natsConnection_Subscribe(&interest.subscription, node_.events_, subject.c_str(),
                                               &ClusterNode::on_message, this);
        // Flushed before SUBSCRIBED goes out: this node's NATS server knows of the
        // interest then; the other servers learn it over routes (the §2.5 window).
        // Not while disconnected: libnats sends the subscription on reconnecting, and
        // waiting here would hold up every session of the node for nothing.
        if (status == NATS_OK && natsConnection_Status(node_.events_) == NATS_CONN_STATUS_CONNECTED)
            status = natsConnection_FlushTimeout(node_.events_, static_cast<std::int64_t>(node_.config_.flush_timeout_ms));
        if (status != NATS_OK)
            spdlog::error("cluster: realm \"{}\": NATS interest in \"{}\" not confirmed: {}",
                          wamp::log_text(realm_.name()), wamp::log_text(uri), natsStatus_GetText(status));
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
        realm_.publish_remote(publisher, decoded.message(), envelope.disclose);
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
};

ClusterNode::ClusterNode(boost::asio::io_context& io, core::Router& router, ClusterConfig config)
    : io_(io),
      config_(std::move(config)),
      node_id_(random_node_id()),
      node_text_(node_id_text(node_id_)),
      router_(router) {
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
    std::vector<const char*> servers;
    for (const auto& url : config_.nats) servers.push_back(url.c_str());
    check(natsOptions_SetServers(options, servers.data(), static_cast<int>(servers.size())), "NATS servers");
    check(natsOptions_SetNoRandomize(options, true), "NATS options");
    check(natsOptions_SetMaxReconnect(options, -1), "NATS options");
    check(natsOptions_SetReconnectWait(options, 250), "NATS options");
    // A frozen or partitioned server is noticed within 10 s (§2.8).
    check(natsOptions_SetPingInterval(options, 5000), "NATS options");
    check(natsOptions_SetMaxPingsOut(options, 2), "NATS options");
    check(natsOptions_SetNoEcho(options, true), "NATS options");
    // Written from the router thread at once rather than by libnats' flusher thread,
    // which adds about a millisecond to every cross-node event (measured: README).
    check(natsOptions_SetSendAsap(options, true), "NATS options");
    check(natsOptions_UseGlobalMessageDelivery(options, true), "NATS options");
    check(natsOptions_SetErrorHandler(options, &ClusterNode::on_error, this), "NATS options");
    check(natsOptions_SetDisconnectedCB(options, &ClusterNode::on_disconnected, this), "NATS options");
    check(natsOptions_SetReconnectedCB(options, &ClusterNode::on_reconnected, this), "NATS options");
    auto name = "blindrouter " + node_text_ + " events";
    check(natsOptions_SetName(options, name.c_str()), "NATS options");
    check(natsConnection_Connect(&events_, options), "cannot connect to NATS");

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
                     "registrations; the meta API, retained events and event history stay on this node for now, "
                     "and testaments cross only while their node lives (README: Clustered realms (NATS))",
                     wamp::log_text(realm->name()));
    }
    start_rpc(options);
}

ClusterNode::~ClusterNode() {
    if (watcher_) kvWatcher_Stop(watcher_);
    if (watch_thread_.joinable()) watch_thread_.join();
    if (watcher_) kvWatcher_Destroy(watcher_);
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
    // directory outlives no node process anyway), one replica per NATS server up to 3.
    jsOptions js_options;
    jsOptions_Init(&js_options);
    js_options.Wait = 1000;
    check(natsConnection_JetStream(&rpc_jetstream_, rpc_, &js_options), "JetStream");
    kvConfig kv;
    kvConfig_Init(&kv);
    kv.Bucket = registrations_bucket.data();
    kv.History = 1;
    kv.StorageType = js_MemoryStorage;
    kv.Replicas = config_.nats.size() >= 3 ? 3 : 1;
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
    for (;;) {
        kvEntry* entry = nullptr;
        auto status = kvWatcher_Next(&entry, watcher_, 1000);
        if (status == NATS_TIMEOUT) continue;
        if (status != NATS_OK) return;  // stopped
        if (!entry) continue;           // the end of the initial values
        auto parsed = parse_directory_key(kvEntry_Key(entry));
        if (parsed) {
            auto op = kvEntry_Operation(entry);
            bool deleted = op == kvOp_Delete || op == kvOp_Purge;
            std::string value(static_cast<const char*>(kvEntry_Value(entry)),
                              static_cast<std::size_t>(std::max(0, kvEntry_ValueLen(entry))));
            auto revision = kvEntry_Revision(entry);
            boost::asio::post(io_, [this, key = std::move(*parsed), value = std::move(value), revision, deleted] {
                if (auto* link = link_for(key.realm)) link->rpc().directory_changed(key, value, revision, deleted);
            });
        }
        kvEntry_Destroy(entry);
    }
}

ClusterNode::RealmLink* ClusterNode::link_for(std::string_view realm) const {
    for (const auto& link : links_)
        if (link->realm().name() == realm) return link.get();
    return nullptr;
}

void ClusterNode::node_dead(std::uint64_t node) {
    for (auto& link : links_) link->rpc().node_dead(node);
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
