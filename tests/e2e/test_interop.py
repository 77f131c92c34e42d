"""The interop matrix: public client libraries, as they are shipped, against the
router on every serializer and transport they support (the README's interop table).
AutobahnJS is in test_autobahnjs.py and Autobahn|Python in test_transports.py; this
file holds the clients those do not cover:

- wampy 8 (npm ``wampy``, installed into ``build/wampy`` on first use), whose
  MsgPack (msgpackr) and CBOR (cbor-x) encoders write integers beyond 32 bits as
  float64 and write undefined option values;
- Autobahn|Cpp (Debian ``autobahn-cpp-dev``): the program tests/e2e/autobahn_cpp/
  client.cpp, which CMake builds beside the router when the header is installed.
"""

import json
import subprocess
from pathlib import Path

import pytest

from wamp_helpers import REPO_ROOT, npm_package, run_node

UNIVERSAL_CONFIG_DIR = REPO_ROOT / "crossbar-config" / "universal"
WAMPY_DIR = REPO_ROOT / "build" / "wampy"
WAMPY_SCRIPT = REPO_ROOT / "tests" / "e2e" / "wampy_client.js"
WAMPY_AUTH_SCRIPT = REPO_ROOT / "tests" / "e2e" / "wampy_auth_client.js"
AUTOBAHN_CPP_HEADER = Path("/usr/include/autobahn/autobahn.hpp")

# What wampy_client.js sends and must get back unchanged: integers past 2^32 (which
# msgpackr and cbor-x encode as float64), non-ASCII text, nesting.
PAYLOAD_ARGS = [1, 2 ** 40, "ü", {"n": [1.5, None, True]}]
PAYLOAD_KWARGS = {"k": "v", "big": 2 ** 52}


@pytest.fixture(scope="module")
def wampy():
    return npm_package("wampy", "8", WAMPY_DIR)


@pytest.mark.parametrize("serializer", ["json", "msgpack", "cbor"])
def test_wampy_rpc_pubsub_and_errors(router_factory, wampy, serializer):
    router = router_factory()  # the default node: realm1, anonymous, WebSocket /ws with all three serializers
    out = run_node(WAMPY_SCRIPT, wampy, router.url, serializer)
    assert out.returncode == 0, f"node failed: {out.stderr}\nrouter log:\n{router.log_tail()}"
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["echo"] == {"args": PAYLOAD_ARGS, "kwargs": PAYLOAD_KWARGS}
    assert seen["error"] == {"uri": "com.wampy.error", "args": ["nope", 42], "kwargs": {"detail": "ü"}}
    assert seen["no_procedure"] == "wamp.error.no_such_procedure"
    assert seen["event"] == {"args": PAYLOAD_ARGS, "kwargs": PAYLOAD_KWARGS}


def wampy_login(router, wampy, method, authid, secret):
    out = run_node(WAMPY_AUTH_SCRIPT, wampy, router.url, method, authid, secret)
    assert out.returncode == 0, f"node failed: {out.stderr}\nrouter log:\n{router.log_tail()}"
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_wampy_ticket_login(router_factory, wampy):
    router = router_factory(config_dir=REPO_ROOT / "crossbar-config" / "ticket")
    assert wampy_login(router, wampy, "ticket", "client1", "test-only-ticket-client1") == {
        "joined": True, "authid": "client1", "authrole": "frontend", "authmethod": "ticket",
        "authprovider": "static"}
    assert wampy_login(router, wampy, "ticket", "client1", "wrong") == {
        "joined": False, "reason": "wamp.error.not_authorized",
        "message": "ticket in static WAMP-Ticket authentication is invalid"}


@pytest.mark.parametrize("authid", ["client1", "client2"])  # client2 is salted
def test_wampy_wampcra_login(router_factory, wampy, authid):
    router = router_factory(config_dir=REPO_ROOT / "crossbar-config" / "wampcra")
    seen = wampy_login(router, wampy, "wampcra", authid, "test-only-secret-" + authid)
    assert (seen["joined"], seen["authid"], seen["authmethod"]) == (True, authid, "wampcra")
    assert wampy_login(router, wampy, "wampcra", authid, "wrong") == {
        "joined": False, "reason": "wamp.error.not_authorized", "message": "WAMP-CRA client signature is invalid"}


@pytest.fixture
def autobahn_cpp_client(router_binary):
    if not AUTOBAHN_CPP_HEADER.exists():
        pytest.skip("Autobahn|Cpp is not installed (scripts/install-deps installs autobahn-cpp-dev)")
    client = Path(router_binary).parent / "autobahn_cpp_client"
    assert client.exists(), f"{client} was not built, though {AUTOBAHN_CPP_HEADER} exists"
    return client


@pytest.mark.parametrize("transport", ["rawsocket-tcp", "rawsocket-unix"])
def test_autobahn_cpp_over_rawsocket_msgpack(router_factory, autobahn_cpp_client, transport):
    router = router_factory(config_dir=UNIVERSAL_CONFIG_DIR)
    where = ["tcp", "127.0.0.1", str(router.port)] if transport == "rawsocket-tcp" else \
        ["unix", str(router.cbdir / "router.sock")]
    out = subprocess.run([str(autobahn_cpp_client), *where], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, f"client failed: {out.stderr}\n{out.stdout}\nrouter log:\n{router.log_tail()}"
    assert out.stdout.splitlines() == [
        "joined: 1",
        "registered and subscribed",
        "add: 42",
        "echo: ü 1099511627776 v",
        # Autobahn|Cpp reports a call error as its URI and ArgumentsKw "what".
        "error: com.cpp.error: ü",
        "no procedure: wamp.error.no_such_procedure",
        "event: hello 1099511627776 v",
        "left: wamp.close.normal",
    ]
