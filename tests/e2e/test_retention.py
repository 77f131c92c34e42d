"""Retained events, event history and testaments against real clients.

Autobahn|Python publishes with ``retain`` and subscribes with ``get_retained``, adds a
testament and loses its connection, and reads ``wamp.subscription.get_events``; an
AutobahnJS client runs the behaviour of Crossbar's ``event-history`` example (its page
publishes on ``com.example.oncounter`` with ``exclude_me: false``, subscribes and asks
for 20 events of history) against that example's node config; cryptobox clients check
that a retained encrypted event reaches a later subscriber decryptable, byte for byte,
and not across serializers (shared/E2E.md §2, §3).
"""

import asyncio
import base64
import json

import msgpack
import pytest
from autobahn.wamp.types import PublishOptions, SubscribeOptions

from test_cryptobox_example import ENCRYPTED, EXAMPLE_CONFIG as CRYPTOBOX_CONFIG
from test_cryptobox_example import connect as cryptobox_connect
from test_cryptobox_example import key_pair, originator_keyring, responder_keyring
from wamp_helpers import REPO_ROOT, EventSink, RawWamp, close_all, connect, npm_package, run, run_node

# crossbar-examples event-history/.crossbar/config.json, as Crossbar ships it.
EVENT_HISTORY_EXAMPLE = {
    "version": 2,
    "workers": [{
        "type": "router",
        "realms": [{
            "name": "realm1",
            "roles": [{"name": "anonymous", "permissions": [
                {"uri": "com.example.oncounter", "match": "exact", "allow": {"publish": True, "subscribe": True},
                 "disclose": {"publisher": True}, "cache": True},
                {"uri": "wamp.subscription.get_events", "match": "exact", "allow": {"call": True},
                 "disclose": {"caller": True}, "cache": True}]}],
            "store": {"type": "memory", "limit": 100,
                      "event-history": [{"uri": "com.example.oncounter", "match": "exact", "limit": 1000}]},
        }],
        "transports": [{
            "type": "web",
            "endpoint": {"type": "tcp", "port": 8080},
            "paths": {"/": {"type": "static", "directory": "../web"},
                      "shared": {"type": "static", "directory": "../../_shared-web-resources"},
                      "ws": {"type": "websocket"}},
        }],
    }],
}
AUTOBAHNJS_VERSION = "22.11.1"
NODE_DIR = REPO_ROOT / "build" / "autobahnjs"
JS_CLIENT = REPO_ROOT / "tests" / "e2e" / "autobahnjs_history_client.js"


def node_dir(tmp_path, name, config):
    node = tmp_path / name
    node.mkdir()
    (node / "config.json").write_text(json.dumps(config))
    return node


def test_retained_event_reaches_a_later_subscriber(router):
    async def scenario():
        pub = await connect(router.url)
        await pub.publish("com.ret.state", "on", level=3, options=PublishOptions(acknowledge=True, retain=True))
        sub = await connect(router.url)
        sink = EventSink()
        await sub.subscribe(sink, "com.ret.state", options=SubscribeOptions(get_retained=True, details_arg="details"))
        args, kwargs, details = await sink.next()
        plain = EventSink()
        await sub.subscribe(plain, "com.ret.other", options=SubscribeOptions(get_retained=True))
        await close_all(pub, sub)
        return args, kwargs, details, plain

    args, kwargs, details, plain = run(scenario())
    assert (args, kwargs) == (["on"], {"level": 3})
    assert details.retained is True
    assert plain.drain() == []


def test_testament_is_published_when_the_connection_drops(router):
    async def scenario():
        watcher = await connect(router.url)
        sink = EventSink()
        await watcher.subscribe(sink, "com.ret.gone")
        leaving = await connect(router.url)
        publication = await leaving.call("wamp.session.add_testament", "com.ret.gone", ["bye"], {"who": "leaving"})
        flushed = await leaving.call("wamp.session.flush_testaments", scope="detached")
        leaving.drop_connection()
        event = await sink.next()
        await close_all(watcher)
        return publication, flushed, event

    publication, flushed, (args, kwargs, _) = run(scenario())
    assert isinstance(publication, int) and flushed == 0
    assert (args, kwargs) == (["bye"], {"who": "leaving"})


