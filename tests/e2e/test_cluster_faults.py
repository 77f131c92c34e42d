"""Clustered realms under faults (SCALE-OUT.md §3): a NATS server killed with SIGKILL
under a stream of events (K3; core NATS is at-most-once: what was in flight may be
lost, but a subscriber never sees an event twice or out of order, and the stream
resumes once its node has reconnected to another server), and a WAMP subscriber that
stops reading under a flood (K5: only that session is dropped; its node never becomes
a slow consumer for NATS, and the node's other subscribers get every event); node
liveness (SCALE-OUT.md §2.8): a node killed with SIGKILL is declared dead and its
sessions' testaments are published by a janitor node, once; a node frozen with
SIGSTOP past the verdict closes its sessions when it runs again and serves anew.
"""

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from autobahn.wamp.types import PublishOptions

from test_cluster import publisher_and_subscribers, running_cluster
from wamp_helpers import (DEFAULT_CONFIG_DIR, EventSink, RawWamp, close_all, connect, load_config, prepare_cbdir,
                          run, websocket_service)

EVENTS = 3000
KILL_AT = 1000
# How long the stream may stay cut after the kill: libnats notices the closed socket
# at once and reconnects to the next server listed (reconnect wait 250 ms).
RESUME_WITHIN = 5.0


def test_a_nats_server_killed_under_load_loses_events_but_never_reorders_or_duplicates(router_binary, tmp_path):
    with running_cluster(router_binary, tmp_path) as cluster:
        subscriber_server = cluster.state["nats"][1]  # node 2 lists NATS 2 first, then 3, then 1

        async def scenario():
            pub, subs, (sink,) = await publisher_and_subscribers(cluster, "com.cl.fault", 0, (1,))
            killed_at = None
            for seq in range(EVENTS):
                if seq == KILL_AT:
                    os.kill(subscriber_server["pid"], signal.SIGKILL)
                    killed_at = time.monotonic()
                pub.publish("com.cl.fault", seq)
                await asyncio.sleep(0.001)
            # The last event is acknowledged by node 1, then must reach node 2 too.
            await pub.publish("com.cl.fault", EVENTS, options=PublishOptions(acknowledge=True))
            received = []
            deadline = time.monotonic() + RESUME_WITHIN
            while not received or received[-1] != EVENTS:
                args, _, _ = await sink.next(timeout=max(0.1, deadline - time.monotonic()))
                received.append(args[0])
            resumed = time.monotonic() - killed_at
            await close_all(pub, *subs)
            return received, resumed

        received, resumed = run(scenario(), timeout=60)
        assert all(a < b for a, b in zip(received, received[1:])), "an event duplicated or reordered"
        lost = EVENTS + 1 - len(received)
        assert received[:KILL_AT // 2] == list(range(KILL_AT // 2)), "events lost before the kill"
        assert lost < EVENTS - KILL_AT, "the stream did not resume after the NATS server was killed"
        assert "reconnected to NATS" in cluster.log(1)
        print(f"NATS server killed under ~{EVENTS / 3:.0f} ev/s: {lost} of {EVENTS + 1} events lost, "
              f"stream complete {resumed:.2f}s after the kill")


def test_a_subscriber_that_stops_reading_is_dropped_without_slowing_its_node(router_binary, tmp_path):
    # The node config with a 1 MiB send queue, so that the flood overflows it quickly.
    cbdir = tmp_path / "cbdir"
    shutil.copytree(DEFAULT_CONFIG_DIR, cbdir)
    config = load_config(cbdir)
    websocket_service(config)["options"].update({"max_message_size": 1 << 20, "send_queue_limit": 1 << 20})
    (cbdir / "config.json").write_text(json.dumps(config))
    flood, size = 2000, 4096
    with running_cluster(router_binary, tmp_path / "cluster", cbdir) as cluster:
        slow = RawWamp(cluster.url(1), sockopt=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)])
        slow.hello()
        slow.send([32, 1, {}, "com.cl.flood"])
        slow.expect(33)

        async def scenario():
            pub, subs, (sink,) = await publisher_and_subscribers(cluster, "com.cl.flood", 0, (1,))
            received = []
            for seq in range(flood):
                pub.publish("com.cl.flood", seq, "f" * size)
                if seq % 100 == 99:
                    # The healthy subscriber shares this event loop: it takes each batch
                    # before the next goes out, so it stays within its own 1 MiB send
                    # queue however slow the machine is, while the stalled one overflows.
                    received += [(await sink.next(timeout=10))[0][0] for _ in range(100)]
            received += [(await sink.next(timeout=10))[0][0] for _ in range(flood - len(received))]
            await close_all(pub, *subs)
            return received

        try:
            received = run(scenario(), timeout=60)
        finally:
            slow.close()
        log = cluster.log(1)
    assert received == list(range(flood))
    assert "send queue limit reached" in log
    assert "NATS reports" not in log and "messages from NATS dropped" not in log


