"""Shared registrations (invoke policies) with real Autobahn|Python callees."""

import asyncio

from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import RegisterOptions

from wamp_helpers import close_all, connect, run


def test_roundrobin_spreads_calls_and_survives_a_callee_leaving(router):
    async def scenario():
        callees = [await connect(router.url) for _ in range(3)]
        caller = await connect(router.url)
        try:
            assert caller.welcome.result().roles["dealer"].shared_registration
            ids = set()
            for n, callee in enumerate(callees):
                registration = await callee.register(lambda n=n: n, "com.shared.who",
                                                     options=RegisterOptions(invoke="roundrobin"))
                ids.add(registration.id)
            assert len(ids) == 1  # one registration, shared
            answers = [await asyncio.wait_for(caller.call("com.shared.who"), 5) for _ in range(6)]
            assert answers == [0, 1, 2, 0, 1, 2]
            await callees[1].close()
            answers = [await asyncio.wait_for(caller.call("com.shared.who"), 5) for _ in range(4)]
            assert set(answers) == {0, 2}
            try:
                await callees[0].register(lambda: None, "com.shared.who", options=RegisterOptions(invoke="random"))
                raise AssertionError("a different invoke policy was accepted")
            except ApplicationError as e:
                assert e.error == "wamp.error.procedure_already_exists"
        finally:
            await close_all(caller, *callees)

    run(scenario())
