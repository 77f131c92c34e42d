// The realm's seam to a cluster (core/cluster_link.hpp): what it tells the link and
// how a publication from another node reaches its local subscribers.
#include <boost/test/unit_test.hpp>

#include "blindrouter/core/cluster_link.hpp"
#include "blindrouter/wamp/error_uri.hpp"
#include "core/fake_session.hpp"

using namespace blindrouter;
using namespace blindrouter::testing;

namespace {
struct RecordingLink : core::ClusterLink {
    hooks::Verdict forward_publication(const core::PeerInfo& publisher, const wamp::Message& publish,
                                       bool disclose, core::PublicationId publication) override {
        // The service session's meta events (wamp.session.on_join, ...) cross too.
        auto topic = wamp::Publish(publish).topic();
        if (!topic.starts_with("wamp."))
            forwarded.push_back({publisher.session_id, topic, disclose,
                                 publish.received_frame ? *publish.received_frame : std::string(), publication});
        return refusal;
    }
    void subscription_created(std::string_view uri, wamp::MatchPolicy match) override {
        record('+', uri, match);
    }
    void subscription_deleted(std::string_view uri, wamp::MatchPolicy match) override {
        record('-', uri, match);
    }
    void testaments_changed(core::SessionId session) override { testament_changes.push_back(session); }
    void publication_retained(const core::PeerInfo& publisher, const wamp::Message& publish, bool disclose) override {
        retained.push_back({publisher.session_id, wamp::Publish(publish).topic(), disclose,
                            publish.received_frame ? *publish.received_frame : std::string()});
    }
    std::optional<std::vector<core::ClusterRetained>> retained_events(std::string_view uri,
                                                                      wamp::MatchPolicy match) override {
        record('?', uri, match);
        return kept_by_cluster;
    }
    bool gather_meta(const std::string& procedure, const core::CallArguments&, const core::InvocationDetails&,
                     std::function<void(core::MetaAnswers)> done) override {
        gathered.push_back(procedure);
        if (refuse_gathers) return false;
        pending_gather = std::move(done);
        return true;
    }
    // The other nodes answer the pending gather.
    void answer(std::vector<core::CallOutcome> answers, std::size_t missing = 0) {
        BOOST_REQUIRE(pending_gather);
        auto done = std::move(pending_gather);
        pending_gather = nullptr;
        done(core::MetaAnswers{std::move(answers), missing});
    }
    std::optional<core::RegistrationMatch> best_registration(std::string_view) override { return directory_match; }
    std::optional<core::RegistrationMatch> directory_match;
    std::vector<std::string> gathered;
    std::function<void(core::MetaAnswers)> pending_gather;
    bool refuse_gathers = false;
    void record(char change, std::string_view uri, wamp::MatchPolicy match) {
        std::string line(1, change);
        line.append(uri).append("/").append(wamp::match_name(match));
        interest.push_back(std::move(line));
    }
    struct Forwarded {
        core::SessionId publisher;
        std::string topic;
        bool disclose;
        std::string received_frame;
        core::PublicationId publication = 0;
    };
    std::vector<Forwarded> forwarded;
    std::vector<std::string> interest;
    std::vector<core::SessionId> testament_changes;
    std::vector<Forwarded> retained;
    std::optional<std::vector<core::ClusterRetained>> kept_by_cluster;
    hooks::Verdict refusal = hooks::Verdict::pass();
};

// open_realm_config, and the testament procedures may be called.
const std::string cluster_realm_config = R"({"version": 2,
  "workers": [{"type": "router",
    "realms": [{"name": "realm1", "roles": [{"name": "anonymous", "permissions": [
        {"uri": "com.", "match": "prefix", "allow": {"call": true, "register": true, "publish": true, "subscribe": true}},
        {"uri": "wamp.session.", "match": "prefix", "allow": {"call": true}},
        {"uri": "wamp.subscription.", "match": "prefix", "allow": {"call": true}},
        {"uri": "wamp.registration.", "match": "prefix", "allow": {"call": true}}]}]}],
    "transports": [{"type": "websocket", "endpoint": {"type": "tcp", "port": 9000}}]}]})";

struct ClusterFixture : RouterHarness {
    RecordingLink link;
    explicit ClusterFixture(const std::string& config = cluster_realm_config) : RouterHarness(config) {}
    // The realm outlives the link (a base outlives its members): sessions that leave
    // as the router shuts down must not tell a link that is gone.
    ~ClusterFixture() { realm().set_cluster_link(nullptr); }
    core::Realm& realm() { return *router().find_realm("realm1"); }
    // A retained event as another node's link reads it from the cluster.
    static core::ClusterRetained kept(core::SessionId publisher, const std::string& frame, bool disclose = false) {
        return core::ClusterRetained{*make_peer(publisher, "remote-id", "anonymous"), parse(frame), disclose};
    }
};

