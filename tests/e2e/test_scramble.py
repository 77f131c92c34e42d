"""URI scrambling (README.md, "URI scrambling"): clients map every URI component to a
keyed hash the router cannot read, and the router, unchanged, routes them.

Autobahn|Python (with its cryptobox) and AutobahnJS scramble with the helpers in
clients/, against ``crossbar-config/scrambled`` (its permissions name scrambled
prefixes, written with ``scramble-uri``), on every serializer, through exact, prefix and
wildcard subscriptions and a prefix registration. Python and JS produce the same
scrambled URIs (a pinned vector). The harness's ``--scramble`` run passes, its exposure
figures show no readable component, and it fails when a client forgets to scramble.
"""

import asyncio
import json
import shutil
import subprocess
import sys
import venv

import pytest
from autobahn.asyncio.websocket import WampWebSocketClientFactory
from autobahn.wamp.cryptobox import Key, KeyRing
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.serializer import CBORSerializer, JsonSerializer, MsgPackSerializer
from autobahn.wamp.types import CallResult, ComponentConfig, PublishOptions, RegisterOptions, \
    SubscribeOptions
from nacl.encoding import Base64Encoder
from nacl.public import PrivateKey

from test_harness import assert_passed, explain, run_harness, url_args, verdict_lines
from wamp_helpers import REPO_ROOT, Client, EventSink, expect_application_error, npm_package, \
    run, run_node

sys.path.insert(0, str(REPO_ROOT / "clients" / "python"))

import wamp_uri_scramble  # noqa: E402

SCRAMBLED_CONFIG = REPO_ROOT / "crossbar-config" / "scrambled"
# The key crossbar-config/scrambled's permissions were scrambled with (README.md): for
# this example only. The router never gets it; the clients and this test do.
CONFIG_KEY = "77b5ac51c58f8d8d7c2a1a41eec22b7d19ddcc1e59b1a0e5a2e2262dbf1b7a21"
SERIALIZERS = {"json": JsonSerializer, "msgpack": MsgPackSerializer, "cbor": CBORSerializer}
NODE_DIR = REPO_ROOT / "build" / "autobahnjs"
JS_SCRIPT = REPO_ROOT / "tests" / "e2e" / "autobahnjs_scramble_client.js"
SCRAMBLE_URI = REPO_ROOT / "clients" / "python" / "wamp_uri_scramble.py"

# The cross-language vector: key bytes 0..31, public prefix com.example.public.
VECTOR_KEY = bytes(range(32)).hex()
VECTOR_PUBLIC = "com.example.public."
VECTOR = [
    ("com.example.topic", "exact", "55cfb8a6bb53bbc03906.1e5b7a3cb2df854124a7.96bf0fc11e1874cfb858"),
    ("com.example.", "prefix", "55cfb8a6bb53bbc03906.1e5b7a3cb2df854124a7."),
    ("com..topic", "wildcard", "55cfb8a6bb53bbc03906..96bf0fc11e1874cfb858"),
    ("com.exämple.ü", "exact", "55cfb8a6bb53bbc03906.2655be239d9cb76d7a9e.7aebdf0ce95cd3b3093f"),
    ("com.example.public.news", "exact", "com.example.public.497fa139871d14b5dc3f"),
    ("wamp.session.list", "exact", "wamp.session.list"),
    ("com.exa", "prefix", "55cfb8a6bb53bbc03906.6a602007a0c2eae52676"),
]


@pytest.fixture(scope="module")
def node_modules():
    npm_package("autobahn", "22.11.1", NODE_DIR)
    return npm_package("libsodium-wrappers", "0.7.15", NODE_DIR)


def test_python_scrambles_the_pinned_vector():
    s = wamp_uri_scramble.UriScrambler(VECTOR_KEY, public=[VECTOR_PUBLIC])
    assert [s.scramble(uri, match) for uri, match, _ in VECTOR] == [want for _, _, want in VECTOR]
    assert s.unscramble(VECTOR[0][2]) == "com.example.topic"


def test_js_scrambles_the_same_vector(node_modules):
    out = run_node(JS_SCRIPT, node_modules, "vector", VECTOR_KEY, VECTOR_PUBLIC,
                   *[x for uri, match, _ in VECTOR for x in (uri, match)])
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [want for _, _, want in VECTOR]


