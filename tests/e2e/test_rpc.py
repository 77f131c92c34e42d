"""Remote procedure calls through the dealer, with Autobahn|Python and raw clients.

Covers REGISTER/UNREGISTER/CALL/INVOCATION/YIELD/RESULT/ERROR, the dealer's error URIs
(procedure_already_exists, no_such_procedure, no_such_registration), a callee vanishing
mid-call (the caller gets wamp.error.canceled), application errors travelling back with
their args and kwargs, concurrent calls, and payloads that must arrive exactly as sent.
"""

import asyncio
import random

import pytest
from autobahn.wamp.exception import ApplicationError

from wamp_helpers import (
    CALL,
    CANCEL,
    INTERRUPT,
    RawWamp,
    ERROR,
    INVOCATION,
    MAX_ID,
    PAYLOADS,
    REGISTER,
    REGISTERED,
    RESULT,
    UNREGISTER,
    UNREGISTERED,
    YIELD,
    call_parts,
    close_all,
    connect,
    echo,
    expect_application_error,
    raw_session,
    run,
)

PROC = "com.example.proc"


def test_call_returns_result(router):
    async def scenario():
        callee, caller = await connect(router.url), await connect(router.url)
        await callee.register(lambda a, b: a + b, "com.example.add")
        assert await asyncio.wait_for(caller.call("com.example.add", 2, 3), 3) == 5
        await close_all(callee, caller)
    run(scenario())


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_payload_round_trips_intact(router, name):
    args, kwargs = PAYLOADS[name]

    async def scenario():
        callee, caller = await connect(router.url), await connect(router.url)
        await callee.register(echo, PROC)
        result = await asyncio.wait_for(caller.call(PROC, *args, **dict(kwargs)), 3)
        got_args, got_kwargs = call_parts(result)
        if len(args) == 1 and not kwargs:
            # Autobahn unwraps a single positional result.
            assert result == args[0]
        else:
            assert got_args == args
            assert got_kwargs == kwargs
        await close_all(callee, caller)
    run(scenario())


def test_call_wire_format(router):
    """CALL -> INVOCATION -> YIELD -> RESULT, field by field."""
    callee = raw_session(router.url)
    caller = raw_session(router.url)
    callee.send([REGISTER, 11, {}, PROC])
    registered = callee.expect(REGISTERED)
    assert registered[1] == 11
    registration_id = registered[2]
    assert isinstance(registration_id, int) and 1 <= registration_id <= MAX_ID

    caller.send([CALL, 21, {}, PROC, [1, "a"], {"k": [True, None]}])
    invocation = callee.expect(INVOCATION)
    assert invocation[2] == registration_id
    assert isinstance(invocation[1], int) and 1 <= invocation[1] <= MAX_ID
    assert isinstance(invocation[3], dict)
    assert invocation[4:] == [[1, "a"], {"k": [True, None]}]

    callee.send([YIELD, invocation[1], {}, ["r"], {"rk": 1.5}])
    result = caller.expect(RESULT)
    assert result[1] == 21
    assert isinstance(result[2], dict)
    assert result[3:] == [["r"], {"rk": 1.5}]
    callee.close()
    caller.close()


def test_callee_error_wire_format(router):
    """ERROR for an INVOCATION reaches the caller as ERROR for its CALL, payload intact."""
    callee = raw_session(router.url)
    caller = raw_session(router.url)
    callee.send([REGISTER, 1, {}, PROC])
    callee.expect(REGISTERED)
    caller.send([CALL, 33, {}, PROC, []])
    invocation = callee.expect(INVOCATION)
    callee.send([ERROR, INVOCATION, invocation[1], {}, "com.example.error.boom",
                 ["why", 42], {"detail": {"nested": [1]}}])
    error = caller.expect(ERROR)
    assert error[1:3] == [CALL, 33]
    assert isinstance(error[3], dict)
    assert error[4:] == ["com.example.error.boom", ["why", 42], {"detail": {"nested": [1]}}]
    callee.close()
    caller.close()


def test_application_error_reaches_caller_with_args_and_kwargs(router):
    async def scenario():
        callee, caller = await connect(router.url), await connect(router.url)

        def fail(*args, **kwargs):
            raise ApplicationError("com.example.error.custom", 1, "two", {"three": [3]},
                                   reason="because", code=7, nested={"a": ["ü"]})

        await callee.register(fail, PROC)
        e = await expect_application_error(caller.call(PROC, "x"), "com.example.error.custom")
        assert list(e.args) == [1, "two", {"three": [3]}]
        assert e.kwargs == {"reason": "because", "code": 7, "nested": {"a": ["ü"]}}
        # The callee stays registered and callable after raising.
        with pytest.raises(ApplicationError):
            await asyncio.wait_for(caller.call(PROC), 3)
        await close_all(callee, caller)
    run(scenario())


