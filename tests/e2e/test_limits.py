"""Transport limits against the real router over real sockets, each at its limit with
what a client sees: open connections per endpoint and in total, the send queue, the
buffer for a frame still arriving; plus WebSocket UTF-8 rules and escaped log text.
README.md ("Limits") lists the keys and defaults.
"""

import json
import re
import socket
import time

import msgpack
import pytest
import websocket

from test_liveness import ws_joined
from test_rawsocket import HELLO, UNIVERSAL_CONFIG_DIR, RawSocket, joined
from wamp_helpers import free_port, http_upgrade_status


def separate_ports_router(router_factory, max_connections=None, total=None):
    """A WebSocket-only and a RawSocket-only TCP transport (not universal: each can
    say why it refuses), each endpoint with ``max_connections`` when given."""
    def mutate(config):
        worker = config["workers"][0]
        endpoint = {"type": "tcp", "interface": "127.0.0.1", "port": 8080}
        if max_connections is not None:
            endpoint["max_connections"] = max_connections
        worker["transports"] = [
            {"type": "websocket", "endpoint": dict(endpoint), "serializers": ["json"]},
            {"type": "rawsocket", "endpoint": dict(endpoint), "serializers": ["msgpack"]},
        ]
        if total is not None:
            worker["options"] = {"max_connections": total}
    return router_factory(config_dir=UNIVERSAL_CONFIG_DIR, mutate=mutate)


def raw_joined(port):
    raw = RawSocket.tcp(port)
    assert raw.handshake(2) == bytes([0x7F, 0xF2, 0, 0])
    raw.send_frame(msgpack.packb(HELLO))
    assert msgpack.unpackb(raw.recv_frame()[1])[0] == 2
    return raw


def http_status(port):
    return http_upgrade_status(port, "", ["wamp.2.json"])[0]


@pytest.mark.single_node("connection limits are per node")
def test_connections_over_an_endpoint_limit_are_refused_with_a_reason(router_factory):
    router = separate_ports_router(router_factory, max_connections=2)
    ws_port, raw_port = router.ports
    first, second = ws_joined(router), ws_joined(router)
    assert http_status(ws_port) == 503
    raws = [raw_joined(raw_port), raw_joined(raw_port)]
    refused = RawSocket.tcp(raw_port)
    # The RawSocket handshake error "maximum connection count reached" (4).
    assert refused.handshake(2) == bytes([0x7F, 0x40, 0, 0])
    assert refused.closed(timeout=2)
    assert router.wait_for_log(r"connection limit reached \(2 open, endpoint.max_connections 2\); refused")
    # Those in stay served; once one leaves, the next one gets in.
    first.send(json.dumps([16, 1, {"acknowledge": True}, "com.alive"]))
    assert json.loads(first.recv())[0] == 17
    second.close()
    raws[0].sock.close()
    deadline = time.monotonic() + 3
    while http_status(ws_port) != 101:
        assert time.monotonic() < deadline, "the count did not fall when a connection closed"
        time.sleep(0.05)
    raw_joined(raw_port)


@pytest.mark.single_node("connection limits are per node")
def test_router_wide_connection_limit_spans_listeners(router_factory):
    router = separate_ports_router(router_factory, total=2)
    ws_port, raw_port = router.ports
    kept = [ws_joined(router), raw_joined(raw_port)]
    assert http_status(ws_port) == 503
    assert RawSocket.tcp(raw_port).handshake(2) == bytes([0x7F, 0x40, 0, 0])
    assert router.wait_for_log(r"connection limit reached \(2 open, router max_connections 2\); refused")
    # One line per 10 s with a count, however many clients are refused.
    for _ in range(5):
        http_status(ws_port)
    time.sleep(0.3)
    assert len([l for l in router.log().splitlines() if "connection limit reached" in l]) == 1
    assert kept


