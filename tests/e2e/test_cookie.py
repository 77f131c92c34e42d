"""Cookie tracking and WAMP-Cookie as Crossbar serves them, with a real Autobahn|Python
client that keeps the ``cbtid`` cookie between connections the way Crossbar's
authentication/cookie example client does (the factory's ``Cookie`` header).

Node directory: crossbar-config/cookie (ticket and salted WAMP-CRA logins, then cookie).
"""

import asyncio
import re
from urllib.parse import urlparse

import pytest

from autobahn.asyncio.websocket import WampWebSocketClientFactory
from autobahn.wamp.serializer import JsonSerializer
from autobahn.wamp.types import ComponentConfig

from test_authentication import AuthClient, cra, ticket
from wamp_helpers import DEFAULT_CONFIG_DIR, REALM, close_all, run

COOKIE_DIR = DEFAULT_CONFIG_DIR / "cookie"
SET_COOKIE = re.compile(r"^cbtid=([A-Za-z0-9+/]{24});max-age=604800$")


async def open_session(url, authmethods, authid=None, answer=None, cookie=None):
    """(session, set_cookie) once the session joined, was refused or was dropped;
    ``set_cookie`` is the upgrade response's Set-Cookie header, or None."""
    loop = asyncio.get_running_loop()
    session = AuthClient(ComponentConfig(realm=REALM), authmethods, authid, answer or (lambda c: "unused"), None)
    headers = {"Cookie": f"cbtid={cookie}"} if cookie else None
    factory = WampWebSocketClientFactory(lambda: session, url=url, serializers=[JsonSerializer()], headers=headers)
    factory.setProtocolOptions(openHandshakeTimeout=5, closeHandshakeTimeout=1, autoPingInterval=0)
    parsed = urlparse(url)
    _, protocol = await loop.create_connection(factory, parsed.hostname, parsed.port)
    await asyncio.wait([session.joined, session.left, session.disconnected], timeout=5,
                       return_when=asyncio.FIRST_COMPLETED)
    return session, protocol.http_headers.get("set-cookie")


def cookie_of(set_cookie):
    match = SET_COOKIE.match(set_cookie or "")
    assert match, f"not Crossbar's Set-Cookie: {set_cookie!r}"
    return match.group(1)


def identity(session):
    details = session.joined.result()
    return details.authid, details.authrole, details.authmethod, details.authprovider


async def backend(url):
    session, _ = await open_session(url, ["ticket"], "backend1", ticket("test-only-ticket-backend1"))
    await session.register(lambda x, y: x + y, "com.example.add2")
    return session


@pytest.mark.single_node("a cookie login lands on another node than the one that set the cookie: the cookie store is per node (SCALE-OUT.md §2.10)")
def test_ticket_login_then_cookie_login(router_factory):
    router = router_factory(COOKIE_DIR)

    async def scenario():
        add2 = await backend(router.url)
        first, set_cookie = await open_session(router.url, ["ticket"], "client1", ticket("test-only-ticket-client1"))
        assert identity(first) == ("client1", "frontend", "ticket", "static")
        cbtid = cookie_of(set_cookie)
        await first.close()

        # Crossbar's example client offers ["cookie", "wampcra"]; any other method after
        # "cookie" works the same. The login comes without CHALLENGE, and a cookie the
        # router knows is not set again.
        second, set_again = await open_session(router.url, ["cookie", "ticket"], cookie=cbtid)
        assert second.joined.done(), second.left.result() if second.left.done() else "no answer"
        assert identity(second) == ("client1", "frontend", "ticket", "cookie")
        assert second.challenges == []
        assert set_again is None
        assert await second.call("com.example.add2", 23, 666) == 689  # the frontend role's permissions
        await close_all(second, add2)
        return cbtid

    cbtid = run(scenario())
    assert cbtid not in router.log()


def test_unknown_cookie_gets_a_new_one_and_falls_through_to_the_next_method(router_factory):
    router = router_factory(COOKIE_DIR)

    async def scenario():
        session, set_cookie = await open_session(router.url, ["cookie", "ticket"], "client1",
                                                 ticket("test-only-ticket-client1"), cookie="notAcookieOfThisRouter")
        assert cookie_of(set_cookie) != "notAcookieOfThisRouter"
        assert identity(session) == ("client1", "frontend", "ticket", "static")
        assert [c.method for c in session.challenges] == ["ticket"]
        await session.close()

        alone, _ = await open_session(router.url, ["cookie"], cookie="notAcookieOfThisRouter")
        assert not alone.joined.done()
        assert alone.left.result().reason == "wamp.error.no_auth_method"
        await alone.close()

    run(scenario())


@pytest.mark.single_node("a cookie login lands on another node than the one that set the cookie: the cookie store is per node (SCALE-OUT.md §2.10)")
def test_logout_forgets_the_cookie_and_closes_its_other_connections(router_factory):
    router = router_factory(COOKIE_DIR)

    async def scenario():
        first, set_cookie = await open_session(router.url, ["cookie", "wampcra"], "client2",
                                               cra("test-only-secret-client2"))
        assert identity(first) == ("client2", "frontend", "wampcra", "static")
        cbtid = cookie_of(set_cookie)
        other, _ = await open_session(router.url, ["cookie", "wampcra"], cookie=cbtid)
        assert identity(other) == ("client2", "frontend", "wampcra", "cookie")

        first.leave("wamp.close.logout")
        await asyncio.wait_for(asyncio.shield(first.disconnected), 3)
        await asyncio.wait_for(asyncio.shield(other.disconnected), 3)  # closed by the router

        later, set_later = await open_session(router.url, ["cookie"], cookie=cbtid)
        assert later.left.result().reason == "wamp.error.no_auth_method"
        assert cookie_of(set_later) != cbtid  # forgotten: a new cookie is handed out
        await later.close()

    run(scenario())
