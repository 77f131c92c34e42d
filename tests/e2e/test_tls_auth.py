"""WAMP-TLS (client certificates) and cryptosign's tls-unique channel binding as Crossbar
serves them, with Autobahn|Python over asyncio and an ssl context that carries the client
certificate.

The node directory (crossbar-config/tls) is made at test time by scripts/make-node-keys:
a CA, a server certificate and client certificates, none committed. Ports 1 (WebSocket)
and 3 (RawSocket) verify client certificates against the CA and require one (Crossbar's
ca_certificates); port 2 (WebSocket) asks for none.
"""

import asyncio
import shutil
import signal
import ssl
import subprocess
import time

import pytest
from autobahn.asyncio.rawsocket import WampRawSocketClientFactory
from autobahn.asyncio.websocket import WampWebSocketClientFactory
from autobahn.wamp.serializer import CBORSerializer, JsonSerializer
from autobahn.wamp.types import ComponentConfig

from test_authentication import AuthClient
from wamp_helpers import REALM, REPO_ROOT, run, start_router

SCRIPT = REPO_ROOT / "scripts" / "make-node-keys"
CRYPTOSIGN_AUTHID = "client01@example.com"


@pytest.fixture(scope="module")
def tls_node(tmp_path_factory):
    """The node directory, and a second CA's client certificate the node does not trust."""
    nodedir = tmp_path_factory.mktemp("tls") / "node"
    nodedir.mkdir()
    shutil.copy(REPO_ROOT / "crossbar-config" / "tls" / "config.json.in", nodedir)
    subprocess.run([str(SCRIPT), str(nodedir), "--tls-client", "client_0", "--tls-client", "client_1",
                    "--client", "client01"], check=True, timeout=60)
    stranger = tmp_path_factory.mktemp("other-ca")
    subprocess.run([str(SCRIPT), str(stranger), "--tls-client", "client_0"], check=True, timeout=60)
    return nodedir, stranger


@pytest.fixture(scope="module")
def tls_router(tls_node, router_binary, tmp_path_factory):
    nodedir, _ = tls_node
    router = start_router(router_binary, nodedir, tmp_path_factory.mktemp("router"))
    yield router
    assert router.stop(signal.SIGTERM, 5) == 0


def client_context(nodedir, cert_dir=None, name=None):
    """Trusts the node's CA; presents NAME's certificate from cert_dir when given."""
    context = ssl.create_default_context(cafile=str(nodedir / "ca.cert.pem"))
    if name:
        context.load_cert_chain(str(cert_dir / f"{name}.crt"), str(cert_dir / f"{name}.key"))
    return context


async def tls_login(port, context, authmethods, authid=None, answer=None, authextra=None, session=None,
                    rawsocket=False):
    """(session, joined, handshake error): like test_authentication.login, over wss (or
    RawSocket over TLS)."""
    loop = asyncio.get_running_loop()
    session = session or AuthClient(ComponentConfig(realm=REALM), authmethods, authid,
                                    answer or (lambda c: "unused"), authextra)
    if rawsocket:
        factory = WampRawSocketClientFactory(lambda: session, serializer=CBORSerializer())
    else:
        url = f"wss://localhost:{port}/ws"
        factory = WampWebSocketClientFactory(lambda: session, url=url, serializers=[JsonSerializer()])
        factory.setProtocolOptions(openHandshakeTimeout=5, closeHandshakeTimeout=1, autoPingInterval=0)
    try:
        await loop.create_connection(factory, "127.0.0.1", port, ssl=context, server_hostname="localhost")
    except (ssl.SSLError, ConnectionError) as e:
        return session, False, e
    await asyncio.wait([session.joined, session.left, session.disconnected], timeout=5,
                       return_when=asyncio.FIRST_COMPLETED)
    return session, session.joined.done(), None


def refusal(session):
    assert session.left.done(), "no ABORT received"
    details = session.left.result()
    return details.reason, details.message


def test_known_certificate_joins_as_its_principal(tls_node, tls_router):
    nodedir, _ = tls_node

    async def scenario():
        session, joined, _ = await tls_login(tls_router.ports[0], client_context(nodedir, nodedir, "client_0"),
                                             ["tls"])
        assert joined, refusal(session)
        details = session.joined.result()
        welcome = session.welcome.result()
        await session.close()
        return (details.authid, details.authrole, details.authmethod, details.authprovider, welcome.authextra,
                session.challenges)
    authid, role, method, provider, authextra, challenges = run(scenario())
    assert (authid, role, method, provider) == ("client_0", "backend", "tls", "static")
    assert not authextra and challenges == []  # no CHALLENGE: the certificate is the credential


def test_known_certificate_over_rawsocket(tls_node, tls_router):
    nodedir, _ = tls_node

    async def scenario():
        session, _, _ = await tls_login(tls_router.ports[2], client_context(nodedir, nodedir, "client_0"),
                                        ["tls"], rawsocket=True)
        # Autobahn 22.7.1's asyncio RawSocket client fails in onWelcome (its protocol has no
        # transport_details) after the WELCOME arrived: the WELCOME itself is what counts.
        assert session.welcome.done(), refusal(session)
        welcome = session.welcome.result()
        return welcome.authid, welcome.authrole, welcome.authmethod
    assert run(scenario()) == ("client_0", "backend", "tls")


