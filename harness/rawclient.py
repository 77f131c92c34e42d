"""A small WAMP client that sends exactly the messages the harness builds.

Needed because Autobahn|Python 22.7.1 does not speak the spec's Payload PassThru Mode
(``ppt_*`` options) and validates what it sends, so neither the spec form nor the
deliberately wrong messages of the conformance probes could go through it. It speaks
WebSocket (subprotocols wamp.2.json / msgpack / cbor) and RawSocket over TCP or a Unix
socket, on asyncio, with the framing of ``framing.py``.
"""

import asyncio
import base64
import os
import ssl

from . import framing, wire

# HELLO roles announcing Payload PassThru Mode for every role (WAMP spec; docs/blindness-audit.md, rule E3).
PPT_ROLES = {
    role: {"features": {"payload_passthru_mode": True, "progressive_call_results": True,
                        "progressive_call_invocations": True, "call_canceling": True}
           if role in ("caller", "callee") else {"payload_passthru_mode": True}}
    for role in ("publisher", "subscriber", "caller", "callee")
}
PLAIN_ROLES = {role: {"features": {}} for role in ("publisher", "subscriber", "caller", "callee")}


class Closed(Exception):
    pass


class RawSession:
    def __init__(self, label, endpoint, serializer):
        self.label = label
        self.endpoint = endpoint      # dict: protocol, kind, host/port or path, ws_path, tls
        self.serializer = serializer
        self.session_id = None
        self.welcome = None
        self.abort = None
        self._reader = None
        self._writer = None
        self._queue = asyncio.Queue()
        self._backlog = []
        self._task = None
        self._request = 0
        self.closed = False

    def next_request(self):
        self._request += 1
        return self._request

    # -- transport --------------------------------------------------------------------

    async def connect(self, timeout=5.0):
        ep = self.endpoint
        if ep["kind"] == "unix":
            opening = asyncio.open_unix_connection(ep["path"])
        else:
            context = None
            if ep.get("tls"):
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            opening = asyncio.open_connection(ep["host"], ep["port"], ssl=context)
        self._reader, self._writer = await asyncio.wait_for(opening, timeout)
        if ep["protocol"] == "websocket":
            await asyncio.wait_for(self._websocket_handshake(), timeout)
        else:
            await asyncio.wait_for(self._rawsocket_handshake(), timeout)
        self._task = asyncio.ensure_future(self._read_loop())

    async def _websocket_handshake(self):
        key = base64.b64encode(os.urandom(16)).decode("ascii")
        host = self.endpoint.get("host", "localhost")
        request = (f"GET /{self.endpoint.get('ws_path', '')} HTTP/1.1\r\n"
                   f"Host: {host}:{self.endpoint.get('port', 80)}\r\n"
                   "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                   f"Sec-WebSocket-Protocol: {wire.SUBPROTOCOL_OF[self.serializer]}\r\n\r\n")
        self._writer.write(request.encode("ascii"))
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = head.split(b" ", 2)[1] if b" " in head else b"?"
        if status != b"101":
            raise ConnectionError(f"WebSocket upgrade refused: {head.splitlines()[0]!r}")
        chosen = framing.http_header(head, "Sec-WebSocket-Protocol")
        if chosen != wire.SUBPROTOCOL_OF[self.serializer]:
            raise ConnectionError(f"router chose subprotocol {chosen!r}")
        self._buffer = bytearray()

    async def _rawsocket_handshake(self):
        self._writer.write(framing.rawsocket_handshake(wire.RAWSOCKET_ID_OF[self.serializer]))
        reply = await self._reader.readexactly(4)
        if reply[0] != framing.RAWSOCKET_MAGIC or (reply[1] & 0x0f) != wire.RAWSOCKET_ID_OF[self.serializer]:
            raise ConnectionError(f"RawSocket handshake refused: {reply.hex()}")
        self._buffer = bytearray()

    def _frame(self, data):
        if self.endpoint["protocol"] == "websocket":
            opcode = framing.OP_TEXT if self.serializer == "json" else framing.OP_BINARY
            return framing.build_ws_frame(opcode, data, mask=True)
        return framing.build_rs_frame(data)

    async def _read_loop(self):
        websocket = self.endpoint["protocol"] == "websocket"
        fragments = []
        try:
            while True:
                chunk = await self._reader.read(65536)
                if not chunk:
                    break
                self._buffer += chunk
                while True:
                    if websocket:
                        unit, end = framing.parse_ws_frame(self._buffer)
                    else:
                        unit, end = framing.parse_rs_frame(self._buffer)
                    if unit is None:
                        break
                    del self._buffer[:end]
                    self._on_unit(unit, websocket, fragments)
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self.closed = True
            self._queue.put_nowait(None)

    def _on_unit(self, unit, websocket, fragments):
        if websocket:
            if unit.opcode == framing.OP_PING:
                self._send_raw(framing.build_ws_frame(framing.OP_PONG, unit.payload, mask=True))
                return
            if unit.opcode == framing.OP_CLOSE:
                self._send_raw(framing.build_ws_frame(framing.OP_CLOSE, unit.payload[:2], mask=True))
                return
            fragments.append(unit.payload)
            if not unit.fin:
                return
            data = b"".join(fragments)
            fragments.clear()
        else:
            if unit.opcode == framing.RS_PING:
                self._send_raw(framing.build_rs_frame(unit.payload, framing.RS_PONG))
                return
            if unit.opcode != framing.RS_REGULAR:
                return
            data = unit.payload
        try:
            self._queue.put_nowait(wire.decode(self.serializer, data))
        except Exception as e:
            self._queue.put_nowait(["undecodable", str(e)])

    def _send_raw(self, data):
        if self._writer is not None and not self._writer.is_closing():
            self._writer.write(data)

    # -- WAMP ---------------------------------------------------------------------------

    def send(self, message):
        self._send_raw(self._frame(wire.encode(self.serializer, message)))

    async def expect(self, code, timeout=2.0, match=None):
        """The next message with ``code`` (and ``match(msg)`` true); others stay queued.
        None on timeout or when the connection closed."""
        return await self.expect_any((code,), timeout, match)

    async def expect_any(self, codes, timeout=2.0, match=None):
        """The next message whose code is in ``codes`` (and matches), else None."""
        for i, msg in enumerate(self._backlog):
            if msg[0] in codes and (match is None or match(msg)):
                return self._backlog.pop(i)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0 or self.closed and self._queue.empty():
                return None
            try:
                msg = await asyncio.wait_for(self._queue.get(), remaining)
            except asyncio.TimeoutError:
                return None
            if msg is None:
                return None
            if msg[0] in codes and (match is None or match(msg)):
                return msg
            self._backlog.append(msg)

    def drain(self, code=None):
        """Messages received so far and not consumed (optionally only with ``code``)."""
        while not self._queue.empty():
            msg = self._queue.get_nowait()
            if msg is not None:
                self._backlog.append(msg)
        taken = [m for m in self._backlog if code is None or m[0] == code]
        self._backlog = [m for m in self._backlog if not (code is None or m[0] == code)]
        return taken

    async def join(self, realm, roles=None, timeout=5.0):
        self.send([wire.HELLO, realm, {"roles": roles if roles is not None else PPT_ROLES}])
        msg = await self.expect_any((wire.WELCOME, wire.ABORT), timeout)
        if msg is None:
            raise ConnectionError(f"{self.label}: no WELCOME within {timeout}s")
        if msg[0] == wire.ABORT:
            self.abort = msg
            raise ConnectionError(f"{self.label}: ABORT {msg[2]} {msg[1]}")
        self.welcome = msg
        self.session_id = msg[1]
        return msg

    async def request(self, message, reply_codes, timeout=2.0):
        """Send a message with a fresh request id at index 1; return the reply to it."""
        request = self.next_request()
        message = list(message)
        message.insert(1, request)
        self.send(message)
        return await self.expect_any(
            reply_codes + (wire.ERROR,), timeout,
            match=lambda m: (m[2] if m[0] == wire.ERROR else m[1]) == request)

    async def subscribe(self, topic, options=None):
        reply = await self.request([wire.SUBSCRIBE, options or {}, topic], (wire.SUBSCRIBED,))
        return reply[2] if reply and reply[0] == wire.SUBSCRIBED else None

    async def register(self, procedure, options=None):
        reply = await self.request([wire.REGISTER, options or {}, procedure], (wire.REGISTERED,))
        return reply[2] if reply and reply[0] == wire.REGISTERED else None

    async def close(self, timeout=1.0):
        if self._writer is None:
            return
        if not self.closed and self.welcome is not None:
            self.send([wire.GOODBYE, {}, "wamp.close.close_realm"])
            await self.expect(wire.GOODBYE, timeout)
        try:
            self._writer.close()
        except (OSError, RuntimeError):
            pass
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