def test_scrambler_refuses_what_it_cannot_scramble():
    with pytest.raises(ValueError, match="32 bytes"):
        wamp_uri_scramble.UriScrambler(bytes(16))
    s = wamp_uri_scramble.UriScrambler(VECTOR_KEY)
    with pytest.raises(ValueError, match="empty component"):
        s.uri("com..topic")
    with pytest.raises(ValueError, match="must end with"):
        wamp_uri_scramble.UriScrambler(VECTOR_KEY, public=["com.example"])


def test_scramble_uri_tool_wrote_the_node_config():
    out = subprocess.run([sys.executable, str(SCRAMBLE_URI), "--key", CONFIG_KEY, "--match", "prefix",
                          "com.myapp.", "com.myapp.encrypted."], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    config = json.loads((SCRAMBLED_CONFIG / "config.json").read_text())
    permissions = config["workers"][0]["realms"][0]["roles"][0]["permissions"]
    assert out.stdout.split() == [p["uri"] for p in permissions]
    assert permissions[1]["require_encryption"] is True
    bad = subprocess.run([sys.executable, str(SCRAMBLE_URI), "--key", "00", "x"],
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "must be 32 bytes" in bad.stderr


async def _connect(url, serializer, ring):
    loop = asyncio.get_running_loop()
    session = Client(ComponentConfig(realm="realm1"))
    session.set_payload_codec(ring)
    factory = WampWebSocketClientFactory(lambda: session, url=url, serializers=[SERIALIZERS[serializer]()])
    factory.setProtocolOptions(openHandshakeTimeout=5, closeHandshakeTimeout=1, autoPingInterval=0)
    host, port = url.split("//")[1].split("/")[0].split(":")
    await asyncio.wait_for(loop.create_connection(factory, host, int(port)), 5)
    await asyncio.wait_for(asyncio.shield(session.joined), 5)
    return session


@pytest.mark.parametrize("serializer", sorted(SERIALIZERS))
def test_autobahn_python_with_cryptobox_on_scrambled_uris(router_factory, serializer):
    router = router_factory(config_dir=SCRAMBLED_CONFIG, loglevel="trace")
    private = PrivateKey.generate(), PrivateKey.generate()
    cryptobox = Key(originator_priv=private[0].encode(Base64Encoder).decode(),
                    responder_priv=private[1].encode(Base64Encoder).decode())

    async def scenario():
        # Two clients, each with its own scrambler on the shared key (as two processes).
        sub_s = wamp_uri_scramble.UriScrambler(CONFIG_KEY)
        pub_s = wamp_uri_scramble.UriScrambler(CONFIG_KEY)
        rings = []
        for s in (sub_s, pub_s):
            ring = KeyRing()
            ring.set_key(s.prefix("com.myapp.encrypted."), cryptobox)
            rings.append(ring)
        callee_session = await _connect(router.url, serializer, rings[0])
        caller_session = await _connect(router.url, serializer, rings[1])
        callee = wamp_uri_scramble.ScrambledSession(callee_session, sub_s)
        caller = wamp_uri_scramble.ScrambledSession(caller_session, pub_s)
        try:
            sinks = {"exact": EventSink(), "prefix": EventSink(), "wildcard": EventSink()}
            await callee.subscribe(sinks["exact"], "com.myapp.encrypted.zebrafeed.kumquat",
                                   options=SubscribeOptions(details_arg="details"))
            await callee.subscribe(sinks["prefix"], "com.myapp.encrypted.zebrafeed.",
                                   options=SubscribeOptions(match="prefix", details_arg="details"))
            await callee.subscribe(sinks["wildcard"], "com.myapp.encrypted..kumquat",
                                   options=SubscribeOptions(match="wildcard", details_arg="details"))

            def add(a, b, details=None):
                # The concrete procedure, scrambled: this callee never scrambled "add", so
                # unscramble() cannot name its last component.
                return CallResult(a + b, procedure=sub_s.unscramble(details.procedure))

            def fail():
                raise ApplicationError(sub_s.uri("com.myapp.encrypted.error.quokka"), "no")

            await callee.register(add, "com.myapp.encrypted.calcwombat.",
                                  options=RegisterOptions(match="prefix", details_arg="details"))
            await callee.register(fail, "com.myapp.encrypted.fail")

            await caller.publish("com.myapp.encrypted.zebrafeed.kumquat", "hello",
                                 options=PublishOptions(acknowledge=True))
            topic = pub_s.uri("com.myapp.encrypted.zebrafeed.kumquat")
            for name, sink in sinks.items():
                args, _, details = await sink.next()
                assert args == ["hello"], name                      # decrypted by cryptobox
                assert (details.topic or topic) == topic, name      # the concrete, scrambled topic
            assert sub_s.unscramble(topic) == "com.myapp.encrypted.zebrafeed.kumquat"
            result = await caller.call("com.myapp.encrypted.calcwombat.add", 2, 40)
            procedure = pub_s.uri("com.myapp.encrypted.calcwombat.add")
            assert (list(result.results), result.kwresults) == (
                [42], {"procedure": "com.myapp.encrypted.calcwombat." + procedure.split(".")[-1]})
            error = await expect_application_error(caller.call("com.myapp.encrypted.fail"),
                                                   pub_s.uri("com.myapp.encrypted.error.quokka"))
            assert pub_s.unscramble(error.error) == "com.myapp.encrypted.error.quokka"
            # The router's rules name scrambled prefixes only: a readable URI is refused.
            await expect_application_error(
                caller_session.publish("com.myapp.encrypted.readable", "x",
                                       options=PublishOptions(acknowledge=True)),
                "wamp.error.not_authorized")
        finally:
            await asyncio.gather(callee_session.close(), caller_session.close())

    run(scenario())
    log = router.log() + router.stdout()
    assert "com.myapp.encrypted.readable" in log   # the router logs the URIs it is sent
    for word in ("zebrafeed", "kumquat", "calcwombat", "quokka"):
        assert word not in log


@pytest.mark.parametrize("serializer", sorted(SERIALIZERS))
def test_autobahnjs_on_scrambled_uris(router_factory, node_modules, serializer):
    router = router_factory(config_dir=SCRAMBLED_CONFIG)
    out = run_node(JS_SCRIPT, node_modules, "scenario", router.url, serializer, CONFIG_KEY)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    py = wamp_uri_scramble.UriScrambler(CONFIG_KEY)
    topic = py.uri("com.myapp.js.news.sports")
    assert seen["scrambled_topic"] == topic
    for name in ("exact", "prefix", "wildcard"):
        event = seen["events"][name]
        assert event["args"] == ["hello"], name
        assert event["readable"] == "com.myapp.js.news.sports"
    assert seen["events"]["prefix"]["topic"] == seen["events"]["wildcard"]["topic"] == topic
    assert seen["call"] == {"sum": 42, "procedure": py.uri("com.myapp.js.calc.add")}
    assert seen["error"] == {"uri": py.uri("com.myapp.js.error.nope"),
                             "readable": "com.myapp.js.error.nope", "args": ["nope"]}
    assert seen["readable_publish"] == "wamp.error.not_authorized"


@pytest.mark.parametrize("config", ["cryptobox", "encrypted-mixed"])
def test_harness_scrambled_run_passes_and_shows_no_readable_component(router_binary, tmp_path, config):
    proc, document = run_harness(tmp_path, "--router", router_binary, "--cbdir",
                                 REPO_ROOT / "crossbar-config" / config, "--scramble")
    assert_passed(proc, document, tmp_path)
    assert document["checks"]["scramble"]["pass"] >= 3 and document["checks"]["scramble"]["fail"] == 0
    names = document["metadata_exposure"]["uri_names"]
    assert names["scrambled"] and names["operator_sees"]["readable_components"] == []
    plain = names["without_scrambling"]
    for word in ("legacy", "spec", "topic", "echo", "harness"):
        assert word in plain["readable_components"], word
    # Equality is not hidden: as many distinct URIs either way; the names cost bytes.
    assert names["operator_sees"]["application_uris"] == plain["application_uris"] > 20
    assert names["operator_sees"]["uri_bytes"] > plain["uri_bytes"]
    public = ["com.myapp.encrypted."] if config == "encrypted-mixed" else []
    assert names["public_prefixes"] == public
    assert "URI names, scrambled (--scramble) | the same run's URIs unscrambled:" in proc.stdout
    assert "not hidden by scrambling:  which messages share a URI" in proc.stdout


def test_harness_scrambled_run_on_the_scrambled_node(router_binary, tmp_path):
    """The config's permissions (scrambled prefixes, require_encryption included) match
    the clients' scrambled URIs: blindrouter needs no change."""
    proc, document = run_harness(tmp_path, "--router", router_binary, "--cbdir", SCRAMBLED_CONFIG,
                                 "--scramble-key", CONFIG_KEY)
    assert_passed(proc, document, tmp_path)
    assert document["checks"]["encryption-required"]["pass"] > 0
    assert document["metadata_exposure"]["uri_names"]["operator_sees"]["readable_components"] == []


def test_harness_unscrambled_run_reports_readable_names(router_binary, tmp_path):
    proc, document = run_harness(tmp_path, "--router", router_binary, "--profile", "blind", "--cbdir",
                                 REPO_ROOT / "crossbar-config" / "cryptobox", "--forms", "spec")
    assert proc.returncode == 0, explain(proc)
    assert "scramble" not in document["checks"]
    names = document["metadata_exposure"]["uri_names"]
    assert not names["scrambled"] and "spec" in names["operator_sees"]["readable_components"]
    assert "--scramble would hide the names" in proc.stdout


def test_harness_fails_when_a_client_forgets_to_scramble(router_binary, tmp_path):
    proc, document = run_harness(tmp_path, "--router", router_binary, "--profile", "blind", "--cbdir",
                                 REPO_ROOT / "crossbar-config" / "cryptobox", "--scramble",
                                 "--inject-leak", "readable-uri")
    assert proc.returncode == 1, explain(proc)
    failed = [r for r in document["checks"]["scramble"]["results"] if r["status"] == "fail"]
    # The harness starts blindrouter with --metrics-uri-labels, so the unscrambled
    # URIs show in the scrape too.
    assert {r["name"] for r in failed} == {"URIs on the wire", "bytes to and from the router", "metrics"}
    assert all(r["message"].startswith("READABLE URI: ") for r in failed)
    assert verdict_lines(proc)["blind"].startswith("BLIND: FAIL (") and "scramble" in verdict_lines(proc)["blind"]
    assert document["metadata_exposure"]["uri_names"]["operator_sees"]["readable_components"]


def test_harness_readable_uri_leak_needs_scramble(tmp_path):
    proc, _ = run_harness(tmp_path, "--router", "build/blindrouter", "--cbdir",
                          REPO_ROOT / "crossbar-config" / "cryptobox", "--inject-leak", "readable-uri")
    assert proc.returncode == 2 and "needs --scramble" in proc.stderr


@pytest.fixture(scope="module")
def installed_packages(tmp_path_factory):
    """wamp-uri-scramble and blindness-audit as a user installs them: wheels built with
    Debian's setuptools, installed in one venv that sees Debian's PyNaCl and Autobahn."""
    root = tmp_path_factory.mktemp("scramble-package")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    wheels = []
    for name, folder in (("wamp_uri_scramble", "clients/python"), ("blindness_audit", "harness")):
        source = root / "src" / name
        shutil.copytree(REPO_ROOT / folder, source,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
        subprocess.run(pip + ["wheel", "--no-index", "--no-build-isolation", "--no-deps",
                              "-w", str(root / "dist"), str(source)],
                       check=True, capture_output=True, timeout=120)
        [wheel] = (root / "dist").glob(f"{name}-*.whl")
        wheels.append(str(wheel))
    venv.EnvBuilder(system_site_packages=True, with_pip=True).create(root / "venv")
    subprocess.run([str(root / "venv" / "bin" / "pip"), "install", "--no-index",
                    "--disable-pip-version-check", *wheels], check=True, capture_output=True, timeout=120)
    return root / "venv" / "bin"


def test_installed_scramble_uri_and_audit(installed_packages, router_factory, tmp_path):
    out = subprocess.run([str(installed_packages / "scramble-uri"), "--key", VECTOR_KEY, "--public",
                          VECTOR_PUBLIC, "com.example.topic", "com.example.public.news"],
                         capture_output=True, text=True, timeout=30, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [VECTOR[0][2], VECTOR[4][2]]
    # The installed audit finds the installed helper (not the checkout) for --scramble.
    proc, document = run_harness(tmp_path, *url_args(router_factory(config_dir=REPO_ROOT / "crossbar-config" / "cryptobox")),
                                 "--scramble", command=installed_packages / "blindness-audit")
    assert proc.returncode == 0, explain(proc)
    assert document["checks"]["scramble"]["fail"] == 0 and document["checks"]["scramble"]["pass"] >= 2
    assert document["metadata_exposure"]["uri_names"]["operator_sees"]["readable_components"] == []
