// The meta API's scatter-gather across nodes (cluster/meta_gather.hpp, SCALE-OUT.md
// §2.9): who is awaited, the bound, and a question and an answer as they cross.
#include <boost/test/unit_test.hpp>

#include "blindrouter/cluster/meta_gather.hpp"
#include "blindrouter/core/manual_timers.hpp"
#include "blindrouter/wamp/error_uri.hpp"

using namespace blindrouter;
using namespace std::chrono_literals;
using cluster::MetaGathers;

namespace {

struct Fixture {
    core::ManualTimers timers;
    MetaGathers gathers{timers, 500ms, 2};
    std::vector<core::MetaAnswers> done;
    MetaGathers::Done record() {
        return [this](core::MetaAnswers answers) { done.push_back(std::move(answers)); };
    }
};

core::CallOutcome count(std::uint64_t n) { return core::CallArguments{wamp::List{wamp::Value{n}}, {}}; }

}  // namespace

BOOST_FIXTURE_TEST_SUITE(cluster_meta_gather, Fixture)

BOOST_AUTO_TEST_CASE(a_gather_ends_when_every_awaited_node_answered) {
    auto id = gathers.start({7, 8}, record());
    BOOST_REQUIRE(id);
    gathers.answer(*id, 7, count(1));
    gathers.answer(*id, 7, count(1));  // once per node
    gathers.answer(*id, 9, count(1));  // not awaited
    BOOST_TEST(done.empty());
    gathers.answer(*id, 8, count(2));
    BOOST_REQUIRE(done.size() == 1u);
    BOOST_TEST(done[0].answers.size() == 2u);
    BOOST_TEST(done[0].missing == 0u);
    BOOST_TEST(gathers.pending() == 0u);
    BOOST_TEST(timers.scheduled() == 0u);  // its deadline went with it
}

BOOST_AUTO_TEST_CASE(a_gather_ends_at_its_bound_with_the_missing_nodes_counted) {
    auto id = gathers.start({7, 8}, record());
    gathers.answer(*id, 8, count(2));
    timers.advance(499ms);
    BOOST_TEST(done.empty());
    timers.advance(1ms);
    BOOST_REQUIRE(done.size() == 1u);
    BOOST_TEST(done[0].answers.size() == 1u);
    BOOST_TEST(done[0].missing == 1u);
    gathers.answer(*id, 7, count(1));  // late: dropped
    BOOST_TEST(done.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_dead_node_is_no_longer_awaited) {
    auto id = gathers.start({7, 8}, record());
    gathers.answer(*id, 8, count(2));
    gathers.node_dead(7);
    BOOST_REQUIRE(done.size() == 1u);
    BOOST_TEST(done[0].missing == 0u);
}

BOOST_AUTO_TEST_CASE(with_no_other_node_the_gather_ends_at_once_and_beyond_the_bound_none_starts) {
    BOOST_TEST(gathers.start({}, record()).has_value());
    BOOST_TEST(done.size() == 1u);
    BOOST_TEST(gathers.start({7}, record()).has_value());
    BOOST_TEST(gathers.start({7}, record()).has_value());
    BOOST_TEST(!gathers.start({7}, record()).has_value());
    BOOST_TEST(gathers.pending() == 2u);
}

BOOST_AUTO_TEST_CASE(a_question_and_its_answers_cross_as_they_were) {
    core::CallArguments arguments{wamp::List{wamp::Value{std::uint64_t{5}}}, wamp::Dict{{"k", wamp::Value{std::string("v")}}}};
    core::InvocationDetails details;
    details.caller = 42;
    details.caller_authrole = "admin";
    auto question = cluster::decode_meta_question(cluster::encode_meta_question(9, "wamp.session.get", arguments, details));
    BOOST_REQUIRE(question);
    BOOST_TEST(question->gather == 9u);
    BOOST_TEST(question->procedure == "wamp.session.get");
    BOOST_TEST((question->arguments.args == arguments.args));
    BOOST_TEST((question->arguments.kwargs == arguments.kwargs));
    BOOST_TEST((question->details.caller == std::optional<core::SessionId>(42)));
    BOOST_TEST(!question->details.caller_authid);
    BOOST_TEST(*question->details.caller_authrole == "admin");

    auto result = cluster::decode_meta_answer(cluster::encode_meta_answer(9, count(3)));
    BOOST_REQUIRE(result);
    BOOST_TEST(result->first == 9u);
    BOOST_REQUIRE(result->second.ok());
    BOOST_TEST((result->second.result().args[0].as_unsigned() == std::optional<std::uint64_t>(3)));
    auto error = cluster::decode_meta_answer(cluster::encode_meta_answer(
        10, core::CallError::with_message(wamp::error_uri::no_such_session, "none here")));
    BOOST_REQUIRE(error);
    BOOST_REQUIRE(!error->second.ok());
    BOOST_TEST(error->second.error().uri == wamp::error_uri::no_such_session);
    BOOST_TEST(!cluster::decode_meta_answer("not msgpack"));
    BOOST_TEST(!cluster::decode_meta_question(cluster::encode_meta_answer(9, count(3))));
}

BOOST_AUTO_TEST_SUITE_END()
