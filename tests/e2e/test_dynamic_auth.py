"""Dynamic authenticators (Crossbar's `type: dynamic`): a real Autobahn|Python component
registers the authenticator procedures, the router calls them with Crossbar's arguments
(realm, authid, details) and reads Crossbar's result shapes; Autobahn|Python clients log
in with ticket, WAMP-CRA (plain and salted), cryptosign, SCRAM and anonymous.

Node directory: crossbar-config/dynamic-auth. Path "ws" calls authenticators on the
client's realm under the default role (trusted); path "ws-authrealm" calls them on the
separate realm "authrealm" under role "authenticator" (so a client may name no realm and
be placed by the authenticator); path "backend" lets the
authenticator component in anonymously.
"""

import asyncio
import json
import shutil
import subprocess

import nacl.signing
from autobahn.wamp.exception import ApplicationError

from test_authentication import cra, login, ticket
from test_node_keys import autobahn_scram_client
from wamp_helpers import DEFAULT_CONFIG_DIR, REALM, REPO_ROOT, connect, run, websocket_service

NODE_DIR = DEFAULT_CONFIG_DIR / "dynamic-auth"
CLIENT_KEY = nacl.signing.SigningKey(bytes(range(32)))


def path_url(router, path):
    return router.url.rsplit("/", 1)[0] + "/" + path


class Authenticators:
    """The component's procedures; records every call's arguments."""

    def __init__(self):
        self.calls = []

    async def ticket(self, realm, authid, details):
        self.calls.append(("ticket", realm, authid, details))
        if authid == "raises":
            raise ApplicationError("com.example.invalid_ticket", "ticket refused by the authenticator")
        if authid == "badshape":
            return 42
        if authid == "slow":
            await asyncio.sleep(3)
            return "frontend"
        if details["ticket"] != "ticket-of-" + authid:
            raise ApplicationError("com.example.invalid_ticket", "wrong ticket")
        if authid == "rolename":
            return "frontend"  # Crossbar's backwards-compatible result: the role alone
        return {"role": "frontend", "authid": authid.upper(), "extra": {"greeting": "hello " + authid}}

    def wampcra(self, realm, authid, details):
        self.calls.append(("wampcra", realm, authid, details))
        if authid == "nosecret":
            return {"role": "frontend"}
        principal = {"secret": "cra-secret-" + authid, "role": "frontend"}
        if authid == "salted":
            principal.update(salt="salt-123", iterations=100, keylen=32)
        return principal

    def cryptosign(self, realm, authid, details):
        self.calls.append(("cryptosign", realm, authid, details))
        principal = {"pubkey": CLIENT_KEY.verify_key.encode().hex(), "role": "frontend", "authid": "device-1"}
        if realm is None and authid != "homeless":
            principal["realm"] = REALM  # as crossbar-examples authentication/cryptosign/dynamic
        return principal

    def anonymous(self, realm, authid, details):
        self.calls.append(("anonymous", realm, authid, details))
        return {"role": "frontend", "realm": REALM}


async def authenticator_component(router, realm, procedures=("ticket", "wampcra", "cryptosign", "anonymous")):
    auth = Authenticators()
    session = await connect(path_url(router, "backend"), realm=realm)
    for name in procedures:
        await session.register(getattr(auth, name), "com.example.authenticate." + name)
    return session, auth


def outcome(session, joined):
    if joined:
        details = session.joined.result()
        return ("joined", details.authid, details.authrole, details.authmethod, details.authprovider,
                session.welcome.result().authextra)
    close = session.left.result() if session.left.done() else None
    return ("refused", close.reason, close.message) if close else ("no answer",)


def scenario_login(router, component_realm, url_path="ws", **kwargs):
    async def scenario():
        component, auth = await authenticator_component(router, component_realm)
        session, joined = await login(path_url(router, url_path), **kwargs)
        result = outcome(session, joined)
        await session.close()
        await component.close()
        return result, auth.calls
    return run(scenario())


# --- WAMP-Ticket -----------------------------------------------------------------------

def test_dynamic_ticket_arguments_and_welcome(router_factory):
    router = router_factory(NODE_DIR)
    result, calls = scenario_login(router, REALM, authmethods=["ticket"], authid="alice",
                                   answer=ticket("ticket-of-alice"), authextra={"app": "demo"})
    assert result == ("joined", "ALICE", "frontend", "ticket", "dynamic", {"greeting": "hello alice"})
    (method, realm, authid, details), = calls
    assert (method, realm, authid) == ("ticket", REALM, "alice")
    assert list(details) == ["transport", "session", "authmethod", "authextra", "ticket"]
    assert details["authmethod"] == "ticket" and details["ticket"] == "ticket-of-alice"
    assert details["authextra"] == {"app": "demo"}
    assert isinstance(details["session"], int)
    transport = details["transport"]
    assert (transport["channel_type"], transport["channel_framing"], transport["channel_serializer"]) == (
        "tcp", "websocket", "json")
    assert transport["peer"].startswith("tcp4:127.0.0.1:")


