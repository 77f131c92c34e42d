"""RawSocket framing against the real router: handshake replies, frames, pings,
limits and bad input, with a raw socket client that sends exactly the bytes a test
gives it; plus TLS on a universal port and oversized messages per transport.
"""

import json
import socket
import ssl
import struct
import subprocess
import time

import msgpack
import pytest
import websocket

from wamp_helpers import REPO_ROOT, port_accepts

UNIVERSAL_CONFIG_DIR = REPO_ROOT / "crossbar-config" / "universal"
HELLO = [1, "realm1", {"roles": {"subscriber": {}, "publisher": {}, "caller": {}, "callee": {}}}]


class RawSocket:
    def __init__(self, sock):
        self.sock = sock
        self.sock.settimeout(3)

    @classmethod
    def tcp(cls, port):
        return cls(socket.create_connection(("127.0.0.1", port), timeout=3))

    @classmethod
    def unix(cls, path):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(str(path))
        return cls(s)

    def recv_exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError(f"closed after {len(data)} of {n} bytes")
            data += chunk
        return data

    def handshake(self, serializer_id, length_exponent=0xF):
        self.sock.sendall(bytes([0x7F, (length_exponent << 4) | serializer_id, 0, 0]))
        return self.recv_exact(4)

    def send_frame(self, payload, frame_type=0):
        self.sock.sendall(struct.pack("!I", (frame_type << 24) | len(payload)) + payload)

    def recv_frame(self):
        header = self.recv_exact(4)
        return header[0], self.recv_exact(int.from_bytes(header[1:], "big"))

    def closed(self, timeout=3):
        """True when the router closes the connection within ``timeout``."""
        self.sock.settimeout(timeout)
        try:
            while self.sock.recv(4096):
                pass
            return True
        except (ConnectionError, OSError):
            return True
        except socket.timeout:
            return False


@pytest.fixture
def router(router_factory):
    return router_factory(config_dir=UNIVERSAL_CONFIG_DIR)


def joined(router, serializer_id=2, pack=msgpack.packb, unpack=msgpack.unpackb):
    raw = RawSocket.tcp(router.port)
    assert raw.handshake(serializer_id) == bytes([0x7F, 0xF0 | serializer_id, 0, 0])
    raw.send_frame(pack(HELLO))
    frame_type, payload = raw.recv_frame()
    assert frame_type == 0
    assert unpack(payload)[0] == 2
    return raw


def test_handshake_accepts_each_serializer_and_announces_the_limit(router):
    for serializer_id in (1, 2, 3):
        raw = RawSocket.tcp(router.port)
        assert raw.handshake(serializer_id) == bytes([0x7F, 0xF0 | serializer_id, 0, 0])
        raw.sock.close()


def test_unsupported_serializer_is_refused_with_error_1(router):
    raw = RawSocket.tcp(router.port)
    assert raw.handshake(4) == bytes([0x7F, 0x10, 0, 0])  # UBJSON is not served
    assert raw.closed()


def test_reserved_bits_are_refused_with_error_3(router):
    raw = RawSocket.tcp(router.port)
    raw.sock.sendall(bytes([0x7F, 0xF2, 0, 1]))
    assert raw.recv_exact(4) == bytes([0x7F, 0x30, 0, 0])
    assert raw.closed()


def test_unix_socket(router):
    raw = RawSocket.unix(router.cbdir / "router.sock")
    assert raw.handshake(1) == bytes([0x7F, 0xF1, 0, 0])
    raw.send_frame(json.dumps(HELLO).encode())
    assert json.loads(raw.recv_frame()[1])[0] == 2


def test_ping_is_answered_with_pong_of_the_same_payload(router):
    raw = joined(router)
    raw.send_frame(b"ping-payload", frame_type=1)
    assert raw.recv_frame() == (2, b"ping-payload")


def test_pubsub_over_rawsocket_with_mixed_serializers(router):
    sub = joined(router, 3, pack=lambda m: __import__("cbor2").dumps(m), unpack=lambda b: __import__("cbor2").loads(b))
    import cbor2
    sub.send_frame(cbor2.dumps([32, 1, {}, "com.t"]))
    assert cbor2.loads(sub.recv_frame()[1])[0] == 33
    pub = joined(router)
    pub.send_frame(msgpack.packb([16, 2, {"acknowledge": True}, "com.t", [b"\x00\xff", 2 ** 60], {"k": "ü"}]))
    assert msgpack.unpackb(pub.recv_frame()[1])[0] == 17
    event = cbor2.loads(sub.recv_frame()[1])
    assert event[0] == 36
    assert event[4] == [b"\x00\xff", 2 ** 60]
    assert event[5] == {"k": "ü"}


@pytest.mark.parametrize("bad", [
    b"\x91",                        # truncated
    b"\xc1",                        # never-used byte
    msgpack.packb({"not": "a list"}),
    msgpack.packb([16, "x", {}, "t"]),
    b"\x91\xdd\xff\xff\xff\xff",   # array declaring 4 billion elements
])
def test_malformed_msgpack_is_a_protocol_violation(router, bad):
    raw = joined(router)
    healthy = joined(router)
    raw.send_frame(bad)
    frame_type, payload = raw.recv_frame()
    abort = msgpack.unpackb(payload)
    assert abort[0] == 3 and abort[2] == "wamp.error.protocol_violation"
    assert raw.closed()
    healthy.send_frame(msgpack.packb([16, 9, {"acknowledge": True}, "com.t"]))
    assert msgpack.unpackb(healthy.recv_frame()[1])[0] == 17
    assert router.wait_for_log("protocol violation")


BAD_HEADER_ABORT = [3, {"message": "RawSocket frame with reserved bits or unknown frame type"},
                    "wamp.error.protocol_violation"]


