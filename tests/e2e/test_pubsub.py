"""Publish & subscribe through the broker, with Autobahn|Python clients.

Covers SUBSCRIBE/UNSUBSCRIBE/PUBLISH/EVENT, the subscription id shared by all subscribers
of a topic, `acknowledge` (PUBLISHED), `exclude_me` (on by default, as in Crossbar),
per-publisher ordering, and payloads that must arrive exactly as sent.
"""

import asyncio

import pytest
from autobahn.wamp.types import PublishOptions, SubscribeOptions

from wamp_helpers import (
    MAX_ID,
    PAYLOADS,
    QUIET_PERIOD,
    PUBLISH,
    PUBLISHED,
    SUBSCRIBE,
    SUBSCRIBED,
    EVENT,
    UNSUBSCRIBE,
    UNSUBSCRIBED,
    ERROR,
    EventSink,
    close_all,
    connect,
    raw_session,
    run,
)

ACK = PublishOptions(acknowledge=True)
TOPIC = "com.example.topic"


def publish_kwargs(kwargs):
    # Autobahn treats a kwarg named "options" as PublishOptions; none of ours collide.
    assert "options" not in kwargs
    return kwargs


def test_subscriber_receives_event_with_payload(router):
    async def scenario():
        sub, pub = await connect(router.url), await connect(router.url)
        sink = EventSink()
        await sub.subscribe(sink, TOPIC, options=SubscribeOptions(details=True))
        await pub.publish(TOPIC, 1, "two", options=ACK, three=3)
        args, kwargs, details = await sink.next()
        assert args == [1, "two"]
        assert kwargs == {"three": 3}
        await close_all(sub, pub)
    run(scenario())


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_payload_arrives_intact(router, name):
    args, kwargs = PAYLOADS[name]

    async def scenario():
        sub, pub = await connect(router.url), await connect(router.url)
        sink = EventSink()
        await sub.subscribe(sink, TOPIC)
        await pub.publish(TOPIC, *args, options=ACK, **publish_kwargs(dict(kwargs)))
        got_args, got_kwargs, _ = await sink.next()
        assert got_args == args
        assert got_kwargs == kwargs
        # Integers stay integers and floats stay floats (no lossy number conversion).
        assert [type(a) for a in got_args] == [type(a) for a in args]
        await close_all(sub, pub)
    run(scenario())


def test_publish_acknowledge_returns_publication_id_matching_event(router):
    async def scenario():
        sub, pub = await connect(router.url), await connect(router.url)
        sink = EventSink()
        await sub.subscribe(sink, TOPIC, options=SubscribeOptions(details=True))
        publication = await pub.publish(TOPIC, "x", options=ACK)
        assert publication is not None
        assert isinstance(publication.id, int) and 1 <= publication.id <= MAX_ID
        _, _, details = await sink.next()
        assert details.publication == publication.id
        await close_all(sub, pub)
    run(scenario())


def test_publish_acknowledged_without_subscribers(router):
    async def scenario():
        pub = await connect(router.url)
        publication = await asyncio.wait_for(pub.publish("com.example.nobody", options=ACK), 3)
        assert publication is not None and isinstance(publication.id, int)
        await close_all(pub)
    run(scenario())


def test_published_wire_format_and_no_ack_without_acknowledge(router):
    raw = raw_session(router.url)
    raw.send([PUBLISH, 1, {}, TOPIC, ["not acknowledged"]])
    raw.send([PUBLISH, 2, {"acknowledge": True}, TOPIC, ["acknowledged"]])
    msg = raw.expect(PUBLISHED)
    # Only the acknowledged publish (request 2) is answered.
    assert msg[1] == 2, msg
    assert len(msg) == 3 and isinstance(msg[2], int) and 1 <= msg[2] <= MAX_ID
    raw.close()


def test_subscribers_of_a_topic_share_one_subscription_id(router):
    async def scenario():
        a, b, pub = [await connect(router.url) for _ in range(3)]
        sink_a, sink_b = EventSink(), EventSink()
        sub_a = await a.subscribe(sink_a, TOPIC)
        sub_b = await b.subscribe(sink_b, TOPIC)
        other = await b.subscribe(EventSink(), "com.example.other")
        assert sub_a.id == sub_b.id
        assert other.id != sub_a.id
        await pub.publish(TOPIC, "both", options=ACK)
        assert (await sink_a.next())[0] == ["both"]
        assert (await sink_b.next())[0] == ["both"]
        await close_all(a, b, pub)
    run(scenario())


def test_subscription_id_in_wire_event(router):
    sub = raw_session(router.url)
    pub = raw_session(router.url)
    sub.send([SUBSCRIBE, 7, {}, TOPIC])
    subscribed = sub.expect(SUBSCRIBED)
    assert subscribed[1] == 7
    subscription_id = subscribed[2]
    pub.send([PUBLISH, 1, {"acknowledge": True}, TOPIC, [1], {"k": "v"}])
    published = pub.expect(PUBLISHED)
    event = sub.expect(EVENT)
    assert event[1] == subscription_id
    assert event[2] == published[2]
    assert isinstance(event[3], dict)
    assert event[4:] == [[1], {"k": "v"}]
    sub.close()
    pub.close()


