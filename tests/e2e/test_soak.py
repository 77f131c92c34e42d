"""Soak and chaos, bounded in time: many real Autobahn|Python sessions join, leave,
publish, subscribe, register and call for BLINDROUTER_SOAK_SECONDS (default 75) while
other clients are killed mid-call, stop reading their socket or send garbage. Then:

* the router process is alive;
* its RSS came back near the baseline taken after a warm-up (RSS_TOLERANCE below);
* no session, subscription or registration is left (meta API, from a `monitor` role
  that may only call wamp.*), and no pending invocation or call record (the router's
  per-realm figures logged at shutdown);
* healthy clients lost nothing: every acknowledged publication reached every healthy
  subscriber, in order per publisher; every call from a healthy caller to a healthy
  callee got its result; every call anywhere got an answer.

ctest runs it as its own test (`soak`), apart from `e2e`; the figures are written to
the test output. Everything runs on 127.0.0.1.
"""

import asyncio
import os
import re
import signal
import socket
import time
from collections import defaultdict

import pytest

from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import CallOptions, PublishOptions, RegisterOptions

from wamp_helpers import (
    RawWamp,
    assert_protocol_violation,
    close_all,
    connect,
)

pytestmark = pytest.mark.single_node("soak and chaos of one process: its memory, its restarts, its figures")

SOAK_SECONDS = float(os.environ.get("BLINDROUTER_SOAK_SECONDS", "75"))
# The soak itself runs under one bound: the run, plus set-up, draining and checks.
OVERALL_TIMEOUT = SOAK_SECONDS + 120
# After the soak (every client gone but the monitor), RSS may stay this far above the
# baseline taken after a warm-up: glibc keeps some freed pages of a fragmented heap
# rather than give them back, which came to 0.6-0.7 MiB in 8 s to 75 s runs (about
# 3000 sessions). 3 MiB is four times that, and still below what a leak of 1 KiB per
# session of a default run, or of one 64 KiB flood frame per slow consumer, would add.
RSS_TOLERANCE = 3 * 1024 * 1024
# Lowered so that a consumer that stops reading is dropped within a second or two of
# flooding (README "Transport limits" and "Liveness" give the defaults).
SEND_QUEUE_LIMIT = 1024 * 1024
WRITE_TIMEOUT_MS = 3000
FLOOD_EVENT = "f" * 65536
# Slow consumers flooded together (their queues share the same frames, and each must
# still be dropped), and the most flood events a round may take to drop them (25 MiB).
SLOW_CONSUMERS_AT_ONCE = 3
FLOOD_LIMIT = 400
# Calls and acknowledgements of healthy clients must be answered within this.
ANSWER_TIMEOUT = 10.0

ALL = {"call": True, "register": True, "publish": True, "subscribe": True}


def soak_config(config):
    worker = config["workers"][0]
    worker["realms"][0]["roles"] = [
        {"name": "anonymous",
         "permissions": [{"uri": "com.soak.", "match": "prefix", "allow": ALL,
                          "disclose": {"caller": False, "publisher": False}, "cache": True}]},
        {"name": "monitor",
         "permissions": [{"uri": "wamp.", "match": "prefix",
                          "allow": {"call": True, "register": False, "publish": False, "subscribe": False},
                          "disclose": {"caller": False, "publisher": False}, "cache": True}]},
    ]
    paths = worker["transports"][0]["paths"]
    paths["ws"]["options"].update(max_message_size=262144, send_queue_limit=SEND_QUEUE_LIMIT,
                                  write_timeout=WRITE_TIMEOUT_MS)
    paths["monitor"] = {"type": "websocket", "serializers": ["json"],
                        "auth": {"anonymous": {"type": "static", "role": "monitor"}}}


def rss_bytes(pid):
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS in /proc/{pid}/status")


def mib(n):
    return f"{n / (1024 * 1024):.1f} MiB"


