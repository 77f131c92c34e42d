"""Every advanced feature the router announces in WELCOME really works.

shared/CROSSBAR.md: "Announce only what is really served." Each test first asserts that
the feature is announced (so dropping a feature has to be a deliberate change here too),
then exercises it with Autobahn|Python the way a Crossbar user would:
publisher/caller identification (driven by the role's `disclose` config, as in Crossbar),
subscriber black/white listing, pattern-based subscriptions and registrations, and
progressive call results.
"""

import asyncio

import pytest
from autobahn.wamp.types import CallOptions, PublishOptions, RegisterOptions, SubscribeOptions

from wamp_helpers import (
    EventSink,
    RawWamp,
    call_parts,
    close_all,
    connect,
    run,
)

ACK = PublishOptions(acknowledge=True)


def announced(url, role, feature):
    raw = RawWamp(url)
    try:
        welcome = raw.hello()
    finally:
        raw.close()
    features = welcome[2]["roles"][role]["features"]
    assert features.get(feature) is True, f"{role} feature {feature} not announced: {features}"


def disclose_everything(config):
    for worker in config["workers"]:
        for realm in worker.get("realms", []):
            for role in realm.get("roles", []):
                for permission in role.get("permissions", []):
                    permission["disclose"] = {"caller": True, "publisher": True}


def session_id(session):
    return session.joined.result().session


def authid(session):
    return session.joined.result().authid


# --------------------------------------------------------------------------------------
# Publisher / caller identification
# --------------------------------------------------------------------------------------

def test_publisher_identification_when_role_discloses(router_factory):
    router = router_factory(mutate=disclose_everything)
    announced(router.url, "broker", "publisher_identification")

    async def scenario():
        sub, pub = await connect(router.url), await connect(router.url)
        sink = EventSink()
        await sub.subscribe(sink, "com.example.topic", options=SubscribeOptions(details=True))
        await pub.publish("com.example.topic", options=ACK)
        _, _, details = await sink.next()
        assert details.publisher == session_id(pub)
        assert details.publisher_authid == authid(pub)
        assert details.publisher_authrole == "anonymous"
        await close_all(sub, pub)
    run(scenario())


def test_publisher_not_disclosed_by_default(router):
    async def scenario():
        sub, pub = await connect(router.url), await connect(router.url)
        sink = EventSink()
        await sub.subscribe(sink, "com.example.topic", options=SubscribeOptions(details=True))
        await pub.publish("com.example.topic", options=ACK)
        _, _, details = await sink.next()
        assert details.publisher is None
        assert details.publisher_authid is None
        await close_all(sub, pub)
    run(scenario())


def test_caller_identification_when_role_discloses(router_factory):
    router = router_factory(mutate=disclose_everything)
    announced(router.url, "dealer", "caller_identification")

    async def scenario():
        callee, caller = await connect(router.url), await connect(router.url)

        def who(details=None):
            return [details.caller, details.caller_authid, details.caller_authrole]

        await callee.register(who, "com.example.who", options=RegisterOptions(details=True))
        result = await asyncio.wait_for(caller.call("com.example.who"), 3)
        assert result == [session_id(caller), authid(caller), "anonymous"]
        await close_all(callee, caller)
    run(scenario())


def test_caller_not_disclosed_by_default(router):
    async def scenario():
        callee, caller = await connect(router.url), await connect(router.url)

        def who(details=None):
            return [details.caller, details.caller_authid]

        await callee.register(who, "com.example.who", options=RegisterOptions(details=True))
        assert await asyncio.wait_for(caller.call("com.example.who"), 3) == [None, None]
        await close_all(callee, caller)
    run(scenario())


# --------------------------------------------------------------------------------------
# Subscriber black- and whitelisting
# --------------------------------------------------------------------------------------

async def three_subscribers(url, topic):
    sessions = [await connect(url) for _ in range(3)]
    sinks = []
    for s in sessions:
        sink = EventSink()
        await s.subscribe(sink, topic)
        sinks.append(sink)
    return sessions, sinks


async def assert_delivery(sinks, expected, label):
    for sink, should in zip(sinks, expected):
        if should:
            assert (await sink.next())[0] == [label]
    for sink, should in zip(sinks, expected):
        if not should:
            await sink.assert_quiet(0.2)


@pytest.mark.parametrize("option, pick, expected", [
    ("exclude", lambda s: [session_id(s[1])], [True, False, True]),
    ("eligible", lambda s: [session_id(s[0]), session_id(s[2])], [True, False, True]),
    ("exclude_authid", lambda s: [authid(s[0])], [False, True, True]),
    ("eligible_authid", lambda s: [authid(s[2])], [False, False, True]),
    ("exclude_authrole", lambda s: ["anonymous"], [False, False, False]),
    ("eligible_authrole", lambda s: ["anonymous"], [True, True, True]),
    ("eligible_authrole", lambda s: ["nobody"], [False, False, False]),
])
def test_subscriber_black_white_listing(router, option, pick, expected):
    announced(router.url, "broker", "subscriber_blackwhite_listing")

    async def scenario():
        sessions, sinks = await three_subscribers(router.url, "com.example.topic")
        pub = await connect(router.url)
        options = PublishOptions(acknowledge=True, **{option: pick(sessions)})
        await pub.publish("com.example.topic", option, options=options)
        await assert_delivery(sinks, expected, option)
        await close_all(pub, *sessions)
    run(scenario())


