// The barrier before SUBSCRIBED / REGISTERED (cluster/sync.hpp): its questions and
// answers as they cross, and the directory questions waiting for their revision.
#include <boost/test/unit_test.hpp>

#include "blindrouter/cluster/sync.hpp"

using namespace blindrouter;
using cluster::RevisionWaiters;
using cluster::SyncAnswer;
using cluster::SyncRequest;

namespace {

SyncAnswer answer(const char* subject) { return {subject, "1 00000000000000aa"}; }

std::vector<std::string> subjects(const std::vector<SyncAnswer>& answers) {
    std::vector<std::string> out;
    for (const auto& a : answers) out.push_back(a.subject);
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cluster_sync)

BOOST_AUTO_TEST_CASE(requests_cross_both_kinds) {
    SyncRequest interest{SyncRequest::Kind::interest, 12, 0};
    BOOST_TEST(cluster::encode_sync_request(interest) == "i 12");
    auto parsed = cluster::parse_sync_request("i 12");
    BOOST_REQUIRE(parsed);
    BOOST_TEST((parsed->kind == SyncRequest::Kind::interest));
    BOOST_TEST(parsed->barrier == 12u);

    SyncRequest directory{SyncRequest::Kind::directory, 3, 4711};
    auto text = cluster::encode_sync_request(directory);
    BOOST_TEST(text == "d 3 4711");
    parsed = cluster::parse_sync_request(text);
    BOOST_REQUIRE(parsed);
    BOOST_TEST((parsed->kind == SyncRequest::Kind::directory));
    BOOST_TEST(parsed->barrier == 3u);
    BOOST_TEST(parsed->revision == 4711u);
}

BOOST_AUTO_TEST_CASE(malformed_requests_are_refused) {
    for (const char* body : {"", "i", "i x", "i 1 2", "d 1", "d 1 -2", "x 1", "i  1", "d 1 2 3", "i 1 "})
        BOOST_TEST(!cluster::parse_sync_request(body), body);
}

BOOST_AUTO_TEST_CASE(answers_name_the_barrier_and_the_node) {
    auto text = cluster::encode_sync_answer(9, 0xabcdef0123456789ull);
    BOOST_TEST(text == "9 abcdef0123456789");
    auto parsed = cluster::parse_sync_answer(text);
    BOOST_REQUIRE(parsed);
    BOOST_TEST(parsed->first == 9u);
    BOOST_TEST(parsed->second == 0xabcdef0123456789ull);
    for (const char* body : {"", "9", "9 xyz", "x abcdef0123456789", "9 abcdef0123456789 1"})
        BOOST_TEST(!cluster::parse_sync_answer(body), body);
}

BOOST_AUTO_TEST_CASE(a_revision_seen_already_is_answered_at_once) {
    RevisionWaiters waiters(4);
    BOOST_TEST(waiters.reached(10).empty());
    bool refused = true;
    auto now = waiters.ask(10, answer("reply.a"), refused);
    BOOST_REQUIRE(now);
    BOOST_TEST(now->subject == "reply.a");
    BOOST_TEST(!refused);
    BOOST_TEST(waiters.waiting() == 0u);
}

BOOST_AUTO_TEST_CASE(questions_wait_for_their_revision_or_a_later_one) {
    RevisionWaiters waiters(4);
    bool refused = false;
    BOOST_TEST(!waiters.ask(5, answer("reply.5"), refused));
    BOOST_TEST(!waiters.ask(7, answer("reply.7"), refused));
    BOOST_TEST(!waiters.ask(9, answer("reply.9"), refused));
    BOOST_TEST(!refused);
    BOOST_TEST(waiters.reached(4).empty());
    auto answered = waiters.reached(7);  // 6 was another bucket key's, never seen here
    BOOST_TEST((subjects(answered) == std::vector<std::string>{"reply.5", "reply.7"}));
    BOOST_TEST(waiters.waiting() == 1u);
    BOOST_TEST(waiters.reached(6).empty());  // older than seen: nothing new
    BOOST_TEST(waiters.seen() == 7u);
    BOOST_TEST((subjects(waiters.reached(12)) == std::vector<std::string>{"reply.9"}));
    BOOST_TEST(waiters.waiting() == 0u);
}

BOOST_AUTO_TEST_CASE(questions_beyond_the_bound_are_refused) {
    RevisionWaiters waiters(2);
    bool refused = false;
    waiters.ask(5, answer("a"), refused);
    waiters.ask(6, answer("b"), refused);
    BOOST_TEST(!refused);
    BOOST_TEST(!waiters.ask(7, answer("c"), refused));
    BOOST_TEST(refused);
    BOOST_TEST(waiters.waiting() == 2u);
    // One already reached is answered even at the bound.
    waiters.reached(1);
    auto now = waiters.ask(1, answer("d"), refused);
    BOOST_TEST(!refused);
    BOOST_TEST((now && now->subject == "d"));
}

BOOST_AUTO_TEST_SUITE_END()
