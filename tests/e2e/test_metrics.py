"""The Prometheus endpoint (--metrics): real Autobahn|Python clients publish, call, fail
to authenticate and are refused, and a scrape over HTTP shows exactly that; the
endpoint's bounds (concurrent scrapes, request size) and what never becomes a label.

Node directory: crossbar-config/ticket (client1 is "frontend", backend1 "backend").
"""

import os
import re
import socket
import time
import urllib.error
import urllib.request

import pytest
from autobahn.wamp.types import PublishOptions

from test_authentication import login, ticket
from wamp_helpers import DEFAULT_CONFIG_DIR, free_port, run

TICKET_DIR = DEFAULT_CONFIG_DIR / "ticket"
BACKEND_TICKET = "ticket-for-metrics-test-8c1d"
CANARY = "metrics-canary-payload-5e0b"
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """{(name, frozenset(labels.items())): value} of every sample; HELP and TYPE checked."""
    samples, typed = {}, set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if line.startswith("#") or not line:
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        name, labels, value = match.groups()
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in typed or family in typed, f"{name} has no # TYPE line before it"
        samples[(name, frozenset(LABEL.findall(labels or "")))] = float(value)
    return samples


def value(samples, name, **labels):
    return samples[(name, frozenset(labels.items()))]


def scrape(port, path="/metrics"):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        return response.headers["Content-Type"], response.read().decode()


@pytest.fixture
def metered(router_factory, monkeypatch):
    monkeypatch.setenv("BLINDROUTER_BACKEND1_TICKET", BACKEND_TICKET)
    port = free_port()
    router = router_factory(TICKET_DIR, extra_args=["--metrics", str(port)])
    assert router.wait_for_log(r"metrics: http://127\.0\.0\.1:%d/metrics" % port)
    return router, port


@pytest.mark.single_node("the Prometheus endpoint of one process (--metrics takes one port)")
def test_scrape_counts_what_clients_did(metered):
    router, port = metered

    async def scenario():
        backend, joined = await login(router.url, authmethods=["ticket"], authid="backend1",
                                      answer=ticket(BACKEND_TICKET))
        assert joined
        events = []
        await backend.subscribe(lambda *a, **kw: events.append(a), "com.example.topic")
        await backend.register(lambda x: x, "com.example.echo")
        client, joined = await login(router.url, authmethods=["ticket"], authid="client1",
                                     answer=ticket("test-only-ticket-client1"))
        assert joined
        await client.publish("com.example.topic", CANARY, options=PublishOptions(acknowledge=True))
        assert await client.call("com.example.echo", CANARY) == CANARY
        refused = []
        for procedure in ("com.example.nobody", "org.private.proc"):
            try:
                await client.call(procedure)
            except Exception as e:  # ApplicationError: the URI is what the test checks
                refused.append(e.error)
        assert refused == ["wamp.error.no_such_procedure", "wamp.error.not_authorized"]
        failed, joined = await login(router.url, authmethods=["ticket"], authid="client1",
                                     answer=ticket("wrong-ticket-3a7f"))
        assert not joined
        await failed.close()
        content_type, text = scrape(port)
        await client.close()
        await backend.close()
        return content_type, text, events

    content_type, text, events = run(scenario())
    assert len(events) == 1
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    s = parse(text)
    assert value(s, "blindrouter_sessions", realm="realm1", transport="websocket", serializer="json") == 2
    assert value(s, "blindrouter_open_connections") >= 2
    assert value(s, "blindrouter_messages_received_total", type="PUBLISH") == 1
    assert value(s, "blindrouter_messages_received_total", type="CALL") == 3
    assert value(s, "blindrouter_messages_received_total", type="YIELD") == 1
    assert value(s, "blindrouter_messages_sent_total", type="EVENT") == 1
    assert value(s, "blindrouter_messages_sent_total", type="RESULT") == 1
    assert value(s, "blindrouter_messages_sent_total", type="INVOCATION") == 1
    assert value(s, "blindrouter_received_bytes_total", type="CALL") > len(CANARY)
    assert value(s, "blindrouter_sent_bytes_total", type="EVENT") > len(CANARY)
    assert value(s, "blindrouter_refusals_total", uri="wamp.error.no_such_procedure") == 1
    assert value(s, "blindrouter_refusals_total", uri="wamp.error.not_authorized") == 1
    assert value(s, "blindrouter_refusals_total", uri="other") == 0
    assert value(s, "blindrouter_authentication_failures_total", method="ticket") == 1
    assert value(s, "blindrouter_pending_calls", realm="realm1") == 0
    assert value(s, "blindrouter_call_duration_seconds_count") == 1
    assert value(s, "blindrouter_call_duration_seconds_bucket", le="+Inf") == 1
    assert value(s, "blindrouter_send_queue_drops_total") == 0
    assert value(s, "blindrouter_skipped_receivers_total", sender_serializer="json",
                 receiver_serializer="json") == 0
    assert value(s, "blindrouter_uptime_seconds") > 0
    # Labels never come from payloads, secrets or (without --metrics-uri-labels) URIs.
    for absent in (CANARY, "test-only-ticket-client1", BACKEND_TICKET, "wrong-ticket", "com.example", "client1"):
        assert absent not in text


