"""Calls and registrations across the nodes of a clustered realm (README, "Clustered
realms (NATS)"; shared SCALE-OUT.md §2.7): three NATS servers with JetStream and three
blindrouter nodes started by scripts/cluster-up.

What is checked: a call made from any node the moment REGISTERED arrived reaches the
callee; a call crosses nodes with its result and its error, on JSON and on MsgPack; an end-to-end encrypted payload crosses byte-exact both ways between callers
and callees on different nodes, and a serializer mismatch is judged on the callee's
node (shared/E2E.md §3); a `single` registration on one node makes a REGISTER of the
same procedure on another fail with wamp.error.procedure_already_exists, as on one
node; a shared registration with callees on two nodes serves calls by its policy;
progressive results arrive in order; a call's timeout and CANCEL reach the callee on
its node; a callee session that leaves mid-call ends the call with
wamp.error.canceled; a CALL above the cluster's size limit gets
wamp.error.payload_size_exceeded and the session goes on. A callee's node killed (SIGKILL) or
frozen (SIGSTOP) mid-call ends the call with wamp.error.canceled within 5 s.
"""

import asyncio
import os
import queue
import signal
import socket
import threading
import time

import msgpack
import pytest
from autobahn.exception import PayloadExceededError
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import CallOptions, RegisterOptions

from test_cluster import running_cluster
from test_cluster_faults import node_id
from test_cryptobox_example import ENCRYPTED, key_pair, originator_keyring, responder_keyring
from test_cryptobox_example import connect as cryptobox_connect
from wamp_helpers import Closed, RawWamp, close_all, connect, expect_application_error, run

# No wait after REGISTERED: the barrier before it (README, "Clustered realms (NATS)")
# lets a call from any node find the registration at once. A session's leave has no
# barrier (a stale directory entry only makes the caller's node try the next member):
# a test that expects a procedure freed on every node waits until it is, this long at most.
LEAVE_SETTLES_WITHIN = 5.0


async def register_once_freed(session, handler, procedure):
    """REGISTER ``procedure`` as soon as the directory no longer holds its former callee
    (``procedure_already_exists`` until then), within LEAVE_SETTLES_WITHIN."""
    deadline = time.monotonic() + LEAVE_SETTLES_WITHIN
    while True:
        try:
            return await session.register(handler, procedure)
        except ApplicationError as e:
            if e.error != "wamp.error.procedure_already_exists" or time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.05)


@pytest.fixture(scope="module")
def cluster(router_binary, tmp_path_factory):
    with running_cluster(router_binary, tmp_path_factory.mktemp("cluster_rpc")) as running:
        yield running


def test_a_call_made_at_once_after_registered_reaches_the_callee_from_every_node(cluster):
    """The barrier before REGISTERED (README, "Clustered realms (NATS)"): 30 fresh
    procedures registered on node 1 (exact, prefix, wildcard, shared), each called
    from nodes 2 and 3 the moment REGISTERED arrived, are all answered by the callee.
    Raw sessions, so that nothing but a socket lies between REGISTERED and CALL.

    The callee answers from a thread of its own, whenever an INVOCATION comes: a call
    that is slow on a loaded machine is answered late rather than taken for missed (a
    missed one gets an ERROR, not the callee's RESULT)."""
    run_id = os.urandom(4).hex()
    callee = RawWamp(cluster.url(0))
    callee.hello()
    callers = [RawWamp(cluster.url(1)), RawWamp(cluster.url(2))]
    for caller in callers:
        caller.hello()
    to_main, stop = queue.Queue(), threading.Event()

    def answer_invocations():
        while not stop.is_set():
            try:
                message = callee.recv(timeout=0.2)
            except TimeoutError:
                continue
            except Closed as e:
                to_main.put(e)
                return
            if message[0] == 68:
                callee.send([70, message[1], {}, [f"callee {message[4][0]}"]])
            else:
                to_main.put(message)

    answering = threading.Thread(target=answer_invocations, daemon=True)
    answering.start()
    failed = []
    request = 0
    try:
        for index in range(30):
            kind = ("exact", "prefix", "wildcard", "shared")[index % 4]
            base = f"com.rpc.o3.r{run_id}.n{index:02d}"
            pattern, procedure = {"exact": (base, base), "prefix": (base, base + ".x"),
                                  "wildcard": (base + "..leaf", base + ".any.leaf"), "shared": (base, base)}[kind]
            options = {"exact": {}, "prefix": {"match": "prefix"}, "wildcard": {"match": "wildcard"},
                       "shared": {"invoke": "roundrobin"}}[kind]
            request += 1
            callee.send([64, request, options, pattern])
            registered = to_main.get(timeout=10)
            assert isinstance(registered, list) and registered[:2] == [65, request], registered
            for caller in callers:
                request += 1
                caller.send([48, request, {}, procedure, [index]])
            for node, caller in zip((2, 3), callers):
                answer = caller.recv(timeout=10)
                if answer[0] != 50 or answer[3] != [f"callee {index}"]:
                    failed.append(f"{kind} {pattern} from node {node}: {answer!r}")
    finally:
        stop.set()
        answering.join(timeout=5)
    assert failed == [], f"{len(failed)} of 60 calls not answered by the callee: {failed}"
    for raw in (callee, *callers):
        raw.close()


