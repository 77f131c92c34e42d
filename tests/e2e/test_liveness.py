"""Liveness against the real router over real sockets: pings a silent peer must answer,
the deadline for a WAMP session after the transport opens, the write deadline for a
receiver whose socket takes nothing, and TCP keepalive. Each test writes a node config
with small values (config::Liveness has the defaults, README.md "Liveness" lists them).
"""

import json
import subprocess
import time

import msgpack
import pytest
import websocket

from test_rawsocket import HELLO, UNIVERSAL_CONFIG_DIR, RawSocket, joined


def liveness_router(router_factory, **options):
    def mutate(config):
        transport = config["workers"][0]["transports"][0]
        transport["rawsocket"]["options"].update(options)
        transport["websocket"]["ws"]["options"].update(options)
    return router_factory(config_dir=UNIVERSAL_CONFIG_DIR, mutate=mutate)


def ws_joined(router):
    ws = websocket.create_connection(router.url, subprotocols=["wamp.2.json"], timeout=3)
    ws.send(json.dumps(HELLO))
    assert json.loads(ws.recv())[0] == 2
    return ws


def ws_closed(ws, timeout):
    """True when the router closes the TCP connection within ``timeout`` (frames before it are skipped)."""
    return RawSocket(ws.sock).closed(timeout)


def test_websocket_peer_that_does_not_answer_pings_is_dropped(router_factory):
    router = liveness_router(router_factory, auto_ping_interval=1000, auto_ping_timeout=1000)
    silent = ws_joined(router)
    answering = ws_joined(router)
    answering.settimeout(0.2)
    pings, deadline = [], time.monotonic() + 3.5
    while time.monotonic() < deadline:
        try:
            opcode, frame = answering.recv_data_frame(control_frame=True)  # a PING is answered with a PONG
            if opcode == websocket.ABNF.OPCODE_PING:
                pings.append(frame.data)
        except websocket.WebSocketTimeoutException:
            pass
    assert pings and all(len(p) == 12 for p in pings)  # auto_ping_size: Crossbar's default
    assert ws_closed(silent, timeout=1)
    assert router.wait_for_log(r"no answer to a ping within 1000 ms; dropping the connection")
    answering.settimeout(3)
    answering.send(json.dumps([16, 1, {"acknowledge": True}, "com.alive"]))
    assert json.loads(answering.recv())[0] == 17


def test_rawsocket_peer_that_does_not_answer_pings_is_dropped(router_factory):
    router = liveness_router(router_factory, auto_ping_interval=1000, auto_ping_timeout=1000)
    silent = joined(router)
    answering = joined(router)
    deadline = time.monotonic() + 3.5
    while time.monotonic() < deadline:
        answering.sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            frame_type, payload = answering.recv_frame()
        except TimeoutError:
            break
        assert (frame_type, len(payload)) == (1, 12)  # a PING: the spec asks for a PONG echoing it
        answering.send_frame(payload, frame_type=2)
    assert silent.recv_frame()[0] == 1  # it was asked
    assert silent.closed(timeout=1)
    assert router.wait_for_log(r"no answer to a ping within 1000 ms; dropping the connection")
    answering.sock.settimeout(3)
    answering.send_frame(msgpack.packb([16, 1, {"acknowledge": True}, "com.alive"]))
    assert msgpack.unpackb(answering.recv_frame()[1])[0] == 17


def test_any_traffic_answers_a_ping(router_factory):
    # auto_ping_restart_on_any_traffic (Crossbar's default): a peer that keeps sending
    # is alive, PONG or not.
    router = liveness_router(router_factory, auto_ping_interval=1000, auto_ping_timeout=1000)
    busy = joined(router)
    for i in range(12):
        busy.send_frame(msgpack.packb([16, i + 1, {"acknowledge": True}, "com.alive"]))
        frame_type, payload = busy.recv_frame()
        while frame_type == 1:  # PINGs are left unanswered
            frame_type, payload = busy.recv_frame()
        assert msgpack.unpackb(payload)[0] == 17
        time.sleep(0.3)


def test_connection_without_a_session_is_closed_after_hello_timeout(router_factory):
    router = liveness_router(router_factory, hello_timeout=1000)
    ws = websocket.create_connection(router.url, subprotocols=["wamp.2.json"], timeout=3)
    raw = RawSocket.tcp(router.port)
    assert raw.handshake(2) == bytes([0x7F, 0xF2, 0, 0])
    with_session = ws_joined(router)
    started = time.monotonic()
    opcode, frame = ws.recv_data_frame(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE
    assert int.from_bytes(frame.data[:2], "big") == 1002
    assert frame.data[2:] == b"no WAMP session established in time"
    assert 0.5 < time.monotonic() - started < 2.5
    assert raw.closed(timeout=2)
    assert router.wait_for_log(r"no WAMP session established within 1000 ms; closing")
    with_session.send(json.dumps([16, 1, {"acknowledge": True}, "com.alive"]))
    assert json.loads(with_session.recv())[0] == 17


def test_receiver_whose_socket_takes_nothing_is_dropped_after_write_timeout(router_factory):
    # Far below the send queue limit (64 MiB here), the write deadline alone drops it.
    router = liveness_router(router_factory, write_timeout=1000, auto_ping_interval=0)
    stalled = joined(router)
    stalled.send_frame(msgpack.packb([32, 1, {}, "com.flood"]))
    assert msgpack.unpackb(stalled.recv_frame()[1])[0] == 33
    pub = joined(router)
    count, payload = 200, b"p" * 65536  # more than the kernel's buffers hold
    for i in range(count):
        pub.send_frame(msgpack.packb([16, i + 1, {"acknowledge": i == count - 1}, "com.flood", [payload]]))
    assert msgpack.unpackb(pub.recv_frame()[1])[0] == 17
    assert router.wait_for_log(r"the socket took no bytes for 1000 ms \(\d+ bytes held\); dropping the connection",
                               timeout=4)
    assert stalled.closed(timeout=5)
    pub.send_frame(msgpack.packb([16, 999, {"acknowledge": True}, "com.alive"]))
    assert msgpack.unpackb(pub.recv_frame()[1])[0] == 17


def test_accepted_tcp_sockets_have_keepalive(router_factory):
    router = liveness_router(router_factory)
    client = joined(router)
    local_port = client.sock.getsockname()[1]
    # The router's end of this connection, as the kernel shows it: once nothing is in
    # flight, its timer is keepalive (none at all without it).
    for _ in range(20):
        out = subprocess.run(["ss", "-tnoH", "state", "established",
                              f"( sport = :{router.port} and dport = :{local_port} )"],
                             check=True, capture_output=True, text=True).stdout
        if "timer:(keepalive," in out:
            break
        time.sleep(0.1)
    assert "timer:(keepalive," in out, out