@pytest.mark.single_node("the Prometheus endpoint of one process (--metrics takes one port)")
def test_uri_labels_when_the_operator_asks(router_factory):
    port = free_port()
    router = router_factory(extra_args=["--metrics", f"127.0.0.1:{port}", "--metrics-uri-labels", "1"])
    assert router.wait_for_log("metrics: ")

    async def scenario():
        from wamp_helpers import connect
        client = await connect(router.url)
        for topic in ("com.example.first", "com.example.first", "com.example.second"):
            await client.publish(topic, CANARY, options=PublishOptions(acknowledge=True))
        await client.leave()

    run(scenario())
    s = parse(scrape(port)[1])
    assert value(s, "blindrouter_uri_messages_total", type="PUBLISH", uri="com.example.first") == 2
    assert value(s, "blindrouter_uri_messages_total", type="PUBLISH", uri="other") == 1


@pytest.mark.single_node("the Prometheus endpoint of one process (--metrics takes one port)")
def test_only_metrics_path_and_get(metered):
    _, port = metered
    with pytest.raises(urllib.error.HTTPError) as e:
        scrape(port, "/")
    assert e.value.code == 404
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", data=b"", method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(request, timeout=5)
    assert e.value.code == 405


def closed_without_answer(sock):
    sock.settimeout(3)
    try:
        return sock.recv(100) == b""
    except ConnectionResetError:
        return True


def socket_count(pid):
    """How many sockets the process holds open."""
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except FileNotFoundError:  # closed meanwhile
            pass
    return count


def wait_for_socket_count(router, condition, what, timeout=5.0):
    """The kernel completes a connection before the router accepts it: only the router's
    own descriptors tell that it took (or closed) one."""
    deadline = time.monotonic() + timeout
    while not condition(socket_count(router.proc.pid)):
        assert time.monotonic() < deadline, f"the router did not {what} within {timeout}s"
        time.sleep(0.02)


@pytest.mark.single_node("the Prometheus endpoint of one process (--metrics takes one port)")
def test_scrapes_are_bounded(metered):
    router, port = metered
    before = socket_count(router.proc.pid)
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
    # The router accepts one connection at a time, the next once it counted the last:
    # a fifth accepted after these four finds every slot taken.
    wait_for_socket_count(router, lambda n: n >= before + 4, "accept the 4 idle connections")
    extra = socket.create_connection(("127.0.0.1", port))
    assert closed_without_answer(extra)  # the fifth at once gets nothing
    for sock in idle:
        sock.close()
    wait_for_socket_count(router, lambda n: n <= before, "close the 4 idle connections")
    big = socket.create_connection(("127.0.0.1", port))
    big.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 9000 + b"\r\n\r\n")
    assert closed_without_answer(big)  # headers beyond 8 KiB are not served
    assert "blindrouter_build_info" in scrape(port)[1]
    assert router.is_alive()


def test_metrics_flag_is_checked(router_binary, tmp_path):
    import subprocess
    result = subprocess.run([str(router_binary), "start", "--cbdir", str(tmp_path), "--metrics", "localhost:99999"],
                            capture_output=True, text=True, timeout=10)
    assert result.returncode == 2
    assert "invalid --metrics" in result.stderr


def test_a_taken_metrics_port_stops_the_start_and_is_named(router_binary, tmp_path):
    import subprocess
    from wamp_helpers import prepare_cbdir
    prepare_cbdir(DEFAULT_CONFIG_DIR, tmp_path / "node")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = subprocess.run([str(router_binary), "start", "--cbdir", str(tmp_path / "node"),
                                 "--metrics", f"127.0.0.1:{port}"],
                                capture_output=True, text=True, timeout=10)
    assert result.returncode != 0
    # The port asked for, not the 0 an unbound acceptor reads back.
    assert f"metrics endpoint http://127.0.0.1:{port}/metrics: Address already in use" in result.stderr
