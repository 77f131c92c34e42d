"""The WAMP meta API as Crossbar serves it (shared/ADVANCED.md §6), through the router's
own trusted service session, with Autobahn|Python callers.

Served so far: wamp.session.count. WELCOME does not announce session_meta_api until the
whole session meta API is served.
"""

import asyncio

from wamp_helpers import (
    RawWamp,
    close_all,
    connect,
    expect_application_error,
    run,
)

COUNT = "wamp.session.count"


def test_session_count_counts_the_joined_client_sessions(router):
    async def scenario():
        a, b, c = await connect(router.url), await connect(router.url), await connect(router.url)
        # The router's own service session is not counted (Crossbar's is no client session).
        assert await asyncio.wait_for(a.call(COUNT), 3) == 3
        assert await asyncio.wait_for(a.call(COUNT, ["anonymous"]), 3) == 3
        assert await asyncio.wait_for(a.call(COUNT, filter_authroles=["anonymous"]), 3) == 3
        assert await asyncio.wait_for(a.call(COUNT, ["frontend", "backend"]), 3) == 0
        assert await asyncio.wait_for(a.call(COUNT, None), 3) == 3
        await c.leave()
        await asyncio.sleep(0.1)
        assert await asyncio.wait_for(b.call(COUNT), 3) == 2
        await close_all(a, b, c)
    run(scenario())


def test_session_count_refuses_a_filter_that_is_no_list(router):
    async def scenario():
        a = await connect(router.url)
        # Crossbar asserts the type; Autobahn answers the AssertionError with runtime_error.
        await expect_application_error(a.call(COUNT, "anonymous"), "wamp.error.runtime_error")
        await expect_application_error(a.call(COUNT, [], []), "wamp.error.runtime_error")
        await close_all(a)
    run(scenario())


def test_session_count_needs_the_call_permission(auth_router):
    async def scenario():
        a = await connect(auth_router.url)
        await expect_application_error(a.call(COUNT), "wamp.error.not_authorized")
        await close_all(a)
    run(scenario())


def test_session_meta_api_is_not_announced_yet(router):
    raw = RawWamp(router.url)
    try:
        welcome = raw.hello()
    finally:
        raw.close()
    for role in ("broker", "dealer"):
        assert "session_meta_api" not in welcome[2]["roles"][role]["features"]