@pytest.mark.single_node("the memory of one process (/proc/PID/status)")
def test_declared_frame_length_is_not_allocated_before_it_arrives(router_factory):
    router = router_factory(config_dir=UNIVERSAL_CONFIG_DIR)

    def rss_kib():
        with open(f"/proc/{router.proc.pid}/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))

    clients = [joined(router) for _ in range(20)]
    time.sleep(0.2)
    before = rss_kib()
    for raw in clients:
        # A header declaring 2^24 - 1 bytes (the most the field holds), then 10 of them.
        raw.sock.sendall(bytes([0, 0xFF, 0xFF, 0xFF]) + b"x" * 10)
    time.sleep(0.5)
    grown = rss_kib() - before
    # Allocated by the declared length this was 20 x 16 MiB = 320 MiB.
    assert grown < 20 * 1024, f"RSS grew by {grown} KiB"
    for raw in clients:
        raw.sock.close()


@pytest.mark.single_node("the Prometheus endpoint of one process (--metrics takes one port)")
def test_send_queue_limit_is_configurable(router_factory):
    def mutate(config):
        options = config["workers"][0]["transports"][0]["rawsocket"]["options"]
        options.update(max_message_size=131072, send_queue_limit=1048576, write_timeout=0, auto_ping_interval=0)
    metrics_port = free_port()
    router = router_factory(config_dir=UNIVERSAL_CONFIG_DIR, mutate=mutate, extra_args=["--metrics", str(metrics_port)])

    def small_joined():
        raw = RawSocket.tcp(router.port)
        assert raw.handshake(2) == bytes([0x7F, 0x82, 0, 0])  # 2^(9+8) = 131072
        raw.send_frame(msgpack.packb(HELLO))
        assert msgpack.unpackb(raw.recv_frame()[1])[0] == 2
        return raw

    stalled = small_joined()
    stalled.send_frame(msgpack.packb([32, 1, {}, "com.flood"]))
    assert msgpack.unpackb(stalled.recv_frame()[1])[0] == 33
    pub = small_joined()
    # 12 MB: more than the kernel's buffers and 1 MiB, far less than the 16 MiB default.
    count, payload = 200, b"p" * 60000
    for i in range(count):
        pub.send_frame(msgpack.packb([16, i + 1, {"acknowledge": i == count - 1}, "com.flood", [payload]]))
    assert msgpack.unpackb(pub.recv_frame()[1])[0] == 17
    assert router.wait_for_log(r"send queue limit reached \(\d+ bytes held\); dropping the connection", timeout=4)
    waiting = re.search(r"send queue limit reached \((\d+) bytes held\)", router.log())
    assert int(waiting.group(1)) <= 1048576
    assert stalled.closed(timeout=5)
    from test_metrics import parse, scrape, value
    samples = parse(scrape(metrics_port)[1])
    assert value(samples, "blindrouter_send_queue_drops_total") == 1
    assert value(samples, "blindrouter_sessions", realm="realm1", transport="rawsocket", serializer="msgpack") == 1


def test_text_frame_that_is_not_utf8_is_closed_with_1007(router_factory):
    router = router_factory(config_dir=UNIVERSAL_CONFIG_DIR)
    ws = ws_joined(router)
    ws.send(b'[16, 1, {}, "caf\xc3"]', opcode=websocket.ABNF.OPCODE_TEXT)
    opcode, frame = ws.recv_data_frame(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE
    assert int.from_bytes(frame.data[:2], "big") == 1007
    assert frame.data[2:] == b"text message is not valid UTF-8"
    assert router.wait_for_log(r"WebSocket protocol error: text message is not valid UTF-8; closed with 1007")


def test_client_strings_in_logs_are_escaped(router_factory):
    router = router_factory(config_dir=UNIVERSAL_CONFIG_DIR)
    s = socket.create_connection(("127.0.0.1", router.port), timeout=3)
    s.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
              b"Sec-WebSocket-Protocol: evil\xff\xc3\x28" + b"x" * 300 + b"\r\n\r\n")
    assert s.recv(100).startswith(b"HTTP/1.1 400")
    # HTTP keeps control characters out of headers (unit tests cover those); bytes that
    # are not UTF-8 pass it, and are escaped; the length is capped at 200.
    assert router.wait_for_log(r'offered: "evil\\xFF\\xC3\(x{193}\.\.\.\(\+107 bytes\)"')
    s = socket.create_connection(("127.0.0.1", router.port), timeout=3)
    s.sendall(b"GET /nope\xfe HTTP/1.1\r\nHost: x\r\n\r\n")
    assert s.recv(100).startswith(b"HTTP/1.1 404")
    assert router.wait_for_log(r'no WebSocket service at path "/nope\\xFE"')
