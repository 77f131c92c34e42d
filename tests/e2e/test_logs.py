"""Logs never carry application payloads or authentication secrets, at any level (shared/E2E.md §2).

A router at `--loglevel trace` routes messages whose args / kwargs hold random canary
strings - through events, calls, results, application errors, refused requests and
protocol violations - and none of the canaries may appear in what it wrote.
"""

import asyncio
import json
import shutil
import subprocess
import uuid

import pytest

from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import PublishOptions

from wamp_helpers import (
    CALL,
    ERROR,
    PUBLISH,
    REPO_ROOT,
    EventSink,
    RawWamp,
    assert_protocol_violation,
    close_all,
    connect,
    echo,
    raw_session,
    run,
)


def canary(label):
    return f"CANARY-{label}-{uuid.uuid4().hex}"


def test_payloads_never_logged_at_trace(router_factory):
    router = router_factory(loglevel="trace")
    c = {name: canary(name) for name in (
        "publish_arg", "publish_kwarg_value", "publish_kwarg_key", "call_arg", "call_kwarg",
        "error_arg", "error_kwarg", "refused_publish", "refused_call",
        "violation_args", "violation_broken_json")}

    async def scenario():
        sub, pub = await connect(router.url), await connect(router.url)
        sink = EventSink()
        await sub.subscribe(sink, "com.example.topic")
        await pub.publish("com.example.topic", c["publish_arg"], [c["publish_arg"]],
                          options=PublishOptions(acknowledge=True),
                          **{"k": c["publish_kwarg_value"], c["publish_kwarg_key"]: 1})
        args, kwargs, _ = await sink.next()
        assert args[0] == c["publish_arg"]  # it really went through the router

        await sub.register(echo, "com.example.echo")
        result = await asyncio.wait_for(
            pub.call("com.example.echo", c["call_arg"], k=c["call_kwarg"]), 3)
        assert list(result.results) == [c["call_arg"]]

        def fail():
            raise ApplicationError("com.example.error", c["error_arg"], k=c["error_kwarg"])

        await sub.register(fail, "com.example.fail")
        try:
            await asyncio.wait_for(pub.call("com.example.fail"), 3)
            raise AssertionError("call did not fail")
        except ApplicationError as e:
            assert e.args[0] == c["error_arg"]
        await close_all(sub, pub)

    run(scenario())

    # Requests refused by the router (invalid URI) with a payload.
    raw = raw_session(router.url)
    raw.send([PUBLISH, 1, {"acknowledge": True}, "com..bad", [c["refused_publish"]]])
    assert raw.expect(ERROR)[4] == "wamp.error.invalid_uri"
    raw.send([CALL, 2, {}, "com.example.nobody", [c["refused_call"]]])
    assert raw.expect(ERROR)[4] == "wamp.error.no_such_procedure"
    raw.close()

    # Protocol violations whose offending message holds a payload.
    raw = raw_session(router.url)
    raw.send([PUBLISH, 3, {}, "com.example.topic", c["violation_args"]])
    assert_protocol_violation(raw)
    raw.close()
    raw = RawWamp(router.url)
    raw.hello()
    raw.send_text(json.dumps([PUBLISH, 4, {}, "com.example.topic",
                              [c["violation_broken_json"]]])[:-2])
    assert_protocol_violation(raw)
    raw.close()

    assert router.stop() == 0
    log = router.log() + router.stdout()
    assert log.strip(), "nothing logged at --loglevel trace; the test would prove nothing"
    leaked = [name for name, value in c.items() if value in log]
    assert not leaked, f"payload canaries found in the router's output: {leaked}"
    # Not even a fragment (a truncated dump would still leak).
    fragments = [name for name, value in c.items() if value.split("-")[-1][:12] in log]
    assert not fragments, f"payload canary fragments in the router's output: {fragments}"


@pytest.mark.single_node("stdout and stderr of one process (cluster-up writes both of a node to one file)")
def test_logs_go_to_stderr_not_stdout(router_factory):
    router = router_factory(loglevel="debug")
    raw = raw_session(router.url)
    raw.send([999])
    assert_protocol_violation(raw)
    raw.close()
    assert router.wait_for_log(r"protocol violation")
    assert router.stop() == 0
    assert router.stdout() == "", f"stdout is not for logs: {router.stdout()[:500]!r}"


