"""Bad input from one client: that client is cut off, everyone else keeps being served.

Each case sends exactly one protocol violation over a raw WebSocket (subprotocol
wamp.2.json) and expects ABORT `wamp.error.protocol_violation` with a `message` in its
details, then the connection closed (WebSocket close 1002 when a close frame is sent).
Crossbar.io answers some of these with a bare close or not at all; the WAMP spec calls
each a protocol violation, and that is what blindrouter follows (shared/CROSSBAR.md).

Around every case, two Autobahn sessions joined BEFORE the bad client must still publish,
receive and call afterwards, the router process must still be alive, and its log must
name the protocol violation. An oversized message must end in close code 1009.
"""

import asyncio
import json

import cbor2
import msgpack
import pytest
import websocket  # websocket-client
from autobahn.wamp.types import PublishOptions

from wamp_helpers import (
    CLIENT_ROLES,
    Closed,
    EventSink,
    RawWamp,
    REALM,
    assert_protocol_violation,
    close_all,
    connect,
    echo,
    run,
    websocket_service,
)

TOPIC = "com.example.topic"
PROC = "com.example.proc"
WELCOME_FIRST = True  # the bad message comes after a successful HELLO/WELCOME
BEFORE_HELLO = False

# (id, after welcome?, kind, data): kind "text" sends data as one text frame verbatim,
# "json" sends json.dumps(data), "binary" sends data in a binary frame, "bytes_as_text"
# sends bytes that are not UTF-8 in a text frame.
CASES = [
    ("malformed_json_before_hello", BEFORE_HELLO, "text", '[1, "realm1", {"roles": '),
    ("malformed_json_after_welcome", WELCOME_FIRST, "text", '[16, 1, {}, "com.example.topic"'),
    ("invalid_utf8_after_welcome", WELCOME_FIRST, "bytes_as_text", None),
    ("not_an_array_object", WELCOME_FIRST, "text", '{"type": 16, "request": 1}'),
    ("not_an_array_string_before_hello", BEFORE_HELLO, "text", '"hello"'),
    ("not_an_array_number", WELCOME_FIRST, "text", "42"),
    ("empty_array", WELCOME_FIRST, "json", []),
    ("message_code_not_an_integer", WELCOME_FIRST, "json", ["16", 1, {}, TOPIC]),
    ("publish_wrong_arity", WELCOME_FIRST, "json", [16, 1, {}]),
    ("subscribe_too_many_fields", WELCOME_FIRST, "json", [32, 1, {}, TOPIC, "extra"]),
    ("hello_realm_not_a_string", BEFORE_HELLO, "json", [1, 123, {}]),
    ("hello_details_not_a_dict", BEFORE_HELLO, "json", [1, "realm1", []]),
    ("hello_wrong_arity", BEFORE_HELLO, "json", [1, "realm1"]),
    # WAMP spec, HELLO: a client MUST announce the roles it plays.
    ("hello_without_roles", BEFORE_HELLO, "json", [1, "realm1", {}]),
    ("hello_roles_not_a_dict", BEFORE_HELLO, "json", [1, "realm1", {"roles": ["caller"]}]),
    # wamp.2.json travels in text frames (WAMP spec, "WebSocket Transport").
    ("binary_frame_on_json_session", WELCOME_FIRST, "binary",
     b'[32, 1, {}, "com.example.topic"]'),
    ("publish_request_id_string", WELCOME_FIRST, "json", [16, "1", {}, TOPIC]),
    ("publish_request_id_float", WELCOME_FIRST, "json", [16, 1.5, {}, TOPIC]),
    ("subscribe_options_not_a_dict", WELCOME_FIRST, "json", [32, 1, [], TOPIC]),
    ("subscribe_topic_not_a_string", WELCOME_FIRST, "json", [32, 1, {}, 12]),
    ("publish_args_not_a_list", WELCOME_FIRST, "json", [16, 1, {}, TOPIC, "notalist"]),
    ("publish_kwargs_not_a_dict", WELCOME_FIRST, "json", [16, 1, {}, TOPIC, [], ["x"]]),
    ("call_args_not_a_list", WELCOME_FIRST, "json", [48, 1, {}, PROC, {"a": 1}]),
    ("unknown_message_code", WELCOME_FIRST, "json", [999]),
    ("unknown_message_code_before_hello", BEFORE_HELLO, "json", [999, 1, {}]),
    ("subscribe_before_hello", BEFORE_HELLO, "json", [32, 1, {}, TOPIC]),
    ("call_before_hello", BEFORE_HELLO, "json", [48, 1, {}, PROC, []]),
    ("publish_before_hello", BEFORE_HELLO, "json", [16, 1, {}, TOPIC]),
    ("goodbye_before_hello", BEFORE_HELLO, "json", [6, {}, "wamp.close.close_realm"]),
    ("error_before_hello", BEFORE_HELLO, "json", [8, 68, 1, {}, "com.example.error"]),
    ("second_hello", WELCOME_FIRST, "json", [1, "realm1", {"roles": CLIENT_ROLES}]),
    ("request_id_zero", WELCOME_FIRST, "json", [32, 0, {}, TOPIC]),
    ("request_id_negative", WELCOME_FIRST, "json", [64, -1, {}, PROC]),
    ("request_id_above_2_pow_53", WELCOME_FIRST, "json", [32, 2 ** 53 + 1, {}, TOPIC]),
    ("yield_for_unknown_invocation", WELCOME_FIRST, "json", [70, 4242, {}]),
    # Router-to-client messages sent by a client (WAMP spec, "Message Codes and Direction").
    ("welcome_from_client", WELCOME_FIRST, "json", [2, 1, {}]),
    ("event_from_client", WELCOME_FIRST, "json", [36, 1, 1, {}]),
    ("invocation_from_client", WELCOME_FIRST, "json", [68, 1, 1, {}]),
]