def test_a_call_crosses_nodes_with_its_result_and_its_error(cluster):
    async def scenario():
        callee = await connect(cluster.url(0))
        caller = await connect(cluster.url(1))

        def add2(a, b):
            return a + b

        def failing():
            raise ApplicationError("com.rpc.failed", "as planned", code=7)

        await callee.register(add2, "com.rpc.add2")
        await callee.register(failing, "com.rpc.fail")
        assert await asyncio.wait_for(caller.call("com.rpc.add2", 20, 22), 5) == 42
        error = await expect_application_error(caller.call("com.rpc.fail"), "com.rpc.failed")
        assert error.args == ("as planned",) and error.kwargs == {"code": 7}
        await expect_application_error(caller.call("com.rpc.nobody"), "wamp.error.no_such_procedure")
        await close_all(callee, caller)
    run(scenario())


def msgpack_session(url, roles):
    raw = RawWamp(url, subprotocols=("wamp.2.msgpack",))
    raw.send_binary(msgpack.packb([1, "realm1", {"roles": roles}]))
    assert msgpack.unpackb(raw.recv())[0] == 2
    return raw


def test_msgpack_call_crosses_nodes_with_binary_arguments_byte_exact(cluster):
    callee = msgpack_session(cluster.url(2), {"callee": {}})
    caller = msgpack_session(cluster.url(0), {"caller": {}})
    callee.send_binary(msgpack.packb([64, 1, {}, "com.rpc.mp"]))
    assert msgpack.unpackb(callee.recv())[0] == 65
    blob = bytes(range(256))
    caller.send_binary(msgpack.packb([48, 7, {}, "com.rpc.mp", [blob, 1.5], {"k": blob}]))
    invocation = msgpack.unpackb(callee.recv(), raw=False)
    assert invocation[0] == 68 and invocation[4] == [blob, 1.5] and invocation[5] == {"k": blob}
    callee.send_binary(msgpack.packb([70, invocation[1], {}, [blob[::-1]]]))
    result = msgpack.unpackb(caller.recv(), raw=False)
    assert result == [50, 7, {}, [blob[::-1]]]
    callee.close()
    caller.close()


@pytest.mark.parametrize("caller_ser,callee_ser", [("json", "json"), ("msgpack", "msgpack"), ("cbor", "cbor")])
def test_encrypted_call_crosses_nodes_byte_exact(cluster, caller_ser, callee_ser):
    keys = {"originator": key_pair(), "responder": key_pair()}

    async def scenario():
        callee = await cryptobox_connect(cluster.url(0), callee_ser, responder_keyring(keys))
        caller = await cryptobox_connect(cluster.url(1), caller_ser, originator_keyring(keys))
        uri = ENCRYPTED + "add2." + caller_ser
        await callee.register(lambda a, b: a + b, uri)
        assert await asyncio.wait_for(caller.call(uri, 2, 3), 5) == 5
        await close_all(callee, caller)
    run(scenario())


