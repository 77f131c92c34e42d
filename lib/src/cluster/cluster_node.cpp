#include "blindrouter/cluster/cluster_node.hpp"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
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
class ClusterNode::RealmLink : public core::ClusterLink {
public:
    RealmLink(ClusterNode& node, core::Realm& realm) : node_(node), realm_(realm) {}
    ~RealmLink() override { drop_interest(); }

    core::Realm& realm() { return realm_; }
    ClusterNode& node() { return node_; }

    hooks::Verdict forward_publication(const core::PeerInfo& publisher, const wamp::Message& publish,
                                       bool disclose_publisher) override {
        // The sender's own frame: the payload crosses the cluster byte-exact, and so do
        // the options the receiving node routes by; it applies the mismatch rules to it.
        auto body = forwarded_body(publish, publisher.serializer);
        if (!body) return hooks::Verdict::pass();  // a router-built PUBLISH its serializer cannot express
        auto limit = node_.max_frame_size();
        if (body->size() > limit)
            return hooks::Verdict::error(std::string(payload_size_exceeded),
                                         "the message is " + std::to_string(body->size()) +
                                             " bytes; a clustered realm carries at most " + std::to_string(limit));
        Envelope envelope;
        envelope.serializer = publisher.serializer;
        envelope.session = publisher.session_id;
        envelope.authid = publisher.authid;
        envelope.authrole = publisher.authrole;
        envelope.disclose = disclose_publisher;
        node_.publish(event_subject(realm_.name(), wamp::Publish(publish).topic()), envelope, *body);
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
};

ClusterNode::ClusterNode(boost::asio::io_context& io, core::Router& router, ClusterConfig config)
    : io_(io), config_(std::move(config)), node_id_(random_node_id()), node_text_(node_id_text(node_id_)) {
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
        spdlog::warn("cluster: realm \"{}\" is shared with other nodes for publish & subscribe only; calls and "
                     "registrations, the meta API, retained events and event history stay on this node for now, "
                     "and testaments cross only while their node lives (README: Clustered realms (NATS))",
                     wamp::log_text(realm->name()));
    }
}

ClusterNode::~ClusterNode() {
    for (auto& link : links_) {
        link->realm().set_cluster_link(nullptr);
        link->drop_interest();
    }
    if (events_) {
        natsConnection_Close(events_);
        natsConnection_Destroy(events_);
    }
    // No libnats thread may call back into the links once they are gone.
    nats_CloseAndWait(2000);
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

void ClusterNode::receive(RealmLink& link, natsMsg* message) {
    std::size_t size = static_cast<std::size_t>(natsMsg_GetDataLength(message));
    std::string fault;
    auto envelope = read_envelope(
        [message](std::string_view name) -> std::optional<std::string_view> {
            const char* value = nullptr;
            if (natsMsgHeader_Get(message, std::string(name).c_str(), &value) != NATS_OK || !value) return std::nullopt;
            return std::string_view(value);
        },
        fault);
    if (!envelope || inbound_messages_ >= config_.max_inbound_messages ||
        inbound_bytes_ + size > config_.max_inbound_bytes) {
        auto dropped = ++inbound_dropped_;
        if (worth_logging(dropped))
            spdlog::warn("cluster: {} messages from NATS dropped ({})", dropped,
                         envelope ? "the router thread is behind: max_inbound_messages/bytes reached"
                                  : wamp::log_text(fault));
        natsMsg_Destroy(message);
        return;
    }
    auto frame = std::make_shared<const std::string>(natsMsg_GetData(message), size);
    natsMsg_Destroy(message);
    ++inbound_messages_;
    inbound_bytes_ += size;
    boost::asio::post(io_, [this, &link, envelope = std::move(*envelope), frame = std::move(frame), size] {
        --inbound_messages_;
        inbound_bytes_ -= size;
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