class Healthy:
    """Two Autobahn sessions, joined before the bad client, that must keep working."""

    @classmethod
    async def create(cls, url):
        self = cls()
        self.publisher = await connect(url)
        self.subscriber = await connect(url)
        self.sink = EventSink()
        await self.subscriber.subscribe(self.sink, TOPIC)
        await self.subscriber.register(echo, PROC)
        await self.check("before")
        return self

    async def check(self, label):
        await self.publisher.publish(TOPIC, label, {"n": [1, 2]},
                                     options=PublishOptions(acknowledge=True))
        args, _, _ = await self.sink.next()
        assert args == [label, {"n": [1, 2]}]
        result = await asyncio.wait_for(self.publisher.call(PROC, label), 3)
        assert result == label

    async def close(self):
        await close_all(self.publisher, self.subscriber)


def send_case(raw, kind, data):
    if kind == "text":
        raw.send_text(data)
    elif kind == "json":
        raw.send(data)
    elif kind == "binary":
        raw.send_binary(data)
    elif kind == "bytes_as_text":
        # A text frame whose payload is not UTF-8: RFC 6455 wants close 1007, the WAMP
        # side sees an undecodable message; either way the connection must end.
        raw.ws.send(b'[16, 1, {}, "\xff\xfe"]', opcode=0x1)
    else:
        raise ValueError(kind)


def run_bad_client(url, after_welcome, kind, data):
    raw = RawWamp(url)
    try:
        if after_welcome:
            raw.hello()
        send_case(raw, kind, data)
        if kind == "bytes_as_text":
            # Invalid UTF-8 may be caught by the WebSocket layer (close 1007) before WAMP
            # sees it; either answer is correct as long as the connection ends.
            try:
                msg = raw.recv(3)
            except Closed as e:
                assert e.code in (1007, 1002, None), f"close code {e.code}"
                return
            assert msg[0] == 3 and msg[2] == "wamp.error.protocol_violation", msg
            raw.wait_closed()
            return
        assert_protocol_violation(raw)
    finally:
        raw.close()


