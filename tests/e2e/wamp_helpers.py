"""Shared machinery for the blindrouter end-to-end tests.

Three pieces, each used by several test modules:

* ``start_router`` / ``Router``: copy a Crossbar-format node directory to a temp dir,
  move every TCP endpoint to a free loopback port, run ``blindrouter start`` on it with
  stderr captured to a file, and stop it again with a signal.
* ``connect`` / ``Client``: a real Autobahn|Python (asyncio) session over a real
  WebSocket, with futures for join / leave / disconnect so tests can await them with
  timeouts instead of sleeping.
* ``RawWamp``: a blocking WAMP-over-WebSocket client (websocket-client) that sends
  exactly the bytes a test gives it. Autobahn validates what it sends, so bad input and
  invalid URIs go through this one.

Every wait here is bounded; nothing can hang a test run.
"""

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import websocket  # websocket-client
from autobahn.asyncio.wamp import ApplicationSession
from autobahn.asyncio.websocket import WampWebSocketClientFactory
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.serializer import JsonSerializer
from autobahn.wamp.types import CallResult, ComponentConfig

REPO_ROOT = Path(__file__).resolve().parents[2]
# harness/ports.py picks ports the kernel never hands to outgoing connections (why: there).
sys.path.insert(0, str(REPO_ROOT))
from harness.ports import free_port  # noqa: E402,F401  (re-exported to the test modules)
DEFAULT_CONFIG_DIR = REPO_ROOT / "crossbar-config"
AUTHORIZATION_CONFIG_DIR = DEFAULT_CONFIG_DIR / "authorization"

REALM = "realm1"
STARTUP_TIMEOUT = 10.0
SHUTDOWN_TIMEOUT = 5.0
# One scenario (connect, exchange, leave) must finish within this many seconds.
SCENARIO_TIMEOUT = 15.0
# How long to wait before concluding that a message that must NOT arrive did not arrive.
QUIET_PERIOD = 0.5

# WAMP message codes (WAMP spec, "Message Codes and Direction").
HELLO, WELCOME, ABORT, GOODBYE, ERROR = 1, 2, 3, 6, 8
PUBLISH, PUBLISHED = 16, 17
SUBSCRIBE, SUBSCRIBED, UNSUBSCRIBE, UNSUBSCRIBED, EVENT = 32, 33, 34, 35, 36
CALL, CANCEL, RESULT = 48, 49, 50
REGISTER, REGISTERED, UNREGISTER, UNREGISTERED, INVOCATION, INTERRUPT, YIELD = 64, 65, 66, 67, 68, 69, 70

MAX_ID = 2 ** 53

# Payloads that must cross the router unchanged (args, kwargs), by name.
PAYLOADS = {
    "no_payload": ([], {}),
    "scalars": ([1, -1, 0, True, False, None, "text"], {}),
    "kwargs_only": ([], {"a": 1, "b": "two", "c": None}),
    "nested": ([{"a": [1, {"b": [2, [3, {"c": "d"}]]}]}, [[[[]]]]],
               {"deep": {"x": {"y": {"z": [1, 2, {"w": []}]}}}}),
    "unicode": (["héllo wörld", "✓ 😀 中文 עברית", "\u00e9\u0301"],
                {"ключ": "значение", "emoji 🔑": "🗝"}),
    "json_escapes": (["quote \" backslash \\ slash / newline \n tab \t", "ctl \u0001\u001f",
                      "</script>", "nul a\u0000b"], {"esc\"aped\\key": "v"}),
    "big_ints": ([2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 31, -2 ** 31 - 1, 2 ** 32 + 7],
                 {"max": 2 ** 53 - 1}),
    "floats": ([0.1, -2.5, 3.141592653589793, 1e-300, -1.7976931348623157e308, 6.02214076e23],
               {"half": 0.5}),
    "empty_containers": ([[], {}, "", [[]], [{}]], {"l": [], "d": {}, "s": ""}),
    "long_string": (["x" * 32768], {"k": "y" * 1000}),
    "many_items": (list(range(2000)), {f"k{i}": i for i in range(200)}),
    # Autobahn sends bytes in JSON as "\u0000" + base64 (WAMP spec, binary in JSON).
    "binary": ([b"\x00\x01\xfe\xff", b""], {"blob": bytes(range(256))}),
    "one_megabyte": (["m" * (1 << 20)], {}),
}


CLIENT_ROLES = {
    "publisher": {"features": {}},
    "subscriber": {"features": {}},
    "caller": {"features": {}},
    "callee": {"features": {}},
}


