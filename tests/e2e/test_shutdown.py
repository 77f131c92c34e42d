"""Graceful shutdown: on SIGTERM or SIGINT every session gets GOODBYE
`wamp.close.system_shutdown`, then the process exits 0.
"""

import asyncio
import signal
import socket
import time

import pytest
from autobahn.wamp.exception import ApplicationError

from wamp_helpers import (
    GOODBYE,
    RawWamp,
    SHUTDOWN_TIMEOUT,
    connect,
    port_accepts,
    raw_session,
    run,
)

pytestmark = pytest.mark.single_node("shutdown of one router process: its signals, exit code and GOODBYE on stop")

SIGNALS = [signal.SIGTERM, signal.SIGINT]


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_sessions_get_system_shutdown_goodbye(router, sig):
    async def scenario():
        sessions = await asyncio.gather(*(connect(router.url) for _ in range(3)))
        router.send_signal(sig)
        for session in sessions:
            details = await asyncio.wait_for(asyncio.shield(session.left), SHUTDOWN_TIMEOUT)
            assert details.reason == "wamp.close.system_shutdown"
        for session in sessions:
            await asyncio.wait_for(asyncio.shield(session.disconnected), SHUTDOWN_TIMEOUT)
        code = await asyncio.to_thread(router.proc.wait, SHUTDOWN_TIMEOUT)
        assert code == 0, f"exit code {code}; stderr tail:\n{router.log_tail()}"
    run(scenario())
    assert not port_accepts(router.port)


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_goodbye_wire_format_and_exit_code(router, sig):
    raw = raw_session(router.url)
    router.send_signal(sig)
    goodbye = raw.expect(GOODBYE, timeout=SHUTDOWN_TIMEOUT)
    assert len(goodbye) == 3 and isinstance(goodbye[1], dict), goodbye
    assert goodbye[2] == "wamp.close.system_shutdown"
    # Answer as a well-behaved client would (WAMP spec: GOODBYE is replied to).
    raw.send([GOODBYE, {}, "wamp.close.goodbye_and_out"])
    raw.wait_closed(SHUTDOWN_TIMEOUT)
    raw.close()
    assert router.stop(sig) == 0, router.log_tail()


def test_shutdown_does_not_wait_for_silent_client(router):
    """A client that never answers the GOODBYE must not keep the router alive."""
    silent = raw_session(router.url)
    not_joined = RawWamp(router.url)  # WebSocket open, no HELLO yet
    router.send_signal(signal.SIGTERM)
    assert silent.expect(GOODBYE, timeout=SHUTDOWN_TIMEOUT)[2] == "wamp.close.system_shutdown"
    # Neither client replies; the router must still exit 0 within the shutdown timeout.
    try:
        code = router.proc.wait(timeout=SHUTDOWN_TIMEOUT)
    finally:
        silent.close()
        not_joined.close()
    assert code == 0, router.log_tail()


def test_shutdown_with_pending_call(router):
    """A caller waiting on a call when the router stops gets its GOODBYE; exit stays 0."""
    async def scenario():
        callee, caller = await connect(router.url), await connect(router.url)
        invoked = asyncio.get_running_loop().create_future()
        never = asyncio.get_running_loop().create_future()

        async def hang(*args):
            if not invoked.done():
                invoked.set_result(True)
            await never

        await callee.register(hang, "com.example.hang")
        pending = asyncio.ensure_future(caller.call("com.example.hang"))
        await asyncio.wait_for(invoked, 3)
        router.send_signal(signal.SIGTERM)
        for session in (callee, caller):
            details = await asyncio.wait_for(asyncio.shield(session.left), SHUTDOWN_TIMEOUT)
            assert details.reason == "wamp.close.system_shutdown"
        # The pending call fails (Autobahn errbacks it when the session leaves).
        with pytest.raises(ApplicationError):
            await asyncio.wait_for(pending, 3)
        never.cancel()
        code = await asyncio.to_thread(router.proc.wait, SHUTDOWN_TIMEOUT)
        assert code == 0, router.log_tail()
    run(scenario())


def test_shutdown_with_no_sessions(router):
    assert router.stop(signal.SIGTERM) == 0, router.log_tail()
    assert not port_accepts(router.port)


def test_shutdown_with_half_open_connections(router):
    """Connections that never finished the HTTP upgrade, or never sent anything, must not
    delay the exit past the shutdown timeout."""
    idle = socket.create_connection(("127.0.0.1", router.port))
    partial = socket.create_connection(("127.0.0.1", router.port))
    partial.sendall(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n")
    joined = raw_session(router.url)
    time.sleep(0.1)
    try:
        assert router.stop(signal.SIGTERM, SHUTDOWN_TIMEOUT) == 0, router.log_tail()
    finally:
        for s in (idle, partial):
            s.close()
        joined.close()