@pytest.mark.parametrize("after_welcome, kind, data",
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_protocol_violation_is_aborted_and_others_unaffected(router, after_welcome, kind,
                                                             data):
    async def scenario():
        healthy = await Healthy.create(router.url)
        await asyncio.to_thread(run_bad_client, router.url, after_welcome, kind, data)
        assert router.is_alive(), f"router died; stderr:\n{router.log_tail()}"
        await healthy.check("after")
        # A new client is still welcome too.
        late = await connect(router.url)
        await close_all(late)
        await healthy.close()
    run(scenario())
    assert router.is_alive()
    if kind != "bytes_as_text":
        assert router.wait_for_log(r"protocol violation"), \
            f"no log line mentions the protocol violation; stderr tail:\n{router.log_tail()}"


def test_many_bad_clients_in_a_row(router):
    """The router survives a stream of different violations (no state leaks or crashes)."""
    async def scenario():
        healthy = await Healthy.create(router.url)
        for _, after_welcome, kind, data in CASES:
            if kind == "bytes_as_text":
                continue
            await asyncio.to_thread(run_bad_client, router.url, after_welcome, kind, data)
        await healthy.check("after all")
        await healthy.close()
    run(scenario(), timeout=60)
    assert router.is_alive()


# Each serializer's encoding of a list whose items are already encoded, and of a
# dict of two entries whose keys and values are already encoded: Python dicts cannot
# hold a repeated key, so the duplicate-key frames are written piece by piece.
SERIALIZERS = {
    "wamp.2.json": (json.dumps, json.loads,
                    lambda items: "[" + ", ".join(items) + "]",
                    lambda pairs: ("{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}")),
    "wamp.2.msgpack": (msgpack.packb, msgpack.unpackb,
                       lambda items: bytes([0x90 + len(items)]) + b"".join(items),
                       lambda pairs: bytes([0x80 + len(pairs)]) + b"".join(k + v for k, v in pairs)),
    "wamp.2.cbor": (cbor2.dumps, cbor2.loads,
                    lambda items: bytes([0x80 + len(items)]) + b"".join(items),
                    lambda pairs: bytes([0xa0 + len(pairs)]) + b"".join(k + v for k, v in pairs)),
}


@pytest.mark.parametrize("subprotocol", list(SERIALIZERS))
def test_publish_with_a_repeated_option_key_is_a_protocol_violation(router, subprotocol):
    """{"enc_algo": "cryptobox", "enc_algo": 5}: the payload plugin would check the first,
    a receiver might take the last, so the router refuses the ambiguity at decode."""
    pack, unpack, list_of, dict_of = SERIALIZERS[subprotocol]

    def bad_client():
        raw = RawWamp(router.url, subprotocols=(subprotocol,))
        try:
            assert raw.subprotocol == subprotocol

            def send(frame):  # JSON in text frames, the others in binary frames
                (raw.send_text if isinstance(frame, str) else raw.send_binary)(frame)

            def recv():
                msg = raw.recv()
                return unpack(msg) if isinstance(msg, bytes) else msg

            send(pack([1, REALM, {"roles": {"publisher": {}}}]))
            assert recv()[0] == 2
            options = dict_of([(pack("enc_algo"), pack("cryptobox")), (pack("enc_algo"), pack(5))])
            send(list_of([pack(16), pack(1), options, pack(TOPIC)]))
            msg = recv()
            assert msg[0] == 3, f"expected ABORT, got {msg!r}"
            assert msg[2] == "wamp.error.protocol_violation"
            assert "duplicate key in dict" in msg[1]["message"]
            raw.wait_closed()
        finally:
            raw.close()

    async def scenario():
        healthy = await Healthy.create(router.url)
        await asyncio.to_thread(bad_client)
        await healthy.check("after")
        await healthy.close()
    run(scenario())
    assert router.is_alive()


MAX_MESSAGE_SIZE = 65536


def limit_message_size(config):
    websocket_service(config).setdefault("options", {})["max_message_size"] = MAX_MESSAGE_SIZE


@pytest.mark.parametrize("after_welcome", [True, False], ids=["after_welcome", "before_hello"])
def test_oversized_message_closes_with_1009(router_factory, after_welcome):
    router = router_factory(mutate=limit_message_size)

    def oversized_client():
        raw = RawWamp(router.url)
        try:
            if after_welcome:
                raw.hello()
            # A PUBLISH just over the limit, in one frame.
            raw.send([16, 1, {"acknowledge": True}, TOPIC, ["x" * (MAX_MESSAGE_SIZE + 1000)]])
            return raw.close_code_after_abort()
        finally:
            raw.close()

    def fitting_client():
        raw = RawWamp(router.url)
        try:
            raw.hello()
            raw.send([16, 1, {"acknowledge": True}, "com.example.big",
                      ["y" * (MAX_MESSAGE_SIZE - 1000)]])
            raw.expect(17)
        finally:
            raw.close()

    async def scenario():
        healthy = await Healthy.create(router.url)
        code = await asyncio.to_thread(oversized_client)
        assert code == 1009, f"close code {code}, expected 1009 (message too big)"
        # A message just under the limit still passes.
        await asyncio.to_thread(fitting_client)
        await healthy.check("after")
        await healthy.close()
    run(scenario())
    assert router.is_alive()


def test_oversized_message_fragmented(router_factory):
    """The limit applies to the whole message, not to each WebSocket frame."""
    router = router_factory(mutate=limit_message_size)

    def client():
        raw = RawWamp(router.url)
        try:
            raw.hello()
            body = ('[16, 1, {"acknowledge": true}, "%s", ["%s"]]'
                    % (TOPIC, "z" * (MAX_MESSAGE_SIZE + 1000))).encode()
            chunk = 16384
            pieces = [body[i:i + chunk] for i in range(0, len(body), chunk)]
            raw.ws.send_frame(_frame(pieces[0], 0x1, fin=False))
            for piece in pieces[1:-1]:
                raw.ws.send_frame(_frame(piece, 0x0, fin=False))
            raw.ws.send_frame(_frame(pieces[-1], 0x0, fin=True))
            return raw.close_code_after_abort()
        finally:
            raw.close()

    async def scenario():
        healthy = await Healthy.create(router.url)
        code = await asyncio.to_thread(client)
        assert code == 1009, f"close code {code}, expected 1009 (message too big)"
        await healthy.check("after")
        await healthy.close()
    run(scenario())
    assert router.is_alive()


def _frame(data, opcode, fin):
    return websocket.ABNF(fin=1 if fin else 0, opcode=opcode, data=data)
