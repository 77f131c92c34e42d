"""The recording relay: every harness client connects to the router through it.

One relay per router listener (TCP port or Unix socket). It copies bytes both ways and
keeps, per connection and direction, the raw bytes and every complete WAMP message in
the clear (WebSocket frames unmasked and reassembled, RawSocket frames unwrapped) with a
timestamp. That capture is what the wire checks and the metadata exposure report read.

For a router endpoint with TLS the relay speaks TLS to the router and plain TCP to the
harness's clients, so the capture holds the WAMP bytes rather than TLS records.

An injected leak (``leaks.py``, self-tests only) sits between the recording point and
the router: it acts on what the router sends before the relay records and forwards it,
so to the checks it is part of the router.
"""

import asyncio
import os
import ssl
import time

from . import framing, wire

TO_ROUTER = "to-router"
FROM_ROUTER = "from-router"


class Record:
    __slots__ = ("direction", "t", "data", "opcode")

    def __init__(self, direction, t, data, opcode):
        self.direction = direction
        self.t = t
        self.data = data
        self.opcode = opcode


class Connection:
    """One client connection as the relay saw it."""

    def __init__(self, cid, listener):
        self.id = cid
        self.listener = listener          # label of the router listener
        self.t_open = time.monotonic()
        self.t_close = None
        self.protocol = None              # "websocket" | "rawsocket"
        self.serializer = None
        self.raw = {TO_ROUTER: bytearray(), FROM_ROUTER: bytearray()}
        self.records = []
        self.problems = []
        self._decoded = None

    def label(self):
        return f"conn#{self.id} {self.listener} {self.protocol or '?'}/{self.serializer or '?'}"

    def record_unit(self, direction, unit):
        self.raw[direction] += unit.raw
        if unit.kind == "rs-handshake" and direction == TO_ROUTER:
            self.protocol = "rawsocket"
            self.serializer = wire.RAWSOCKET_SERIALIZER_IDS.get(unit.raw[1] & 0x0f)
        elif unit.kind == "http":
            self.protocol = "websocket"
            if direction == FROM_ROUTER:
                sub = framing.http_header(unit.raw, "Sec-WebSocket-Protocol")
                self.serializer = wire.WEBSOCKET_SUBPROTOCOLS.get(sub)
                ext = framing.http_header(unit.raw, "Sec-WebSocket-Extensions")
                if ext:
                    # Compressed frames would hide canaries from the scan: say so.
                    self.problems.append(f"WebSocket extension negotiated ({ext}); "
                                         "compressed frames are not audited")
        elif unit.kind == "opaque":
            self.problems.append(f"{direction}: {len(unit.raw)} bytes not parsed as frames")
        if unit.message is not None:
            self.records.append(Record(direction, time.monotonic(), unit.message, unit.opcode))

    def messages(self):
        """[(Record, decoded WAMP message or None)] in arrival order (cached)."""
        if self._decoded is None:
            self._decoded = []
            for r in self.records:
                try:
                    msg = wire.decode(self.serializer, r.data) if self.serializer else None
                except Exception:
                    msg = None
                self._decoded.append((r, msg))
        return self._decoded

    def payloads(self):
        """[(Record, PayloadView)] for every message that can carry a payload."""
        found = []
        for r, msg in self.messages():
            if isinstance(msg, list) and msg and msg[0] in wire.PAYLOAD_LAYOUT:
                try:
                    view = wire.payload_view(self.serializer, r.data, msg)
                except Exception:
                    view = None
                if view is not None:
                    found.append((r, view))
        return found

    def welcome(self):
        for r, msg in self.messages():
            if r.direction == FROM_ROUTER and isinstance(msg, list) and msg and msg[0] == wire.WELCOME:
                return msg
        return None

    def hello(self):
        for r, msg in self.messages():
            if r.direction == TO_ROUTER and isinstance(msg, list) and msg and msg[0] == wire.HELLO:
                return msg
        return None

    def session_id(self):
        w = self.welcome()
        return w[1] if w and len(w) > 1 else None


class Relay:
    """A listener for clients that forwards to one router endpoint."""

    def __init__(self, label, upstream, socket_dir, leak=None, counter=None):
        self.label = label
        self.upstream = upstream          # dict: kind tcp|unix, host, port, path, tls
        self.socket_dir = socket_dir      # where a relay for a Unix socket listens
        self.leak = leak
        self.connections = []
        self._counter = counter if counter is not None else [0]
        self._server = None
        self._tasks = set()
        self.listen = None                # dict: kind tcp|unix, host, port, path

    async def start(self):
        if self.upstream["kind"] == "unix":
            name = "".join(c for c in self.label if c.isalnum())
            path = os.path.join(self.socket_dir, f"relay-{name}.sock")
            self._server = await asyncio.start_unix_server(self._handle, path=path)
            self.listen = {"kind": "unix", "path": path}
        else:
            self._server = await asyncio.start_server(self._handle, host="127.0.0.1", port=0)
            port = self._server.sockets[0].getsockname()[1]
            self.listen = {"kind": "tcp", "host": "127.0.0.1", "port": port}
        return self

    async def close(self):
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _open_upstream(self):
        up = self.upstream
        if up["kind"] == "unix":
            return await asyncio.open_unix_connection(up["path"])
        context = None
        if up.get("tls"):
            # The harness audits what the router does with payloads, not its certificate.
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return await asyncio.open_connection(up["host"], up["port"], ssl=context)

    async def _handle(self, client_reader, client_writer):
        task = asyncio.current_task()
        self._tasks.add(task)
        self._counter[0] += 1
        conn = Connection(self._counter[0], self.label)
        self.connections.append(conn)
        try:
            try:
                router_reader, router_writer = await asyncio.wait_for(self._open_upstream(), 5)
            except (OSError, asyncio.TimeoutError) as e:
                conn.problems.append(f"relay could not reach the router: {e}")
                client_writer.close()
                return
            to_router = framing.StreamParser(from_client=True)
            from_router = framing.StreamParser(from_client=False)
            await asyncio.gather(
                self._pump(conn, TO_ROUTER, to_router, client_reader, router_writer),
                self._pump(conn, FROM_ROUTER, from_router, router_reader, client_writer),
                return_exceptions=True)
            router_writer.close()
        finally:
            client_writer.close()
            conn.t_close = time.monotonic()
            self._tasks.discard(task)

    async def _pump(self, conn, direction, parser, reader, writer):
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                out = bytearray()
                for unit in parser.feed(data):
                    if self.leak is not None:
                        unit = self.leak.apply(conn, direction, unit)
                    conn.record_unit(direction, unit)
                    out += unit.raw
                if parser.failed and parser.failed not in conn.problems:
                    conn.problems.append(parser.failed)
                if out:
                    writer.write(bytes(out))
                    await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            try:
                if writer.can_write_eof():
                    writer.write_eof()
                else:
                    writer.close()
            except (OSError, RuntimeError):
                pass