# --------------------------------------------------------------------------------------
# Router process
# --------------------------------------------------------------------------------------

def tcp_endpoints(node):
    """Every dict under key ``endpoint`` whose type is tcp, anywhere in the config."""
    found = []

    def walk(value):
        if isinstance(value, dict):
            endpoint = value.get("endpoint")
            if isinstance(endpoint, dict) and endpoint.get("type", "tcp") == "tcp" \
                    and "port" in endpoint:
                found.append(endpoint)
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(node)
    return found


def websocket_path(config):
    """(transport, path) of the first WebSocket service; path '' for a bare websocket
    transport, the key under ``paths`` for a web transport."""
    for worker in config.get("workers", []):
        for transport in worker.get("transports", []):
            if transport.get("type") == "websocket":
                return transport, ""
            if transport.get("type") == "web":
                for path, service in transport.get("paths", {}).items():
                    if isinstance(service, dict) and service.get("type") == "websocket":
                        return transport, path
            if transport.get("type") == "universal":
                for path in transport.get("websocket", {}):
                    return transport, path
    raise AssertionError("config has no websocket transport / path")


def websocket_service(config):
    """The dict configuring the first WebSocket service (to set its ``options``)."""
    transport, path = websocket_path(config)
    if path == "":
        return transport
    return transport["websocket"][path] if transport.get("type") == "universal" else transport["paths"][path]


def load_config(config_dir):
    path = Path(config_dir) / "config.json"
    assert path.is_file(), f"missing node config {path}"
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def prepare_cbdir(src_dir, dest_dir, mutate=None):
    """Copy a node directory and move every tcp endpoint to a free port.

    Returns (config, ports). ``mutate(config)`` may edit the config before it is written.
    """
    src_dir = Path(src_dir)
    dest_dir = Path(dest_dir)
    assert (src_dir / "config.json").is_file(), f"missing node config {src_dir / 'config.json'}"
    shutil.copytree(src_dir, dest_dir)
    config = load_config(dest_dir)
    if mutate is not None:
        mutate(config)
    ports = []
    for endpoint in tcp_endpoints(config):
        endpoint["port"] = free_port()
        ports.append(endpoint["port"])
    assert ports, "config has no tcp endpoint"
    with open(dest_dir / "config.json", "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
    return config, ports


class Router:
    """A running ``blindrouter start`` process and what it logged."""

    def __init__(self, proc, cbdir, url, ports, stderr_path, stdout_path):
        self.proc = proc
        self.cbdir = cbdir
        self.url = url
        self.ports = ports
        self.stderr_path = stderr_path
        self.stdout_path = stdout_path

    @property
    def port(self):
        return urlparse(self.url).port

    def log(self):
        """Everything the router wrote to stderr so far."""
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", errors="replace")

    def stdout(self):
        with open(self.stdout_path, "rb") as f:
            return f.read().decode("utf-8", errors="replace")

    def log_tail(self, chars=4000):
        text = self.log()
        return text[-chars:]

    def wait_for_log(self, pattern, timeout=3.0, flags=re.IGNORECASE):
        """True as soon as ``pattern`` (a regex) matches the stderr log."""
        deadline = time.monotonic() + timeout
        while True:
            if re.search(pattern, self.log(), flags):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    def is_alive(self):
        return self.proc.poll() is None

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=SHUTDOWN_TIMEOUT):
        """Signal the router (if it still runs) and return its exit code.

        Raises AssertionError (after killing it) when it does not exit within ``timeout``.
        """
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
                raise AssertionError(
                    f"router did not exit within {timeout}s of {signal.Signals(sig).name}; "
                    f"stderr tail:\n{self.log_tail()}")
        return self.proc.returncode


def npm_package(name, version, install_dir):
    """The node_modules folder holding npm package ``name@version``, installed into
    ``install_dir`` from the npm registry on first use (without install scripts)."""
    assert shutil.which("node") and shutil.which("npm"), f"Node.js and npm are needed for the {name} tests"
    if not (install_dir / "node_modules" / name / "package.json").exists():
        install_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--prefix", str(install_dir), "--ignore-scripts", "--no-audit",
                        "--no-fund", f"{name}@{version}"],
                       check=True, capture_output=True, timeout=300)
    return install_dir / "node_modules"


def run_node(script, node_modules, *args):
    """Runs a Node.js client script with ``node_modules`` on its module path."""
    return subprocess.run(["node", str(script), *map(str, args)], capture_output=True, text=True, timeout=30,
                          env={"NODE_PATH": str(node_modules), "PATH": "/usr/bin:/usr/local/bin:/bin"})