class Soak:
    def __init__(self, router):
        self.router = router
        self.url = router.url
        self.monitor_url = f"ws://127.0.0.1:{router.port}/monitor"
        self.stop = asyncio.Event()
        self.failures = []
        self.figures = defaultdict(int)
        self.rss = {}
        # publisher index -> acknowledged / all sequence numbers it published
        self.acked = defaultdict(list)
        self.published = defaultdict(list)
        self.flood_acked = []
        self.callers = []  # healthy sessions whose calls must all be answered

    def fail(self, text):
        if len(self.failures) < 50:
            self.failures.append(text)

    async def session(self, url=None):
        s = await connect(url or self.url)
        self.figures["sessions created"] += 1
        return s

    def sample_rss(self):
        value = rss_bytes(self.router.proc.pid)
        self.rss["peak"] = max(self.rss.get("peak", 0), value)
        return value

    async def rss_sampler(self):
        while not self.stop.is_set():
            self.sample_rss()
            await asyncio.sleep(0.25)

    # ---------------------------------------------------------------- healthy clients

    def news_subscriber(self, name):
        """A handler recording (publisher, seq) events; order is checked as they come."""
        received = defaultdict(list)

        def on_event(publisher, seq):
            seen = received[publisher]
            if seen and seq <= seen[-1]:
                self.fail(f"{name}: event {seq} of publisher {publisher} after {seen[-1]} (order broken)")
            seen.append(seq)
            self.figures["events received"] += 1
        return on_event, received

    async def publisher_loop(self, session, index):
        seq = 0
        while not self.stop.is_set():
            seq += 1
            self.published[index].append(seq)
            if seq % 3 == 0:  # one in three without acknowledge
                session.publish("com.soak.news", index, seq)
            else:
                try:
                    await asyncio.wait_for(session.publish("com.soak.news", index, seq,
                                                           options=PublishOptions(acknowledge=True)),
                                           ANSWER_TIMEOUT)
                    self.acked[index].append(seq)
                except (ApplicationError, asyncio.TimeoutError) as e:
                    self.fail(f"publisher {index}: publication {seq} not acknowledged: {e!r}")
            self.figures["publications"] += 1
            await asyncio.sleep(0.02)

    async def caller_loop(self, session, index):
        n = 0
        while not self.stop.is_set():
            n += 1
            try:
                result = await asyncio.wait_for(session.call("com.soak.echo", index, n, "x" * (n % 300)),
                                                ANSWER_TIMEOUT)
                if result != [index, n, "x" * (n % 300)]:
                    self.fail(f"caller {index}: call {n} to com.soak.echo returned {result!r}")
            except (ApplicationError, asyncio.TimeoutError) as e:
                self.fail(f"caller {index}: call {n} to a healthy callee got no result: {e!r}")
            self.figures["calls (healthy callee)"] += 1
            await asyncio.sleep(0.01)

    async def rpc_edges_loop(self, session):
        """Call timeouts, cancels, a slow healthy callee, and the shared procedure that
        doomed callees also register (an error is fine there when one is killed)."""
        n = 0
        while not self.stop.is_set():
            n += 1
            kind = n % 4
            if kind == 0:
                try:
                    await asyncio.wait_for(session.call("com.soak.slow", options=CallOptions(timeout=200)),
                                           ANSWER_TIMEOUT)
                    self.fail("a call with timeout 200 ms to a callee taking 800 ms returned a result")
                except ApplicationError as e:
                    if e.error != "wamp.error.timeout":
                        self.fail(f"call timeout answered with {e.error}, not wamp.error.timeout")
                except asyncio.TimeoutError:
                    self.fail("a call with timeout 200 ms got no answer")
                self.figures["calls timed out"] += 1
            elif kind == 1:
                pending = asyncio.ensure_future(session.call("com.soak.slow"))
                await asyncio.sleep(0.1)
                pending.cancel()
                self.figures["calls canceled"] += 1
            elif kind == 2:
                try:
                    result = await asyncio.wait_for(session.call("com.soak.slow"), ANSWER_TIMEOUT)
                    if result != "slow":
                        self.fail(f"com.soak.slow returned {result!r}")
                except (ApplicationError, asyncio.TimeoutError) as e:
                    self.fail(f"a call to the slow healthy callee got no result: {e!r}")
                self.figures["calls (healthy callee)"] += 1
            else:
                await self.call_fragile(session)
            await asyncio.sleep(0.05)

    async def call_fragile(self, session):
        """com.soak.fragile: a result from the healthy callee, or wamp.error.canceled from
        a doomed one that was killed; never silence."""
        try:
            result = await asyncio.wait_for(session.call("com.soak.fragile"), ANSWER_TIMEOUT)
            if result != "fragile":
                self.fail(f"com.soak.fragile returned {result!r}")
        except ApplicationError as e:
            if e.error != "wamp.error.canceled":
                self.fail(f"a call whose callee was killed ended with {e.error}, not wamp.error.canceled")
            self.figures["calls canceled by a killed callee"] += 1
        except asyncio.TimeoutError:
            self.fail("a call to com.soak.fragile got no answer (its callee killed?)")
        self.figures["calls (shared with doomed callees)"] += 1

    async def churn_loop(self, index):
        """Short-lived sessions: join, subscribe, call, publish, register, leave (one in
        five without GOODBYE)."""
        n = 0
        while not self.stop.is_set():
            n += 1
            try:
                s = await self.session()
                on_event, _ = self.news_subscriber(f"churn subscriber {index}/{n}")
                await s.subscribe(on_event, "com.soak.news")
                await s.register(lambda: None, f"com.soak.churn.{index}.{n}")
                result = await asyncio.wait_for(s.call("com.soak.echo", -1, n), ANSWER_TIMEOUT)
                if result != [-1, n]:
                    self.fail(f"churn {index}/{n}: com.soak.echo returned {result!r}")
                await asyncio.wait_for(s.publish("com.soak.churn", n, options=PublishOptions(acknowledge=True)),
                                       ANSWER_TIMEOUT)
                self.figures["calls (healthy callee)"] += 1
                self.figures["publications"] += 1
                await asyncio.sleep(0.05)
                if n % 5 == 0:
                    s.drop_connection()
                    self.figures["sessions dropped without GOODBYE"] += 1
                else:
                    await s.close()
            except Exception as e:  # noqa: BLE001 - every failure of a healthy client counts
                self.fail(f"churn session {index}/{n} failed: {e!r}")

    # ---------------------------------------------------------------- chaos

    async def kill_callee_mid_call(self, caller):
        doomed = await self.session()
        invoked = asyncio.get_running_loop().create_future()

        async def hang():
            if not invoked.done():
                invoked.set_result(True)
            await asyncio.sleep(60)

        await doomed.register(hang, "com.soak.fragile", options=RegisterOptions(invoke="roundrobin"))
        calls = []
        for _ in range(6):  # roundrobin: the doomed callee's turn comes within two
            calls.append(asyncio.ensure_future(self.call_fragile(caller)))
            await asyncio.wait([calls[-1], invoked], timeout=ANSWER_TIMEOUT,
                               return_when=asyncio.FIRST_COMPLETED)
            if invoked.done():
                break
        if not invoked.done():
            self.fail("a callee of the shared com.soak.fragile was never invoked")
        doomed.drop_connection()
        self.figures["callees killed mid-call"] += 1
        await asyncio.gather(*calls)

    async def kill_caller_mid_call(self, slow_started):
        doomed = await self.session()
        started = slow_started["count"]
        pending = asyncio.ensure_future(doomed.call("com.soak.slow"))
        # Autobahn fails the call when the transport goes; nothing waits for it.
        pending.add_done_callback(lambda f: f.cancelled() or f.exception())
        deadline = time.monotonic() + ANSWER_TIMEOUT
        while slow_started["count"] == started and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        doomed.drop_connection()
        self.figures["callers killed mid-call"] += 1

    async def slow_consumers(self, monitor, flooder):
        """Subscribers that stop reading: the router must drop each (send queue limit or
        write timeout) while the flood still reaches the healthy flood subscriber."""
        def join():
            raw = RawWamp(self.url, sockopt=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)])
            welcome = raw.hello()
            raw.send([32, 1, {}, "com.soak.flood"])
            raw.expect(33)
            return raw, welcome[1]

        consumers = dict([await asyncio.to_thread(join) for _ in range(SLOW_CONSUMERS_AT_ONCE)])
        self.figures["sessions created"] += len(consumers)
        self.figures["slow consumers"] += len(consumers)
        waiting = set(consumers.values())
        flooded = 0
        while waiting and flooded < FLOOD_LIMIT:
            for _ in range(16):
                seq = len(self.flood_acked) + 1
                flooded += 1
                try:
                    await asyncio.wait_for(flooder.publish("com.soak.flood", seq, FLOOD_EVENT,
                                                           options=PublishOptions(acknowledge=True)),
                                           ANSWER_TIMEOUT)
                    self.flood_acked.append(seq)
                    self.figures["flood events (64 KiB)"] += 1
                except (ApplicationError, asyncio.TimeoutError) as e:
                    self.fail(f"flood publication {seq} not acknowledged: {e!r}")
            for session_id in list(waiting):
                try:
                    await monitor.call("wamp.session.get", session_id)
                except ApplicationError as e:
                    if e.error != "wamp.error.no_such_session":
                        raise
                    waiting.discard(session_id)
            await asyncio.sleep(0.2)
        if waiting:
            self.fail(f"{len(waiting)} subscriber(s) that stopped reading not dropped after "
                      f"{flooded} flood events of 64 KiB")

        def drain(raw):
            raw.ws.sock.settimeout(10)
            try:
                while raw.ws.sock.recv(1 << 20):
                    pass
                return True
            except ConnectionError:
                return True
            except socket.timeout:
                return False
            finally:
                raw.ws.shutdown()
        for raw in consumers:
            if not await asyncio.to_thread(drain, raw):
                self.fail("the connection of a dropped slow consumer is still open")

    async def garbage(self, variant):
        def run():
            if variant == 3:  # bytes that are not HTTP at all
                with socket.create_connection(("127.0.0.1", self.router.port), timeout=5) as s:
                    s.sendall(bytes(range(256)) * 8 + b"\r\n\r\n")
                    try:
                        while s.recv(65536):
                            pass
                    except ConnectionResetError:
                        pass
                return
            raw = RawWamp(self.url)
            try:
                if variant == 0:  # not JSON
                    raw.hello()
                    raw.send_text('[16, 1, {}, "com.soak.news"')
                elif variant == 1:  # an unknown message code
                    raw.hello()
                    raw.send([4242, 1, {}])
                else:  # a WAMP message before HELLO
                    raw.send([48, 1, {}, "com.soak.echo"])
                assert_protocol_violation(raw)
            finally:
                raw.close()

        try:
            await asyncio.to_thread(run)
        except (AssertionError, OSError) as e:
            self.fail(f"garbage sender (variant {variant}) not closed as a protocol violation: {e!r}")
        self.figures["garbage senders"] += 1

    async def chaos_loop(self, caller, monitor, flooder, slow_started):
        n = 0
        while not self.stop.is_set():
            action = n % 5
            if action == 0:
                await self.kill_callee_mid_call(caller)
            elif action == 1:
                await self.kill_caller_mid_call(slow_started)
            elif action == 2:
                await self.slow_consumers(monitor, flooder)
            else:
                await self.garbage((n // 5 * 2 + action - 3) % 4)
            n += 1
            await asyncio.sleep(0.5)

    # ---------------------------------------------------------------- the run

    async def warm_up(self):
        for n in range(20):
            s = await self.session()
            await s.subscribe(lambda *a: None, "com.soak.news")
            await s.register(lambda: None, f"com.soak.warm.{n}")
            await s.publish("com.soak.news", -1, n, options=PublishOptions(acknowledge=True))
            await s.close()

    async def run(self):
        monitor = await connect(self.monitor_url)
        await self.warm_up()
        await asyncio.sleep(1.0)
        self.rss["before"] = self.sample_rss()
        self.rss["peak"] = self.rss["before"]

        subscribers, received = [], []
        for i in range(3):
            s = await self.session()
            on_event, got = self.news_subscriber(f"subscriber {i}")
            await s.subscribe(on_event, "com.soak.news")
            subscribers.append(s)
            received.append(got)
        flood_got = []
        flood_subscriber = await self.session()
        await flood_subscriber.subscribe(lambda seq, blob: flood_got.append(seq), "com.soak.flood")

        shared = RegisterOptions(invoke="roundrobin")
        callees = []
        for i in range(3):
            s = await self.session()
            await s.register(lambda *args: list(args), "com.soak.echo", options=shared)
            callees.append(s)
        slow_started = {"count": 0}

        async def slow():
            slow_started["count"] += 1
            await asyncio.sleep(0.8)
            return "slow"
        slow_callee = await self.session()
        await slow_callee.register(slow, "com.soak.slow")
        fragile_callee = await self.session()
        await fragile_callee.register(lambda: "fragile", "com.soak.fragile", options=shared)

        publishers = [await self.session() for _ in range(2)]
        callers = [await self.session() for _ in range(2)]
        edge_caller, chaos_caller, flooder = await self.session(), await self.session(), await self.session()
        self.callers = callers + [edge_caller, chaos_caller]
        healthy = subscribers + [flood_subscriber] + callees + [slow_callee, fragile_callee] + publishers + \
            self.callers + [flooder]

        started = time.monotonic()
        tasks = [asyncio.ensure_future(t) for t in [
            self.rss_sampler(),
            *(self.publisher_loop(p, i) for i, p in enumerate(publishers)),
            *(self.caller_loop(c, i) for i, c in enumerate(callers)),
            self.rpc_edges_loop(edge_caller),
            *(self.churn_loop(i) for i in range(3)),
            self.chaos_loop(chaos_caller, monitor, flooder, slow_started),
        ]]
        done, _ = await asyncio.wait(tasks, timeout=SOAK_SECONDS, return_when=asyncio.FIRST_EXCEPTION)
        self.stop.set()
        done, pending = await asyncio.wait(tasks, timeout=60)
        for task in done:
            if task.exception() is not None:
                self.fail(f"a client task failed: {task.exception()!r}")
        if pending:
            self.fail(f"{len(pending)} client tasks did not finish within 60 s of the end of the run")
            for task in pending:
                task.cancel()
        self.figures["run seconds"] = round(time.monotonic() - started, 1)

        if not self.router.is_alive():
            self.fail(f"the router exited during the soak (code {self.router.proc.returncode})")
            return
        await self.check_deliveries(received, flood_got)
        deadline = time.monotonic() + 3
        while any(c._call_reqs for c in self.callers) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        for caller in self.callers:
            # Autobahn keeps a call it sent until RESULT or ERROR answers it (a canceled
            # one too, since it announced call_canceling); one left was never answered.
            if caller._call_reqs:
                self.fail(f"{len(caller._call_reqs)} call(s) of a healthy caller never answered")
        await close_all(*healthy)
        await self.check_nothing_left(monitor)
        await asyncio.sleep(1.0)
        self.rss["after"] = self.sample_rss()
        await close_all(monitor)

    async def check_deliveries(self, received, flood_got):
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            complete = all(set(got[p]) >= set(acked) for got in received for p, acked in self.acked.items()) and \
                set(flood_got) >= set(self.flood_acked)
            if complete:
                break
            await asyncio.sleep(0.2)
        for i, got in enumerate(received):
            for publisher, acked in self.acked.items():
                missing = sorted(set(acked) - set(got[publisher]))
                if missing:
                    self.fail(f"healthy subscriber {i} lost {len(missing)} acknowledged publication(s) of "
                              f"publisher {publisher} (first: {missing[:5]})")
                unknown = set(got[publisher]) - set(self.published[publisher])
                if unknown:
                    self.fail(f"healthy subscriber {i} got events never published: {sorted(unknown)[:5]}")
        missing = sorted(set(self.flood_acked) - set(flood_got))
        if missing:
            self.fail(f"the healthy flood subscriber lost {len(missing)} acknowledged flood event(s) "
                      f"(first: {missing[:5]})")
        if flood_got != sorted(flood_got):
            self.fail("the healthy flood subscriber got flood events out of order")

    async def check_nothing_left(self, monitor):
        # Sessions dropped by the router or cut by their clients go within moments.
        deadline = time.monotonic() + 10
        while True:
            count = await monitor.call("wamp.session.count")
            if count == 1 or time.monotonic() >= deadline:
                break
            await asyncio.sleep(0.2)
        if count != 1:
            sessions = await monitor.call("wamp.session.list")
            self.fail(f"{count - 1} client session(s) left behind after every client left: {sessions[:10]}")
        subscriptions = await monitor.call("wamp.subscription.list")
        if any(subscriptions.values()):
            self.fail(f"subscriptions left behind: {subscriptions}")
        registrations = await monitor.call("wamp.registration.list")
        if any(registrations.values()):
            self.fail(f"registrations left behind: {registrations}")


def shutdown_figures(router):
    """The router's per-realm figures logged on SIGTERM (app/main.cpp)."""
    code = router.stop(signal.SIGTERM)
    assert code == 0, f"router exited with {code} on SIGTERM; stderr tail:\n{router.log_tail()}"
    match = re.search(r'realm "realm1" at shutdown: .*?(\d+) pending invocations, (\d+) sessions with calls on record',
                      router.log())
    assert match, f"no shutdown figures for realm1 in the router's log:\n{router.log_tail()}"
    return int(match.group(1)), int(match.group(2))


def test_soak_and_chaos(router_factory, capsys):
    router = router_factory(mutate=soak_config, loglevel="info")
    soak = Soak(router)

    async def bounded():
        await asyncio.wait_for(soak.run(), OVERALL_TIMEOUT)
    asyncio.run(bounded())

    failures = soak.failures
    alive = router.is_alive()
    if alive:
        invocations, call_records = shutdown_figures(router)
        if invocations or call_records:
            failures.append(f"{invocations} pending invocation(s) and {call_records} session(s) with calls on "
                            f"record left in the realm after every client left")
    before, peak, after = (soak.rss.get(k, 0) for k in ("before", "peak", "after"))
    if alive and after > before + RSS_TOLERANCE:
        failures.append(f"RSS after the soak {mib(after)} is more than {mib(RSS_TOLERANCE)} above the "
                        f"baseline {mib(before)} (peak {mib(peak)})")
    figures = "\n".join(f"  {k}: {v}" for k, v in sorted(soak.figures.items()))
    report = (f"soak figures ({SOAK_SECONDS:g} s requested, BLINDROUTER_SOAK_SECONDS):\n{figures}\n"
              f"  RSS before/peak/after: {mib(before)} / {mib(peak)} / {mib(after)} "
              f"(tolerance {mib(RSS_TOLERANCE)})")
    with capsys.disabled():
        print("\n" + report)
    assert alive, f"the router process died during the soak; stderr tail:\n{router.log_tail()}"
    assert not failures, "soak invariants broken:\n- " + "\n- ".join(failures) + "\n" + report