struct LimitedRetentionFixture : ClusterFixture {
    LimitedRetentionFixture() : ClusterFixture(limited(cluster_realm_config)) {}
    static std::string limited(std::string config) {
        auto at = config.find(R"("roles")");
        config.insert(at, R"("store": {"type": "memory", "max_retained_events": 1}, )");
        return config;
    }
};
}  // namespace

BOOST_FIXTURE_TEST_SUITE(realm_cluster, ClusterFixture)

BOOST_AUTO_TEST_CASE(subscriptions_made_before_and_after_the_link_are_told) {
    auto sub = join();
    sub->send(R"([32, 1, {}, "com.a"])");
    realm().set_cluster_link(&link);
    sub->send(R"([32, 2, {"match": "prefix"}, "com.p"])");
    sub->send(R"([32, 3, {}, "com.a"])");  // same subscription: no new interest
    BOOST_TEST(link.interest == (std::vector<std::string>{"+com.a/exact", "+com.p/prefix"}));
    sub.reset();
    BOOST_TEST(link.interest.size() == 4u);
    BOOST_TEST(link.interest[2].starts_with("-"));
    BOOST_TEST(link.interest[3].starts_with("-"));
}

BOOST_AUTO_TEST_CASE(a_local_publication_is_forwarded_once_before_local_delivery) {
    realm().set_cluster_link(&link);
    auto sub = join();
    auto pub = join();
    sub->send(R"([32, 1, {}, "com.t"])");
    pub->send(R"([16, 2, {}, "com.t", ["x"]])");
    BOOST_REQUIRE(link.forwarded.size() == 1u);
    BOOST_TEST(link.forwarded[0].publisher == pub->session->id());
    BOOST_TEST(link.forwarded[0].topic == "com.t");
    BOOST_TEST(!link.forwarded[0].disclose);
    BOOST_TEST(sub->last()[0].GetInt() == 36);
}

BOOST_AUTO_TEST_CASE(the_link_gets_the_id_the_publisher_and_local_subscribers_get) {
    realm().set_cluster_link(&link);
    auto sub = join();
    auto pub = join();
    sub->send(R"([32, 1, {}, "com.t"])");
    pub->send(R"([16, 2, {"acknowledge": true}, "com.t", ["x"]])");
    BOOST_REQUIRE(link.forwarded.size() == 1u);
    BOOST_TEST(link.forwarded[0].publication == sub->last()[2].GetUint64());
    BOOST_TEST(link.forwarded[0].publication == pub->last()[2].GetUint64());  // PUBLISHED
}

BOOST_AUTO_TEST_CASE(a_remote_publication_keeps_its_origins_id) {
    realm().set_cluster_link(&link);
    auto sub = join();
    sub->send(R"([32, 1, {}, "com.t"])");
    realm().publish_remote(*make_peer(777, "remote-id", "anonymous"), parse(R"([16, 9, {}, "com.t"])"), false,
                           core::PublicationId{4242});
    BOOST_TEST(sub->last()[2].GetUint64() == 4242u);
}

BOOST_AUTO_TEST_CASE(the_link_gets_the_frame_as_the_publisher_sent_it) {
    realm().set_cluster_link(&link);
    auto pub = join();
    const std::string frame = "[16,2,{ \"exclude_me\":false ,\"acknowledge\" : true},\"com.t\" , [\"x\"],{}]";
    pub->send_frame(wamp::Serializer::json, frame);
    BOOST_REQUIRE(link.forwarded.size() == 1u);
    BOOST_TEST(link.forwarded[0].received_frame == frame);
}

BOOST_AUTO_TEST_CASE(a_refused_forward_reaches_nobody_and_answers_the_publisher) {
    realm().set_cluster_link(&link);
    link.refusal = hooks::Verdict::error("wamp.error.payload_size_exceeded", "too large for the cluster");
    auto sub = join();
    auto pub = join();
    sub->send(R"([32, 1, {}, "com.t"])");
    auto before = sub->transport.sent.size();
    pub->send(R"([16, 2, {"acknowledge": true}, "com.t", ["x"]])");
    BOOST_TEST(sub->transport.sent.size() == before);
    BOOST_TEST(pub->last_error_uri() == "wamp.error.payload_size_exceeded");
    BOOST_TEST(pub->session->established());
}

