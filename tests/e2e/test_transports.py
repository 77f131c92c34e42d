"""Every transport × serializer pair, with real Autobahn|Python clients.

One router serves the ``crossbar-config/universal`` node: a universal TCP port
(WebSocket and RawSocket told apart by the first byte) and a RawSocket Unix socket,
each with JSON, MsgPack and CBOR. Nine clients (3 transports × 3 serializers) join;
every client calls every other client's procedure and publishes to all others, so
each publisher/subscriber and caller/callee pair crosses serializers and transports.
Values that must survive every translation: integers beyond 2^53, floats, unicode,
binary, empty and nested containers.
"""

import asyncio
import itertools

import pytest
from autobahn.asyncio.rawsocket import WampRawSocketClientFactory
from autobahn.asyncio.websocket import WampWebSocketClientFactory
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.serializer import CBORSerializer, JsonSerializer, MsgPackSerializer
from autobahn.wamp.types import CallResult, ComponentConfig, PublishOptions, SubscribeOptions

from wamp_helpers import REPO_ROOT, Client, run

UNIVERSAL_CONFIG_DIR = REPO_ROOT / "crossbar-config" / "universal"
SERIALIZERS = {"json": JsonSerializer, "msgpack": MsgPackSerializer, "cbor": CBORSerializer}
TRANSPORTS = ("websocket", "rawsocket-tcp", "rawsocket-unix")

# Crosses every serializer unchanged. JSON floats lose nothing for these values, and
# Autobahn's JSON serializer carries bytes as "\u0000" + base64 (WAMP spec).
VALUES = [
    2 ** 53 + 1, -(2 ** 63), 2 ** 64 - 1, 0, -1,
    1.5, -0.0, 1e300,
    "ünïcödé ✓ 𝄞", "",
    b"\x00\x01\xfe\xff", b"",
    [], {}, [[[]], {"a": {"b": [1, "x", None, True, False]}}],
]
KWARGS = {"int": 2 ** 60, "bin": b"\xde\xad\xbe\xef", "nested": {"l": [1.25, {"k": "v"}]}, "empty": {}}


class RawSocketClient(Client):
    """Debian's Autobahn 22.7.1 asyncio RawSocket protocol lacks the
    ``transport_details`` property its session reads on WELCOME; we set it from the
    protocol's ``_transport_details`` (the workaround named in our brief)."""

    def onOpen(self, transport):
        if not hasattr(type(transport), "transport_details"):
            type(transport).transport_details = property(lambda t: t._transport_details)
        return super().onOpen(transport)


async def connect(router, transport, serializer, timeout=5.0):
    loop = asyncio.get_running_loop()
    config = ComponentConfig(realm="realm1")
    if transport == "websocket":
        session = Client(config)
        factory = WampWebSocketClientFactory(lambda: session, url=router.url,
                                             serializers=[SERIALIZERS[serializer]()])
        factory.setProtocolOptions(openHandshakeTimeout=timeout, closeHandshakeTimeout=1,
                                   autoPingInterval=0)
        coro = loop.create_connection(factory, "127.0.0.1", router.port)
    else:
        session = RawSocketClient(config)
        factory = WampRawSocketClientFactory(lambda: session, serializer=SERIALIZERS[serializer]())
        if transport == "rawsocket-tcp":
            coro = loop.create_connection(factory, "127.0.0.1", router.port)
        else:
            coro = loop.create_unix_connection(factory, str(router.cbdir / "router.sock"))
    await asyncio.wait_for(coro, timeout)
    await asyncio.wait([session.joined, session.left, session.disconnected], timeout=timeout,
                       return_when=asyncio.FIRST_COMPLETED)
    assert session.joined.done(), f"{transport}/{serializer} session did not join"
    return session


@pytest.fixture
def universal_router(router_factory):
    return router_factory(config_dir=UNIVERSAL_CONFIG_DIR)


KINDS = list(itertools.product(TRANSPORTS, SERIALIZERS))


def test_every_pair_of_transports_and_serializers(universal_router):
    async def scenario():
        clients = {kind: await connect(universal_router, *kind) for kind in KINDS}
        received = {kind: asyncio.Queue() for kind in KINDS}
        try:
            for i, (kind, session) in enumerate(clients.items()):
                def procedure(*args, _kind=kind, **kwargs):
                    return CallResult(list(_kind), *args, **kwargs)

                def failing(*args, **kwargs):
                    raise ApplicationError("com.example.failed", *args, **kwargs)

                def on_event(*args, _kind=kind, **kwargs):
                    received[_kind].put_nowait((args, kwargs))

                await session.register(procedure, f"com.matrix.echo{i}")
                await session.register(failing, f"com.matrix.fail{i}")
                await session.subscribe(on_event, "com.matrix.topic")

            for (caller_kind, caller), (i, callee_kind) in itertools.product(
                    clients.items(), enumerate(KINDS)):
                pair = f"{caller_kind} -> {callee_kind}"
                result = await asyncio.wait_for(
                    caller.call(f"com.matrix.echo{i}", *VALUES, **KWARGS), 5)
                assert list(result.results) == [list(callee_kind)] + VALUES, pair
                assert result.kwresults == KWARGS, pair
                with pytest.raises(ApplicationError) as error:
                    await asyncio.wait_for(caller.call(f"com.matrix.fail{i}", "why", 2 ** 55, b"\x01",
                                                       detail={"x": [1]}), 5)
                assert error.value.error == "com.example.failed", pair
                assert list(error.value.args) == ["why", 2 ** 55, b"\x01"], pair
                assert error.value.kwargs == {"detail": {"x": [1]}}, pair

            for kind, publisher in clients.items():
                await asyncio.wait_for(publisher.publish(
                    "com.matrix.topic", list(kind), *VALUES,
                    options=PublishOptions(acknowledge=True), **KWARGS), 5)
                for other in KINDS:
                    if other == kind:
                        continue  # exclude_me
                    args, kwargs = await asyncio.wait_for(received[other].get(), 5)
                    pair = f"{kind} -> {other}"
                    assert list(args) == [list(kind)] + VALUES, pair
                    assert kwargs == KWARGS, pair
            for kind in KINDS:
                assert received[kind].empty(), f"{kind} got an event it should not have"
        finally:
            await asyncio.gather(*(s.close() for s in clients.values()), return_exceptions=True)

    run(scenario(), timeout=60)


def test_pattern_subscription_across_serializers(universal_router):
    async def scenario():
        sub = await connect(universal_router, "rawsocket-unix", "cbor")
        pub = await connect(universal_router, "websocket", "json")
        got = asyncio.Queue()
        try:
            await sub.subscribe(lambda *a, details=None: got.put_nowait((a, details.topic)),
                                "com.pattern.", options=SubscribeOptions(match="prefix",
                                                                         details_arg="details"))
            await pub.publish("com.pattern.x", b"\xff", options=PublishOptions(acknowledge=True))
            args, topic = await asyncio.wait_for(got.get(), 5)
            assert args == (b"\xff",)
            assert topic == "com.pattern.x"
        finally:
            await asyncio.gather(sub.close(), pub.close(), return_exceptions=True)

    run(scenario())
