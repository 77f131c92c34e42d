"""Deliberate leaks, for the harness's negative controls only (``--inject-leak MODE``).

A harness that cannot fail is worth nothing: each mode makes the system under test
misbehave in one way a careless router could, and the harness's own tests assert that a
run with it fails and names the leak. The relay-side modes act on what the router sends
before the relay records it (see relay.py), so they look like router behaviour.

- ``log``: writes every payload it sees (hex) to a log file collected with the router's
  logs, as a router that logs payloads at trace level would.
- ``alter``: flips bits in every payload the router delivers.
- ``reencode``: decodes every delivered payload element and encodes it again in an
  equivalent but different form (JSON: other escapes; MsgPack: another bin width; CBOR:
  indefinite-length byte string) -- same bytes after decoding, different on the wire.
- ``drop-details``: removes the enc_*/ppt_* keys from every delivered message.
- ``plaintext``: not a relay mode; a harness client forgets to encrypt one message.
- ``readable-uri``: not a relay mode; with ``--scramble``, the clients of the first
  traffic group forget to scramble their URIs.
"""

import base64
import time

import cbor2

from . import framing, wire
from .relay import FROM_ROUTER

LEAK_MODES = ("log", "alter", "reencode", "drop-details", "plaintext", "readable-uri")
CLIENT_MODES = ("plaintext", "readable-uri")


def _reframe(conn, unit, message):
    if conn.protocol == "websocket":
        raw = framing.build_ws_frame(unit.opcode, message, fin=True, mask=False)
        return framing.Unit("ws-frame", raw, opcode=unit.opcode, fin=True, payload=message,
                            message=message)
    raw = framing.build_rs_frame(message, unit.opcode)
    return framing.Unit("rs-frame", raw, opcode=unit.opcode, payload=message, message=message)


def _altered_element(serializer, element):
    if serializer == "json":
        # Change one base64 character in the middle: the decoded bytes change.
        text = element.decode("ascii")
        body_start = text.index("\\u0000") + 6 if "\\u0000" in text else 1
        i = body_start + (len(text) - 1 - body_start) // 2
        replacement = "A" if text[i] != "A" else "B"
        return (text[:i] + replacement + text[i + 1:]).encode("ascii")
    flipped = bytearray(element)
    flipped[-1] ^= 0x01  # last byte of a definite-length binary is payload data
    return bytes(flipped)


def _reencoded_element(serializer, element, ciphertext):
    if serializer == "json":
        body = base64.b64encode(ciphertext).decode("ascii")
        return ('"\\u0000' + "".join(f"\\u{ord(c):04x}" for c in body) + '"').encode("ascii")
    if serializer == "msgpack":
        n = len(ciphertext)
        for head in (b"\xc4" + n.to_bytes(1, "big") if n < 256 else None,
                     b"\xc5" + n.to_bytes(2, "big") if n < 65536 else None,
                     b"\xc6" + n.to_bytes(4, "big")):
            if head is not None and head[0] != element[0]:
                return head + ciphertext
        return element
    if element[0] == 0x5f:  # already indefinite: make it definite
        return cbor2.dumps(ciphertext)
    return b"\x5f" + cbor2.dumps(ciphertext) + b"\xff"


class Leak:
    def __init__(self, mode, log_path):
        if mode not in LEAK_MODES:
            raise ValueError(f"unknown leak mode {mode!r}")
        self.mode = mode
        self.log_path = log_path
        self.applied = 0
        self._log = open(log_path, "a", encoding="utf-8") if mode == "log" else None

    def close(self):
        if self._log is not None:
            self._log.close()
            self._log = None

    def apply(self, conn, direction, unit):
        if self.mode in CLIENT_MODES or unit.message is None or unit.payload != unit.message:
            return unit
        if conn.serializer is None:
            return unit
        try:
            view = wire.payload_view(conn.serializer, unit.message)
        except Exception:
            return unit
        if view is None:
            return unit
        if self.mode == "log":
            self._write_log(conn, direction, view)
            return unit
        if direction != FROM_ROUTER:
            return unit
        data = unit.message
        if self.mode in ("alter", "reencode") and view.ciphertext is not None:
            s, e = view.element_span
            if self.mode == "alter":
                element = _altered_element(conn.serializer, view.element)
            else:
                element = _reencoded_element(conn.serializer, view.element, view.ciphertext)
            data = data[:s] + element + data[e:]
        elif self.mode == "drop-details" and view.keys:
            details_index = wire.PAYLOAD_LAYOUT[view.code][0]
            details = {k: v for k, v in view.message[details_index].items()
                       if not wire.is_transparency_key(k)}
            s, e = view.details_span
            data = data[:s] + wire.encode(conn.serializer, details) + data[e:]
        if data is unit.message:
            return unit
        self.applied += 1
        return _reframe(conn, unit, data)

    def _write_log(self, conn, direction, view):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        if view.ciphertext is not None:
            content = f"payload={view.ciphertext.hex()}"
        else:
            args_index = wire.PAYLOAD_LAYOUT[view.code][1]
            content = f"args={view.message[args_index:]!r}"
        self._log.write(f"{stamp} trace relay {conn.label()} {direction} "
                        f"{wire.message_name(view.code)} uri={view.uri} {content}\n")
        self._log.flush()
        self.applied += 1