BOOST_AUTO_TEST_CASE(a_remote_publication_follows_the_local_match_and_options) {
    realm().set_cluster_link(&link);
    auto exact = join();
    auto prefix = join();
    auto excluded = join();
    exact->send(R"([32, 1, {}, "com.t.x"])");
    prefix->send(R"([32, 1, {"match": "prefix"}, "com.t"])");
    excluded->send(R"([32, 1, {}, "com.t.x"])");
    auto publisher = make_peer(777, "remote-id", "anonymous");
    auto frame = "[16, 9, {\"acknowledge\": true, \"exclude\": [" + std::to_string(excluded->session->id()) +
                 "]}, \"com.t.x\", [\"y\"]]";
    auto before = excluded->transport.sent.size();
    realm().publish_remote(*publisher, parse(frame), true, std::nullopt);
    auto event = exact->last();
    BOOST_TEST(event[0].GetInt() == 36);
    BOOST_TEST(event[3]["publisher"].GetUint64() == 777u);
    BOOST_TEST(event[3]["publisher_authid"].GetString() == std::string("remote-id"));
    BOOST_TEST(event[4][0].GetString() == std::string("y"));
    BOOST_TEST(prefix->last()[3]["topic"].GetString() == std::string("com.t.x"));
    BOOST_TEST(excluded->transport.sent.size() == before);
    // Not forwarded again: only local publications cross to other nodes.
    BOOST_TEST(link.forwarded.empty());
    BOOST_TEST(exact->transport.sent.size() == 3u);  // WELCOME, SUBSCRIBED, the one EVENT
}

BOOST_AUTO_TEST_CASE(the_link_is_told_when_a_sessions_testaments_change_and_when_it_leaves) {
    realm().set_cluster_link(&link);
    auto c = join();
    auto id = c->session->id();
    c->send(R"([48, 1, {}, "wamp.session.add_testament", ["com.gone", ["a"], {}]])");
    c->send(R"([48, 2, {}, "wamp.session.add_testament", ["com.gone", ["b"], {}, null, "detached"]])");
    BOOST_TEST(link.testament_changes == (std::vector<core::SessionId>{id, id}));
    auto kept = realm().testaments().list(id);
    BOOST_REQUIRE(kept.size() == 2u);  // publishing order: detached first
    BOOST_TEST(wamp::Publish(*kept[0]).topic() == "com.gone");
    c->send(R"([48, 3, {}, "wamp.session.flush_testaments", ["detached"]])");
    BOOST_TEST(link.testament_changes.size() == 3u);
    BOOST_TEST(realm().testaments().list(id).size() == 1u);
    c.reset();
    BOOST_TEST(link.testament_changes.size() == 4u);
    BOOST_TEST(realm().testaments().list(id).empty());
    // Published by the leaving node itself, across the link.
    BOOST_REQUIRE(link.forwarded.size() == 1u);
    BOOST_TEST(link.forwarded[0].topic == "com.gone");
}