def test_unsubscribe_stops_events_for_that_subscriber_only(router):
    async def scenario():
        a, b, pub = [await connect(router.url) for _ in range(3)]
        sink_a, sink_b = EventSink(), EventSink()
        sub_a = await a.subscribe(sink_a, TOPIC)
        await b.subscribe(sink_b, TOPIC)
        await sub_a.unsubscribe()
        await pub.publish(TOPIC, "after", options=ACK)
        assert (await sink_b.next())[0] == ["after"]
        await sink_a.assert_quiet()
        await close_all(a, b, pub)
    run(scenario())


def test_resubscribe_after_last_unsubscribe(router):
    async def scenario():
        a, pub = await connect(router.url), await connect(router.url)
        first = await a.subscribe(EventSink(), TOPIC)
        await first.unsubscribe()
        sink = EventSink()
        await a.subscribe(sink, TOPIC)
        await pub.publish(TOPIC, "again", options=ACK)
        assert (await sink.next())[0] == ["again"]
        await close_all(a, pub)
    run(scenario())


def test_unsubscribe_unknown_subscription_is_an_error(router):
    raw = raw_session(router.url)
    raw.send([UNSUBSCRIBE, 5, 123456789])
    err = raw.expect(ERROR)
    assert err[1:3] == [UNSUBSCRIBE, 5]
    assert err[4] == "wamp.error.no_such_subscription"
    # The session goes on.
    raw.send([SUBSCRIBE, 6, {}, TOPIC])
    sub_id = raw.expect(SUBSCRIBED)[2]
    raw.send([UNSUBSCRIBE, 7, sub_id])
    assert raw.expect(UNSUBSCRIBED)[1] == 7
    raw.close()


def test_disconnected_subscriber_gets_nothing_and_others_still_do(router):
    async def scenario():
        gone, stays, pub = [await connect(router.url) for _ in range(3)]
        await gone.subscribe(EventSink(), TOPIC)
        sink = EventSink()
        await stays.subscribe(sink, TOPIC)
        gone.drop_connection()
        await asyncio.wait_for(gone.disconnected, 3)
        for i in range(3):
            await pub.publish(TOPIC, i, options=ACK)
        assert [(await sink.next())[0] for _ in range(3)] == [[0], [1], [2]]
        await close_all(stays, pub)
    run(scenario())


def test_publisher_is_excluded_by_default(router):
    async def scenario():
        pub, other = await connect(router.url), await connect(router.url)
        own_sink, other_sink = EventSink(), EventSink()
        await pub.subscribe(own_sink, TOPIC)
        await other.subscribe(other_sink, TOPIC)
        await pub.publish(TOPIC, "default", options=ACK)
        assert (await other_sink.next())[0] == ["default"]
        await own_sink.assert_quiet()
        await close_all(pub, other)
    run(scenario())


def test_exclude_me_false_delivers_to_publisher(router):
    async def scenario():
        pub = await connect(router.url)
        sink = EventSink()
        await pub.subscribe(sink, TOPIC)
        await pub.publish(TOPIC, "me too", options=PublishOptions(acknowledge=True,
                                                                  exclude_me=False))
        assert (await sink.next())[0] == ["me too"]
        await close_all(pub)
    run(scenario())


def test_events_from_one_publisher_arrive_in_order(router):
    async def scenario():
        sub, pub = await connect(router.url), await connect(router.url)
        sink = EventSink()
        await sub.subscribe(sink, TOPIC)
        count = 200
        for i in range(count):
            pub.publish(TOPIC, i)
        await pub.publish(TOPIC, "end", options=ACK)
        received = [(await sink.next())[0][0] for _ in range(count + 1)]
        assert received == list(range(count)) + ["end"]
        await close_all(sub, pub)
    run(scenario())


def test_fan_out_to_many_subscribers(router):
    async def scenario():
        subs = await asyncio.gather(*(connect(router.url) for _ in range(10)))
        pub = await connect(router.url)
        sinks = []
        for s in subs:
            sink = EventSink()
            await s.subscribe(sink, TOPIC)
            sinks.append(sink)
        await pub.publish(TOPIC, {"n": 1}, options=ACK)
        for sink in sinks:
            assert (await sink.next())[0] == [{"n": 1}]
        await close_all(pub, *subs)
    run(scenario())


def test_no_event_for_other_topics(router):
    async def scenario():
        sub, pub = await connect(router.url), await connect(router.url)
        sink = EventSink()
        await sub.subscribe(sink, TOPIC)
        # Exact matching: neither a longer URI nor a prefix of it delivers.
        await pub.publish(TOPIC + ".sub", options=ACK)
        await pub.publish("com.example", options=ACK)
        await pub.publish("com.example.topi", options=ACK)
        await sink.assert_quiet()
        await close_all(sub, pub)
    run(scenario())