def test_second_register_is_procedure_already_exists(router):
    async def scenario():
        first, second = await connect(router.url), await connect(router.url)
        await first.register(echo, PROC)
        await expect_application_error(second.register(echo, PROC),
                                       "wamp.error.procedure_already_exists")
        # Also from the session that already holds it.
        await expect_application_error(first.register(echo, PROC),
                                       "wamp.error.procedure_already_exists")
        # The original registration still answers.
        assert await asyncio.wait_for(second.call(PROC, "still"), 3) == "still"
        await close_all(first, second)
    run(scenario())


def test_call_unknown_procedure_is_no_such_procedure(router):
    async def scenario():
        caller = await connect(router.url)
        await expect_application_error(caller.call("com.example.nobody_home"),
                                       "wamp.error.no_such_procedure")
        await close_all(caller)
    run(scenario())


def test_unregister_then_call_is_no_such_procedure(router):
    async def scenario():
        callee, caller = await connect(router.url), await connect(router.url)
        registration = await callee.register(echo, PROC)
        assert await asyncio.wait_for(caller.call(PROC, 1), 3) == 1
        await registration.unregister()
        await expect_application_error(caller.call(PROC, 1), "wamp.error.no_such_procedure")
        # The URI is free again.
        await caller.register(echo, PROC)
        assert await asyncio.wait_for(callee.call(PROC, 2), 3) == 2
        await close_all(callee, caller)
    run(scenario())


def test_unregister_unknown_registration_is_no_such_registration(router):
    raw = raw_session(router.url)
    raw.send([UNREGISTER, 9, 987654321])
    err = raw.expect(ERROR)
    assert err[1:3] == [UNREGISTER, 9]
    assert err[4] == "wamp.error.no_such_registration"
    raw.send([REGISTER, 10, {}, PROC])
    registration_id = raw.expect(REGISTERED)[2]
    raw.send([UNREGISTER, 11, registration_id])
    assert raw.expect(UNREGISTERED)[1] == 11
    raw.close()


def test_unregister_of_other_sessions_registration_is_refused(router):
    owner = raw_session(router.url)
    other = raw_session(router.url)
    owner.send([REGISTER, 1, {}, PROC])
    registration_id = owner.expect(REGISTERED)[2]
    other.send([UNREGISTER, 2, registration_id])
    err = other.expect(ERROR)
    assert err[1:3] == [UNREGISTER, 2]
    assert err[4] == "wamp.error.no_such_registration"
    owner.close()
    other.close()


@pytest.mark.parametrize("how", ["connection_dropped", "goodbye", "protocol_violation"])
def test_callee_leaving_mid_call_cancels_the_call(router, how):
    async def scenario():
        callee = await connect(router.url)
        callers = [await connect(router.url) for _ in range(2)]
        loop = asyncio.get_running_loop()
        invoked = [loop.create_future() for _ in callers]
        never = loop.create_future()

        async def hang(i):
            invoked[i].set_result(True)
            await never

        await callee.register(hang, PROC)
        pending = [asyncio.ensure_future(c.call(PROC, i)) for i, c in enumerate(callers)]
        await asyncio.wait_for(asyncio.gather(*invoked), 3)
        if how == "connection_dropped":
            callee.drop_connection()
        elif how == "goodbye":
            callee.leave()
        else:
            # The callee's session is ABORTed by the router for a bad message.
            callee._transport.sendMessage(b"[999]", False)
        # Every caller waiting on that callee is told, none hangs.
        for call in pending:
            await expect_application_error(call, "wamp.error.canceled", timeout=5)
        # The registration went with the callee.
        await expect_application_error(callers[0].call(PROC), "wamp.error.no_such_procedure")
        never.cancel()
        await close_all(callee, *callers)
    run(scenario())


def test_registration_is_released_when_callee_disconnects(router):
    async def scenario():
        callee, other = await connect(router.url), await connect(router.url)
        await callee.register(echo, PROC)
        callee.drop_connection()
        await asyncio.wait_for(callee.disconnected, 3)
        # The router notices the lost TCP connection; give it a moment.
        for _ in range(40):
            try:
                await other.register(echo, PROC)
                break
            except ApplicationError as e:
                assert e.error == "wamp.error.procedure_already_exists"
                await asyncio.sleep(0.05)
        else:
            raise AssertionError("registration still held 2 s after the callee disconnected")
        caller = await connect(router.url)
        assert await asyncio.wait_for(caller.call(PROC, "new"), 3) == "new"
        await close_all(other, caller)
    run(scenario())


