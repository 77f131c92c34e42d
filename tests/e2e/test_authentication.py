"""Authentication as Crossbar serves it: static WAMP-Ticket and WAMP-CRA with a real
Autobahn|Python client, Crossbar's method selection and its exact ABORT reasons.

Node directories: crossbar-config/ticket and crossbar-config/wampcra. Their secrets are
test fixtures; the ones named ``${VAR}`` are read from the router's environment.
"""

import asyncio
from urllib.parse import urlparse

import pytest
from autobahn.asyncio.websocket import WampWebSocketClientFactory
from autobahn.wamp import auth
from autobahn.wamp.serializer import JsonSerializer
from autobahn.wamp.types import ComponentConfig

from wamp_helpers import DEFAULT_CONFIG_DIR, REALM, Client, run, websocket_service

TICKET_DIR = DEFAULT_CONFIG_DIR / "ticket"
WAMPCRA_DIR = DEFAULT_CONFIG_DIR / "wampcra"


class AuthClient(Client):
    """Joins with the given authmethods/authid/authextra and answers CHALLENGE with
    ``answer(challenge)``; records every challenge it received."""

    def __init__(self, config, authmethods, authid, answer, authextra):
        super().__init__(config)
        self.offer = dict(authmethods=authmethods, authid=authid, authextra=authextra)
        self.answer = answer
        self.challenges = []

    def onConnect(self):
        self.join(self.config.realm, **self.offer)

    def onChallenge(self, challenge):
        self.challenges.append(challenge)
        return self.answer(challenge)


async def login(url, authmethods, authid=None, answer=None, authextra=None, realm=REALM, timeout=5):
    """(session, joined) once the session joined or was refused, or after ``timeout`` s."""
    loop = asyncio.get_running_loop()
    session = AuthClient(ComponentConfig(realm=realm), authmethods, authid,
                         answer or (lambda c: "unused"), authextra)
    factory = WampWebSocketClientFactory(lambda: session, url=url, serializers=[JsonSerializer()])
    factory.setProtocolOptions(openHandshakeTimeout=5, closeHandshakeTimeout=1, autoPingInterval=0)
    parsed = urlparse(url)
    await loop.create_connection(factory, parsed.hostname, parsed.port)
    await asyncio.wait([session.joined, session.left, session.disconnected], timeout=timeout,
                       return_when=asyncio.FIRST_COMPLETED)
    return session, session.joined.done()


def ticket(value):
    return lambda challenge: value


def cra(secret):
    """Autobahn's WAMP-CRA answer: the key is derived when the challenge is salted."""
    def answer(challenge):
        key = secret
        if "salt" in challenge.extra:
            key = auth.derive_key(secret, challenge.extra["salt"], challenge.extra["iterations"],
                                  challenge.extra["keylen"])
        return auth.compute_wcs(key, challenge.extra["challenge"]).decode("ascii")
    return answer


def joined_as(url, **kwargs):
    async def scenario():
        session, joined = await login(url, **kwargs)
        assert joined, f"refused: {session.left.result() if session.left.done() else 'no answer'}"
        details = session.joined.result()
        welcome = session.welcome.result()
        result = (details.authid, details.authrole, details.authmethod, details.authprovider,
                  welcome.authextra, session.challenges)
        await session.close()
        return result
    return run(scenario())


def refused_with(url, **kwargs):
    async def scenario():
        session, joined = await login(url, **kwargs)
        assert not joined, "session joined"
        assert session.left.done(), "no ABORT"
        close = session.left.result()
        await session.close()
        return close.reason, close.message
    return run(scenario())


# --- WAMP-Ticket -----------------------------------------------------------------------

def test_ticket_ok(router_factory):
    router = router_factory(TICKET_DIR)
    authid, authrole, authmethod, authprovider, authextra, challenges = joined_as(
        router.url, authmethods=["ticket"], authid="client1", answer=ticket("test-only-ticket-client1"),
        authextra={"app": "demo"})
    assert (authid, authrole, authmethod, authprovider) == ("client1", "frontend", "ticket", "static")
    assert authextra == {"app": "demo"}  # Crossbar echoes the HELLO authextra
    assert [(c.method, c.extra) for c in challenges] == [("ticket", {})]


def test_wrong_ticket(router_factory):
    router = router_factory(TICKET_DIR)
    assert refused_with(router.url, authmethods=["ticket"], authid="client1", answer=ticket("nope")) == (
        "wamp.error.not_authorized", "ticket in static WAMP-Ticket authentication is invalid")


def test_ticket_unknown_authid_is_refused_without_challenge(router_factory):
    router = router_factory(TICKET_DIR)
    seen = []
    assert refused_with(router.url, authmethods=["ticket"], authid="mallory",
                        answer=lambda c: seen.append(c) or "x") == (
        "wamp.error.not_authorized", 'no principal with authid "mallory" exists')
    assert seen == []


def test_ticket_from_environment_variable(router_factory, monkeypatch):
    monkeypatch.setenv("BLINDROUTER_BACKEND1_TICKET", "ticket-from-env-3f9a")
    router = router_factory(TICKET_DIR)
    assert joined_as(router.url, authmethods=["ticket"], authid="backend1",
                     answer=ticket("ticket-from-env-3f9a"))[:2] == ("backend1", "backend")
    assert "ticket-from-env-3f9a" not in router.log()


def test_ticket_variable_unset_matches_nothing(router_factory, monkeypatch):
    monkeypatch.delenv("BLINDROUTER_BACKEND1_TICKET", raising=False)
    router = router_factory(TICKET_DIR)
    for guess in ("", "${BLINDROUTER_BACKEND1_TICKET}"):
        assert refused_with(router.url, authmethods=["ticket"], authid="backend1", answer=ticket(guess))[0] == \
            "wamp.error.not_authorized"