def port_accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def start_router(binary, src_dir, work_dir, mutate=None, loglevel="debug", extra_args=()):
    """Start ``blindrouter start`` on a copy of ``src_dir``; wait until every port accepts."""
    binary = Path(binary)
    assert binary.is_file() and os.access(binary, os.X_OK), \
        f"router binary {binary} does not exist or is not executable (pass --router PATH)"
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    cbdir = work_dir / "cbdir"
    config, ports = prepare_cbdir(src_dir, cbdir, mutate)
    transport, path = websocket_path(config)
    ws_port = transport["endpoint"]["port"]
    url = f"ws://127.0.0.1:{ws_port}/{path}"

    stderr_path = work_dir / "router.stderr.log"
    stdout_path = work_dir / "router.stdout.log"
    cmd = [str(binary), "start", "--cbdir", str(cbdir)]
    if loglevel is not None:
        cmd += ["--loglevel", loglevel]
    cmd += list(extra_args)
    with open(stderr_path, "wb") as err, open(stdout_path, "wb") as out:
        # A new session: a Ctrl-C on the terminal running pytest must not reach the router,
        # whose shutdown is what some tests examine.
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                start_new_session=True)
    router = Router(proc, cbdir, url, ports, stderr_path, stdout_path)

    deadline = time.monotonic() + STARTUP_TIMEOUT
    pending = list(ports)
    while pending:
        if proc.poll() is not None:
            raise AssertionError(
                f"router exited with code {proc.returncode} during start-up "
                f"({' '.join(cmd)}); stderr:\n{router.log_tail()}\nstdout:\n{router.stdout()[-2000:]}")
        if port_accepts(pending[0]):
            pending.pop(0)
            continue
        if time.monotonic() >= deadline:
            proc.kill()
            proc.wait(timeout=5)
            raise AssertionError(
                f"router did not accept on port(s) {pending} within {STARTUP_TIMEOUT}s; "
                f"stderr:\n{router.log_tail()}")
        time.sleep(0.05)
    return router


# --------------------------------------------------------------------------------------
# Autobahn|Python client
# --------------------------------------------------------------------------------------

def run(coro, timeout=SCENARIO_TIMEOUT):
    """Run one asyncio scenario to completion, bounded by ``timeout`` seconds."""
    async def bounded():
        return await asyncio.wait_for(coro, timeout)
    return asyncio.run(bounded())


def _resolve(fut, value):
    if not fut.done():
        fut.set_result(value)


class Client(ApplicationSession):
    """An Autobahn session whose life-cycle events are futures the test can await."""

    def __init__(self, config):
        super().__init__(config)
        loop = asyncio.get_running_loop()
        self.welcome = loop.create_future()       # the WELCOME message (autobahn parsed)
        self.joined = loop.create_future()        # SessionDetails
        self.left = loop.create_future()          # CloseDetails (GOODBYE or ABORT)
        self.disconnected = loop.create_future()  # transport gone

    def onWelcome(self, msg):
        _resolve(self.welcome, msg)
        return super().onWelcome(msg)

    def onJoin(self, details):
        _resolve(self.joined, details)

    def onLeave(self, details):
        _resolve(self.left, details)
        return super().onLeave(details)

    def onDisconnect(self):
        _resolve(self.disconnected, True)
        return super().onDisconnect()

    async def close(self, timeout=3.0):
        """Leave (GOODBYE) if joined, and wait until the transport is gone."""
        if self.disconnected.done():
            return
        if self.is_attached():
            self.leave()
        elif self._transport is not None:
            self._transport.close()
        try:
            await asyncio.wait_for(asyncio.shield(self.disconnected), timeout)
        except asyncio.TimeoutError:
            if self._transport is not None:
                self._transport.transport.abort()

    def drop_connection(self):
        """Cut the TCP connection without GOODBYE or WebSocket close handshake."""
        self._transport.transport.abort()