def test_subscribe_twice_same_session_returns_same_subscription(router):
    # WAMP spec, "Subscribe": a repeated SUBSCRIBE of a session to the same topic returns
    # the existing subscription id; the session still gets each event once.
    sub = raw_session(router.url)
    pub = raw_session(router.url)
    sub.send([SUBSCRIBE, 1, {}, TOPIC])
    first = sub.expect(SUBSCRIBED)[2]
    sub.send([SUBSCRIBE, 2, {}, TOPIC])
    second = sub.expect(SUBSCRIBED)
    assert second[1] == 2 and second[2] == first
    pub.send([PUBLISH, 1, {"acknowledge": True}, TOPIC, ["once"]])
    pub.expect(PUBLISHED)
    assert sub.expect(EVENT)[4] == ["once"]
    with pytest.raises(TimeoutError):
        extra = sub.recv(QUIET_PERIOD)
        print("unexpected second delivery:", extra)
    sub.close()
    pub.close()


def test_escaped_and_literal_uri_are_the_same_topic(router):
    # JSON "\u00e9" and a literal UTF-8 "é" are the same string; routing must compare the
    # decoded URI, not the bytes on the wire.
    sub = raw_session(router.url)
    pub = raw_session(router.url)
    sub.send_text('[32, 1, {}, "com.example.caf\u00e9"]'.replace("\\u00e9", "é"))
    subscription_id = sub.expect(SUBSCRIBED)[2]
    pub.send_text('[16, 1, {"acknowledge": true}, "com.example.caf\\u00e9", ["escaped"]]')
    pub.expect(PUBLISHED)
    event = sub.expect(EVENT)
    assert event[1] == subscription_id and event[4] == ["escaped"]
    # Escaped option keys are options too.
    pub.send_text('[16, 2, {"acknowledg\\u0065": true}, "com.example.other", []]')
    assert pub.expect(PUBLISHED)[1] == 2
    sub.close()
    pub.close()


def test_whitespace_in_json_is_accepted(router):
    sub = raw_session(router.url)
    pub = raw_session(router.url)
    sub.send_text('[ 32 ,\n\t1, { } ,"com.example.topic"\r\n]')
    sub.expect(SUBSCRIBED)
    pub.send_text('\n[16 , 1 ,{ "acknowledge" :true } , "com.example.topic" ,'
                  ' [ 1 , "two" ] , { "k" : [ ] } ]\n')
    pub.expect(PUBLISHED)
    assert sub.expect(EVENT)[4:] == [[1, "two"], {"k": []}]
    sub.close()
    pub.close()


def test_numbers_beyond_double_precision_are_not_altered(router):
    # Autobahn|Python keeps big ints exact; so must a router that forwards arguments.
    numbers = [18446744073709551615, -9223372036854775808, 2 ** 53 + 1,
               123456789012345678901234567890, 0.30000000000000004, 1.5e300]
    sub = raw_session(router.url)
    pub = raw_session(router.url)
    sub.send([SUBSCRIBE, 1, {}, TOPIC])
    sub.expect(SUBSCRIBED)
    pub.send([PUBLISH, 1, {"acknowledge": True}, TOPIC, numbers, {"n": numbers[0]}])
    pub.expect(PUBLISHED)
    event = sub.expect(EVENT)
    assert event[4] == numbers and event[5] == {"n": numbers[0]}
    assert [type(n) for n in event[4]] == [type(n) for n in numbers]
    sub.close()
    pub.close()


def test_unsubscribe_twice_is_no_such_subscription(router):
    raw = raw_session(router.url)
    raw.send([SUBSCRIBE, 1, {}, TOPIC])
    subscription_id = raw.expect(SUBSCRIBED)[2]
    raw.send([UNSUBSCRIBE, 2, subscription_id])
    assert raw.expect(UNSUBSCRIBED)[1] == 2
    raw.send([UNSUBSCRIBE, 3, subscription_id])
    err = raw.expect(ERROR)
    assert err[1:3] == [UNSUBSCRIBE, 3] and err[4] == "wamp.error.no_such_subscription"
    raw.close()


def test_subscriber_that_does_not_read_does_not_stall_others(router):
    stalled = raw_session(router.url)  # subscribes, then never reads again
    stalled.send([SUBSCRIBE, 1, {}, "com.example.flood"])
    stalled.expect(SUBSCRIBED)

    async def scenario():
        reader, pub = await connect(router.url), await connect(router.url)
        sink = EventSink()
        await reader.subscribe(sink, "com.example.flood")
        blob = "f" * 20000
        count = 250  # ~5 MB: far more than the socket buffers of the stalled subscriber
        for i in range(count):
            pub.publish("com.example.flood", i, blob)
            if i % 50 == 0:
                await asyncio.sleep(0)
        await asyncio.wait_for(pub.publish("com.example.flood", "end", options=ACK), 5)
        received = [(await sink.next(5))[0][0] for _ in range(count + 1)]
        assert received == list(range(count)) + ["end"]
        await close_all(reader, pub)
    try:
        run(scenario(), timeout=30)
    finally:
        stalled.close()
    assert router.is_alive()
