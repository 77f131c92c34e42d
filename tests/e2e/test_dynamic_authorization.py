"""Dynamic authorizers with real Autobahn|Python components.

Node directory: crossbar-config/dynamic-authorization (Crossbar's
authorization/dynamic example: role `app` is authorized by the procedure
`com.example.auth`, which a component of role `authorizer` registers). The component
here decides by URI: `com.example.allowed.` allowed, `com.example.denied.` denied,
`com.example.cached.` allowed with `cache: true`, `com.example.failing.` raises an
application error, `com.example.slow.` never answers.
"""

import asyncio

import pytest

from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import PublishOptions, RegisterOptions

from test_authentication import login, ticket
from wamp_helpers import DEFAULT_CONFIG_DIR, EventSink, close_all, echo, expect_application_error, run

NODE_DIR = DEFAULT_CONFIG_DIR / "dynamic-authorization"
ACK = PublishOptions(acknowledge=True)


def short_timeout(config):
    config["workers"][0]["realms"][0]["roles"][1]["authorizer_limits"]["timeout"] = 1000


async def joined(url, authid, secret):
    session, ok = await login(url, ["ticket"], authid=authid, answer=ticket(secret))
    assert ok, "session did not join"
    return session


async def start_authorizer(url):
    """The authorizer component and the list of (session_details, uri, action, options) it was asked."""
    component = await joined(url, "authorizer", "secret123")
    asked = []

    def authorize(session, uri, action, options):
        asked.append((session, uri, action, options))
        if uri.startswith("com.example.allowed."):
            return True
        if uri.startswith("com.example.denied."):
            return {"allow": False}
        if uri.startswith("com.example.cached."):
            return {"allow": True, "cache": True}
        if uri.startswith("com.example.failing."):
            raise ApplicationError("com.example.authorizer_broken", "no decision today")
        if uri.startswith("com.example.slow."):
            return asyncio.get_running_loop().create_future()  # never resolved
        return False

    await component.register(authorize, "com.example.auth")
    return component, asked


@pytest.mark.single_node("the dynamic authorizer's cache is per node (SCALE-OUT.md §2.10)")
def test_allowed_denied_cached_and_failed(router_factory):
    router = router_factory(NODE_DIR)

    async def scenario():
        authorizer, asked = await start_authorizer(router.url)
        app = await joined(router.url, "app", "secret456")
        other = await joined(router.url, "app", "secret456")

        # Allowed: register, call, subscribe, publish; the arguments are Crossbar's.
        await app.register(echo, "com.example.allowed.echo", options=RegisterOptions(match="prefix"))
        assert await asyncio.wait_for(other.call("com.example.allowed.echo", "pong"), 3) == "pong"
        sink = EventSink()
        await app.subscribe(sink, "com.example.allowed.news")
        # A dict answer without `disclose` works for publish (Crossbar drops this publication).
        await other.publish("com.example.allowed.news", "hi", options=ACK)
        assert (await sink.next())[0] == ["hi"]
        details, uri, action, options = asked[0]
        assert (uri, action, options) == ("com.example.allowed.echo", "register", {"match": "prefix"})
        assert details["session"] == app._session_id
        assert (details["authid"], details["authrole"], details["authmethod"], details["authprovider"]) == \
            ("app", "app", "ticket", "static")
        assert [a[2] for a in asked] == ["register", "call", "subscribe", "publish"]

        # Denied.
        await expect_application_error(app.call("com.example.denied.proc"), "wamp.error.not_authorized")
        await expect_application_error(app.publish("com.example.denied.topic", "x", options=ACK),
                                       "wamp.error.not_authorized")

        # Cached: the second session of the role is served without asking.
        before = len(asked)
        await app.subscribe(sink, "com.example.cached.topic")
        await other.subscribe(sink, "com.example.cached.topic")
        assert len(asked) == before + 1

        # Failed: the authorizer's error is authorization_failed, with Crossbar's text.
        try:
            await asyncio.wait_for(app.call("com.example.failing.proc"), 3)
            raise AssertionError("call succeeded")
        except ApplicationError as e:
            assert e.error == "wamp.error.authorization_failed"
            assert e.args[0] == ("failed to authorize session for calling procedure 'com.example.failing.proc': "
                                 "the authorizer answered com.example.authorizer_broken")
        await close_all(app, other, authorizer)

    run(scenario())


def test_order_is_kept_behind_a_pending_authorization(router_factory):
    router = router_factory(NODE_DIR)

    async def scenario():
        authorizer, asked = await start_authorizer(router.url)
        app = await joined(router.url, "app", "secret456")
        sink = EventSink()
        await app.subscribe(sink, "com.example.allowed.order")
        await app.subscribe(sink, "com.example.cached.order")
        publisher = await joined(router.url, "app", "secret456")
        await publisher.publish("com.example.cached.order", -1, options=ACK)  # cached from now on
        assert (await sink.next())[0] == [-1]
        # Even numbers wait for the authorizer each time; odd ones are cached and would
        # overtake them if the router routed each message when its own decision is known.
        for i in range(20):
            publisher.publish("com.example.allowed.order" if i % 2 == 0 else "com.example.cached.order", i)
        await publisher.publish("com.example.allowed.order", 20, options=ACK)
        got = [(await sink.next())[0][0] for _ in range(21)]
        assert got == list(range(21))
        await close_all(app, publisher, authorizer)

    run(scenario())


def test_an_authorizer_that_never_answers_times_out(router_factory):
    router = router_factory(NODE_DIR, mutate=short_timeout)

    async def scenario():
        authorizer, asked = await start_authorizer(router.url)
        app = await joined(router.url, "app", "secret456")
        await expect_application_error(app.call("com.example.slow.proc"), "wamp.error.authorization_failed",
                                       timeout=5)
        # A session leaving while it waits does not disturb the router.
        leaver = await joined(router.url, "app", "secret456")
        leaver.call("com.example.slow.proc")
        await asyncio.sleep(0.1)
        leaver.drop_connection()
        await app.register(echo, "com.example.allowed.echo")
        assert await asyncio.wait_for(app.call("com.example.allowed.echo", 7), 3) == 7
        await close_all(app, authorizer)

    run(scenario())
    assert "did not answer within 1000 ms" in router.log()
