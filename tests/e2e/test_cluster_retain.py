"""Retained events across the nodes of a clustered realm (README, "Clustered realms
(NATS)"; SCALE-OUT.md §2.9): three NATS servers and three nodes from scripts/cluster-up.

What is checked: a retained event published on node 1 reaches a get_retained
subscriber on node 2 byte for byte (an encrypted payload, MsgPack and JSON); a newer
retained publication, from any node, replaces it; prefix and wildcard subscriptions
get every matching retained topic, with its topic in the details; the serializer
mismatch rule is judged on the subscribing node; a retained event outlives its
publisher's node killed with SIGKILL (JetStream KV br_ret, memory storage, 3 replicas);
and each node's copy of br_ret (cluster/retained_mirror.hpp) forgets what a purge of
the stream removed.
"""

import asyncio
import base64
import json
import os
import signal
import time

import msgpack
import pytest
from autobahn.wamp.types import PublishOptions, SubscribeOptions

from test_cluster import cluster, json_session, msgpack_session, running_cluster  # noqa: F401 (fixture)
from split_rig import purge_streams
from wamp_helpers import EventSink, close_all, connect, run


def legacy_json_publish(request, topic, ciphertext):
    """A cryptobox-style encrypted PUBLISH: its payload a string the router never reads."""
    options = {"acknowledge": True, "retain": True, "enc_algo": "cryptobox", "enc_serializer": "json",
               "enc_key": "k1"}
    return [16, request, options, topic, "\u0000" + base64.b64encode(ciphertext).decode()]


def test_a_retained_encrypted_event_reaches_another_nodes_subscriber_byte_exact(cluster):
    ciphertext = os.urandom(4096)
    packed_publisher = msgpack_session(cluster.url(0))
    spec = {"acknowledge": True, "retain": True, "ppt_scheme": "x_test", "ppt_serializer": "native",
            "ppt_keyid": "k2"}
    packed_publisher.send_binary(msgpack.packb([16, 1, spec, "com.rt.enc.packed", [ciphertext]]))
    assert msgpack.unpackb(packed_publisher.recv())[0] == 17
    text_publisher = json_session(cluster.url(0))
    text_publisher.send(legacy_json_publish(2, "com.rt.enc.text", ciphertext))
    assert text_publisher.expect(17)[1] == 2

    packed = msgpack_session(cluster.url(1))
    packed.send_binary(msgpack.packb([32, 1, {"get_retained": True}, "com.rt.enc.packed"]))
    assert msgpack.unpackb(packed.recv())[0] == 33
    frame = packed.recv()
    assert msgpack.packb(ciphertext) in frame  # the ciphertext's own encoding, verbatim
    event = msgpack.unpackb(frame)
    assert event[0] == 36 and event[3]["retained"] is True and event[4] == [ciphertext]
    assert event[3]["ppt_scheme"] == "x_test" and event[3]["ppt_keyid"] == "k2"

    text = json_session(cluster.url(1))
    text.send([32, 1, {"get_retained": True}, "com.rt.enc.text"])
    text.expect(33)
    event = text.expect(36)
    assert event[3]["retained"] is True and event[3]["enc_algo"] == "cryptobox" and event[3]["enc_key"] == "k1"
    assert base64.b64decode(event[4][1:]) == ciphertext
    for raw in (packed_publisher, text_publisher, packed, text):
        raw.close()


def test_a_newer_retained_publication_from_any_node_replaces_the_older(cluster):
    # '@' is no KV key character: the topic's key escapes that component behind '='.
    async def scenario():
        first, second = await connect(cluster.url(0)), await connect(cluster.url(2))
        await first.publish("com.rt.st@te", "old", options=PublishOptions(acknowledge=True, retain=True))
        await second.publish("com.rt.st@te", "new", options=PublishOptions(acknowledge=True, retain=True))
        sub = await connect(cluster.url(1))
        sink = EventSink()
        started = time.monotonic()
        await sub.subscribe(sink, "com.rt.st@te", options=SubscribeOptions(get_retained=True, details=True))
        args, _, details = await sink.next()
        print(f"SUBSCRIBE with get_retained to its retained EVENT from another node: "
              f"{(time.monotonic() - started) * 1000:.1f} ms")
        await sink.assert_quiet()
        await close_all(first, second, sub)
        return args, details

    args, details = run(scenario())
    assert args == ["new"] and details.retained is True


def test_prefix_and_wildcard_subscriptions_get_every_matching_retained_topic(cluster):
    async def scenario():
        pub = await connect(cluster.url(0))
        for topic, value in (("com.rt.pat.a.x", 1), ("com.rt.pat.b.x", 2), ("com.rt.pat.b.y", 3),
                             ("com.rt.other.x", 4)):
            await pub.publish(topic, value, options=PublishOptions(acknowledge=True, retain=True))
        sub = await connect(cluster.url(2))
        prefix, wildcard = EventSink(), EventSink()
        await sub.subscribe(prefix, "com.rt.pat",
                            options=SubscribeOptions(match="prefix", get_retained=True, details=True))
        got_prefix = {}
        for _ in range(3):
            args, _, details = await prefix.next()
            assert details.retained is True
            got_prefix[details.topic] = args
        await prefix.assert_quiet()
        await sub.subscribe(wildcard, "com.rt..b.x",
                            options=SubscribeOptions(match="wildcard", get_retained=True, details=True))
        args, _, details = await wildcard.next()
        await wildcard.assert_quiet()
        await close_all(pub, sub)
        return got_prefix, (details.topic, args)

    got_prefix, got_wildcard = run(scenario())
    assert got_prefix == {"com.rt.pat.a.x": [1], "com.rt.pat.b.x": [2], "com.rt.pat.b.y": [3]}
    assert got_wildcard == ("com.rt.pat.b.x", [2])