def test_concurrent_calls_get_their_own_results(router):
    async def scenario():
        callee = await connect(router.url)
        callers = await asyncio.gather(*(connect(router.url) for _ in range(3)))

        async def slow_double(x):
            await asyncio.sleep(random.uniform(0, 0.05))
            return x * 2

        await callee.register(slow_double, PROC)
        calls = [c.call(PROC, i) for i in range(30) for c in callers]
        expected = [i * 2 for i in range(30) for _ in callers]
        results = await asyncio.wait_for(asyncio.gather(*calls), 10)
        assert results == expected
        await close_all(callee, *callers)
    run(scenario())


def test_yield_after_caller_left_does_not_disturb_callee(router):
    async def scenario():
        callee, caller = await connect(router.url), await connect(router.url)
        invoked = asyncio.get_running_loop().create_future()
        release = asyncio.get_running_loop().create_future()

        async def late(*args):
            if not invoked.done():
                invoked.set_result(True)
            await release
            return "late"

        await callee.register(late, PROC)
        pending = asyncio.ensure_future(caller.call(PROC))
        await asyncio.wait_for(invoked, 3)
        caller.drop_connection()
        await asyncio.wait_for(caller.disconnected, 3)
        pending.cancel()
        release.set_result(True)
        await asyncio.sleep(0.2)
        # The callee is still joined and its registration still serves new callers.
        assert callee.is_attached()
        fresh = await connect(router.url)
        assert await asyncio.wait_for(fresh.call(PROC), 3) == "late"
        await close_all(callee, fresh)
    run(scenario())


def interruptible_handler():
    """A procedure that runs until Autobahn cancels it on INTERRUPT, and the future that
    tells it was."""
    interrupted = asyncio.get_running_loop().create_future()

    async def slow():
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            interrupted.set_result(True)
            raise
    return interrupted, slow


def test_caller_cancelling_its_call_interrupts_the_callee(router):
    """Autobahn|Python sends CANCEL (no mode: killnowait, as on Crossbar) when the
    caller's future is cancelled; its callee announced call_canceling, so it gets
    INTERRUPT and Autobahn cancels the running handler."""
    async def scenario():
        callee, caller = await connect(router.url), await connect(router.url)
        interrupted, slow = interruptible_handler()
        await callee.register(slow, PROC)
        pending = asyncio.ensure_future(caller.call(PROC))
        await asyncio.sleep(0.3)
        pending.cancel()
        assert await asyncio.wait_for(interrupted, 5)
        # Both sessions go on being served.
        await callee.register(lambda: 1, "com.example.after")
        assert await asyncio.wait_for(caller.call("com.example.after"), 3) == 1
        await close_all(callee, caller)
    run(scenario())


@pytest.mark.parametrize("mode", ["skip", "kill", "killnowait"])
def test_cancel_modes_on_the_wire(router, mode):
    """A raw caller and callee: what each gets for each CANCEL mode (WAMP spec)."""
    callee = RawWamp(router.url)
    callee.hello(details={"roles": {"callee": {"features": {"call_canceling": True}}}})
    caller = raw_session(router.url)
    try:
        callee.send([REGISTER, 1, {}, PROC])
        callee.expect(REGISTERED)
        caller.send([CALL, 7, {}, PROC, [1]])
        invocation = callee.expect(INVOCATION)
        caller.send([CANCEL, 7, {"mode": mode}])
        if mode != "skip":
            assert callee.expect(INTERRUPT)[1:3] == [invocation[1], {"mode": mode}]
        if mode != "kill":
            assert caller.expect(ERROR)[1:5] == [CALL, 7, {}, "wamp.error.canceled"]
        callee.send([YIELD, invocation[1], {}, ["late"]])
        if mode == "kill":
            assert caller.expect(ERROR)[1:5] == [CALL, 7, {}, "wamp.error.canceled"]
        # Nothing else reaches the caller, and the callee was not aborted for answering.
        caller.send([CALL, 8, {}, "com.example.none"])
        assert caller.expect(ERROR)[4] == "wamp.error.no_such_procedure"
        callee.send([REGISTER, 2, {}, "com.example.still"])
        callee.expect(REGISTERED)
    finally:
        caller.close()
        callee.close()


def test_call_timeout_is_enforced_by_the_router(router):
    """CALL.Options.timeout (milliseconds, WAMP spec; Autobahn's CallOptions(timeout)):
    the caller gets wamp.error.timeout, the callee's handler is interrupted."""
    from autobahn.wamp.types import CallOptions

    async def scenario():
        callee, caller = await connect(router.url), await connect(router.url)
        interrupted, slow = interruptible_handler()
        await callee.register(slow, PROC)
        started = asyncio.get_running_loop().time()
        await expect_application_error(caller.call(PROC, options=CallOptions(timeout=300)), "wamp.error.timeout",
                                       timeout=5)
        assert asyncio.get_running_loop().time() - started < 3
        assert await asyncio.wait_for(interrupted, 5)
        await close_all(callee, caller)
    run(scenario())
