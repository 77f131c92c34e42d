"""Crossbar.io's encryption/cryptobox example, against blindrouter.

Two Autobahn|Python sessions hold per-URI cryptobox keys (libsodium box; the
originator encrypts with the responder's public key and its own private key): the
first calls and publishes, the second registers and subscribes, on plain
``com.myapp.*`` URIs and on ``com.myapp.encrypted.*`` URIs. What the example
documents must come out: call results, the plain and the encrypted application
error with its kwargs, and events, all decrypted on the other side. The router runs
the example's own node config unchanged (a role with ``allow-by-default`` and a
realm with ``trace``). A raw third session checks that what the router forwards on
encrypted URIs is ciphertext with the ``enc_*`` details, never the plaintext.

The clients are ours, written after the example's behaviour (Autobahn 22.7.1 names
the API ``autobahn.wamp.cryptobox`` and ``set_payload_codec``).
"""

import asyncio
import json

import pytest
from autobahn.asyncio.websocket import WampWebSocketClientFactory
from autobahn.wamp.cryptobox import Key, KeyRing
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.serializer import CBORSerializer, JsonSerializer, MsgPackSerializer
from autobahn.wamp.types import ComponentConfig, PublishOptions, RegisterOptions, SubscribeOptions
from nacl.encoding import Base64Encoder
from nacl.public import PrivateKey

import cbor2
import msgpack
import websocket

from wamp_helpers import Client, run

CODECS = {"json": (json.dumps, json.loads), "msgpack": (msgpack.packb, msgpack.unpackb),
          "cbor": (cbor2.dumps, cbor2.loads)}

# crossbar-examples encryption/cryptobox/.crossbar/config.json, as Crossbar ships it.
EXAMPLE_CONFIG = {
    "version": 2,
    "workers": [{
        "type": "router",
        "realms": [{"name": "realm1",
                    "roles": [{"name": "anonymous", "allow-by-default": True}],
                    "trace": True}],
        "transports": [{"type": "websocket",
                        "endpoint": {"type": "tcp", "interface": "127.0.0.1", "port": 8080},
                        "serializers": ["json", "msgpack", "cbor"]}],
    }],
}
SERIALIZERS = {"json": JsonSerializer, "msgpack": MsgPackSerializer, "cbor": CBORSerializer}
ENCRYPTED = "com.myapp.encrypted."


def key_pair():
    private = PrivateKey.generate()
    return (private.encode(Base64Encoder).decode(), private.public_key.encode(Base64Encoder).decode())


@pytest.fixture
def keys():
    return {"originator": key_pair(), "responder": key_pair()}


def originator_keyring(keys):
    """Caller/publisher: its own private key and the responder's public key, on encrypted URIs only."""
    ring = KeyRing()
    ring.set_key(ENCRYPTED, Key(originator_priv=keys["originator"][0], responder_pub=keys["responder"][1]))
    return ring


def responder_keyring(keys):
    ring = KeyRing()
    ring.set_key(ENCRYPTED, Key(responder_priv=keys["responder"][0], originator_pub=keys["originator"][1]))
    return ring


@pytest.fixture
def example_dir(tmp_path):
    node = tmp_path / "cryptobox-example"
    node.mkdir()
    (node / "config.json").write_text(json.dumps(EXAMPLE_CONFIG))
    return node


async def connect(url, serializer, keyring):
    loop = asyncio.get_running_loop()
    session = Client(ComponentConfig(realm="realm1"))
    factory = WampWebSocketClientFactory(lambda: session, url=url, serializers=[SERIALIZERS[serializer]()])
    factory.setProtocolOptions(openHandshakeTimeout=5, closeHandshakeTimeout=1, autoPingInterval=0)
    host_port = url.split("//")[1].split("/")[0]
    host, port = host_port.split(":")
    await loop.create_connection(factory, host, int(port))
    await asyncio.wait_for(asyncio.shield(session.joined), 5)
    session.set_payload_codec(keyring)
    return session


