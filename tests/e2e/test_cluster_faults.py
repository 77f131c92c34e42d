"""Clustered realms when part of the NATS cluster fails (SCALE-OUT.md §2.8, test K3):
a NATS server killed with SIGKILL under a stream of events. Core NATS is at-most-once:
what was in flight may be lost, but a subscriber never sees an event twice or out of
order, and the stream resumes once its node has reconnected to another server.
"""

import asyncio
import os
import signal
import time

from autobahn.wamp.types import PublishOptions

from test_cluster import publisher_and_subscribers, running_cluster
from wamp_helpers import close_all, run

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
