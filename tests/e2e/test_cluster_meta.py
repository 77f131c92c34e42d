"""The meta API answering for a whole clustered realm (SCALE-OUT.md §2.9): three NATS
servers and three nodes started by scripts/cluster-up, the questions asked on node 1
about sessions, subscriptions and registrations of nodes 2 and 3.

What is checked: wamp.session.count/list/get see the sessions of every node; the
subscription and registration procedures see every node's, under one id per
subscription or registration that every node gives alike; wamp.session.kill and
kill_by_authid end a session on another node; a frozen node (SIGSTOP) does not hold
an answer past the gather's bound (500 ms), and the answer then says it is partial.
"""

import asyncio
import os
import signal
import time

from autobahn.wamp.types import CallResult, RegisterOptions, SubscribeOptions

from test_cluster import running_cluster
from wamp_helpers import EventSink, close_all, connect, expect_application_error, run

import pytest

# What a node's own meta question waits for at most (cluster.json meta_gather_timeout_ms).
GATHER_BOUND = 0.5


@pytest.fixture(scope="module")
def cluster(router_binary, tmp_path_factory):
    with running_cluster(router_binary, tmp_path_factory.mktemp("cluster-meta")) as running:
        yield running


async def call(session, procedure, *args, **kwargs):
    return await asyncio.wait_for(session.call(procedure, *args, **kwargs), 5)


async def one_per_node(cluster):
    return [await connect(cluster.url(node)) for node in range(3)]


def test_session_count_list_and_get_see_every_nodes_sessions(cluster):
    async def scenario():
        sessions = await one_per_node(cluster)
        ids = [s._session_id for s in sessions]
        asker = sessions[0]
        assert await call(asker, "wamp.session.count") == 3
        assert sorted(await call(asker, "wamp.session.list")) == sorted(ids)
        assert await call(asker, "wamp.session.count", ["nobody"]) == 0
        details = await call(asker, "wamp.session.get", ids[2])
        assert details["session"] == ids[2] and details["authrole"] == "anonymous"
        await expect_application_error(asker.call("wamp.session.get", 12345), "wamp.error.no_such_session")
        # Argument errors are every node's: answered at once, as on one node.
        await expect_application_error(asker.call("wamp.session.count", "anonymous"), "wamp.error.runtime_error")
        await close_all(*sessions)

    run(scenario())


def test_subscriptions_of_every_node_under_one_id(cluster):
    async def scenario():
        sessions = await one_per_node(cluster)
        asker, s2, s3 = sessions
        sink = EventSink()
        on2 = await s2.subscribe(sink, "com.meta.t")
        on3 = await s3.subscribe(sink, "com.meta.t")
        prefix = await s3.subscribe(sink, "com.meta.p", options=SubscribeOptions(match="prefix"))
        # Every node names a subscription alike (H(realm, match, uri)).
        assert on2.id == on3.id
        sid = on2.id
        assert await call(asker, "wamp.subscription.lookup", "com.meta.t") == sid
        assert await call(asker, "wamp.subscription.lookup", "com.meta.p", {"match": "prefix"}) == prefix.id
        assert await call(asker, "wamp.subscription.lookup", "com.meta.none") is None
        assert sorted(await call(asker, "wamp.subscription.list_subscribers", sid)) == sorted(
            [s2._session_id, s3._session_id])
        assert await call(asker, "wamp.subscription.count_subscribers", sid) == 2
        assert sorted(await call(asker, "wamp.subscription.match", "com.meta.t")) == [sid]
        assert sorted(await call(asker, "wamp.subscription.match", "com.meta.p.x")) == [prefix.id]
        details = await call(asker, "wamp.subscription.get", sid)
        assert details["uri"] == "com.meta.t" and details["match"] == "exact"
        listed = await call(asker, "wamp.subscription.list")
        assert sid in listed["exact"] and prefix.id in listed["prefix"]
        assert await call(asker, "wamp.subscription.list", s3._session_id) == {
            "exact": [sid], "prefix": [prefix.id], "wildcard": []}
        await expect_application_error(asker.call("wamp.subscription.get", 12345), "wamp.error.no_such_subscription")
        await close_all(*sessions)

    run(scenario())


def test_registrations_of_every_node_under_the_directorys_id(cluster):
    async def scenario():
        sessions = await one_per_node(cluster)
        asker, s2, s3 = sessions
        single = await s2.register(lambda: 1, "com.meta.proc")
        shared2 = await s2.register(lambda: 2, "com.meta.shared", options=RegisterOptions(invoke="roundrobin"))
        shared3 = await s3.register(lambda: 3, "com.meta.shared", options=RegisterOptions(invoke="roundrobin"))
        assert shared2.id == shared3.id
        assert await call(asker, "wamp.registration.lookup", "com.meta.proc") == single.id
        assert await call(asker, "wamp.registration.match", "com.meta.proc") == single.id
        assert sorted(await call(asker, "wamp.registration.list_callees", shared2.id)) == sorted(
            [s2._session_id, s3._session_id])
        assert await call(asker, "wamp.registration.count_callees", shared2.id) == 2
        details = await call(asker, "wamp.registration.get", shared2.id)
        assert details["uri"] == "com.meta.shared" and details["invoke"] == "roundrobin"
        listed = await call(asker, "wamp.registration.list")
        assert single.id in listed["exact"] and shared2.id in listed["exact"]
        await close_all(*sessions)

    run(scenario())


def test_kill_ends_a_session_on_another_node(cluster):
    async def scenario():
        sessions = await one_per_node(cluster)
        asker, s2, s3 = sessions
        assert await call(asker, "wamp.session.kill", s3._session_id, "com.meta.bye") is None
        details = await asyncio.wait_for(s3.left, 3)
        assert details.reason == "com.meta.bye"
        await expect_application_error(asker.call("wamp.session.kill", 12345), "wamp.error.no_such_session")
        victim = s2._session_id  # Autobahn forgets it once the session is gone
        authid = (await call(asker, "wamp.session.get", victim))["authid"]
        assert await call(asker, "wamp.session.kill_by_authid", authid) == [victim]
        await asyncio.wait_for(s2.left, 3)
        await close_all(asker)

    run(scenario())


def test_a_frozen_node_does_not_hold_the_answer_past_the_bound(cluster):
    frozen = cluster.state["nodes"][2]["pid"]

    async def scenario():
        sessions = await one_per_node(cluster)
        asker = sessions[0]
        os.kill(frozen, signal.SIGSTOP)
        try:
            started = time.monotonic()
            answer = await call(asker, "wamp.session.count")
            took = time.monotonic() - started
        finally:
            os.kill(frozen, signal.SIGCONT)
        # The frozen node's session is not counted, and the answer says one node is missing.
        assert isinstance(answer, CallResult), answer
        assert list(answer.results) == [2] and answer.kwresults == {"partial": True, "missing_nodes": 1}
        assert GATHER_BOUND <= took < GATHER_BOUND + 1.0, took
        # Once it runs again, it answers again: a complete count. How soon it catches up
        # with what queued up meanwhile is the machine's load, not the router's.
        deadline = time.monotonic() + 10
        while (answer := await call(asker, "wamp.session.count")) != 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert answer == 3, answer
        await close_all(*sessions)

    run(scenario())