# --------------------------------------------------------------------------------------
# Pattern-based subscriptions
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("match, pattern, matching, not_matching", [
    # WAMP spec, "Prefix Matching": a plain string prefix, so "-low" matches as well.
    ("prefix", "com.example.emergency",
     ["com.example.emergency", "com.example.emergency.11", "com.example.emergency-low"],
     ["com.example.emergenc", "com.example.other", "org.example.emergency"]),
    # WAMP spec, "Wildcard Matching": empty components match exactly one component.
    ("wildcard", "com.example..update",
     ["com.example.a.update", "com.example.b.update"],
     ["com.example.a.b.update", "com.example.a.updatex", "com.example.update",
      "com.example.a.update.x"]),
])
def test_pattern_based_subscription(router, match, pattern, matching, not_matching):
    announced(router.url, "broker", "pattern_based_subscription")

    async def scenario():
        sub, pub = await connect(router.url), await connect(router.url)
        sink = EventSink()
        await sub.subscribe(sink, pattern, options=SubscribeOptions(match=match, details=True))
        for topic in not_matching + matching:
            await pub.publish(topic, topic, options=ACK)
        for topic in matching:
            args, _, details = await sink.next()
            assert args == [topic], f"{topic} not delivered in order (got {args})"
            # WAMP spec: the concrete topic is given for pattern-based subscriptions.
            assert details.topic == topic
        await sink.assert_quiet(0.2)
        await close_all(sub, pub)
    run(scenario())


def test_exact_and_pattern_subscriptions_are_distinct(router):
    async def scenario():
        a, b, pub = [await connect(router.url) for _ in range(3)]
        exact_sink, prefix_sink = EventSink(), EventSink()
        exact = await a.subscribe(exact_sink, "com.example.topic")
        prefix = await b.subscribe(prefix_sink, "com.example.topic",
                                   options=SubscribeOptions(match="prefix"))
        assert exact.id != prefix.id
        await pub.publish("com.example.topic", 1, options=ACK)
        assert (await exact_sink.next())[0] == [1]
        assert (await prefix_sink.next())[0] == [1]
        await close_all(a, b, pub)
    run(scenario())


# --------------------------------------------------------------------------------------
# Pattern-based registrations
# --------------------------------------------------------------------------------------

def test_pattern_based_registration_precedence(router):
    """WAMP spec, "Pattern-based Registration": exact beats prefix, the longest prefix
    beats a shorter one, and any prefix beats a wildcard."""
    announced(router.url, "dealer", "pattern_based_registration")

    async def scenario():
        callee, caller = await connect(router.url), await connect(router.url)

        def handler(name):
            def invoked(*args, details=None):
                return [name, details.procedure]
            return invoked

        await callee.register(handler("exact"), "com.example.a.b.c",
                              options=RegisterOptions(details=True))
        await callee.register(handler("long prefix"), "com.example.a.b",
                              options=RegisterOptions(match="prefix", details=True))
        await callee.register(handler("short prefix"), "com.example.a",
                              options=RegisterOptions(match="prefix", details=True))
        await callee.register(handler("wildcard"), "com.example..b.c",
                              options=RegisterOptions(match="wildcard", details=True))
        await callee.register(handler("wildcard only"), "com.other..x",
                              options=RegisterOptions(match="wildcard", details=True))

        async def who(uri):
            return await asyncio.wait_for(caller.call(uri), 3)

        assert (await who("com.example.a.b.c"))[0] == "exact"
        assert await who("com.example.a.b.d") == ["long prefix", "com.example.a.b.d"]
        assert await who("com.example.a.bx") == ["long prefix", "com.example.a.bx"]
        assert await who("com.example.a.c") == ["short prefix", "com.example.a.c"]
        assert await who("com.example.z.b.c") == ["wildcard", "com.example.z.b.c"]
        assert await who("com.other.y.x") == ["wildcard only", "com.other.y.x"]
        await close_all(callee, caller)
    run(scenario())


def test_pattern_registration_does_not_clash_with_exact(router):
    async def scenario():
        a, b = await connect(router.url), await connect(router.url)
        await a.register(lambda: "exact", "com.example.proc")
        # Same URI, different match policy: a different registration, no clash.
        await b.register(lambda: "prefix", "com.example.proc",
                         options=RegisterOptions(match="prefix"))
        assert await asyncio.wait_for(a.call("com.example.proc"), 3) == "exact"
        assert await asyncio.wait_for(a.call("com.example.proc.x"), 3) == "prefix"
        await close_all(a, b)
    run(scenario())


# --------------------------------------------------------------------------------------
# Progressive call results
# --------------------------------------------------------------------------------------

def test_progressive_call_results(router):
    announced(router.url, "dealer", "progressive_call_results")

    async def scenario():
        callee, caller = await connect(router.url), await connect(router.url)

        async def count(n, details=None):
            if details.progress:
                for i in range(n):
                    details.progress(i, step=i)
                    await asyncio.sleep(0)
            return "done"

        await callee.register(count, "com.example.count", options=RegisterOptions(details=True))
        progress = []
        result = await asyncio.wait_for(
            caller.call("com.example.count", 5,
                        options=CallOptions(on_progress=lambda *a, **kw: progress.append(
                            (list(a), kw)))), 3)
        assert result == "done"
        assert progress == [([i], {"step": i}) for i in range(5)]

        # Without receive_progress the callee is not asked for progress.
        assert await asyncio.wait_for(caller.call("com.example.count", 5), 3) == "done"
        await close_all(callee, caller)
    run(scenario())


def test_call_to_own_registration(router):
    async def scenario():
        session = await connect(router.url)
        await session.register(lambda x: x + 1, "com.example.inc")
        assert await asyncio.wait_for(session.call("com.example.inc", 41), 3) == 42
        args, kwargs = call_parts(await asyncio.wait_for(session.call("com.example.inc", 1), 3))
        assert args == [2] and kwargs == {}
        await close_all(session)
    run(scenario())