BOOST_AUTO_TEST_CASE(a_dead_nodes_testament_reaches_local_subscribers_and_other_nodes_if_its_role_may_publish) {
    realm().set_cluster_link(&link);
    auto sub = join();
    sub->send(R"([32, 1, {}, "com.gone"])");
    auto gone = make_peer(4242, "gone-id", "anonymous");
    BOOST_TEST(realm().publish_testament(*gone, parse(R"([16, 7, {}, "com.gone", ["bye"]])")));
    auto event = sub->last();
    BOOST_TEST(event[0].GetInt() == 36);
    BOOST_TEST(event[4][0].GetString() == std::string("bye"));
    BOOST_REQUIRE(link.forwarded.size() == 1u);
    BOOST_TEST(link.forwarded[0].publisher == 4242u);
    // The role may not publish outside com.: nothing goes anywhere.
    auto before = sub->transport.sent.size();
    BOOST_TEST(!realm().publish_testament(*gone, parse(R"([16, 8, {}, "org.gone", ["bye"]])")));
    BOOST_TEST(!realm().publish_testament(*gone, parse(R"([16, 9, {}, "wamp.session.on_leave", []])")));
    BOOST_TEST(sub->transport.sent.size() == before);
    BOOST_TEST(link.forwarded.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_kept_retained_publication_reaches_the_link_before_its_acknowledgement) {
    realm().set_cluster_link(&link);
    auto pub = join();
    const std::string frame = R"([16, 2, {"retain": true, "acknowledge": true}, "com.r", ["x"]])";
    pub->send_frame(wamp::Serializer::json, frame);
    BOOST_REQUIRE(link.retained.size() == 1u);
    BOOST_TEST(link.retained[0].topic == "com.r");
    BOOST_TEST(link.retained[0].received_frame == frame);
    BOOST_TEST(pub->last()[0].GetInt() == 17);
    pub->send(R"([16, 3, {"acknowledge": true}, "com.r", ["not retained"]])");
    BOOST_TEST(link.retained.size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_retained_publication_beyond_the_realms_limit_stays_out_of_the_cluster,
                        LimitedRetentionFixture) {
    realm().set_cluster_link(&link);
    auto pub = join();
    pub->send(R"([16, 2, {"retain": true}, "com.r1", ["x"]])");
    pub->send(R"([16, 3, {"retain": true, "acknowledge": true}, "com.r2", ["y"]])");
    BOOST_TEST(pub->last_error_uri() == "wamp.error.limit_reached");
    BOOST_REQUIRE(link.retained.size() == 1u);
    BOOST_TEST(link.retained[0].topic == "com.r1");
}

BOOST_AUTO_TEST_CASE(get_retained_delivers_the_clusters_retained_events_that_match_instead_of_the_nodes) {
    realm().set_cluster_link(&link);
    auto pub = join();
    pub->send(R"([16, 2, {"retain": true}, "com.p.local", ["local copy"]])");
    link.kept_by_cluster = std::vector<core::ClusterRetained>{
        kept(501, R"([16, 1, {"retain": true}, "com.p.a", ["a"]])", true),
        kept(502, R"([16, 1, {"retain": true}, "com.q", ["not under com.p"]])"),
        kept(503, R"([16, 1, {"retain": true, "eligible": [12345678901]}, "com.p.b", ["for another session"]])"),
    };
    auto sub = join();
    sub->send(R"([32, 7, {"match": "prefix", "get_retained": true}, "com.p"])");
    BOOST_TEST(link.interest.back() == "?com.p/prefix");
    // SUBSCRIBED, then the one retained event that matches and admits the subscriber.
    BOOST_REQUIRE(sub->transport.sent.size() == 3u);
    auto event = sub->last();
    BOOST_TEST(event[0].GetInt() == 36);
    BOOST_TEST(event[3]["retained"].GetBool());
    BOOST_TEST(event[3]["topic"].GetString() == std::string("com.p.a"));
    BOOST_TEST(event[3]["publisher"].GetUint64() == 501u);
    BOOST_TEST(event[4][0].GetString() == std::string("a"));
}

BOOST_AUTO_TEST_CASE(get_retained_falls_back_to_the_nodes_own_when_the_cluster_cannot_say) {
    realm().set_cluster_link(&link);
    auto pub = join();
    pub->send(R"([16, 2, {"retain": true}, "com.r", ["kept here"]])");
    auto sub = join();
    sub->send(R"([32, 7, {"get_retained": true}, "com.r"])");
    BOOST_TEST(link.interest.back() == "?com.r/exact");
    auto event = sub->last();
    BOOST_TEST(event[0].GetInt() == 36);
    BOOST_TEST(event[4][0].GetString() == std::string("kept here"));
}

// ---- The meta API across nodes (SCALE-OUT.md §2.9) ----

namespace {
core::CallOutcome answered(wamp::Value value) { return core::CallArguments{wamp::List{std::move(value)}, {}}; }
std::string frame_of(Client& c) { return c.transport.sent.back(); }
}  // namespace

BOOST_AUTO_TEST_CASE(a_meta_count_waits_for_the_other_nodes_and_adds_their_parts) {
    realm().set_cluster_link(&link);
    auto a = join();
    auto before = a->transport.sent.size();
    a->send(R"([48, 1, {}, "wamp.session.count", []])");
    BOOST_TEST(link.gathered == (std::vector<std::string>{"wamp.session.count"}));
    BOOST_TEST(a->transport.sent.size() == before);  // not answered before the others did
    link.answer({answered(wamp::Value{std::uint64_t{2}}), answered(wamp::Value{std::uint64_t{4}})});
    BOOST_TEST(frame_of(*a) == "[50,1,{},[7]]");
}

BOOST_AUTO_TEST_CASE(a_meta_list_joins_the_other_nodes_ids) {
    realm().set_cluster_link(&link);
    auto a = join();
    a->send(R"([48, 1, {}, "wamp.session.list", []])");
    link.answer({answered(wamp::Value{wamp::List{wamp::Value{std::uint64_t{77}}}})});
    BOOST_TEST(frame_of(*a) == "[50,1,{},[[" + std::to_string(a->session->id()) + ",77]]]");
}

BOOST_AUTO_TEST_CASE(a_meta_answer_missing_a_node_says_so) {
    realm().set_cluster_link(&link);
    auto a = join();
    a->send(R"([48, 1, {}, "wamp.session.count", []])");
    link.answer({}, 1);
    BOOST_TEST(frame_of(*a) == R"([50,1,{},[1],{"partial":true,"missing_nodes":1}])");
    a->send(R"([48, 2, {}, "wamp.session.get", [12345]])");
    link.answer({core::CallError::with_message(wamp::error_uri::no_such_session, "no session")}, 1);
    BOOST_TEST(a->last_error_uri() == wamp::error_uri::no_such_session);
    BOOST_TEST(frame_of(*a).find("1 cluster nodes did not answer in time") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(what_this_node_answers_alone_asks_no_other_node) {
    realm().set_cluster_link(&link);
    auto a = join();
    a->send("[48, 1, {}, \"wamp.session.get\", [" + std::to_string(a->session->id()) + "]]");
    BOOST_TEST(a->last()[0].GetInt() == 50);
    a->send(R"([48, 2, {}, "wamp.session.count", ["anonymous"]])");
    BOOST_TEST(a->last_error_uri() == wamp::error_uri::runtime_error);
    BOOST_TEST(link.gathered.empty());
}

BOOST_AUTO_TEST_CASE(a_meta_question_beyond_the_gathers_bound_is_refused) {
    realm().set_cluster_link(&link);
    link.refuse_gathers = true;
    auto a = join();
    a->send(R"([48, 1, {}, "wamp.session.count", []])");
    BOOST_TEST(a->last_error_uri() == wamp::error_uri::limit_reached);
}

BOOST_AUTO_TEST_CASE(a_kill_of_a_session_elsewhere_is_the_owning_nodes) {
    realm().set_cluster_link(&link);
    auto a = join();
    a->send(R"([48, 1, {}, "wamp.session.kill", [12345]])");
    BOOST_TEST(link.gathered == (std::vector<std::string>{"wamp.session.kill"}));
    link.answer({core::CallError::with_message(wamp::error_uri::no_such_session, "no session"), answered(wamp::Value{})});
    BOOST_TEST(frame_of(*a) == "[50,1,{},[null]]");
}

BOOST_AUTO_TEST_CASE(a_clustered_realm_names_subscriptions_and_registrations_as_every_node_does) {
    realm().set_cluster_link(&link);
    auto a = join();
    a->send(R"([32, 1, {"match": "prefix"}, "com.s"])");
    BOOST_TEST(a->last()[2].GetUint64() == core::observation_id("realm1", "com.s", wamp::MatchPolicy::prefix));
    a->send(R"([64, 2, {}, "com.p"])");
    BOOST_TEST(a->last()[2].GetUint64() == core::observation_id("realm1", "com.p", wamp::MatchPolicy::exact));
    a->send(R"([48, 3, {}, "wamp.subscription.lookup", ["com.s", {"match": "prefix"}]])");
    BOOST_TEST(frame_of(*a) ==
               "[50,3,{},[" + std::to_string(core::observation_id("realm1", "com.s", wamp::MatchPolicy::prefix)) + "]]");
}

BOOST_AUTO_TEST_CASE(registration_match_names_what_the_directory_matches_on_any_node) {
    realm().set_cluster_link(&link);
    auto a = join();
    a->send(R"([64, 1, {"match": "prefix"}, "com.r"])");
    link.directory_match = core::RegistrationMatch{"com.r.x", wamp::MatchPolicy::exact};  // held by another node
    a->send(R"([48, 2, {}, "wamp.registration.match", ["com.r.x"]])");
    BOOST_TEST(frame_of(*a) ==
               "[50,2,{},[" + std::to_string(core::observation_id("realm1", "com.r.x", wamp::MatchPolicy::exact)) + "]]");
    link.directory_match = core::RegistrationMatch{};  // none: this node's dealer answers
    a->send(R"([48, 3, {}, "wamp.registration.match", ["com.r.y"]])");
    BOOST_TEST(frame_of(*a) ==
               "[50,3,{},[" + std::to_string(core::observation_id("realm1", "com.r", wamp::MatchPolicy::prefix)) + "]]");
    BOOST_TEST(link.gathered.empty());
}

BOOST_AUTO_TEST_SUITE_END()