async def connect(url, realm=REALM, join=True, timeout=5.0):
    """Open a WebSocket (subprotocol wamp.2.json) and a WAMP session on ``realm``.

    With ``join=True`` the session must have joined (AssertionError otherwise); with
    ``join=False`` it returns as soon as the session joined, left or disconnected.
    """
    loop = asyncio.get_running_loop()
    session = Client(ComponentConfig(realm=realm))
    factory = WampWebSocketClientFactory(lambda: session, url=url,
                                         serializers=[JsonSerializer()])
    # Keep autobahn's own timers from outliving a test's event loop.
    factory.setProtocolOptions(openHandshakeTimeout=timeout, closeHandshakeTimeout=1,
                               autoPingInterval=0)
    parsed = urlparse(url)
    await asyncio.wait_for(loop.create_connection(factory, parsed.hostname, parsed.port),
                           timeout)
    await asyncio.wait([session.joined, session.left, session.disconnected],
                       timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    if join and not session.joined.done():
        reason = session.left.result().reason if session.left.done() else None
        await session.close()
        raise AssertionError(f"session did not join realm {realm!r} (left with {reason!r})")
    return session


async def close_all(*sessions):
    await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)


class EventSink:
    """A subscription handler that queues (args, kwargs, details) of every event."""

    def __init__(self):
        self.queue = asyncio.Queue()

    def __call__(self, *args, details=None, **kwargs):
        self.queue.put_nowait((list(args), kwargs, details))

    async def next(self, timeout=3.0):
        return await asyncio.wait_for(self.queue.get(), timeout)

    async def assert_quiet(self, period=QUIET_PERIOD):
        await asyncio.sleep(period)
        assert self.queue.empty(), f"unexpected event(s): {self.drain()}"

    def drain(self):
        items = []
        while not self.queue.empty():
            items.append(self.queue.get_nowait())
        return items


def echo(*args, **kwargs):
    """Callee handler returning exactly what it was called with."""
    kwargs.pop("details", None)
    return CallResult(*args, **kwargs)


def call_parts(result):
    """(args, kwargs) of an Autobahn call result, whatever shape Autobahn returned."""
    if isinstance(result, CallResult):
        return list(result.results), dict(result.kwresults)
    if result is None:
        return [], {}
    return [result], {}


async def expect_application_error(awaitable, uri, timeout=3.0):
    """Await a publish/subscribe/call/register that must fail with error ``uri``."""
    try:
        result = await asyncio.wait_for(awaitable, timeout)
    except ApplicationError as e:
        assert e.error == uri, f"expected error {uri}, got {e.error} {e.args} {e.kwargs}"
        return e
    raise AssertionError(f"expected error {uri}, got success {result!r}")


# --------------------------------------------------------------------------------------
# Raw WAMP-over-WebSocket client
# --------------------------------------------------------------------------------------

class Closed(Exception):
    """The connection closed. ``code`` is the WebSocket close code (None: no close frame)."""

    def __init__(self, code, reason=""):
        super().__init__(f"connection closed (code={code}, reason={reason!r})")
        self.code = code
        self.reason = reason


