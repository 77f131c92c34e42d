"""Clustered realms under faults (SCALE-OUT.md §3): a NATS server killed with SIGKILL
under a stream of events (K3; core NATS is at-most-once: what was in flight may be
lost, but a subscriber never sees an event twice or out of order, and the stream
resumes once its node has reconnected to another server), and a WAMP subscriber that
stops reading under a flood (K5: only that session is dropped; its node never becomes
a slow consumer for NATS, and the node's other subscribers get every event).
"""

import asyncio
import json
import os
import shutil
import signal
import socket
import time

from autobahn.wamp.types import PublishOptions

from test_cluster import publisher_and_subscribers, running_cluster
from wamp_helpers import DEFAULT_CONFIG_DIR, RawWamp, close_all, connect, load_config, run, websocket_service

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
            for seq in range(flood):
                pub.publish("com.cl.flood", seq, "f" * size)
                if seq % 100 == 99:
                    await asyncio.sleep(0)
            received = [(await sink.next(timeout=10))[0][0] for _ in range(flood)]
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
        time.sleep(0.3)  # the nodes notice the closed sockets

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