def test_get_events_answers_the_newest_first(router_factory):
    def with_store(config):
        config["workers"][0]["realms"][0]["store"] = {
            "type": "memory", "event-history": [{"uri": "com.hist.", "match": "prefix", "limit": 3}]}

    router = router_factory(mutate=with_store)

    async def scenario():
        pub = await connect(router.url)
        for i in range(5):
            await pub.publish("com.hist.a", i, options=PublishOptions(acknowledge=True))
        sub = await connect(router.url)
        subscription = await sub.subscribe(lambda *a, **k: None, "com.hist.", options=SubscribeOptions(match="prefix"))
        events = await sub.call("wamp.subscription.get_events", subscription.id, 2)
        everything = await sub.call("wamp.subscription.get_events", subscription.id)
        await close_all(pub, sub)
        return events, everything

    events, everything = run(scenario())
    assert [e["args"] for e in events] == [[4], [3]]
    assert [e["topic"] for e in events] == ["com.hist.a", "com.hist.a"]
    assert set(events[0]) == {"time_ns", "realm", "session_id", "authid", "authrole", "publication", "topic",
                              "args", "kwargs"}
    assert len(everything) == 3


def test_crossbars_event_history_example_with_autobahnjs(router_factory, tmp_path):
    autobahnjs = npm_package("autobahn", AUTOBAHNJS_VERSION, NODE_DIR)
    router = router_factory(config_dir=node_dir(tmp_path, "event-history", EVENT_HISTORY_EXAMPLE))
    assert "store: known to Crossbar.io but not served" not in router.log()
    first = run_node(JS_CLIENT, autobahnjs, router.url, "5")
    assert first.returncode == 0, first.stderr
    second = run_node(JS_CLIENT, autobahnjs, router.url, "2")
    assert second.returncode == 0, second.stderr
    seen = json.loads(second.stdout.strip().splitlines()[-1])
    # The page's second visit: its own two events and the five before it, newest first.
    assert seen["history"][:7] == [1, 0, 4, 3, 2, 1, 0]
    assert seen["live"] == [0, 1]
    assert seen["retained"] is True


def legacy_publish(request, topic, ciphertext, retain=True):
    options = {"acknowledge": True, "retain": retain, "enc_algo": "cryptobox", "enc_serializer": "json"}
    return [16, request, options, topic, "\u0000" + base64.b64encode(ciphertext).decode()]


def test_retained_encrypted_event_is_byte_exact_and_not_sent_across_serializers(router_factory, tmp_path):
    router = router_factory(config_dir=node_dir(tmp_path, "cryptobox", CRYPTOBOX_CONFIG))
    ciphertext = bytes(range(256))
    publisher = RawWamp(router.url)
    publisher.hello(details={"roles": {"publisher": {}}})
    publisher.send(legacy_publish(1, ENCRYPTED + "raw", ciphertext))
    assert publisher.expect(17)[1] == 1

    same = RawWamp(router.url)
    same.hello(details={"roles": {"subscriber": {}}})
    same.send([32, 1, {"get_retained": True}, ENCRYPTED + "raw"])
    same.expect(33)
    event = same.expect(36)
    assert event[3]["retained"] is True
    assert event[3]["enc_algo"] == "cryptobox" and event[3]["enc_serializer"] == "json"
    assert base64.b64decode(event[4][1:]) == ciphertext

    other = RawWamp(router.url, subprotocols=("wamp.2.msgpack",))
    other.send_binary(msgpack.packb([1, "realm1", {"roles": {"subscriber": {}}}]))
    assert msgpack.unpackb(other.recv())[0] == 2
    other.send_binary(msgpack.packb([32, 1, {"get_retained": True}, ENCRYPTED + "raw"]))
    assert msgpack.unpackb(other.recv())[0] == 33
    with pytest.raises(TimeoutError):
        other.recv(timeout=0.5)  # the payload's serializer is JSON: a MsgPack session never gets it
    for s in (publisher, same, other):
        s.close()

    keys = {"originator": key_pair(), "responder": key_pair()}

    async def scenario():
        pub = await cryptobox_connect(router.url, "json", originator_keyring(keys))
        await pub.publish(ENCRYPTED + "state", "secret state", options=PublishOptions(acknowledge=True, retain=True))
        got = {}
        for serializer in ("json", "msgpack"):
            sub = await cryptobox_connect(router.url, serializer, responder_keyring(keys))
            sink = EventSink()
            await sub.subscribe(sink, ENCRYPTED + "state",
                                options=SubscribeOptions(get_retained=True, details_arg="details"))
            try:
                got[serializer] = await sink.next(timeout=1.0)
            except asyncio.TimeoutError:
                got[serializer] = None
            await close_all(sub)
        await close_all(pub)
        return got

    got = run(scenario())
    args, _, details = got["json"]
    assert args == ["secret state"] and details.retained is True
    assert got["msgpack"] is None  # refused across serializers, like a live event
    assert "secret state" not in router.log()