def test_secrets_never_logged_at_trace(router_factory):
    router = router_factory(TICKET_DIR, loglevel="trace")
    joined_as(router.url, authmethods=["ticket"], authid="client1", answer=ticket("test-only-ticket-client1"))
    refused_with(router.url, authmethods=["ticket"], authid="client1", answer=ticket("wrong-ticket-c0ffee"))
    log = router.log()
    assert "joined realm" in log
    assert "test-only-ticket-client1" not in log
    assert "wrong-ticket-c0ffee" not in log


# --- WAMP-CRA --------------------------------------------------------------------------

def test_wampcra_plain_ok(router_factory):
    router = router_factory(WAMPCRA_DIR)
    authid, authrole, authmethod, authprovider, authextra, challenges = joined_as(
        router.url, authmethods=["wampcra"], authid="client1", answer=cra("test-only-secret-client1"))
    assert (authid, authrole, authmethod, authprovider) == ("client1", "frontend", "wampcra", "static")
    assert set(challenges[0].extra) == {"challenge"}


def test_wampcra_salted_ok_with_derive_key(router_factory):
    router = router_factory(WAMPCRA_DIR)
    *identity, challenges = joined_as(router.url, authmethods=["wampcra"], authid="client2",
                                      answer=cra("test-only-secret-client2"))
    assert identity[:3] == ["client2", "frontend", "wampcra"]
    extra = challenges[0].extra
    assert (extra["salt"], extra["iterations"], extra["keylen"]) == ("test-only-salt", 1000, 32)


def test_wampcra_salted_22x_config_with_derived_key(router_factory):
    # A config written for Crossbar 22.x holds the derived key; the client derives the same.
    derived = auth.derive_key("client-password", "test-only-salt", 1000, 32).decode("ascii")

    def mutate(config):
        users = websocket_service(config)["auth"]["wampcra"]["users"]
        users["client2"]["secret"] = derived
    router = router_factory(WAMPCRA_DIR, mutate=mutate)
    assert joined_as(router.url, authmethods=["wampcra"], authid="client2",
                     answer=cra("client-password"))[0] == "client2"


def test_wampcra_wrong_secret(router_factory):
    router = router_factory(WAMPCRA_DIR, loglevel="trace")
    assert refused_with(router.url, authmethods=["wampcra"], authid="client1",
                        answer=cra("test-only-secret-WRONG")) == (
        "wamp.error.not_authorized", "WAMP-CRA client signature is invalid")
    assert refused_with(router.url, authmethods=["wampcra"], authid="client2",
                        answer=cra("test-only-secret-WRONG"))[0] == "wamp.error.not_authorized"
    joined_as(router.url, authmethods=["wampcra"], authid="client1", answer=cra("test-only-secret-client1"))
    log = router.log()
    assert "test-only-secret" not in log
    assert "challenge\"" not in log and "nonce" not in log


# --- Method selection (cb:router/session.py:864-1107) -------------------------------------

def both_methods(config):
    websocket_service(config)["auth"]["ticket"] = {
        "type": "static", "principals": {"client1": {"ticket": "test-only-ticket-client1", "role": "frontend"}}}


def test_selection_first_configured_method_in_client_order_wins(router_factory):
    router = router_factory(WAMPCRA_DIR, mutate=both_methods)
    assert joined_as(router.url, authmethods=["cryptosign", "ticket", "wampcra"], authid="client1",
                     answer=ticket("test-only-ticket-client1"))[2] == "ticket"
    assert joined_as(router.url, authmethods=["wampcra", "ticket"], authid="client1",
                     answer=cra("test-only-secret-client1"))[2] == "wampcra"


def test_selection_no_fallback_after_denial(router_factory):
    router = router_factory(WAMPCRA_DIR, mutate=both_methods)
    # wampcra is chosen and denies; the ticket that would have worked is never asked for.
    assert refused_with(router.url, authmethods=["wampcra", "ticket"], authid="client1",
                        answer=ticket("test-only-ticket-client1")) == (
        "wamp.error.not_authorized", "WAMP-CRA client signature is invalid")


def test_selection_unknown_method_aborts_at_once(router_factory):
    router = router_factory(TICKET_DIR)
    assert refused_with(router.url, authmethods=["password", "ticket"], authid="client1",
                        answer=ticket("test-only-ticket-client1")) == (
        "wamp.error.not_authorized", 'invalid authmethod "password"')


def test_selection_nothing_configured(router_factory):
    router = router_factory(TICKET_DIR)
    reason, message = refused_with(router.url, authmethods=["wampcra", "anonymous"], authid="client1")
    assert reason == "wamp.error.no_auth_method"
    reason, _ = refused_with(router.url, authmethods=None)  # no authmethods: anonymous
    assert reason == "wamp.error.no_auth_method"


def test_transport_without_auth_block_is_anonymous_only(router):
    assert refused_with(router.url, authmethods=["ticket"], authid="client1")[0] == "wamp.error.no_auth_method"
    authid, authrole, authmethod, authprovider, _, _ = joined_as(router.url, authmethods=["ticket", "anonymous"],
                                                                 authid="client1")
    assert (authrole, authmethod, authprovider) == ("anonymous", "anonymous", "static")
    assert authid != "client1" and len(authid) == 29  # the client's authid is ignored


def test_principal_role_not_on_realm(router_factory):
    def ghost(config):
        websocket_service(config)["auth"]["ticket"]["principals"]["ghost"] = {"ticket": "t", "role": "nosuchrole"}
    router = router_factory(TICKET_DIR, mutate=ghost)
    assert refused_with(router.url, authmethods=["ticket"], authid="ghost", answer=ticket("t")) == (
        "wamp.error.no_such_role", 'realm "realm1" has no role "nosuchrole"')
