// Calls and registrations across nodes (cluster/rpc.hpp, SCALE-OUT.md §2.7): the
// directory's keys and view, the member a policy picks, the RPC envelope, and a
// realm's RealmRpc on both sides of a call, with NATS replaced by a recording bus.
#include <boost/test/unit_test.hpp>
#include <map>

#include "blindrouter/cluster/rpc.hpp"
#include "blindrouter/core/realm.hpp"
#include "core/fake_session.hpp"

using namespace blindrouter;
using namespace blindrouter::cluster;
using namespace blindrouter::testing;
using core::InvokePolicy;
using wamp::MatchPolicy;

namespace {

constexpr std::uint64_t self = 0x1111, other = 0x2222, third = 0x3333;

struct Sent {
    std::string subject, reply;
    std::map<std::string, std::string, std::less<>> headers;
    std::string frame;
};

struct FakeBus : RpcBus {
    bool send(const std::string& subject, const std::string& reply, const Headers& headers,
              std::string_view frame) override {
        Sent s{subject, reply, {}, std::string(frame)};
        for (const auto& [k, v] : headers) s.headers[k] = v;
        sent.push_back(std::move(s));
        return deliverable;
    }
    Created create_key(const std::string& key, const std::string& value, std::string& existing) override {
        if (auto it = keys.find(key); it != keys.end()) {
            existing = it->second;
            return Created::exists;
        }
        keys[key] = value;
        return Created::created;
    }
    std::optional<std::uint64_t> put_key(const std::string& key, const std::string& value) override {
        keys[key] = value;
        return ++revision;
    }
    void delete_key(const std::string& key) override { keys.erase(key); }
    std::size_t max_frame_size() const override { return max_frame; }

    // The envelope of the last message sent.
    RpcEnvelope last_envelope() const {
        std::string fault;
        const auto& headers = sent.back().headers;
        auto envelope = read_rpc_envelope(
            [&](std::string_view name) -> std::optional<std::string_view> {
                auto it = headers.find(name);
                if (it == headers.end()) return std::nullopt;
                return std::string_view(it->second);
            },
            fault);
        BOOST_REQUIRE_MESSAGE(envelope, fault);
        return *envelope;
    }