def test_dynamic_ticket_role_string(router_factory):
    router = router_factory(NODE_DIR)
    result, _ = scenario_login(router, REALM, authmethods=["ticket"], authid="rolename",
                               answer=ticket("ticket-of-rolename"))
    assert result[:5] == ("joined", "rolename", "frontend", "ticket", "dynamic")


def test_dynamic_ticket_application_error_is_the_abort(router_factory):
    router = router_factory(NODE_DIR)
    result, _ = scenario_login(router, REALM, authmethods=["ticket"], authid="raises", answer=ticket("x"))
    assert result == ("refused", "com.example.invalid_ticket", "ticket refused by the authenticator")
    result, _ = scenario_login(router, REALM, authmethods=["ticket"], authid="alice", answer=ticket("wrong"))
    assert result == ("refused", "com.example.invalid_ticket", "wrong ticket")


def test_dynamic_ticket_bad_result_shape(router_factory):
    router = router_factory(NODE_DIR)
    result, _ = scenario_login(router, REALM, authmethods=["ticket"], authid="badshape", answer=ticket("x"))
    assert result == ("refused", "wamp.error.authentication_failed",
                      "got invalid return type \"<class 'int'>\" from dynamic authenticator")


def test_dynamic_authenticator_not_registered(router_factory):
    router = router_factory(NODE_DIR)

    async def scenario():
        session, joined = await login(router.url, authmethods=["ticket"], authid="alice",
                                      answer=ticket("ticket-of-alice"))
        result = outcome(session, joined)
        await session.close()
        return result
    assert run(scenario()) == ("refused", "wamp.error.no_such_procedure",
                               "no callee registered for procedure <com.example.authenticate.ticket>")


def test_dynamic_ticket_on_separate_authenticator_realm(router_factory):
    router = router_factory(NODE_DIR)
    result, calls = scenario_login(router, "authrealm", url_path="ws-authrealm", authmethods=["ticket"],
                                   authid="bob", answer=ticket("ticket-of-bob"))
    assert result[:5] == ("joined", "BOB", "frontend", "ticket", "dynamic")
    assert calls[0][1] == REALM  # the realm the client asked for, not the authenticator's


def test_dynamic_anonymous_on_separate_authenticator_realm(router_factory):
    router = router_factory(NODE_DIR)
    result, calls = scenario_login(router, "authrealm", url_path="ws-authrealm", authmethods=["anonymous"],
                                   authextra={"k": 1})
    assert result[0] == "joined" and result[2:5] == ("frontend", "anonymous", "dynamic")
    (method, realm, authid, details), = calls
    assert (method, realm, authid) == ("anonymous", REALM, result[1]) and len(authid) == 29
    assert list(details) == ["transport", "session", "authmethod", "authextra"]
    assert details["authextra"] == {"k": 1}


def test_dynamic_authenticator_realm_missing(router_factory):
    def mutate(config):
        websocket_service(config)["auth"]["ticket"]["authenticator-realm"] = "nosuchrealm"
    router = router_factory(NODE_DIR, mutate=mutate)
    result, _ = scenario_login(router, REALM, authmethods=["ticket"], authid="alice", answer=ticket("t"))
    assert result == ("refused", "wamp.error.no_such_realm",
                      "explicit realm <nosuchrealm> configured for dynamic authenticator does not exist")


# --- WAMP-CRA --------------------------------------------------------------------------

def test_dynamic_wampcra_plain_and_salted(router_factory):
    router = router_factory(NODE_DIR)
    result, calls = scenario_login(router, REALM, authmethods=["wampcra"], authid="carol",
                                   answer=cra("cra-secret-carol"))
    assert result[:5] == ("joined", "carol", "frontend", "wampcra", "dynamic")
    (method, realm, authid, details), = calls
    assert (method, realm, authid) == ("wampcra", REALM, "carol")
    assert list(details) == ["transport", "session", "authmethod", "authextra", "authid", "authrole"]
    result, _ = scenario_login(router, REALM, authmethods=["wampcra"], authid="salted",
                               answer=cra("cra-secret-salted"))
    assert result[:5] == ("joined", "salted", "frontend", "wampcra", "dynamic")
    result, _ = scenario_login(router, REALM, authmethods=["wampcra"], authid="carol", answer=cra("wrong"))
    assert result == ("refused", "wamp.error.not_authorized", "WAMP-CRA client signature is invalid")


def test_dynamic_wampcra_result_without_secret(router_factory):
    router = router_factory(NODE_DIR)
    result, _ = scenario_login(router, REALM, authmethods=["wampcra"], authid="nosecret", answer=cra("x"))
    assert result == ("refused", "wamp.error.authorization_failed", "Internal server error")


# --- Cryptosign ------------------------------------------------------------------------