def test_encrypted_call_with_mismatched_serializers_is_refused_on_the_callee_node(cluster):
    keys = {"originator": key_pair(), "responder": key_pair()}

    async def scenario():
        callee = await cryptobox_connect(cluster.url(0), "msgpack", responder_keyring(keys))
        caller = await cryptobox_connect(cluster.url(1), "json", originator_keyring(keys))
        uri = ENCRYPTED + "mismatch"
        await callee.register(lambda a, b: a + b, uri)
        await callee.register(lambda a, b: a + b, "com.rpc.plain_add2")
        assert await asyncio.wait_for(caller.call("com.rpc.plain_add2", 1, 2), 5) == 3  # plaintext translates
        # shared/E2E.md §3: the default serializer_mismatch rule refuses, as on one node,
        # judged on the callee's node, which knows the sender's serializer from Br-Ser.
        with pytest.raises(ApplicationError) as refused:
            await asyncio.wait_for(caller.call(uri, 2, 3), 5)
        assert refused.value.error == "blindrouter.error.serializer_mismatch"
        assert refused.value.kwargs == {"sender_serializer": "json", "receiver_serializer": "msgpack",
                                        "payload_serializer": "json"}
        await close_all(callee, caller)
    run(scenario())


def test_a_single_registration_on_one_node_excludes_the_procedure_on_the_others(cluster):
    async def scenario():
        first = await connect(cluster.url(0))
        second = await connect(cluster.url(1))
        await first.register(lambda: 1, "com.rpc.only")
        await expect_application_error(second.register(lambda: 2, "com.rpc.only"),
                                       "wamp.error.procedure_already_exists")
        await first.register(lambda: 1, "com.rpc.shared_rr", options=RegisterOptions(invoke="roundrobin"))
        await expect_application_error(
            second.register(lambda: 2, "com.rpc.shared_rr", options=RegisterOptions(invoke="random")),
            "wamp.error.procedure_already_exists")
        await expect_application_error(second.register(lambda: 2, "com.rpc.shared_rr"),
                                       "wamp.error.procedure_already_exists")
        # Once its callee left, the procedure is free everywhere.
        await close_all(first)
        await register_once_freed(second, lambda: 2, "com.rpc.only")
        await close_all(second)
    run(scenario())


def test_a_shared_registration_serves_calls_from_callees_on_two_nodes(cluster):
    async def scenario():
        a = await connect(cluster.url(0))
        b = await connect(cluster.url(1))
        caller = await connect(cluster.url(2))
        await a.register(lambda: "a", "com.rpc.rr", options=RegisterOptions(invoke="roundrobin"))
        await b.register(lambda: "b", "com.rpc.rr", options=RegisterOptions(invoke="roundrobin"))
        await a.register(lambda: "a", "com.rpc.first", options=RegisterOptions(invoke="first"))
        await b.register(lambda: "b", "com.rpc.first", options=RegisterOptions(invoke="first"))
        await a.register(lambda: "a", "com.rpc.last", options=RegisterOptions(invoke="last"))
        await b.register(lambda: "b", "com.rpc.last", options=RegisterOptions(invoke="last"))
        answers = [await asyncio.wait_for(caller.call("com.rpc.rr"), 5) for _ in range(4)]
        # Round robin per caller node (README): alternating, whichever comes first.
        assert sorted(answers[:2]) == ["a", "b"] and answers[2:] == answers[:2]
        assert [await caller.call("com.rpc.first") for _ in range(3)] == ["a"] * 3
        assert [await caller.call("com.rpc.last") for _ in range(3)] == ["b"] * 3
        await close_all(a, b, caller)
    run(scenario())


def test_pattern_precedence_across_nodes(cluster):
    async def scenario():
        a = await connect(cluster.url(0))
        b = await connect(cluster.url(1))
        caller = await connect(cluster.url(2))
        await a.register(lambda *args, **kw: "prefix", "com.rpc.pat", options=RegisterOptions(match="prefix"))
        await b.register(lambda: "exact", "com.rpc.pat.x")
        await b.register(lambda *args, **kw: "wildcard", "com.rpc..y", options=RegisterOptions(match="wildcard"))
        assert await caller.call("com.rpc.pat.x") == "exact"
        assert await caller.call("com.rpc.pat.y") == "prefix"
        assert await caller.call("com.rpc.other.y") == "wildcard"
        await close_all(a, b, caller)
    run(scenario())