class RawWamp:
    """A blocking WebSocket client speaking wamp.2.json with messages the test writes."""

    def __init__(self, url, subprotocols=("wamp.2.json",), timeout=5.0, sockopt=()):
        # sockopt: (level, option, value) set before connecting, e.g. a small
        # SO_RCVBUF for a client that is to stop reading.
        self.ws = websocket.create_connection(url, subprotocols=list(subprotocols),
                                              timeout=timeout, sockopt=tuple(sockopt))
        self.subprotocol = self.ws.getsubprotocol()
        self.close_code = None
        self.is_closed = False

    def send(self, message):
        self.send_text(json.dumps(message))

    def send_text(self, text):
        self.ws.send(text)

    def send_binary(self, data):
        self.ws.send_binary(data)

    def recv(self, timeout=3.0):
        """The next WAMP message (a parsed list); raises Closed or TimeoutError."""
        if self.is_closed:
            raise Closed(self.close_code)
        self.ws.settimeout(timeout)
        deadline = time.monotonic() + timeout
        fragments, message_opcode = [], None
        while True:
            # Frame by frame (not recv_data_frame): websocket-client answers a close frame
            # itself and loses the frame if that reply fails because the peer is gone.
            try:
                frame = self.ws.recv_frame()
            except (websocket.WebSocketTimeoutException, socket.timeout) as e:
                raise TimeoutError(f"nothing received within {timeout}s") from e
            except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
                self.is_closed = True
                raise Closed(None)
            opcode = frame.opcode
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                self.is_closed = True
                data = frame.data or b""
                if len(data) >= 2:
                    self.close_code = struct.unpack("!H", data[:2])[0]
                try:
                    self.ws.send_close()
                except Exception:
                    pass
                raise Closed(self.close_code, data[2:].decode("utf-8", errors="replace"))
            if opcode in (websocket.ABNF.OPCODE_TEXT, websocket.ABNF.OPCODE_BINARY,
                          websocket.ABNF.OPCODE_CONT):
                if opcode != websocket.ABNF.OPCODE_CONT:
                    message_opcode = opcode
                fragments.append(frame.data if isinstance(frame.data, bytes)
                                 else frame.data.encode("utf-8"))
                if frame.fin:
                    data = b"".join(fragments)
                    if message_opcode == websocket.ABNF.OPCODE_TEXT:
                        return json.loads(data.decode("utf-8"))
                    return data
            elif opcode == websocket.ABNF.OPCODE_PING:
                try:
                    self.ws.pong(frame.data)
                except Exception:
                    pass
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"nothing received within {timeout}s")
            self.ws.settimeout(remaining)

    def expect(self, code, timeout=3.0):
        """The next message, asserted to have message code ``code``."""
        try:
            msg = self.recv(timeout)
        except Closed as e:
            raise AssertionError(f"expected message {code}, but {e}") from None
        except TimeoutError:
            raise AssertionError(f"expected message {code}, got nothing in {timeout}s") from None
        assert isinstance(msg, list) and msg and msg[0] == code, \
            f"expected message {code}, got {msg!r}"
        return msg

    def wait_closed(self, timeout=3.0):
        """Read until the connection closes; returns the close code (None: no close frame).

        Any WAMP message arriving meanwhile is a test failure: after ABORT nothing may
        follow.
        """
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"connection still open {timeout}s later")
            try:
                msg = self.recv(remaining)
            except Closed as e:
                return e.code
            except TimeoutError:
                raise AssertionError(f"connection still open {timeout}s later") from None
            raise AssertionError(f"expected the connection to close, got message {msg!r}")

    def close_code_after_abort(self, timeout=3.0):
        """The close code of a connection the router ends; an ABORT may come first,
        nothing else may."""
        try:
            msg = self.recv(timeout)
        except Closed as e:
            return e.code
        assert msg[0] == ABORT, f"expected the connection to close, got {msg!r}"
        return self.wait_closed(timeout)

    def hello(self, realm=REALM, details=None):
        """HELLO; returns the WELCOME message (asserted)."""
        self.send([HELLO, realm, details if details is not None else {"roles": CLIENT_ROLES}])
        return self.expect(WELCOME)

    def close(self):
        """Close handshake if the connection is still open, then close the socket."""
        try:
            if not self.is_closed:
                self.ws.close(timeout=1)
        except Exception:
            pass
        finally:
            try:
                self.ws.shutdown()
            except Exception:
                pass


def raw_session(url, realm=REALM):
    """A RawWamp that has joined ``realm``."""
    raw = RawWamp(url)
    raw.hello(realm)
    return raw


def assert_protocol_violation(raw, timeout=3.0):
    """The router answered with ABORT wamp.error.protocol_violation and closed.

    Returns (abort message, close code). The close code must be 1002 when the router sends
    a close frame at all (WAMP over WebSocket: protocol error); a plain TCP close is the
    accepted minimum.
    """
    try:
        msg = raw.recv(timeout)
    except Closed as e:
        raise AssertionError(f"expected ABORT wamp.error.protocol_violation, but {e}") from None
    except TimeoutError:
        raise AssertionError(
            f"expected ABORT wamp.error.protocol_violation, got nothing in {timeout}s") from None
    assert isinstance(msg, list) and len(msg) == 3 and msg[0] == ABORT, \
        f"expected ABORT, got {msg!r}"
    assert msg[2] == "wamp.error.protocol_violation", f"ABORT reason {msg[2]!r}"
    assert isinstance(msg[1], dict), f"ABORT details not a dict: {msg[1]!r}"
    assert isinstance(msg[1].get("message"), str) and msg[1]["message"], \
        f"ABORT details lack a 'message' string: {msg[1]!r}"
    code = raw.wait_closed(timeout)
    assert code in (1002, None), f"WebSocket close code {code}, expected 1002"
    return msg, code


def http_upgrade_status(port, path, subprotocols, timeout=3.0):
    """Send a WebSocket upgrade request by hand; return (status code, headers dict).

    Done by hand because websocket-client refuses a 101 without the subprotocol it asked
    for before the test could look at it.
    """
    lines = [
        f"GET /{path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
    ]
    if subprotocols is not None:
        lines.append(f"Sec-WebSocket-Protocol: {', '.join(subprotocols)}")
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    assert head.startswith("HTTP/1."), f"not an HTTP response: {data[:200]!r}"
    status_line, *header_lines = head.split("\r\n")
    status = int(status_line.split()[1])
    headers = {}
    for line in header_lines:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    return status, headers