def test_subscribing_while_every_nats_server_is_down_does_not_stall_the_node(router_binary, tmp_path):
    with running_cluster(router_binary, tmp_path) as cluster:
        for server in cluster.state["nats"]:
            os.kill(server["pid"], signal.SIGKILL)
        # Until node 1 noticed the closed sockets (its events and control connections, each
        # logged once): before that a SUBSCRIBE still finds a connected status and flushes.
        deadline = time.monotonic() + 10
        while cluster.log(0).count("lost its NATS server") < 2:
            assert time.monotonic() < deadline, "node 1 did not notice NATS was gone"
            time.sleep(0.05)

        async def scenario():
            sub = await connect(cluster.url(0))
            started = time.monotonic()
            for n in range(5):
                await sub.subscribe(lambda *a, **kw: None, f"com.cl.down{n}")
            elapsed = time.monotonic() - started
            await close_all(sub)
            return elapsed

        elapsed = run(scenario())
        # Each new NATS interest would otherwise wait flush_timeout_ms (1 s) for a
        # server that is not there, holding up every session of the node meanwhile.
        assert elapsed < 1.0, f"5 SUBSCRIBEs took {elapsed:.2f}s with NATS down"

# Death verdict: 3 missed heartbeats of 1 s (cluster.json defaults), checked once a
# second, then the janitor's JetStream round trips: the testament of a node killed
# at t is out by t + 3 s + 1 s + a little.
VERDICT_WITHIN = 5.0


def test_a_killed_nodes_testaments_are_published_on_other_nodes_once_within_the_verdict_bound(router_binary, tmp_path):
    with running_cluster(router_binary, tmp_path) as cluster:
        async def scenario():
            leaving, (watcher,), (sink,) = await publisher_and_subscribers(cluster, "com.cl.will", 0, (1,))
            await leaving.call("wamp.session.add_testament", "com.cl.will", ["gone"], {"node": 0})
            cluster.killed.add(0)
            os.kill(cluster.state["nodes"][0]["pid"], signal.SIGKILL)
            killed_at = time.monotonic()
            args, kwargs, _ = await sink.next(timeout=VERDICT_WITHIN + 2)
            published_after = time.monotonic() - killed_at
            await sink.assert_quiet(1.5)  # no second copy from another janitor
            await close_all(watcher)
            return (args, kwargs), published_after

        event, after = run(scenario(), timeout=30)
        assert event == (["gone"], {"node": 0})
        assert after < VERDICT_WITHIN, f"the testament came {after:.2f}s after the kill"
        assert "declared dead" in cluster.log(1) and "declared dead" in cluster.log(2)
        assert "published 1 testaments of 1 sessions" in cluster.log(1) + cluster.log(2)
        print(f"testament of a SIGKILLed node published {after:.2f}s after the kill")


def test_a_normal_leave_publishes_its_testament_once_even_when_its_node_dies_after(router_binary, tmp_path):
    with running_cluster(router_binary, tmp_path) as cluster:
        async def scenario():
            leaving, (watcher,), (sink,) = await publisher_and_subscribers(cluster, "com.cl.once", 0, (1,))
            await leaving.call("wamp.session.add_testament", "com.cl.once", ["bye"], {})
            await leaving.close()
            first = await sink.next()
            cluster.killed.add(0)
            os.kill(cluster.state["nodes"][0]["pid"], signal.SIGKILL)
            # The janitor runs after the verdict and finds nothing left to publish.
            await sink.assert_quiet(VERDICT_WITHIN + 1)
            await close_all(watcher)
            return first

        assert run(scenario(), timeout=30)[0] == ["bye"]
        assert "declared dead" in cluster.log(1)


def test_a_frozen_node_that_returns_closes_its_sessions_and_serves_across_nodes_again(router_binary, tmp_path):
    with running_cluster(router_binary, tmp_path) as cluster:
        frozen = cluster.state["nodes"][0]["pid"]

        async def scenario():
            stale, (watcher,), (will_sink,) = await publisher_and_subscribers(cluster, "com.cl.frozen", 0, (1,))
            await stale.call("wamp.session.add_testament", "com.cl.frozen", ["frozen"], {})
            os.kill(frozen, signal.SIGSTOP)
            try:
                # The others' verdict, and the janitor publishes the testament.
                args, _, _ = await will_sink.next(timeout=VERDICT_WITHIN + 2)
            finally:
                os.kill(frozen, signal.SIGCONT)
            left = await asyncio.wait_for(asyncio.shield(stale.left), 5)
            # The returning node does not publish it a second time.
            await will_sink.assert_quiet(1.0)

            # Clients that reconnect are served across nodes, both ways.
            back = await connect(cluster.url(0))
            there = await connect(cluster.url(2))
            here_sink, there_sink = EventSink(), EventSink()
            await back.subscribe(here_sink, "com.cl.back")
            await there.subscribe(there_sink, "com.cl.back")
            await asyncio.sleep(0.3)
            await back.publish("com.cl.back", "from-returned", options=PublishOptions(acknowledge=True))
            await there.publish("com.cl.back", "from-other", options=PublishOptions(acknowledge=True))
            got_there = (await there_sink.next())[0]
            got_here = (await here_sink.next())[0]
            await close_all(back, there, watcher, stale)
            return args, left.reason, got_here, got_there

        will, reason, got_here, got_there = run(scenario(), timeout=40)
        assert will == ["frozen"]
        assert reason == "blindrouter.close.node_declared_dead"
        assert got_here == ["from-other"] and got_there == ["from-returned"]
        assert "was declared dead by the cluster" in cluster.log(0)
        # Node 2 hears the new incarnation's first heartbeat over NATS, in no order with
        # what the clients above saw.
        deadline = time.monotonic() + 5
        while "(incarnation 2) is live" not in cluster.log(1) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "(incarnation 2) is live" in cluster.log(1)


