"""AutobahnJS (npm ``autobahn``), the browser and Node.js client, against the router,
on every serializer pair over WebSocket, and over its Node.js RawSocket transport
(JSON only) on TCP and a Unix socket. The package is installed from the npm registry into
``build/autobahnjs`` on first use (``npm install --ignore-scripts``)."""

import json

import pytest

from wamp_helpers import REPO_ROOT, npm_package, run_node

AUTOBAHNJS_VERSION = "22.11.1"
NODE_DIR = REPO_ROOT / "build" / "autobahnjs"
SCRIPT = REPO_ROOT / "tests" / "e2e" / "autobahnjs_client.js"
UNIVERSAL_CONFIG_DIR = REPO_ROOT / "crossbar-config" / "universal"


@pytest.fixture(scope="module")
def autobahnjs():
    return npm_package("autobahn", AUTOBAHNJS_VERSION, NODE_DIR)


def run_scenario(autobahnjs, url, callee, caller):
    out = run_node(SCRIPT, autobahnjs, url, callee, caller)
    assert out.returncode == 0, f"node failed: {out.stderr}"
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("transport", ["rawsocket-tcp", "rawsocket-unix"])
def test_autobahnjs_over_rawsocket(router_factory, autobahnjs, transport):
    router = router_factory(config_dir=UNIVERSAL_CONFIG_DIR)
    url = f"tcp://127.0.0.1:{router.port}" if transport == "rawsocket-tcp" else f"unix:{router.cbdir / 'router.sock'}"
    seen = run_scenario(autobahnjs, url, "json", "json")
    assert seen["sum"] == 42
    assert seen["error"] == {"uri": "com.js.error", "args": ["nope", 42], "kwargs": {"detail": "ü"}}
    assert seen["event"] == {"args": ["hello", {"n": [1, 2]}], "kwargs": {"k": "v"}}


@pytest.mark.parametrize("callee,caller", [("json", "json"), ("msgpack", "json"), ("cbor", "msgpack")])
def test_autobahnjs_rpc_pubsub_and_errors(router_factory, autobahnjs, callee, caller):
    router = router_factory()  # the default node: realm1, anonymous, WebSocket /ws with all three serializers
    seen = run_scenario(autobahnjs, router.url, callee, caller)
    assert seen["sum"] == 42
    assert seen["error"] == {"uri": "com.js.error", "args": ["nope", 42], "kwargs": {"detail": "ü"}}
    assert seen["no_procedure"] == "wamp.error.no_such_procedure"
    assert seen["event"] == {"args": ["hello", {"n": [1, 2]}], "kwargs": {"k": "v"}}


AUTH_SCRIPT = REPO_ROOT / "tests" / "e2e" / "autobahnjs_auth_client.js"


def js_login(router, autobahnjs, method, authid, secret):
    out = run_node(AUTH_SCRIPT, autobahnjs, router.url, method, authid, secret)
    assert out.returncode == 0, f"node failed: {out.stderr}"
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("method,authid,secret", [
    ("ticket", "client1", "test-only-ticket-client1"),
    ("wampcra", "client1", "test-only-secret-client1"),
    ("wampcra", "client2", "test-only-secret-client2"),  # salted: AutobahnJS derive_key
])
def test_autobahnjs_ticket_and_wampcra(router_factory, autobahnjs, method, authid, secret):
    router = router_factory(REPO_ROOT / "crossbar-config" / method)
    assert js_login(router, autobahnjs, method, authid, secret) == {
        "joined": {"authid": authid, "authrole": "frontend", "authmethod": method, "authprovider": "static"}}
    assert js_login(router, autobahnjs, method, authid, secret + "-wrong") == {
        "refused": ["wamp.error.not_authorized", "ticket in static WAMP-Ticket authentication is invalid"
                    if method == "ticket" else "WAMP-CRA client signature is invalid"]}


META_SCRIPT = REPO_ROOT / "tests" / "e2e" / "autobahnjs_meta_client.js"


def test_autobahnjs_watches_sessions_join_and_leave(router, autobahnjs):
    out = run_node(META_SCRIPT, autobahnjs, router.url)
    assert out.returncode == 0, f"node failed: {out.stderr}"
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    # Crossbar's shapes: on_join(details), on_leave(session).
    [details] = seen["join"]
    assert details["session"] == seen["visitor"]
    assert details["authrole"] == "anonymous" and details["realm"] == "realm1"
    assert seen["leave"] == [seen["visitor"]]