def test_progressive_results_cross_nodes_in_order(cluster):
    async def scenario():
        callee = await connect(cluster.url(1))
        caller = await connect(cluster.url(2))

        async def count(n, details=None):
            for i in range(n):
                details.progress(i)
            return n

        await callee.register(count, "com.rpc.count", options=RegisterOptions(details_arg="details"))
        seen = []
        result = await asyncio.wait_for(
            caller.call("com.rpc.count", 200, options=CallOptions(on_progress=seen.append)), 10)
        assert result == 200 and seen == list(range(200))
        await close_all(callee, caller)
    run(scenario())


def test_a_call_timeout_and_a_cancel_reach_the_callee_on_its_node(cluster):
    async def scenario():
        callee = await connect(cluster.url(0))
        caller = await connect(cluster.url(1))
        interrupted = []

        async def slow():
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                interrupted.append(True)
                raise
            return "late"

        await callee.register(slow, "com.rpc.slow")
        await expect_application_error(caller.call("com.rpc.slow", options=CallOptions(timeout=300)),
                                       "wamp.error.timeout", timeout=5)
        # The callee announced call_canceling: its node interrupts it (killnowait).
        for _ in range(50):
            if interrupted:
                break
            await asyncio.sleep(0.05)
        assert interrupted == [True]
        call = asyncio.ensure_future(caller.call("com.rpc.slow"))
        await asyncio.sleep(0.3)
        call.cancel()  # Autobahn sends CANCEL for the call
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(call, 5)
        for _ in range(50):
            if len(interrupted) == 2:
                break
            await asyncio.sleep(0.05)
        assert interrupted == [True, True]
        await close_all(callee, caller)
    run(scenario())


def test_a_callee_leaving_mid_call_ends_the_call_with_canceled(cluster):
    async def scenario():
        callee = await connect(cluster.url(2))
        caller = await connect(cluster.url(0))
        started = asyncio.get_running_loop().create_future()

        async def slow():
            started.set_result(True)
            await asyncio.sleep(30)

        await callee.register(slow, "com.rpc.leaving")
        call = asyncio.ensure_future(caller.call("com.rpc.leaving"))
        await asyncio.wait_for(started, 5)
        await callee.leave()
        await expect_application_error(call, "wamp.error.canceled", timeout=5)
        await close_all(caller)
    run(scenario())


def test_a_call_above_the_cluster_size_limit_is_refused_and_the_session_goes_on(cluster):
    async def scenario():
        callee = await connect(cluster.url(0))
        caller = await connect(cluster.url(1))
        await callee.register(lambda data: len(data), "com.rpc.size")
        with pytest.raises(PayloadExceededError):
            await asyncio.wait_for(caller.call("com.rpc.size", "x" * (8 * 1024 * 1024)), 20)
        assert await asyncio.wait_for(caller.call("com.rpc.size", "x" * 1000), 5) == 1000
        await close_all(callee, caller)
    run(scenario())