def test_hello_authid_does_not_override_the_certificate(tls_node, tls_router):
    nodedir, _ = tls_node

    async def scenario():
        session, joined, _ = await tls_login(tls_router.ports[0], client_context(nodedir, nodedir, "client_0"),
                                             ["tls"], authid="someone-else")
        assert joined, refusal(session)
        authid = session.joined.result().authid
        await session.close()
        return authid
    assert run(scenario()) == "client_0"


def test_unknown_certificate_is_refused(tls_node, tls_router):
    nodedir, _ = tls_node
    fingerprint = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha1", "-in",
                                  str(nodedir / "client_1.crt")], capture_output=True, text=True,
                                 check=True).stdout.strip().split("=", 1)[1]

    async def scenario():
        session, joined, _ = await tls_login(tls_router.ports[0], client_context(nodedir, nodedir, "client_1"),
                                             ["tls"])
        assert not joined
        return refusal(session)
    assert run(scenario()) == ("wamp.error.not_authorized", f'no principal with authid "{fingerprint}" exists')


@pytest.mark.parametrize("who", ["no certificate", "certificate from another CA"])
def test_endpoint_with_ca_certificates_requires_a_verified_certificate(tls_node, tls_router, who):
    nodedir, stranger = tls_node
    context = client_context(nodedir) if who == "no certificate" else client_context(nodedir, stranger, "client_0")

    failed_before = tls_router.log().count("TLS handshake failed")

    async def scenario():
        session, joined, error = await tls_login(tls_router.ports[0], context, ["tls"])
        if error is None:  # TLS 1.3: the server's alert arrives after the client's handshake ended
            await asyncio.wait([session.left, session.disconnected], timeout=5)
        # No ABORT either: the connection ends in the TLS handshake, before any WAMP.
        return joined, session.welcome.done(), session.left.done()
    assert run(scenario()) == (False, False, False)
    # The client may see the router's alert before the router has logged it.
    deadline = time.monotonic() + 3
    while tls_router.log().count("TLS handshake failed") == failed_before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert tls_router.log().count("TLS handshake failed") == failed_before + 1
    assert tls_router.is_alive()


def test_tls_without_a_requested_certificate_is_refused(tls_node, tls_router):
    nodedir, _ = tls_node

    async def scenario():
        # Port 2 has no ca_certificates: the client's certificate is never asked for.
        session, joined, _ = await tls_login(tls_router.ports[1], client_context(nodedir, nodedir, "client_0"),
                                             ["tls"])
        assert not joined
        return refusal(session)
    assert run(scenario()) == ("wamp.error.not_authorized", "client did not send a TLS client certificate")


class ChannelBoundClient(AuthClient):
    """Signs the cryptosign challenge with the channel id its own TLS connection gives it,
    as Autobahn's AuthCryptosign does (transport_details.channel_id["tls-unique"]),
    passed through ``bind``: the identity, or a tamper."""

    def __init__(self, config, key, bind):
        super().__init__(config, ["cryptosign"], CRYPTOSIGN_AUTHID, None,
                         {"pubkey": key.public_key(), "channel_binding": "tls-unique"})
        self.key, self.bind = key, bind

    def onChallenge(self, challenge):
        self.challenges.append(challenge)
        channel_id = self._transport.transport_details.channel_id.get("tls-unique")
        assert channel_id is not None and len(channel_id) == 32
        return self.key.sign_challenge(challenge, channel_id=self.bind(channel_id), channel_id_type="tls-unique")


def cryptosign_with_binding(port, context, nodedir, bind):
    from autobahn.wamp.cryptosign import CryptosignKey
    key = CryptosignKey.from_file(str(nodedir / "client01.key"))

    async def scenario():
        session = ChannelBoundClient(ComponentConfig(realm=REALM), key, bind)
        _, joined, error = await tls_login(port, context, None, session=session)
        assert error is None, error
        assert session.challenges and session.challenges[0].extra["channel_binding"] == "tls-unique"
        if not joined:
            return refusal(session)
        details = session.joined.result()
        await session.close()
        return details.authid, details.authmethod
    return run(scenario())


@pytest.mark.parametrize("port_index", [0, 1], ids=["client certificate", "no client certificate"])
def test_cryptosign_with_tls_unique_binding(tls_node, tls_router, port_index):
    nodedir, _ = tls_node
    context = client_context(nodedir, nodedir, "client_0") if port_index == 0 else client_context(nodedir)
    result = cryptosign_with_binding(tls_router.ports[port_index], context, nodedir, lambda channel_id: channel_id)
    assert result == (CRYPTOSIGN_AUTHID, "cryptosign")


@pytest.mark.parametrize("bind", [lambda c: bytes(32), lambda c: bytes([c[0] ^ 1]) + c[1:]],
                         ids=["zero channel id", "one bit off"])
def test_cryptosign_with_a_wrong_binding_is_refused(tls_node, tls_router, bind):
    nodedir, _ = tls_node
    result = cryptosign_with_binding(tls_router.ports[1], client_context(nodedir), nodedir, bind)
    assert result == ("wamp.error.not_authorized", "message signed is bogus")


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_tls_unique_binding_on_each_tls_version(tls_node, tls_router, version):
    # TLS 1.3 has no tls-unique (RFC 8446); Autobahn and Crossbar hash the client's
    # Finished message on both versions, and so does blindrouter.
    nodedir, _ = tls_node
    context = client_context(nodedir)
    context.minimum_version = context.maximum_version = version
    result = cryptosign_with_binding(tls_router.ports[1], context, nodedir, lambda channel_id: channel_id)
    assert result == (CRYPTOSIGN_AUTHID, "cryptosign")
