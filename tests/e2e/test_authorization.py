"""Authorization and URI checks on SUBSCRIBE / PUBLISH / REGISTER / CALL.

The role checks run on crossbar-config/authorization (role `anonymous`: everything on
prefix `com.allowed.`, only subscribe on prefix `com.readonly.`, only register on prefix
`com.registeronly.`, publish+subscribe on exactly `com.exact.topic`, nothing else) and
expect ERROR wamp.error.not_authorized. The URI checks run on the default config (where
anonymous may do everything, so only the URI itself can be the reason) and expect ERROR
wamp.error.invalid_uri, including for publishing / registering in the reserved `wamp.`
namespace.
"""

import asyncio

import pytest
from autobahn.wamp.types import PublishOptions, RegisterOptions, SubscribeOptions

from wamp_helpers import (
    CALL,
    ERROR,
    PUBLISH,
    PUBLISHED,
    REGISTER,
    REGISTERED,
    SUBSCRIBE,
    SUBSCRIBED,
    EventSink,
    close_all,
    connect,
    echo,
    expect_application_error,
    raw_session,
    run,
)

ACK = PublishOptions(acknowledge=True)
NOT_AUTHORIZED = "wamp.error.not_authorized"
INVALID_URI = "wamp.error.invalid_uri"


# --------------------------------------------------------------------------------------
# Permissions (crossbar-config/authorization)
# --------------------------------------------------------------------------------------

def test_everything_allowed_on_allowed_prefix(auth_router):
    async def scenario():
        a, b = await connect(auth_router.url), await connect(auth_router.url)
        sink = EventSink()
        await a.subscribe(sink, "com.allowed.topic")
        await b.publish("com.allowed.topic", "ok", options=ACK)
        assert (await sink.next())[0] == ["ok"]
        await a.register(echo, "com.allowed.proc")
        assert await asyncio.wait_for(b.call("com.allowed.proc", "pong"), 3) == "pong"
        await close_all(a, b)
    run(scenario())


def test_readonly_prefix_allows_subscribe_but_not_publish(auth_router):
    async def scenario():
        sub, pub = await connect(auth_router.url), await connect(auth_router.url)
        sink = EventSink()
        await sub.subscribe(sink, "com.readonly.news")
        await expect_application_error(pub.publish("com.readonly.news", "x", options=ACK),
                                       NOT_AUTHORIZED)
        await sink.assert_quiet()
        await close_all(sub, pub)
    run(scenario())


def test_unacknowledged_unauthorized_publish_is_dropped(auth_router):
    async def scenario():
        sub, pub = await connect(auth_router.url), await connect(auth_router.url)
        readonly, allowed = EventSink(), EventSink()
        await sub.subscribe(readonly, "com.readonly.news")
        await sub.subscribe(allowed, "com.allowed.news")
        pub.publish("com.readonly.news", "must not arrive")
        # Same publisher, later message: once it arrived, the first one was processed.
        await pub.publish("com.allowed.news", "control", options=ACK)
        assert (await allowed.next())[0] == ["control"]
        await readonly.assert_quiet()
        # The publisher's session survives.
        await pub.publish("com.allowed.news", "still here", options=ACK)
        assert (await allowed.next())[0] == ["still here"]
        await close_all(sub, pub)
    run(scenario())


@pytest.mark.parametrize("uri", ["com.readonly.proc", "com.other.proc", "com.allowed"])
def test_register_not_authorized(auth_router, uri):
    async def scenario():
        session = await connect(auth_router.url)
        await expect_application_error(session.register(echo, uri), NOT_AUTHORIZED)
        await close_all(session)
    run(scenario())


@pytest.mark.parametrize("uri", ["com.other.topic", "com.registeronly.topic", "com.allowed",
                                 "com.exact.topic.sub", "com.exact", "com.exact.topi"])
def test_subscribe_not_authorized(auth_router, uri):
    async def scenario():
        session = await connect(auth_router.url)
        await expect_application_error(session.subscribe(EventSink(), uri), NOT_AUTHORIZED)
        await close_all(session)
    run(scenario())


@pytest.mark.parametrize("uri", ["com.other.topic", "com.readonly.topic", "com.allowed",
                                 "com.exact.topic.sub"])
def test_acknowledged_publish_not_authorized(auth_router, uri):
    async def scenario():
        session = await connect(auth_router.url)
        await expect_application_error(session.publish(uri, "x", options=ACK), NOT_AUTHORIZED)
        await close_all(session)
    run(scenario())


def test_call_not_authorized_on_registered_procedure(auth_router):
    async def scenario():
        callee, caller = await connect(auth_router.url), await connect(auth_router.url)
        # Registering under com.registeronly. is allowed, calling it is not.
        await callee.register(echo, "com.registeronly.proc")
        await expect_application_error(caller.call("com.registeronly.proc", 1),
                                       NOT_AUTHORIZED)
        await expect_application_error(callee.call("com.registeronly.proc", 1),
                                       NOT_AUTHORIZED)
        await close_all(callee, caller)
    run(scenario())


def test_exact_permission_matches_only_that_uri(auth_router):
    async def scenario():
        sub, pub = await connect(auth_router.url), await connect(auth_router.url)
        sink = EventSink()
        await sub.subscribe(sink, "com.exact.topic")
        await pub.publish("com.exact.topic", "exact", options=ACK)
        assert (await sink.next())[0] == ["exact"]
        await close_all(sub, pub)
    run(scenario())


