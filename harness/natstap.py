"""What the NATS cluster of a clustered blindrouter sees: a NATS client subscribed to
``>`` on one server of the cluster, recording every message (subject, headers, body).

Why a subscriber rather than a recording relay between a node and its NATS server: a
subscription on ``>`` receives what every node publishes anywhere in the cluster (NATS
forwards each message to every server with an interested client), so one tap sees all
nodes' traffic without changing how the nodes were started; a relay would see one node's
connection only and would have to be put in its NATS URL list. What the tap does not see
is the protocol around the messages: a node's SUB lines (the subjects it is interested
in, which the server's monitoring endpoint shows too) and its CONNECT (credentials).
Those carry subjects, which the tap sees on the messages themselves.

Plain TCP only (``nats://[user:password@|token@]host:port``); the credentials are the
nodes' own, since a cluster that requires them lets nobody else subscribe.
"""

import asyncio
import json
import time
from urllib.parse import unquote, urlparse

# Subjects of the router's cluster traffic (the project README, "Clustered realms
# (NATS)"); anything else on the cluster is recorded too, and scanned the same way.
ROUTER_PREFIX = "br."


class NatsMessage:
    __slots__ = ("subject", "headers", "body", "t")

    def __init__(self, subject, headers, body, t):
        self.subject = subject
        self.headers = headers      # the raw header block ("NATS/1.0\r\nKey: value\r\n...")
        self.body = body
        self.t = t

    def header_values(self):
        """{name: value} of the header block (the last value of a repeated name)."""
        found = {}
        for line in self.headers.split(b"\r\n")[1:]:
            name, sep, value = line.partition(b":")
            if sep:
                found[name.decode("latin-1").strip()] = value.decode("latin-1").strip()
        return found


def parse_url(url):
    parsed = urlparse(url)
    if parsed.scheme != "nats" or not parsed.hostname:
        raise ValueError(f"--nats takes nats://[user:password@]host:port, not {url!r}")
    auth = {}
    if parsed.username and parsed.password is not None:
        auth = {"user": unquote(parsed.username), "pass": unquote(parsed.password)}
    elif parsed.username:
        auth = {"auth_token": unquote(parsed.username)}
    return parsed.hostname, parsed.port or 4222, auth


class NatsTap:
    def __init__(self, url):
        self.url = url
        self.host, self.port, self.auth = parse_url(url)
        self.messages = []
        self.problems = []
        self.bytes = 0
        self._reader = self._writer = self._task = None

    def label(self):
        return f"nats tap on {self.host}:{self.port}"

    async def start(self, timeout=5.0):
        self._reader, self._writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port), timeout)
        info = await asyncio.wait_for(self._reader.readline(), timeout)
        if not info.startswith(b"INFO "):
            raise RuntimeError(f"{self.url} is not a NATS server (it said {info[:40]!r})")
        connect = dict(verbose=False, pedantic=False, headers=True, no_responders=False,
                       name="blindness-audit tap", lang="python", version="1", protocol=1, **self.auth)
        self._writer.write(b"CONNECT " + json.dumps(connect).encode() + b"\r\nSUB > 1\r\nPING\r\n")
        await self._writer.drain()
        while True:
            line = await asyncio.wait_for(self._reader.readline(), timeout)
            if line.startswith(b"PONG"):
                break
            if line.startswith(b"-ERR"):
                raise RuntimeError(f"{self.url} refused the tap: {line.decode(errors='replace').strip()}")
        self._task = asyncio.ensure_future(self._read())
        return self

    async def _read(self):
        reader = self._reader
        try:
            while True:
                line = await reader.readline()
                if not line:
                    self.problems.append("the NATS server closed the tap's connection")
                    return
                words = line.split()
                if not words:
                    continue
                if words[0] == b"PING":
                    self._writer.write(b"PONG\r\n")
                    continue
                if words[0] == b"-ERR":
                    self.problems.append(line.decode(errors="replace").strip())
                    continue
                if words[0] not in (b"MSG", b"HMSG"):
                    continue
                total = int(words[-1])
                header_bytes = int(words[-2]) if words[0] == b"HMSG" else 0
                data = await reader.readexactly(total + 2)
                self.bytes += len(line) + len(data)
                self.messages.append(NatsMessage(words[1].decode("utf-8", errors="replace"),
                                                 data[:header_bytes], data[header_bytes:total],
                                                 time.monotonic()))
        except (asyncio.IncompleteReadError, ConnectionError, OSError) as e:
            self.problems.append(f"the tap's connection failed: {e}")

    async def close(self, settle=0.3):
        # What the nodes published last is still on its way to the tap.
        await asyncio.sleep(settle)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._writer is not None:
            self._writer.close()

    def router_messages(self):
        return [m for m in self.messages if m.subject.startswith(ROUTER_PREFIX)]