def test_a_killed_callee_node_gets_no_calls_and_its_shared_procedure_goes_on(router_binary, tmp_path):
    """kill -9 of a callee's node: its NATS subjects lose their interest, so a CALL
    routed there by the (not yet cleaned) directory gets "no responders" and goes to
    the next member, or fails with no_such_procedure, at once; REGISTERED and
    SUBSCRIBED elsewhere do not wait for it."""
    with running_cluster(router_binary, tmp_path) as cluster:
        async def scenario():
            dying = await connect(cluster.url(2))
            alive = await connect(cluster.url(1))
            caller = await connect(cluster.url(0))
            await dying.register(lambda: "dying", "com.rpc.ha", options=RegisterOptions(invoke="first"))
            await alive.register(lambda: "alive", "com.rpc.ha", options=RegisterOptions(invoke="first"))
            await dying.register(lambda: "only", "com.rpc.gone")
            assert await asyncio.wait_for(caller.call("com.rpc.ha"), 5) == "dying"
            os.kill(cluster.state["nodes"][2]["pid"], signal.SIGKILL)
            cluster.killed.add(2)
            # Its NATS connections close with the process; its server then withdraws its
            # interest from the others over the routes. Until node 1's server has heard
            # that, a request to it is forwarded to nobody instead of answered at once.
            dead, near = node_id(cluster, 2), cluster.state["nats"][0]["port"]
            deadline = time.monotonic() + 5
            while not all(no_responders(near, f"br.n.{dead}.{kind}") for kind in ("sync", "call")):
                assert time.monotonic() < deadline, "NATS still routes to the killed node"
                await asyncio.sleep(0.05)
            started = time.monotonic()
            assert await asyncio.wait_for(caller.call("com.rpc.ha"), 5) == "alive"
            await expect_application_error(caller.call("com.rpc.gone"), "wamp.error.no_such_procedure")
            assert time.monotonic() - started < 1.0
            # Still live for its peers until the verdict, but NATS answers "no responders"
            # for it: the barriers before REGISTERED and SUBSCRIBED do not wait for it.
            started = time.monotonic()
            await caller.register(lambda: "new", "com.rpc.after_kill")
            await caller.subscribe(lambda: None, "com.rpc.after_kill.topic")
            assert time.monotonic() - started < 0.2
            assert "did not confirm" not in cluster.log(0)
            await close_all(alive, caller)
        run(scenario(), timeout=60)


def no_responders(port, subject):
    """Whether the NATS server on ``port`` answers a request on ``subject`` with status
    503 (no subscriber anywhere in its cluster) rather than forwarding it: the 503 comes
    while the server processes the PUB, so before the PONG to the PING after it."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        reader = s.makefile("rb")
        reader.readline()  # INFO
        s.sendall(b'CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true}\r\n'
                  b"SUB _INBOX.probe 1\r\n" + f"PUB {subject} _INBOX.probe 0\r\n\r\n".encode() + b"PING\r\n")
        answered = False
        while True:
            line = reader.readline()
            if not line:
                raise AssertionError("NATS closed the connection")
            if line.startswith((b"MSG ", b"HMSG ")):  # a live subscriber's answer, or NATS' 503
                answered = b"NATS/1.0 503" in reader.read(int(line.split()[-1]) + 2)
            elif line.startswith(b"PONG"):
                return answered


# Death verdict after 3 s of silence, checked every 1 s (defaults), plus scheduling
# slack on a busy 2-core machine: the bound the README states.
CANCELED_AFTER_NODE_LOSS = 5.0


def test_a_callee_node_killed_or_frozen_mid_call_ends_the_call_with_canceled(router_binary, tmp_path):
    """SIGSTOP, then SIGKILL, of a callee's node while a call waits on it: the caller's
    node fails the call with wamp.error.canceled once it declares that node dead (never
    retried elsewhere: the invocation may have run)."""
    with running_cluster(router_binary, tmp_path) as cluster:
        async def lost_mid_call(node, signum, uri):
            callee = await connect(cluster.url(node))
            caller = await connect(cluster.url(0))
            started = asyncio.get_running_loop().create_future()

            async def slow():
                started.set_result(True)
                await asyncio.sleep(60)

            await callee.register(slow, uri)
            call = asyncio.ensure_future(caller.call(uri))
            await asyncio.wait_for(started, 5)
            os.kill(cluster.state["nodes"][node]["pid"], signum)
            lost = time.monotonic()
            await expect_application_error(call, "wamp.error.canceled", timeout=CANCELED_AFTER_NODE_LOSS + 5)
            waited = time.monotonic() - lost
            print(f"node {node} lost by signal {signum}: wamp.error.canceled after {waited:.2f} s")
            assert waited < CANCELED_AFTER_NODE_LOSS, waited
            # The caller's session goes on.
            await expect_application_error(caller.call("com.rpc.nobody"), "wamp.error.no_such_procedure")
            callee.disconnect()
            await close_all(caller)

        async def scenario():
            await lost_mid_call(2, signal.SIGSTOP, "com.rpc.frozen")
            os.kill(cluster.state["nodes"][2]["pid"], signal.SIGCONT)
            await lost_mid_call(1, signal.SIGKILL, "com.rpc.killed")
            cluster.killed.add(1)
        run(scenario(), timeout=90)