def node_id(cluster, node):
    match = re.search(r"cluster: node ([0-9a-f]{16}) connected to NATS", cluster.log(node))
    assert match, "the node did not log its id"
    return match.group(1)


def nats_request(port, subject, body, timeout=3.0):
    """One request over NATS' text protocol (CONNECT, SUB, PUB with a reply subject)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        reader = s.makefile("rb")
        reader.readline()  # INFO
        s.sendall(b'CONNECT {"verbose":false,"headers":false}\r\nSUB _INBOX.t 1\r\n' +
                  f"PUB {subject} _INBOX.t {len(body)}\r\n".encode() + body + b"\r\nPING\r\n")
        while True:
            line = reader.readline()
            if line.startswith(b"MSG "):
                size = int(line.split()[-1])
                return reader.read(size + 2)[:size]
            if line.startswith(b"PING"):
                s.sendall(b"PONG\r\n")
            if not line:
                raise AssertionError("NATS closed the connection")


def test_each_node_answers_pings_on_its_control_subject(router_binary, tmp_path):
    with running_cluster(router_binary, tmp_path) as cluster:
        target = node_id(cluster, 1)
        # Asked through another NATS server than the node's own: the routes carry it.
        answer = nats_request(cluster.state["nats"][0]["port"], f"br.n.{target}.ctl", b"ping")
        assert answer == b"pong 1"


def test_a_node_with_another_realm_configuration_is_reported_by_its_peers(router_binary, tmp_path):
    with running_cluster(router_binary, tmp_path / "cluster") as cluster:
        def stricter(config):
            config["workers"][0]["realms"][0]["roles"][0]["permissions"][0]["allow"]["publish"] = False

        cbdir = tmp_path / "odd"
        prepare_cbdir(DEFAULT_CONFIG_DIR, cbdir, stricter)
        settings = json.loads((Path(cluster.state["nodes"][0]["cbdir"]) / "cluster.json").read_text())
        (cbdir / "cluster.json").write_text(json.dumps(settings))
        with open(tmp_path / "odd.log", "wb") as out:
            odd = subprocess.Popen([str(router_binary), "start", "--cbdir", str(cbdir), "--cluster",
                                    str(cbdir / "cluster.json")], stdout=out, stderr=subprocess.STDOUT)
        try:
            def reported():
                return all("runs a different configuration" in log
                           for log in (cluster.log(0), (tmp_path / "odd.log").read_text()))

            deadline = time.monotonic() + 10
            while not reported() and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            odd.send_signal(signal.SIGTERM)
            odd.wait(timeout=10)
        assert "runs a different configuration of the clustered realms" in cluster.log(0)
        # Nodes of the same configuration are not reported.
        assert cluster.log(1).count("runs a different configuration") == 1
        assert "runs a different configuration" in (tmp_path / "odd.log").read_text()


def test_a_pause_shorter_than_the_verdict_ends_no_session_and_no_node(router_binary, tmp_path):
    with running_cluster(router_binary, tmp_path) as cluster:
        paused = cluster.state["nodes"][0]["pid"]

        async def scenario():
            pub, (sub,), (sink,) = await publisher_and_subscribers(cluster, "com.cl.pause", 0, (1,))
            os.kill(paused, signal.SIGSTOP)
            await asyncio.sleep(1.5)  # half the verdict time
            os.kill(paused, signal.SIGCONT)
            await asyncio.sleep(3.5)  # a verdict would have come by now
            await pub.publish("com.cl.pause", "still", options=PublishOptions(acknowledge=True))
            args, _, _ = await sink.next()
            left = pub.left.done()
            await close_all(pub, sub)
            return args, left

        args, left = run(scenario(), timeout=30)
        assert args == ["still"] and not left
        for node in range(3):
            assert "declared dead" not in cluster.log(node)