def test_the_subscribing_node_judges_a_serializer_mismatch(cluster):
    publisher = msgpack_session(cluster.url(0))
    options = {"acknowledge": True, "retain": True, "enc_algo": "cryptobox", "enc_serializer": "msgpack",
               "enc_key": "k1"}
    publisher.send_binary(msgpack.packb([16, 1, options, "com.rtm.mismatch", os.urandom(64)]))
    assert msgpack.unpackb(publisher.recv())[0] == 17
    mismatched = json_session(cluster.url(2))
    mismatched.send([32, 1, {"get_retained": True}, "com.rtm.mismatch"])
    mismatched.expect(33)
    with pytest.raises(TimeoutError):
        mismatched.recv(timeout=0.5)
    assert "retained event on subscription" in cluster.log(2)
    # A subscriber on the publisher's serializer gets it, on that same node.
    same = msgpack_session(cluster.url(2))
    same.send_binary(msgpack.packb([32, 1, {"get_retained": True}, "com.rtm.mismatch"]))
    assert msgpack.unpackb(same.recv())[0] == 33
    assert msgpack.unpackb(same.recv())[0] == 36
    for raw in (publisher, mismatched, same):
        raw.close()


def test_a_retained_event_outlives_its_publishers_node_killed(router_binary, tmp_path):
    with running_cluster(router_binary, tmp_path) as cluster:
        async def publish():
            pub = await connect(cluster.url(0))
            await pub.publish("com.rt.survivor", "kept", options=PublishOptions(acknowledge=True, retain=True))
            await close_all(pub)

        run(publish())
        cluster.killed.add(0)
        os.kill(cluster.state["nodes"][0]["pid"], signal.SIGKILL)
        killed_at = time.monotonic()

        async def subscribe(node):
            sub = await connect(cluster.url(node))
            sink = EventSink()
            await sub.subscribe(sink, "com.rt.survivor", options=SubscribeOptions(get_retained=True, details=True))
            args, _, details = await sink.next()
            await close_all(sub)
            return args, details.retained

        assert run(subscribe(1)) == (["kept"], True)
        assert run(subscribe(2)) == (["kept"], True)
        print(f"retained event read on other nodes {time.monotonic() - killed_at:.2f}s after its node's SIGKILL")


def test_a_pattern_subscription_gets_at_most_max_retained_per_subscribe(router_binary, tmp_path, monkeypatch):
    monkeypatch.setenv("CLUSTER_SETTINGS", json.dumps({"max_retained_per_subscribe": 2}))
    with running_cluster(router_binary, tmp_path) as cluster:
        async def scenario():
            pub = await connect(cluster.url(0))
            for n in range(3):
                await pub.publish(f"com.rt.many.t{n}", n, options=PublishOptions(acknowledge=True, retain=True))
            sub = await connect(cluster.url(1))
            sink = EventSink()
            await sub.subscribe(sink, "com.rt.many",
                                options=SubscribeOptions(match="prefix", get_retained=True, details=True))
            got = [(await sink.next())[0] for _ in range(2)]
            await sink.assert_quiet()
            await close_all(pub, sub)
            return got

        assert len(run(scenario())) == 2
        assert "matches more than max_retained_per_subscribe (2) retained events" in cluster.log(1)


def test_a_purge_of_br_ret_while_the_nodes_run_reaches_every_nodes_copy(router_binary, tmp_path):
    # A whole-stream purge delivers nothing to the nodes' KV watches: each node must
    # notice it from the stream's first sequence when it reads.
    with running_cluster(router_binary, tmp_path) as cluster:
        async def publish(topic):
            pub = await connect(cluster.url(0))
            await pub.publish(topic, topic, options=PublishOptions(acknowledge=True, retain=True))
            await close_all(pub)

        async def retained(node, prefix):
            sub = await connect(cluster.url(node))
            sink = EventSink()
            await sub.subscribe(sink, prefix, options=SubscribeOptions(match="prefix", get_retained=True))
            got = []
            try:
                while True:
                    got.append((await sink.next(timeout=0.5))[0][0])
            except asyncio.TimeoutError:
                pass
            await close_all(sub)
            return sorted(got)

        run(publish("com.rt.purged.before"))
        assert run(retained(1, "com.rt.purged")) == ["com.rt.purged.before"]
        assert run(retained(2, "com.rt.purged")) == ["com.rt.purged.before"]
        purge_streams(cluster.state["nats"][1]["port"], ["KV_br_ret"])
        run(publish("com.rt.purged.after"))
        assert run(retained(1, "com.rt.purged")) == ["com.rt.purged.after"]
        assert run(retained(2, "com.rt.purged")) == ["com.rt.purged.after"]