    std::vector<Sent> sent;
    std::map<std::string, std::string> keys;
    std::uint64_t revision = 100;
    std::size_t max_frame = 1 << 20;
    bool deliverable = true;
};

// The realm's ClusterLink, RPC side only, as ClusterNode's RealmLink wires it.
struct RpcLink : RpcClusterLink {
    explicit RpcLink(RealmRpc& rpc) : rpc_(rpc) {}
    RealmRpc& rpc() override { return rpc_; }
    hooks::Verdict forward_publication(const core::PeerInfo&, const wamp::Message&, bool, core::PublicationId) override {
        return hooks::Verdict::pass();
    }
    void subscription_created(std::string_view, MatchPolicy) override {}
    void subscription_deleted(std::string_view, MatchPolicy) override {}
    RealmRpc& rpc_;
};

struct RpcFixture : RouterHarness {
    FakeBus bus;
    std::unique_ptr<RealmRpc> rpc;
    std::unique_ptr<RpcLink> link;
    explicit RpcFixture(const std::string& config = open_realm_config) : RouterHarness(config) {
        rpc = std::make_unique<RealmRpc>(router(), realm(), self, bus, RpcLimits{2, 2});
        link = std::make_unique<RpcLink>(*rpc);
        realm().set_cluster_link(link.get());
    }
    ~RpcFixture() { realm().set_cluster_link(nullptr); }
    core::Realm& realm() { return *router().find_realm("realm1"); }
    // A member of another node, as the directory watch brings it.
    void remote_member(std::string_view uri, std::uint64_t node, core::SessionId session, std::uint64_t revision,
                       InvokePolicy policy = InvokePolicy::single, MatchPolicy match = MatchPolicy::exact) {
        DirectoryKey key{"realm1", std::string(uri), match, node, session};
        rpc->directory_changed(key, member_value(policy), revision, false);
    }
    // A message from another node, as ClusterNode hands it over.
    RpcEnvelope from(std::uint64_t node, RpcKind kind, core::SessionId session, core::RequestId request) {
        RpcEnvelope e;
        e.kind = kind;
        e.node = node;
        e.session = session;
        e.request = request;
        e.authid = "remote";
        e.authrole = "anonymous";
        return e;
    }
    static std::shared_ptr<const std::string> frame(std::string text) {
        return std::make_shared<const std::string>(std::move(text));
    }
};

struct LimitedRpcFixture : RpcFixture {
    LimitedRpcFixture()
        : RpcFixture(one_realm_node(R"("limits": {"max_registrations_per_session": 1},)",
                                    R"({"uri": "com.", "match": "prefix", "allow": {"call": true, "register": true}})")) {}
};

RegistrationView::Member member(std::uint64_t node, core::SessionId session, std::uint64_t revision) {
    return {node, session, revision};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cluster_rpc)

BOOST_AUTO_TEST_CASE(directory_keys_read_back_and_use_only_kv_key_characters) {
    auto head = head_key("realm 1", "com.a..b", MatchPolicy::wildcard);
    auto key = member_key("realm 1", "com.a..b", MatchPolicy::wildcard, 0xabc, 42);
    for (char c : key) BOOST_TEST((std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'));
    BOOST_TEST(key.starts_with(head + "."));
    auto parsed = parse_directory_key(key);
    BOOST_REQUIRE(parsed);
    BOOST_TEST(parsed->realm == "realm 1");
    BOOST_TEST(parsed->uri == "com.a..b");
    BOOST_TEST((parsed->match == MatchPolicy::wildcard));
    BOOST_TEST(parsed->node == 0xabcu);
    BOOST_TEST(parsed->session == 42u);
    BOOST_TEST(parse_directory_key(head)->node == 0u);
    BOOST_TEST(!parse_directory_key("zz.00.exact"));
    BOOST_TEST(!parse_directory_key("00.00.fuzzy"));
    BOOST_TEST(!parse_directory_key("00.00.exact.0000000000000abc"));
    BOOST_TEST((directory_policy(member_value(InvokePolicy::roundrobin)) == InvokePolicy::roundrobin));
    // The head's registration id is the same on every node.
    BOOST_TEST(head_value("r", "com.a", MatchPolicy::exact, InvokePolicy::first) ==
               head_value("r", "com.a", MatchPolicy::exact, InvokePolicy::first));
    BOOST_TEST((directory_policy(head_value("r", "com.a", MatchPolicy::exact, InvokePolicy::first)) ==
                InvokePolicy::first));
    // ... and the id a clustered realm's dealer gives the registration (core::observation_id).
    BOOST_TEST(head_value("r", "com.a", MatchPolicy::exact, InvokePolicy::first) ==
               "1 first " + std::to_string(core::observation_id("r", "com.a", MatchPolicy::exact)));
    BOOST_TEST(!directory_policy("2 single"));
}

BOOST_AUTO_TEST_CASE(the_view_matches_exact_before_longest_prefix_before_wildcard) {
    RegistrationView view;
    view.add("com.a", MatchPolicy::prefix, InvokePolicy::single, member(1, 10, 1));
    view.add("com.a.b", MatchPolicy::prefix, InvokePolicy::single, member(2, 20, 2));
    view.add("com.a.b.c", MatchPolicy::exact, InvokePolicy::single, member(3, 30, 3));
    view.add("com..b.c", MatchPolicy::wildcard, InvokePolicy::single, member(1, 40, 4));
    BOOST_TEST(view.best_match("com.a.b.c")->uri == "com.a.b.c");
    BOOST_TEST(view.best_match("com.a.b.x")->uri == "com.a.b");
    BOOST_TEST(view.best_match("com.ax")->uri == "com.a");
    BOOST_TEST(view.best_match("com.z.b.c")->uri == "com..b.c");
    BOOST_TEST(!view.best_match("org.a"));
    // A dead node's members go, and an entry with them when it has no other.
    view.remove_node(1);
    BOOST_TEST(!view.best_match("com.z.b.c"));
    BOOST_TEST(!view.best_match("com.ax"));
    BOOST_TEST(view.size() == 2u);
    view.remove("com.a.b.c", MatchPolicy::exact, 3, 30);
    BOOST_TEST(view.best_match("com.a.b.c")->uri == "com.a.b");
}

BOOST_AUTO_TEST_CASE(members_are_picked_by_policy_in_revision_order) {
    RegistrationView view;
    // Arriving out of order: the revision decides first and last.
    view.add("com.p", MatchPolicy::exact, InvokePolicy::first, member(2, 20, 7));
    view.add("com.p", MatchPolicy::exact, InvokePolicy::first, member(1, 10, 5));
    view.add("com.p", MatchPolicy::exact, InvokePolicy::first, member(3, 30, 9));
    auto& entry = *view.find("com.p", MatchPolicy::exact);
    BOOST_TEST(view.pick(entry, {})->session == 10u);
    BOOST_TEST(view.pick(entry, {member(1, 10, 0)})->session == 20u);
    entry.policy = InvokePolicy::last;
    BOOST_TEST(view.pick(entry, {})->session == 30u);
    BOOST_TEST(view.pick(entry, {member(3, 30, 0)})->session == 20u);
    entry.policy = InvokePolicy::roundrobin;
    std::vector<core::SessionId> turns;
    for (int i = 0; i < 6; ++i) turns.push_back(view.pick(entry, {})->session);
    BOOST_TEST(turns == (std::vector<core::SessionId>{10, 20, 30, 10, 20, 30}));
    entry.policy = InvokePolicy::random;
    std::set<core::SessionId> seen;
    for (int i = 0; i < 200; ++i) seen.insert(view.pick(entry, {member(2, 20, 0)})->session);
    BOOST_TEST(seen == (std::set<core::SessionId>{10, 30}));
    BOOST_TEST(!view.pick(entry, {member(1, 10, 0), member(2, 20, 0), member(3, 30, 0)}));
}

BOOST_AUTO_TEST_CASE(the_rpc_envelope_reads_back_with_empty_authid_and_features) {
    RpcEnvelope e;
    e.kind = RpcKind::call;
    e.serializer = wamp::Serializer::msgpack;
    e.node = 0xfeed;
    e.session = 7;
    e.request = 9;
    e.target = 11;
    e.authid = "";
    e.authrole = "a b,c";
    e.caller_features = {"progressive_call_results", "x,y"};
    std::map<std::string, std::string, std::less<>> headers;
    for (const auto& [k, v] : rpc_headers(e)) {
        BOOST_TEST(!v.empty());  // libnats mis-reads empty header values
        headers[k] = v;
    }
    std::string fault;
    auto lookup = [&](std::string_view name) -> std::optional<std::string_view> {
        auto it = headers.find(name);
        if (it == headers.end()) return std::nullopt;
        return std::string_view(it->second);
    };
    auto back = read_rpc_envelope(lookup, fault);
    BOOST_REQUIRE_MESSAGE(back, fault);
    BOOST_TEST((back->kind == RpcKind::call));
    BOOST_TEST((back->serializer == wamp::Serializer::msgpack));
    BOOST_TEST(back->node == 0xfeedu);
    BOOST_TEST(back->target == 11u);
    BOOST_TEST(back->authid == "");
    BOOST_TEST(back->authrole == "a b,c");
    BOOST_TEST(back->caller_features == e.caller_features);
    headers["Br-Target"] = "0";
    BOOST_TEST(!read_rpc_envelope(lookup, fault));
    BOOST_TEST(fault == "header Br-Target malformed");
    // With two headers missing, the fault names the first the reader wants.
    headers.erase("Br-Kind");
    headers.erase("Br-Req");
    fault.clear();
    BOOST_TEST(!read_rpc_envelope(lookup, fault));
    BOOST_TEST(fault == "header Br-Kind missing");
}

BOOST_FIXTURE_TEST_CASE(a_call_to_a_callee_of_another_node_crosses_and_its_result_comes_back,
                        RpcFixture) {
    remote_member("com.r", other, 77, 1);
    auto caller = join();
    caller->send(R"([48, 5, {}, "com.r", [1, "x"]])");
    BOOST_REQUIRE(bus.sent.size() == 1u);
    BOOST_TEST(bus.sent[0].subject == call_subject(other));
    BOOST_TEST(bus.sent[0].reply == no_responders_subject(self, "realm1", 1));
    // Arguments as the caller wrote them, spacing included: byte-exact.
    BOOST_TEST(bus.sent[0].frame == R"([48,5,{},"com.r",[1, "x"]])");
    auto envelope = bus.last_envelope();
    BOOST_TEST((envelope.kind == RpcKind::call));
    BOOST_TEST(envelope.target == 77u);
    BOOST_TEST(envelope.session == caller->session->id());
    BOOST_TEST(rpc->pending_calls() == 1u);
    // Its answer, in the caller's serializer, is passed on unchanged.
    auto answer = from(other, RpcKind::answer, caller->session->id(), 5);
    answer.kind = RpcKind::answer;
    rpc->receive_answer(answer, frame(R"([50, 5, {"progress": true}, ["p"]])"));
    BOOST_TEST(caller->transport.sent.back() == R"([50,5,{"progress":true},["p"]])");
    rpc->receive_answer(answer, frame(R"([50, 5, {}, ["done"]])"));
    BOOST_TEST(caller->transport.sent.back() == R"([50,5,{},["done"]])");
    BOOST_TEST(rpc->pending_calls() == 0u);
}

BOOST_FIXTURE_TEST_CASE(a_death_verdict_fails_the_calls_waiting_on_that_node_with_canceled, RpcFixture) {
    remote_member("com.r", other, 77, 1);
    remote_member("com.s", third, 88, 2);
    for (auto [uri, node, session] : {std::tuple{"com.r", other, 77}, std::tuple{"com.s", third, 88}}) {
        bus.keys[head_key("realm1", uri, MatchPolicy::exact)] = "1 single 1";
        bus.keys[member_key("realm1", uri, MatchPolicy::exact, node, session)] = "1 single";
    }
    auto caller = join();
    caller->send(R"([48, 5, {}, "com.r", []])");
    caller->send(R"([48, 6, {}, "com.s", []])");
    BOOST_TEST(rpc->pending_calls() == 2u);
    rpc->node_dead(other);
    BOOST_TEST(caller->last_error_uri() == "wamp.error.canceled");
    BOOST_TEST(caller->last()[2].GetInt() == 5);
    BOOST_TEST(rpc->pending_calls() == 1u);  // the call on the living node waits on
    // Its members left the view and its keys the directory, with the head it alone
    // had: a new call finds no callee, and the procedure is free again.
    caller->send(R"([48, 7, {}, "com.r", []])");
    BOOST_TEST(caller->last_error_uri() == "wamp.error.no_such_procedure");
    BOOST_TEST(bus.keys.size() == 2u);
    BOOST_TEST(bus.keys.count(head_key("realm1", "com.s", MatchPolicy::exact)) == 1u);
    // A late answer from the dead node is dropped.
    auto late = from(other, RpcKind::answer, caller->session->id(), 5);
    auto before = caller->transport.sent.size();
    rpc->receive_answer(late, frame(R"([50, 5, {}, []])"));
    BOOST_TEST(caller->transport.sent.size() == before);
}

BOOST_FIXTURE_TEST_CASE(a_stale_or_unreachable_member_makes_the_call_try_the_next, RpcFixture) {
    remote_member("com.sh", other, 77, 1, InvokePolicy::first);
    remote_member("com.sh", third, 88, 2, InvokePolicy::first);
    auto caller = join();
    caller->send(R"([48, 5, {}, "com.sh", []])");
    BOOST_TEST(bus.sent.back().subject == call_subject(other));
    // "no such target" from a stale directory: the next member.
    rpc->receive_answer(from(other, RpcKind::no_target, caller->session->id(), 5), frame(""));
    BOOST_TEST(bus.sent.back().subject == call_subject(third));
    BOOST_TEST(bus.last_envelope().target == 88u);
    // No responders (that node is gone): none left, so no_such_procedure.
    rpc->no_responders(1);
    BOOST_TEST(caller->last_error_uri() == "wamp.error.no_such_procedure");
    BOOST_TEST(rpc->pending_calls() == 0u);
}

BOOST_FIXTURE_TEST_CASE(pending_calls_to_one_node_are_limited, RpcFixture) {
    remote_member("com.r", other, 77, 1);
    auto caller = join();
    caller->send(R"([48, 1, {}, "com.r", []])");
    caller->send(R"([48, 2, {}, "com.r", []])");
    caller->send(R"([48, 3, {}, "com.r", []])");
    BOOST_TEST(bus.sent.size() == 2u);
    BOOST_TEST(caller->last_error_uri() == "wamp.error.limit_reached");
}

BOOST_FIXTURE_TEST_CASE(a_call_larger_than_the_cluster_carries_is_refused_and_the_session_goes_on, RpcFixture) {
    remote_member("com.r", other, 77, 1);
    bus.max_frame = 30;
    auto caller = join();
    caller->send(R"([48, 1, {}, "com.r", ["a long enough argument"]])");
    BOOST_TEST(caller->last_error_uri() == "wamp.error.payload_size_exceeded");
    BOOST_TEST(bus.sent.empty());
    BOOST_TEST(!caller->transport.closed);
}

BOOST_FIXTURE_TEST_CASE(progress_from_a_caller_that_did_not_announce_it_aborts_it_before_it_crosses, RpcFixture) {
    remote_member("com.r", other, 77, 1);
    auto caller = join(R"([1, "realm1", {"roles": {"caller": {}}}])");
    caller->send(R"([48, 5, {"progress": true}, "com.r", [1]])");
    expect_violation(*caller, "progressive_call_invocations");
    BOOST_TEST(bus.sent.empty());
}

BOOST_FIXTURE_TEST_CASE(a_progressive_call_s_further_calls_follow_it_to_its_node, RpcFixture) {
    remote_member("com.r", other, 77, 1);
    auto caller = join(R"([1, "realm1", {"roles": {"caller": {"features": {"progressive_call_invocations": true}}}}])");
    caller->send(R"([48, 5, {"progress": true}, "com.r", [1]])");
    BOOST_TEST((bus.last_envelope().kind == RpcKind::call));
    BOOST_TEST(bus.last_envelope().caller_features == std::vector<std::string>{"progressive_call_invocations"});
    caller->send(R"([48, 5, {"progress": true}, "com.r", [2]])");
    BOOST_TEST((bus.last_envelope().kind == RpcKind::more));
    BOOST_TEST(bus.sent.back().subject == call_subject(other));
    caller->send(R"([48, 5, {}, "com.r", [3]])");
    BOOST_TEST((bus.last_envelope().kind == RpcKind::more));
    BOOST_TEST(bus.sent.size() == 3u);
    // Its input is closed: the same request id again is the protocol violation.
    caller->send(R"([48, 5, {}, "com.r", [4]])");
    expect_violation(*caller, "request id 5");
}

BOOST_FIXTURE_TEST_CASE(a_call_timeout_runs_on_the_caller_node_too, RpcFixture) {
    remote_member("com.r", other, 77, 1);
    auto caller = join();
    caller->send(R"([48, 5, {"timeout": 100}, "com.r", []])");
    timers.advance(std::chrono::milliseconds(99));
    BOOST_TEST(rpc->pending_calls() == 1u);
    timers.advance(std::chrono::milliseconds(1));
    BOOST_TEST(caller->last_error_uri() == "wamp.error.timeout");
    BOOST_TEST(rpc->pending_calls() == 0u);
    // The callee's node interrupts its callee as the dealer does on a timeout.
    BOOST_TEST((bus.last_envelope().kind == RpcKind::cancel));
    BOOST_TEST(bus.sent.back().frame == R"([49,5,{"mode":"killnowait"}])");
}

BOOST_FIXTURE_TEST_CASE(a_cancel_and_a_leaving_caller_follow_the_call_to_its_node, RpcFixture) {
    remote_member("com.r", other, 77, 1);
    auto caller = join();
    caller->send(R"([48, 5, {}, "com.r", []])");
    caller->send(R"([49, 5, {"mode": "kill"}])");
    BOOST_TEST(bus.sent.back().subject == call_subject(other));
    BOOST_TEST((bus.last_envelope().kind == RpcKind::cancel));
    BOOST_TEST(bus.sent.back().frame == R"([49,5,{"mode":"kill"}])");
    caller.reset();
    BOOST_TEST((bus.last_envelope().kind == RpcKind::left));
    BOOST_TEST(rpc->pending_calls() == 0u);
}

BOOST_FIXTURE_TEST_CASE(a_registration_held_single_by_another_node_is_refused_as_on_one_node, RpcFixture) {
    bus.keys[head_key("realm1", "com.one", MatchPolicy::exact)] =
        head_value("realm1", "com.one", MatchPolicy::exact, InvokePolicy::single);
    bus.keys[head_key("realm1", "com.rr", MatchPolicy::exact)] =
        head_value("realm1", "com.rr", MatchPolicy::exact, InvokePolicy::roundrobin);
    remote_member("com.rr", other, 77, 1, InvokePolicy::roundrobin);
    auto callee = join();
    callee->send(R"([64, 1, {}, "com.one"])");
    BOOST_TEST(callee->last_error_uri() == "wamp.error.procedure_already_exists");
    callee->send(R"([64, 2, {"invoke": "random"}, "com.rr"])");
    BOOST_TEST(callee->last_error_uri() == "wamp.error.procedure_already_exists");
    // The same shared policy joins: the member key is written and the view has it.
    callee->send(R"([64, 3, {"invoke": "roundrobin"}, "com.rr"])");
    BOOST_TEST(callee->last()[0].GetInt() == 65);
    BOOST_TEST(bus.keys.count(member_key("realm1", "com.rr", MatchPolicy::exact, self, callee->session->id())) == 1u);
    BOOST_TEST(rpc->view().find("com.rr", MatchPolicy::exact)->members.size() == 2u);
    // A new procedure creates its head; the last callee leaving removes both keys.
    callee->send(R"([64, 4, {}, "com.new"])");
    BOOST_TEST(bus.keys.count(head_key("realm1", "com.new", MatchPolicy::exact)) == 1u);
    callee.reset();
    BOOST_TEST(bus.keys.count(head_key("realm1", "com.new", MatchPolicy::exact)) == 0u);
    BOOST_TEST(bus.keys.size() == 2u);  // the two heads of the other node
    BOOST_TEST(rpc->view().size() == 1u);  // its member of com.rr
}

BOOST_FIXTURE_TEST_CASE(a_registration_the_dealer_refuses_leaves_no_head_behind, LimitedRpcFixture) {
    auto callee = join();
    callee->send(R"([64, 1, {}, "com.a"])");
    callee->send(R"([64, 2, {}, "com.b"])");
    BOOST_TEST(callee->last_error_uri() == "wamp.error.limit_reached");
    BOOST_TEST(bus.keys.count(head_key("realm1", "com.a", MatchPolicy::exact)) == 1u);
    BOOST_TEST(bus.keys.count(head_key("realm1", "com.b", MatchPolicy::exact)) == 0u);
}

struct CallLimitedRpcFixture : RpcFixture {
    CallLimitedRpcFixture()
        : RpcFixture(one_realm_node(R"("limits": {"max_pending_calls_per_caller": 2},)",
                                    R"({"uri": "com.", "match": "prefix", "allow": {"call": true, "register": true}})")) {}
};

BOOST_FIXTURE_TEST_CASE(calls_waiting_on_other_nodes_count_against_the_callers_limit_here, CallLimitedRpcFixture) {
    remote_member("com.r", other, 77, 1);
    auto callee = join();
    callee->send(R"([64, 1, {}, "com.here"])");
    auto caller = join();
    caller->send(R"([48, 5, {}, "com.r", []])");
    caller->send(R"([48, 6, {}, "com.here", []])");
    BOOST_TEST(rpc->pending_calls() == 1u);
    // One call elsewhere and one here: the limit of 2 is reached, for either route.
    caller->send(R"([48, 7, {}, "com.r", []])");
    BOOST_TEST(caller->last_error_uri() == "wamp.error.limit_reached");
    BOOST_TEST(caller->last()[2].GetInt() == 7);
    caller->send(R"([48, 8, {}, "com.here", []])");
    BOOST_TEST(caller->last_error_uri() == "wamp.error.limit_reached");
    BOOST_TEST(caller->last()[2].GetInt() == 8);
    BOOST_TEST(rpc->pending_calls() == 1u);
    // The remote call's answer frees its place.
    auto answer = from(other, RpcKind::answer, caller->session->id(), 5);
    rpc->receive_answer(answer, frame(R"([50, 5, {}, ["done"]])"));
    BOOST_TEST(rpc->pending_calls() == 0u);
    caller->send(R"([48, 9, {}, "com.r", []])");
    BOOST_TEST(rpc->pending_calls() == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_call_from_another_node_is_invoked_here_and_answered_there, RpcFixture) {
    auto callee = join();
    callee->send(R"([64, 1, {}, "com.here"])");
    auto registration = callee->last()[2].GetUint64();
    auto call = from(other, RpcKind::call, 4242, 9);
    call.target = callee->session->id();
    rpc->receive_request(call, frame(R"([48, 9, {"disclose_me": true}, "com.here", [1]])"));
    auto invocation = callee->last();
    BOOST_TEST(invocation[0].GetInt() == 68);
    BOOST_TEST(invocation[2].GetUint64() == registration);
    BOOST_TEST(invocation[3]["caller"].GetUint64() == 4242u);
    BOOST_TEST(invocation[3]["caller_authid"].GetString() == std::string("remote"));
    BOOST_TEST(rpc->remote_callers() == 1u);
    callee->send(R"([70, )" + std::to_string(invocation[1].GetUint64()) + R"(, {}, ["ok"]])");
    BOOST_TEST(bus.sent.back().subject == reply_subject(other));
    BOOST_TEST(bus.sent.back().frame == R"([50,9,{},["ok"]])");
    auto answer = bus.last_envelope();
    BOOST_TEST((answer.kind == RpcKind::answer));
    BOOST_TEST(answer.session == 4242u);
    BOOST_TEST(answer.request == 9u);
    // A target that holds no matching registration: "no such target", not invoked.
    auto stale = from(other, RpcKind::call, 4242, 10);
    stale.target = 999;
    rpc->receive_request(stale, frame(R"([48, 10, {}, "com.here", []])"));
    BOOST_TEST((bus.last_envelope().kind == RpcKind::no_target));
    BOOST_TEST(bus.last_envelope().request == 10u);
}

BOOST_FIXTURE_TEST_CASE(the_callers_of_a_dead_or_leaving_node_have_their_invocations_interrupted, RpcFixture) {
    auto callee = join(R"([1, "realm1", {"roles": {"callee": {"features": {"call_canceling": true}}}}])");
    callee->send(R"([64, 1, {}, "com.here"])");
    auto call = from(other, RpcKind::call, 4242, 9);
    call.target = callee->session->id();
    rpc->receive_request(call, frame(R"([48, 9, {}, "com.here", []])"));
    auto invocation = callee->last()[1].GetUint64();
    rpc->node_dead(other);
    BOOST_TEST(callee->last()[0].GetInt() == 69);  // INTERRUPT
    BOOST_TEST(callee->last()[1].GetUint64() == invocation);
    BOOST_TEST(rpc->remote_callers() == 0u);
    // A caller that leaves its node: the same, on its node's word.
    rpc->receive_request(call, frame(R"([48, 9, {}, "com.here", []])"));
    auto second = callee->last()[1].GetUint64();
    rpc->receive_request(from(other, RpcKind::left, 4242, 0), frame(""));
    BOOST_TEST(callee->last()[0].GetInt() == 69);
    BOOST_TEST(callee->last()[1].GetUint64() == second);
}

BOOST_FIXTURE_TEST_CASE(callers_of_other_nodes_are_limited, RpcFixture) {
    auto callee = join();
    callee->send(R"([64, 1, {}, "com.here"])");
    for (core::SessionId caller : {1, 2, 3}) {
        auto call = from(other, RpcKind::call, caller, 9);
        call.target = callee->session->id();
        rpc->receive_request(call, frame(R"([48, 9, {}, "com.here", []])"));
    }
    BOOST_TEST(rpc->remote_callers() == 2u);
    BOOST_TEST(bus.sent.back().frame.find("wamp.error.limit_reached") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