def test_secrets_and_payloads_never_logged_for_any_auth_method_at_trace(router_factory, tmp_path, monkeypatch):
    """Every authentication method, joined and refused, then a call with payload
    canaries: at trace level no ticket, secret, password, key, challenge, signature,
    proof, cookie value or canary reaches the router's output."""
    from test_cookie import COOKIE_DIR, cookie_of, open_session
    from test_cryptosign_scram import AUTHID as CRYPTOSIGN_AUTHID, SCRIPT, cryptosign_node, signer
    from test_node_keys import autobahn_scram_client
    from test_authentication import cra, login

    secrets = {}  # name -> value that must not be logged
    payload = {name: canary(name) for name in ("cookie_call_arg", "cryptosign_call_arg", "scram_call_kwarg")}

    def note(prefix, value):
        """Records a challenge's or answer's strings (short ones are ids and methods)."""
        if isinstance(value, dict):
            for k, v in value.items():
                if k != "pubkey":  # public, and an identity the log may name
                    note(f"{prefix}.{k}", v)
        elif isinstance(value, (str, bytes)) and len(value) >= 16:
            secrets[prefix] = value if isinstance(value, str) else value.hex()

    def recorded(name, answer):
        def wrapped(challenge):
            note(f"{name}.challenge", challenge.extra)
            signature = answer(challenge)
            if hasattr(signature, "add_done_callback"):  # Autobahn's cryptosign answers with a future
                signature.add_done_callback(lambda done: note(f"{name}.signature", done.result()))
            else:
                note(f"{name}.signature", signature)
            return signature
        return wrapped

    async def call_with_canary(session, arg=None, **kwargs):
        try:
            await asyncio.wait_for(session.call("com.example.add2", arg, "x", **kwargs), 3)
        except ApplicationError:
            pass  # refused or failed: the canary went through the refusal path then

    # Ticket, salted WAMP-CRA and cookie (crossbar-config/cookie).
    secrets.update(ticket_client1="test-only-ticket-client1", ticket_backend1="test-only-ticket-backend1",
                   cra_secret="test-only-secret-client2", ticket_wrong="wrong-ticket-9d0c1e77a2")
    router = router_factory(config_dir=COOKIE_DIR, loglevel="trace")

    async def cookie_scenario():
        backend, _ = await open_session(router.url, ["ticket"], "backend1", lambda c: "test-only-ticket-backend1")
        await backend.register(lambda x, y: x + y, "com.example.add2")
        # The cookie is used where it was set: in split mode each router.url is another
        # node, and the cookie store is per node (README, "Checks that stay single-node").
        cookie_url = router.url
        first, set_cookie = await open_session(cookie_url, ["ticket"], "client1",
                                               recorded("ticket", lambda c: "test-only-ticket-client1"))
        assert first.joined.done()
        secrets["cookie"] = cookie_of(set_cookie)
        await first.close()
        by_cookie, _ = await open_session(cookie_url, ["cookie", "ticket"], cookie=secrets["cookie"])
        assert by_cookie.joined.done()
        await call_with_canary(by_cookie, payload["cookie_call_arg"])
        cra_user, _ = await open_session(router.url, ["wampcra"], "client2",
                                         recorded("wampcra", cra("test-only-secret-client2")))
        assert cra_user.joined.done()
        refused, _ = await open_session(router.url, ["ticket"], "client1", lambda c: "wrong-ticket-9d0c1e77a2")
        assert not refused.joined.done()
        refused_cra, _ = await open_session(router.url, ["wampcra"], "client2", recorded("wampcra_wrong", cra("nope")))
        assert not refused_cra.joined.done()
        await close_all(by_cookie, cra_user, backend)
    run(cookie_scenario())
    logs = [router]

    # WAMP-Cryptosign with router authentication (node directory rendered at test time).
    nodedir = cryptosign_node(tmp_path)
    router = router_factory(config_dir=nodedir, loglevel="trace")
    key = signer(nodedir / "client01.key")
    secrets["cryptosign_client_seed"] = (nodedir / "client01.key").read_bytes().hex()  # a raw Ed25519 seed
    client_challenge = uuid.uuid4().hex * 2

    async def cryptosign_scenario():
        session, joined = await login(router.url, ["cryptosign"], authid=CRYPTOSIGN_AUTHID,
                                      answer=recorded("cryptosign", key.sign_challenge),
                                      authextra={"pubkey": key.public_key(), "challenge": client_challenge})
        assert joined
        await session.register(lambda x, y: x + y, "com.example.add2")
        await call_with_canary(session, payload["cryptosign_call_arg"])
        await session.close()
        refused, joined = await login(router.url, ["cryptosign"], authid=CRYPTOSIGN_AUTHID,
                                      answer=recorded("cryptosign_wrong", lambda c: "ab" * 96),
                                      authextra={"pubkey": key.public_key()})
        assert not joined
        await refused.close()
    run(cryptosign_scenario())
    secrets["cryptosign_client_challenge"] = client_challenge
    logs.append(router)

    # WAMP-SCRAM (Argon2id), verifiers rendered at test time.
    auth = autobahn_scram_client(monkeypatch)
    scram_dir = tmp_path / "scram"
    scram_dir.mkdir()
    shutil.copy(REPO_ROOT / "crossbar-config" / "scram" / "config.json.in", scram_dir)
    password = "scram-password-" + uuid.uuid4().hex
    subprocess.run([str(SCRIPT), str(scram_dir), "--scram", f"alice:{password}", "--iterations", "2",
                    "--memory", "1024"], check=True, timeout=60)
    secrets["scram_password"] = password
    router = router_factory(config_dir=scram_dir, loglevel="trace")

    async def scram_scenario():
        for attempt in (password, "wrong-" + password):
            client = auth.AuthScram(authid="alice", password=attempt)
            session, joined = await login(router.url, ["scram"], authid="alice",
                                          answer=recorded("scram", lambda c: client.on_challenge(None, c)),
                                          authextra=client.authextra)
            note("scram.authextra", client.authextra)
            assert joined == (attempt == password)
            if joined:
                await call_with_canary(session, k=payload["scram_call_kwarg"])
            await session.close()
    run(scram_scenario())
    logs.append(router)

    output = ""
    for r in logs:
        assert r.stop() == 0
        output += r.log() + r.stdout()
    assert output.count("joined realm") >= 5, output[-2000:]
    assert "authentication refused" in output
    # The test saw what it guards: each method's answer and the router's challenges.
    for name in ("cookie", "wampcra.challenge.challenge", "wampcra.signature", "cryptosign.challenge.challenge",
                 "cryptosign.signature", "cryptosign.challenge.signature", "scram.challenge.nonce", "scram.signature",
                 "scram.authextra.nonce"):
        assert name in secrets, sorted(secrets)
    leaked = [name for name, value in {**secrets, **payload}.items() if value in output]
    assert not leaked, f"secrets or payload canaries in the router's output: {leaked}"