def test_session_usable_after_not_authorized(auth_router):
    async def scenario():
        session, other = await connect(auth_router.url), await connect(auth_router.url)
        await expect_application_error(session.subscribe(EventSink(), "com.other.topic"),
                                       NOT_AUTHORIZED)
        await expect_application_error(session.register(echo, "com.other.proc"),
                                       NOT_AUTHORIZED)
        sink = EventSink()
        await session.subscribe(sink, "com.allowed.topic")
        await other.publish("com.allowed.topic", 1, options=ACK)
        assert (await sink.next())[0] == [1]
        await close_all(session, other)
    run(scenario())


@pytest.mark.parametrize("match, uri", [("prefix", "com."), ("prefix", "com.allowed"),
                                        ("prefix", "com.readonlyx"),
                                        ("wildcard", "com..topic"),
                                        ("wildcard", ".allowed.topic")])
def test_pattern_subscription_cannot_widen_permissions(auth_router, match, uri):
    # Crossbar authorizes the pattern URI itself: a pattern that also covers forbidden
    # topics is refused, or it would deliver events the role may not see.
    async def scenario():
        session = await connect(auth_router.url)
        await expect_application_error(
            session.subscribe(EventSink(), uri, options=SubscribeOptions(match=match)),
            NOT_AUTHORIZED)
        await close_all(session)
    run(scenario())


def test_pattern_subscription_inside_permission_is_allowed(auth_router):
    async def scenario():
        sub, pub = await connect(auth_router.url), await connect(auth_router.url)
        sink = EventSink()
        await sub.subscribe(sink, "com.allowed.news",
                            options=SubscribeOptions(match="prefix"))
        await pub.publish("com.allowed.news.today", "n", options=ACK)
        assert (await sink.next())[0] == ["n"]
        await close_all(sub, pub)
    run(scenario())


@pytest.mark.parametrize("match, uri", [("prefix", "com."), ("prefix", "com.registeronly"),
                                        ("wildcard", "com..proc")])
def test_pattern_registration_cannot_widen_permissions(auth_router, match, uri):
    async def scenario():
        session = await connect(auth_router.url)
        await expect_application_error(
            session.register(echo, uri, options=RegisterOptions(match=match)),
            NOT_AUTHORIZED)
        await close_all(session)
    run(scenario())


def test_not_authorized_wire_format(auth_router):
    raw = raw_session(auth_router.url)
    raw.send([SUBSCRIBE, 101, {}, "com.other.topic"])
    err = raw.expect(ERROR)
    assert err[1:3] == [SUBSCRIBE, 101]
    assert isinstance(err[3], dict)
    assert err[4] == NOT_AUTHORIZED
    raw.send([PUBLISH, 102, {"acknowledge": True}, "com.readonly.topic", ["x"]])
    err = raw.expect(ERROR)
    assert err[1:3] == [PUBLISH, 102] and err[4] == NOT_AUTHORIZED
    raw.send([REGISTER, 103, {}, "com.readonly.proc"])
    err = raw.expect(ERROR)
    assert err[1:3] == [REGISTER, 103] and err[4] == NOT_AUTHORIZED
    raw.close()


# --------------------------------------------------------------------------------------
# URI checks (default config: anonymous may do everything)
# --------------------------------------------------------------------------------------

INVALID_URIS = ["com..x", "has space", "a#b", "com.example.", ".com.example", ""]

REQUESTS = {
    "subscribe": lambda req, uri: [SUBSCRIBE, req, {}, uri],
    "publish": lambda req, uri: [PUBLISH, req, {"acknowledge": True}, uri, ["x"]],
    "register": lambda req, uri: [REGISTER, req, {}, uri],
    "call": lambda req, uri: [CALL, req, {}, uri, ["x"]],
}
SUCCESS = {"subscribe": SUBSCRIBED, "publish": PUBLISHED, "register": REGISTERED}


@pytest.mark.parametrize("kind", sorted(REQUESTS))
@pytest.mark.parametrize("uri", INVALID_URIS)
def test_invalid_uri_is_refused(router, kind, uri):
    raw = raw_session(router.url)
    request = REQUESTS[kind](55, uri)
    raw.send(request)
    err = raw.expect(ERROR)
    assert err[1:3] == [request[0], 55], err
    assert err[4] == INVALID_URI, err
    # An invalid URI is an error for that request, not for the session.
    raw.send([SUBSCRIBE, 56, {}, "com.example.valid"])
    assert raw.expect(SUBSCRIBED)[1] == 56
    raw.close()


@pytest.mark.parametrize("kind, uri", [("publish", "wamp.session.on_join"),
                                       ("publish", "wamp.custom.topic"),
                                       ("register", "wamp.session.count"),
                                       ("register", "wamp.custom.proc")])
def test_reserved_wamp_namespace_is_refused(router, kind, uri):
    raw = raw_session(router.url)
    request = REQUESTS[kind](77, uri)
    raw.send(request)
    err = raw.expect(ERROR)
    assert err[1:3] == [request[0], 77], err
    assert err[4] == INVALID_URI, err
    raw.send([SUBSCRIBE, 78, {}, "com.example.valid"])
    assert raw.expect(SUBSCRIBED)[1] == 78
    raw.close()


def test_valid_uri_forms_are_accepted(router):
    # Loose URIs (WAMP spec "URIs"): any non-empty components without '.', '#', whitespace.
    raw = raw_session(router.url)
    for req, uri in enumerate(["com.example.x", "A-B_c.D9", "x", "com.ünïcødé.topic",
                               "com.example.with-dash"], start=1):
        for kind in ("subscribe", "publish", "register"):
            raw.send(REQUESTS[kind](req * 10 + len(kind), uri))
            reply = raw.expect(SUCCESS[kind])
            assert reply[1] == req * 10 + len(kind)
    raw.close()