async def run_example(url, keys, caller_serializer="json", callee_serializer="json"):
    """The example's two clients; returns what each one printed, as data."""
    callee = await connect(url, callee_serializer, responder_keyring(keys))
    caller = await connect(url, caller_serializer, originator_keyring(keys))
    seen = {"calls": [], "events": asyncio.Queue()}
    try:
        def add2(a, b, details=None):
            seen["calls"].append((a, b))
            return a + b

        def failme(encrypted_error, details=None):
            # The error URI alone decides whether the error travels encrypted.
            raise ApplicationError(ENCRYPTED + "error1" if encrypted_error else "com.myapp.error1",
                                   custom1=23, custom2="Hello")

        def on_hello(msg, details=None):
            seen["events"].put_nowait((msg, details.publisher))

        register = RegisterOptions(details_arg="details")
        for uri, handler in (("com.myapp.add2", add2), (ENCRYPTED + "add2", add2),
                             ("com.myapp.failme", failme), (ENCRYPTED + "failme", failme)):
            await callee.register(handler, uri, options=register)
        subscribe = SubscribeOptions(details_arg="details")
        for uri in ("com.myapp.hello", ENCRYPTED + "hello"):
            await callee.subscribe(on_hello, uri, options=subscribe)

        results = []
        for counter in range(1, 4):
            for proc in ("com.myapp.add2", ENCRYPTED + "add2"):
                results.append((proc, await asyncio.wait_for(caller.call(proc, 23, counter), 5)))
        errors = []
        for proc, encrypted_error in (("com.myapp.failme", False), ("com.myapp.failme", True),
                                      (ENCRYPTED + "failme", False), (ENCRYPTED + "failme", True)):
            try:
                await asyncio.wait_for(caller.call(proc, encrypted_error), 5)
                errors.append((proc, encrypted_error, None))
            except ApplicationError as e:
                errors.append((proc, encrypted_error, (e.error, e.kwargs)))
        events = []
        for counter in range(1, 4):
            for topic in ("com.myapp.hello", ENCRYPTED + "hello"):
                await asyncio.wait_for(caller.publish(
                    topic, f"Counter is at {counter}",
                    options=PublishOptions(acknowledge=True, exclude_me=False)), 5)
                msg, publisher = await asyncio.wait_for(seen["events"].get(), 5)
                events.append((topic, msg, publisher))
        return results, errors, events, seen["calls"]
    finally:
        await asyncio.gather(callee.close(), caller.close(), return_exceptions=True)


def check_documented_output(results, errors, events, calls):
    assert [r for _, r in results] == [24, 24, 25, 25, 26, 26]
    assert calls == [(23, 1), (23, 1), (23, 2), (23, 2), (23, 3), (23, 3)]
    for proc, encrypted_error, outcome in errors:
        assert outcome is not None, f"{proc} did not fail"
        uri, kwargs = outcome
        assert uri == (ENCRYPTED + "error1" if encrypted_error else "com.myapp.error1")
        assert kwargs == {"custom1": 23, "custom2": "Hello"}
    assert [(t, m) for t, m, _ in events] == [
        (topic, f"Counter is at {c}") for c in range(1, 4)
        for topic in ("com.myapp.hello", ENCRYPTED + "hello")]
    # The example's role discloses nothing (Crossbar's default), so no publisher id travels.
    assert all(publisher is None for _, _, publisher in events)


@pytest.mark.parametrize("serializer", ["json", "msgpack", "cbor"])
def test_example_runs_unchanged_on_each_serializer(router_factory, example_dir, keys, serializer):
    router = router_factory(config_dir=example_dir, loglevel="trace")
    # A raw session on the same serializer sees what the router forwards on an encrypted topic.
    pack, unpack = CODECS[serializer]
    spy = websocket.create_connection(router.url, subprotocols=[f"wamp.2.{serializer}"], timeout=5)
    send = (lambda m: spy.send(pack(m))) if serializer == "json" else (lambda m: spy.send_binary(pack(m)))
    send([1, "realm1", {"roles": {"subscriber": {}}}])
    assert unpack(spy.recv())[0] == 2
    send([32, 1, {}, ENCRYPTED + "hello"])
    assert unpack(spy.recv())[0] == 33

    check_documented_output(*run(run_example(router.url, keys, serializer, serializer), timeout=30))

    for _ in range(3):
        raw = spy.recv()
        event = unpack(raw)
        assert event[0] == 36
        details, payload = event[3], event[4]
        assert details["enc_algo"] == "cryptobox"
        assert details["enc_serializer"] == "json"
        if serializer == "json":
            assert isinstance(payload, str) and payload.startswith("\u0000")  # binary, JSON-framed
        else:
            assert isinstance(payload, bytes)
        assert b"Counter is at" not in (raw if isinstance(raw, bytes) else raw.encode())
    spy.close()
    assert "Counter is at" not in router.log()
    assert "custom2" not in router.log()


def test_mixed_serializers_are_refused_by_default(router_factory, example_dir, keys):
    router = router_factory(config_dir=example_dir)

    async def scenario():
        callee = await connect(router.url, "msgpack", responder_keyring(keys))
        caller = await connect(router.url, "json", originator_keyring(keys))
        try:
            await callee.register(lambda a, b: a + b, ENCRYPTED + "add2")
            await callee.register(lambda a, b: a + b, "com.myapp.add2")
            assert await caller.call("com.myapp.add2", 1, 2) == 3  # plaintext crosses serializers
            with pytest.raises(ApplicationError) as refused:
                await asyncio.wait_for(caller.call(ENCRYPTED + "add2", 1, 2), 5)
            assert refused.value.error == "blindrouter.error.serializer_mismatch"
            assert refused.value.kwargs == {"sender_serializer": "json", "receiver_serializer": "msgpack",
                                            "payload_serializer": "json"}
        finally:
            await asyncio.gather(callee.close(), caller.close(), return_exceptions=True)

    run(scenario())


def test_mixed_serializers_with_translate_behave_like_crossbar(router_factory, example_dir, keys):
    def translate(config):
        config["workers"][0]["realms"][0]["payload_transparency"] = {"serializer_mismatch": "translate"}
    router = router_factory(config_dir=example_dir, mutate=translate)
    check_documented_output(*run(run_example(router.url, keys, "json", "cbor"), timeout=30))