@pytest.mark.parametrize("first_octet", [0x03, 0x07, 0x10, 0x80])  # reserved types, reserved bits
def test_bad_frame_header_is_aborted_then_closed(router, first_octet):
    raw = joined(router)
    # A frame follows the bad header in the same write: nothing after the header is read.
    raw.sock.sendall(bytes([first_octet, 0, 0, 1]) + b"x" + struct.pack("!I", 1) + b"\x90")
    frame_type, payload = raw.recv_frame()
    assert (frame_type, msgpack.unpackb(payload)) == (0, BAD_HEADER_ABORT)
    assert raw.closed()
    assert router.wait_for_log("RawSocket frame with reserved bits or unknown type; closed")


@pytest.mark.single_node("PUBLISHED vouches for events queued on the publisher's node only (SCALE-OUT.md §2.10)")
def test_bad_frame_header_abort_waits_for_what_is_queued_before_it(router):
    # The client stops reading while events pile up in the router's send queue, then
    # sends a bad header: the ABORT goes behind the queued events, and the connection
    # closes only once all of them and the ABORT are written.
    sub = joined(router)
    sub.send_frame(msgpack.packb([32, 1, {}, "com.flood"]))
    assert msgpack.unpackb(sub.recv_frame()[1])[0] == 33
    pub = joined(router)
    count, payload = 200, b"p" * 65536
    for i in range(count):
        pub.send_frame(msgpack.packb([16, i + 1, {"acknowledge": i == count - 1}, "com.flood", [payload]]))
    assert msgpack.unpackb(pub.recv_frame()[1])[0] == 17  # every event is queued for sub
    sub.sock.sendall(bytes([0x03, 0, 0, 0]))
    for _ in range(count):
        assert msgpack.unpackb(sub.recv_frame()[1])[0] == 36
    frame_type, payload = sub.recv_frame()
    assert (frame_type, msgpack.unpackb(payload)) == (0, BAD_HEADER_ABORT)
    assert sub.closed()


def test_message_over_the_limit_closes_the_connection(router_factory):
    def small(config):
        config["workers"][0]["transports"][0]["rawsocket"]["options"]["max_message_size"] = 4096
    router = router_factory(config_dir=UNIVERSAL_CONFIG_DIR, mutate=small)
    raw = RawSocket.tcp(router.port)
    assert raw.handshake(2) == bytes([0x7F, 0x32, 0, 0])  # 2^(9+3) = 4096
    raw.send_frame(msgpack.packb(HELLO))
    raw.recv_frame()
    raw.send_frame(msgpack.packb([16, 1, {}, "com.t", ["x" * 5000]]))
    assert raw.closed()
    assert router.wait_for_log("exceeds max_message_size")


def test_truncated_frame_and_silent_handshake_are_timed_out_or_dropped(router_factory):
    def fast(config):
        config["workers"][0]["transports"][0]["websocket"]["ws"]["options"]["open_handshake_timeout"] = 1000
    router = router_factory(config_dir=UNIVERSAL_CONFIG_DIR, mutate=fast)
    silent = RawSocket.tcp(router.port)
    half = RawSocket.tcp(router.port)
    half.sock.sendall(b"\x7F")  # RawSocket chosen, handshake never finished
    assert silent.closed(timeout=5)
    assert half.closed(timeout=5)
    raw = joined(router)
    raw.sock.sendall(bytes([0, 0, 0, 10]) + b"abc")  # frame body never completes
    raw.sock.close()
    assert router.is_alive()
    joined(router)  # still serving


def test_websocket_binary_serializers_on_the_universal_port(router):
    import cbor2
    for subprotocol, pack, unpack in (("wamp.2.msgpack", msgpack.packb, msgpack.unpackb),
                                      ("wamp.2.cbor", cbor2.dumps, cbor2.loads)):
        ws = websocket.create_connection(router.url, subprotocols=[subprotocol, "wamp.2.json"], timeout=3)
        assert ws.getsubprotocol() == subprotocol  # the client's first preference wins
        ws.send_binary(pack(HELLO))
        assert unpack(ws.recv())[0] == 2
        ws.close()


@pytest.fixture
def tls_files(tmp_path):
    key, cert = tmp_path / "server.key", tmp_path / "server.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "1", "-subj", "/CN=localhost"],
                   check=True, capture_output=True)
    return key, cert


def test_tls_on_a_universal_port(router_factory, tls_files):
    key, cert = tls_files

    def with_tls(config):
        endpoint = config["workers"][0]["transports"][0]["endpoint"]
        endpoint["tls"] = {"key": str(key), "certificate": str(cert)}
    router = router_factory(config_dir=UNIVERSAL_CONFIG_DIR, mutate=with_tls)
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False

    tls = context.wrap_socket(socket.create_connection(("127.0.0.1", router.port), timeout=3))
    raw = RawSocket(tls)
    assert raw.handshake(2) == bytes([0x7F, 0xF2, 0, 0])
    raw.send_frame(msgpack.packb(HELLO))
    assert msgpack.unpackb(raw.recv_frame()[1])[0] == 2

    url = router.url.replace("ws://", "wss://")
    ws = websocket.create_connection(url, subprotocols=["wamp.2.json"], timeout=3,
                                     sslopt={"ca_certs": str(cert), "check_hostname": False})
    ws.send(json.dumps(HELLO))
    assert json.loads(ws.recv())[0] == 2
    ws.close()

    plain = RawSocket.tcp(router.port)  # no TLS on a TLS port: dropped, router fine
    plain.sock.sendall(bytes([0x7F, 0xF2, 0, 0]))
    assert plain.closed()
    assert router.is_alive()
