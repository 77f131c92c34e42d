"""WAMP-Cryptosign as Crossbar serves it, end to end with Autobahn|Python's
CryptosignKey: the node directory is made at test time by scripts/make-node-keys
(keys are never committed), the client signs the router's challenge, and the
router signs the client's challenge with the node key (router authentication).
"""

import asyncio
import shutil
import subprocess

import nacl.signing

from test_authentication import login
from wamp_helpers import REPO_ROOT, run

SCRIPT = REPO_ROOT / "scripts" / "make-node-keys"
AUTHID = "client01@example.com"


def cryptosign_node(tmp_path):
    nodedir = tmp_path / "cryptosign"
    nodedir.mkdir()
    shutil.copy(REPO_ROOT / "crossbar-config" / "cryptosign" / "config.json.in", nodedir)
    subprocess.run([str(SCRIPT), str(nodedir), "--client", "client01", "--client", "client02"], check=True,
                   timeout=60)
    return nodedir


def signer(key_path):
    from autobahn.wamp.cryptosign import CryptosignKey
    return CryptosignKey.from_file(str(key_path))


def test_cryptosign_login_and_router_authentication(router_factory, tmp_path):
    nodedir = cryptosign_node(tmp_path)
    router = router_factory(config_dir=nodedir)
    key = signer(nodedir / "client01.key")
    client_challenge = "ab" * 32
    challenges = []

    def answer(challenge):
        challenges.append(challenge)
        return key.sign_challenge(challenge)

    async def scenario():
        session, joined = await login(router.url, ["cryptosign"], authid=AUTHID, answer=answer,
                                      authextra={"pubkey": key.public_key(), "challenge": client_challenge})
        assert joined, session.left.result() if session.left.done() else "no answer"
        details = session.joined.result()
        assert (details.authid, details.authmethod) == (AUTHID, "cryptosign")
        await session.close()
    run(scenario())
    extra = challenges[0].extra
    assert len(bytes.fromhex(extra["challenge"])) == 32
    # The router signed our challenge with the node key in the node directory.
    node_pub = (router.cbdir / "key.pub").read_text() if (router.cbdir / "key.pub").exists() else None
    verify = nacl.signing.VerifyKey(bytes.fromhex(extra["pubkey"]))
    signed = bytes.fromhex(extra["signature"])
    assert len(signed) == 96 and signed[64:] == bytes.fromhex(client_challenge)  # signature ‖ message
    verify.verify(signed[64:], signed[:64])
    if node_pub is not None:
        assert extra["pubkey"] in node_pub


def test_cryptosign_unknown_key_is_refused(router_factory, tmp_path):
    nodedir = cryptosign_node(tmp_path)
    router = router_factory(config_dir=nodedir)
    stranger = nacl.signing.SigningKey.generate()

    async def scenario():
        session, joined = await login(router.url, ["cryptosign"], authid=AUTHID, answer=lambda c: "00",
                                      authextra={"pubkey": stranger.verify_key.encode().hex()})
        assert not joined
        reason = session.left.result().reason
        await session.close()
        return reason
    assert run(scenario()) == "wamp.error.not_authorized"


def test_cryptosign_wrong_signature_is_refused(router_factory, tmp_path):
    nodedir = cryptosign_node(tmp_path)
    router = router_factory(config_dir=nodedir)
    key = signer(nodedir / "client01.key")

    async def scenario():
        session, joined = await login(router.url, ["cryptosign"], authid=AUTHID,
                                      answer=lambda c: "00" * 96,
                                      authextra={"pubkey": key.public_key()})
        assert not joined
        reason = session.left.result().reason
        await session.close()
        return reason
    assert run(scenario()) == "wamp.error.not_authorized"


def test_scram_login_with_autobahns_client(router_factory, tmp_path, monkeypatch):
    """WAMP-SCRAM (Argon2id) with Autobahn|Python's AuthScram: the router checks the
    client proof against the stored key and proves itself with scram_server_signature,
    which Autobahn verifies at WELCOME."""
    from test_node_keys import autobahn_scram_client
    auth = autobahn_scram_client(monkeypatch)
    nodedir = tmp_path / "scram"
    nodedir.mkdir()
    shutil.copy(REPO_ROOT / "crossbar-config" / "scram" / "config.json.in", nodedir)
    subprocess.run([str(SCRIPT), str(nodedir), "--scram", "alice:correct horse", "--iterations", "2",
                    "--memory", "1024"], check=True, timeout=60)
    router = router_factory(config_dir=nodedir)

    def attempt(password):
        client = auth.AuthScram(authid="alice", password=password)

        class Session:
            class log:
                info = error = staticmethod(lambda *a, **k: None)

        async def scenario():
            session, joined = await login(router.url, ["scram"], authid="alice",
                                          answer=lambda c: client.on_challenge(None, c),
                                          authextra=client.authextra)
            if not joined:
                reason = session.left.result().reason
                await session.close()
                return reason, None
            welcome = session.welcome.result()
            details = session.joined.result()
            # Autobahn accepts the router's proof of the server key (None: verified).
            assert client.on_welcome(Session, welcome.authextra) is None
            await session.close()
            return details.authmethod, details.authid
        return run(scenario())

    assert attempt("correct horse") == ("scram", "alice")
    assert attempt("wrong horse")[0] == "wamp.error.not_authorized"