def test_dynamic_cryptosign(router_factory):
    from autobahn.wamp.cryptosign import CryptosignKey
    key = CryptosignKey.from_bytes(CLIENT_KEY.encode())
    router = router_factory(NODE_DIR)
    result, calls = scenario_login(router, REALM, authmethods=["cryptosign"], answer=key.sign_challenge,
                                   authextra={"pubkey": key.public_key()})
    assert result[:5] == ("joined", "device-1", "frontend", "cryptosign", "dynamic")
    assert calls[0][2] is None  # no authid in HELLO

    stranger = CryptosignKey.from_bytes(bytes(32))
    result, _ = scenario_login(router, REALM, authmethods=["cryptosign"], answer=stranger.sign_challenge,
                               authextra={"pubkey": stranger.public_key()})
    assert result == ("refused", "wamp.error.not_authorized", "signed message has invalid signature")


def test_dynamic_cryptosign_assigns_the_realm_of_a_client_that_named_none(router_factory):
    # Autobahn sends realm=None as null, as the crossbar-examples cryptosign client does.
    from autobahn.wamp.cryptosign import CryptosignKey
    key = CryptosignKey.from_bytes(CLIENT_KEY.encode())
    router = router_factory(NODE_DIR)

    async def scenario(authid):
        component, auth = await authenticator_component(router, "authrealm")
        session, joined = await login(path_url(router, "ws-authrealm"), authmethods=["cryptosign"], authid=authid,
                                      answer=key.sign_challenge, authextra={"pubkey": key.public_key()}, realm=None)
        result = outcome(session, joined)
        realm = session.joined.result().realm if joined else None
        await session.close()
        await component.close()
        return result, realm, auth.calls

    result, realm, calls = run(scenario(None))
    assert result[:5] == ("joined", "device-1", "frontend", "cryptosign", "dynamic")
    assert realm == REALM
    assert calls[0][1] is None  # the authenticator sees no requested realm

    result, realm, _ = run(scenario("homeless"))
    assert result == ("refused", "wamp.error.no_such_realm", "no realm assigned")


# --- Deadlines and disconnects ---------------------------------------------------------

def test_disconnect_while_authenticator_is_pending(router_factory):
    router = router_factory(NODE_DIR)

    async def scenario():
        component, auth = await authenticator_component(router, REALM)
        session, _ = await login(router.url, authmethods=["ticket"], authid="slow", answer=ticket("t"),
                                 timeout=0.5)
        assert not session.joined.done()
        session.drop_connection()
        await asyncio.sleep(3.5)  # the reply comes after the session is gone
        again, joined = await login(router.url, authmethods=["ticket"], authid="alice",
                                    answer=ticket("ticket-of-alice"))
        assert joined
        await again.close()
        await component.close()
    run(scenario())
    assert router.is_alive()


def test_hello_timeout_abandons_the_authenticator_call(router_factory):
    def mutate(config):
        websocket_service(config)["options"] = {"hello_timeout": 1000}
    router = router_factory(NODE_DIR, mutate=mutate)

    async def scenario():
        component, auth = await authenticator_component(router, REALM)
        session, _ = await login(router.url, authmethods=["ticket"], authid="slow", answer=ticket("t"),
                                 timeout=0.5)
        await asyncio.wait_for(asyncio.shield(session.disconnected), 3)
        assert not session.joined.done()
        await asyncio.sleep(2.5)
        await component.close()
    run(scenario())
    assert router.wait_for_log("no WAMP session established")
    assert router.is_alive()


# --- SCRAM -----------------------------------------------------------------------------

def test_dynamic_scram(router_factory, tmp_path, monkeypatch):
    """The authenticator returns the verifier scripts/make-node-keys computes for a
    static principal; Autobahn's AuthScram logs in with the password."""
    auth = autobahn_scram_client(monkeypatch)
    keydir = tmp_path / "scram-keys"
    keydir.mkdir()
    shutil.copy(REPO_ROOT / "crossbar-config" / "scram" / "config.json.in", keydir)
    subprocess.run([str(REPO_ROOT / "scripts" / "make-node-keys"), str(keydir), "--scram", "alice:correct horse",
                    "--iterations", "2", "--memory", "1024"], check=True, timeout=60)
    verifier = dict(websocket_service(json.loads((keydir / "config.json").read_text()))
                    ["auth"]["scram"]["principals"]["alice"], role="frontend")
    router = router_factory(NODE_DIR)

    def attempt(password):
        client = auth.AuthScram(authid="alice", password=password)

        async def scenario():
            component = await connect(path_url(router, "backend"), realm=REALM)
            await component.register(lambda realm, authid, details: verifier, "com.example.authenticate.scram")
            session, joined = await login(router.url, ["scram"], authid="alice",
                                          answer=lambda c: client.on_challenge(None, c), authextra=client.authextra)
            result = outcome(session, joined)
            await session.close()
            await component.close()
            return result
        return run(scenario())

    result = attempt("correct horse")
    assert result[:5] == ("joined", "alice", "frontend", "scram", "dynamic")
    assert "scram_server_signature" in result[5]
    assert attempt("wrong horse") == ("refused", "wamp.error.not_authorized", "SCRAM authentication failed")
