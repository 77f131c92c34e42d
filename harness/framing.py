"""WebSocket (RFC 6455) and WAMP RawSocket framing, incremental, for the relay and the
harness's raw client.

The relay must see every WAMP message in the clear to audit it: client-to-server
WebSocket frames are masked (RFC 6455 §5.3), so a scan of the raw TCP bytes alone would
miss a plaintext canary sent by a client that forgot to encrypt. Hence a real frame
parser rather than a byte copy. Written by hand because the Debian WebSocket libraries
(websocket-client, autobahn) parse frames only inside their own connection objects.
"""

import os
import struct

# RFC 6455 §5.2 opcodes.
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10

RAWSOCKET_MAGIC = 0x7F
# RawSocket frame types (WAMP spec, "RawSocket Transport", message framing).
RS_REGULAR, RS_PING, RS_PONG = 0, 1, 2


class Unit:
    """One piece of a byte stream: a handshake, an HTTP head, or a frame.

    ``raw`` is exactly the bytes on the wire; ``payload`` the unmasked frame payload
    (None for handshakes); ``message`` the complete WAMP message this frame finishes
    (reassembled from continuation frames where needed), or None.
    """

    __slots__ = ("kind", "raw", "opcode", "fin", "payload", "message")

    def __init__(self, kind, raw, opcode=None, fin=True, payload=None, message=None):
        self.kind = kind
        self.raw = raw
        self.opcode = opcode
        self.fin = fin
        self.payload = payload
        self.message = message


def mask_bytes(data, key):
    if not data:
        return b""
    repeated = (key * (len(data) // 4 + 1))[:len(data)]
    return (int.from_bytes(data, "big") ^ int.from_bytes(repeated, "big")).to_bytes(
        len(data), "big")


def build_ws_frame(opcode, payload, fin=True, mask=False):
    head = bytearray([(0x80 if fin else 0) | opcode])
    n = len(payload)
    mask_bit = 0x80 if mask else 0
    if n < 126:
        head.append(mask_bit | n)
    elif n < 65536:
        head.append(mask_bit | 126)
        head += struct.pack("!H", n)
    else:
        head.append(mask_bit | 127)
        head += struct.pack("!Q", n)
    if mask:
        key = os.urandom(4)
        return bytes(head) + key + mask_bytes(payload, key)
    return bytes(head) + payload


def parse_ws_frame(buf, start=0):
    """(Unit, end) for the frame at ``start`` in ``buf``, or (None, start) if incomplete."""
    if len(buf) - start < 2:
        return None, start
    b0, b1 = buf[start], buf[start + 1]
    n = b1 & 0x7f
    i = start + 2
    if n == 126:
        if len(buf) < i + 2:
            return None, start
        n = struct.unpack_from("!H", buf, i)[0]
        i += 2
    elif n == 127:
        if len(buf) < i + 8:
            return None, start
        n = struct.unpack_from("!Q", buf, i)[0]
        i += 8
    key = None
    if b1 & 0x80:
        if len(buf) < i + 4:
            return None, start
        key = bytes(buf[i:i + 4])
        i += 4
    if len(buf) < i + n:
        return None, start
    payload = bytes(buf[i:i + n])
    if key is not None:
        payload = mask_bytes(payload, key)
    unit = Unit("ws-frame", bytes(buf[start:i + n]), opcode=b0 & 0x0f, fin=bool(b0 & 0x80),
                payload=payload)
    return unit, i + n


def rawsocket_handshake(serializer_id, length_exponent=15):
    """The 4-octet RawSocket handshake (maximum message length 2**(9+exponent))."""
    return bytes([RAWSOCKET_MAGIC, (length_exponent << 4) | serializer_id, 0, 0])


def build_rs_frame(payload, frame_type=RS_REGULAR):
    return struct.pack("!I", (frame_type << 24) | len(payload)) + payload


def parse_rs_frame(buf, start=0):
    if len(buf) - start < 4:
        return None, start
    header = struct.unpack_from("!I", buf, start)[0]
    n = header & 0xFFFFFF
    if len(buf) - start - 4 < n:
        return None, start
    frame_type = (header >> 24) & 0x07
    payload = bytes(buf[start + 4:start + 4 + n])
    return Unit("rs-frame", bytes(buf[start:start + 4 + n]), opcode=frame_type,
                payload=payload), start + 4 + n


class StreamParser:
    """Cuts one direction of a relayed connection into Units.

    ``protocol`` is decided by the first octet the client sends (0x7F: RawSocket, as a
    universal transport does, else an HTTP upgrade to WebSocket). After a parse error the
    parser gives up and hands the remaining bytes through as one opaque unit.
    """

    def __init__(self, from_client):
        self.from_client = from_client
        self.protocol = None
        self.buf = bytearray()
        self.handshake_done = False
        self.failed = None
        self.fragments = []
        self.fragment_opcode = None

    def feed(self, data):
        self.buf += data
        units = []
        if self.failed:
            units.append(Unit("opaque", bytes(self.buf)))
            self.buf.clear()
            return units
        try:
            self._cut(units)
        except (ValueError, struct.error) as e:
            self.failed = f"unparseable stream: {e}"
            if self.buf:
                units.append(Unit("opaque", bytes(self.buf)))
                self.buf.clear()
        return units

    def _cut(self, units):
        while self.buf:
            if not self.handshake_done:
                if self.protocol is None:
                    self.protocol = "rawsocket" if self.buf[0] == RAWSOCKET_MAGIC else "websocket"
                if self.protocol == "rawsocket":
                    if len(self.buf) < 4:
                        return
                    units.append(Unit("rs-handshake", bytes(self.buf[:4])))
                    del self.buf[:4]
                else:
                    end = self.buf.find(b"\r\n\r\n")
                    if end < 0:
                        if len(self.buf) > 65536:
                            raise ValueError("HTTP head larger than 64 KiB")
                        return
                    units.append(Unit("http", bytes(self.buf[:end + 4])))
                    del self.buf[:end + 4]
                self.handshake_done = True
                continue
            if self.protocol == "rawsocket":
                unit, end = parse_rs_frame(self.buf)
                if unit is None:
                    return
                if unit.opcode == RS_REGULAR:
                    unit.message = unit.payload
            else:
                unit, end = parse_ws_frame(self.buf)
                if unit is None:
                    return
                self._reassemble(unit)
            del self.buf[:end]
            units.append(unit)

    def _reassemble(self, unit):
        if unit.opcode in (OP_TEXT, OP_BINARY):
            if unit.fin:
                unit.message = unit.payload
            else:
                self.fragments = [unit.payload]
                self.fragment_opcode = unit.opcode
        elif unit.opcode == OP_CONT and self.fragment_opcode is not None:
            self.fragments.append(unit.payload)
            if unit.fin:
                unit.message = b"".join(self.fragments)
                self.fragments, self.fragment_opcode = [], None


def http_header(head, name):
    """The value of header ``name`` in an HTTP head (bytes), or None."""
    for line in head.decode("latin-1").split("\r\n")[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            if k.strip().lower() == name.lower():
                return v.strip()
    return None
