"""A realm's limits (its "limits" dict, README "Realm limits") with real Autobahn|Python
clients: each at its limit, with the error the client sees, and free again afterwards."""

import asyncio

import pytest

from wamp_helpers import close_all, connect, expect_application_error, run

LIMITS = {"max_sessions": 3, "max_subscriptions_per_session": 2, "max_registrations_per_session": 2,
          "max_pending_calls_per_caller": 2, "max_pending_invocations_per_callee": 3}


def limited_router(router_factory):
    def mutate(config):
        config["workers"][0]["realms"][0]["limits"] = dict(LIMITS)
    return router_factory(mutate=mutate)


@pytest.mark.single_node("a realm's session limit is per node")
def test_sessions_beyond_the_realm_limit_are_aborted(router_factory):
    router = limited_router(router_factory)

    async def scenario():
        joined = [await connect(router.url) for _ in range(3)]
        refused = await connect(router.url, join=False)
        assert not refused.joined.done()
        assert (await refused.left).reason == "wamp.error.limit_reached"
        await joined[0].close()
        again = await connect(router.url)
        await close_all(again, *joined[1:])
    run(scenario())
    assert router.wait_for_log(r'realm "realm1" is at its session limit')


def test_subscriptions_and_registrations_per_session(router_factory):
    router = limited_router(router_factory)

    async def scenario():
        s = await connect(router.url)
        subs = [await s.subscribe(lambda: None, f"com.example.t{i}") for i in range(2)]
        await expect_application_error(s.subscribe(lambda: None, "com.example.t2"), "wamp.error.limit_reached")
        await subs[0].unsubscribe()
        await s.subscribe(lambda: None, "com.example.t2")
        regs = [await s.register(lambda: None, f"com.example.p{i}") for i in range(2)]
        await expect_application_error(s.register(lambda: None, "com.example.p2"), "wamp.error.limit_reached")
        await regs[0].unregister()
        await s.register(lambda: None, "com.example.p2")
        await close_all(s)
    run(scenario())


def test_pending_calls_per_caller_and_invocations_per_callee(router_factory):
    router = limited_router(router_factory)

    async def scenario():
        callee, caller, other = [await connect(router.url) for _ in range(3)]
        release = asyncio.Event()

        async def slow():
            await release.wait()
            return "done"
        await callee.register(slow, "com.example.slow")
        pending = [asyncio.ensure_future(caller.call("com.example.slow")) for _ in range(2)]
        await asyncio.sleep(0.2)
        await expect_application_error(caller.call("com.example.slow"), "wamp.error.limit_reached")
        # The callee takes 3; the third caller's second call finds it full.
        pending.append(asyncio.ensure_future(other.call("com.example.slow")))
        await asyncio.sleep(0.2)
        await expect_application_error(other.call("com.example.slow"), "wamp.error.limit_reached")
        release.set()
        assert await asyncio.wait_for(asyncio.gather(*pending), 3) == ["done"] * 3
        assert await caller.call("com.example.slow") == "done"
        await close_all(callee, caller, other)
    run(scenario())
