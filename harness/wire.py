"""WAMP serializers as the harness sees them on the wire.

Two jobs: encode/decode whole WAMP messages (for the harness's own raw client), and find
the exact byte range of each element of an encoded message without re-encoding anything
(``item_spans``). The second is what lets the harness compare the payload element a
recipient got with the one the sender put on the wire, byte for byte (docs/blindness-audit.md,
rule B6: the outgoing message carries the sender's encoded payload element as it arrived), and
lets the leak relay splice a changed element into a frame.

The span scanners are written by hand because no Debian-packaged library reports byte
offsets of decoded items (json, msgpack and cbor2 only return values).
"""

import base64
import json
import re

import cbor2
import msgpack

SERIALIZERS = ("json", "msgpack", "cbor")
WEBSOCKET_SUBPROTOCOLS = {"wamp.2.json": "json", "wamp.2.msgpack": "msgpack",
                          "wamp.2.cbor": "cbor"}
SUBPROTOCOL_OF = {v: k for k, v in WEBSOCKET_SUBPROTOCOLS.items()}
# RawSocket serializer ids (WAMP spec, "RawSocket Transport").
RAWSOCKET_SERIALIZER_IDS = {1: "json", 2: "msgpack", 3: "cbor"}
RAWSOCKET_ID_OF = {v: k for k, v in RAWSOCKET_SERIALIZER_IDS.items()}

# WAMP message codes (WAMP spec, "Message Codes and Direction").
HELLO, WELCOME, ABORT, GOODBYE, ERROR = 1, 2, 3, 6, 8
PUBLISH, PUBLISHED, SUBSCRIBE, SUBSCRIBED, UNSUBSCRIBE, UNSUBSCRIBED, EVENT = \
    16, 17, 32, 33, 34, 35, 36
CALL, RESULT, REGISTER, REGISTERED, UNREGISTER, UNREGISTERED, INVOCATION, YIELD = \
    48, 50, 64, 65, 66, 67, 68, 70

MESSAGE_NAMES = {
    HELLO: "HELLO", WELCOME: "WELCOME", ABORT: "ABORT", 4: "CHALLENGE", 5: "AUTHENTICATE",
    GOODBYE: "GOODBYE", ERROR: "ERROR", PUBLISH: "PUBLISH", PUBLISHED: "PUBLISHED",
    SUBSCRIBE: "SUBSCRIBE", SUBSCRIBED: "SUBSCRIBED", UNSUBSCRIBE: "UNSUBSCRIBE",
    UNSUBSCRIBED: "UNSUBSCRIBED", EVENT: "EVENT", CALL: "CALL", 49: "CANCEL",
    RESULT: "RESULT", REGISTER: "REGISTER", REGISTERED: "REGISTERED",
    UNREGISTER: "UNREGISTER", UNREGISTERED: "UNREGISTERED", INVOCATION: "INVOCATION",
    69: "INTERRUPT", YIELD: "YIELD",
}

# Messages that can carry a payload: code -> (index of Options/Details, index of Arguments).
PAYLOAD_LAYOUT = {
    PUBLISH: (2, 4), EVENT: (3, 4), CALL: (2, 4), INVOCATION: (3, 4),
    YIELD: (2, 3), RESULT: (2, 3), ERROR: (3, 5),
}


def message_name(code):
    return MESSAGE_NAMES.get(code, f"#{code}")


def is_transparency_key(key):
    return isinstance(key, str) and (key.startswith("enc_") or key.startswith("ppt_"))


# --------------------------------------------------------------------------------------
# Whole messages
# --------------------------------------------------------------------------------------

def _to_json_value(value):
    # WAMP spec, "Binary support in JSON": a NUL character followed by base64.
    if isinstance(value, (bytes, bytearray)):
        return "\x00" + base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (list, tuple)):
        return [_to_json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_json_value(v) for k, v in value.items()}
    return value


def _from_json_value(value):
    if isinstance(value, str):
        if value.startswith("\x00"):
            return base64.b64decode(value[1:])
        return value
    if isinstance(value, list):
        return [_from_json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _from_json_value(v) for k, v in value.items()}
    return value


def encode(serializer, message):
    if serializer == "json":
        return json.dumps(_to_json_value(message), separators=(",", ":"),
                          ensure_ascii=False).encode("utf-8")
    if serializer == "msgpack":
        return msgpack.packb(message, use_bin_type=True)
    if serializer == "cbor":
        return cbor2.dumps(message)
    raise ValueError(f"unknown serializer {serializer!r}")


def decode(serializer, data):
    if serializer == "json":
        return _from_json_value(json.loads(bytes(data).decode("utf-8")))
    if serializer == "msgpack":
        return msgpack.unpackb(bytes(data), raw=False, strict_map_key=False)
    if serializer == "cbor":
        return cbor2.loads(bytes(data))
    raise ValueError(f"unknown serializer {serializer!r}")


def decode_value(serializer, data):
    """One encoded element (as cut out by ``item_spans``) back to a value."""
    return decode(serializer, data)


# --------------------------------------------------------------------------------------
# Byte spans of array items
# --------------------------------------------------------------------------------------

_JSON_WS = b" \t\r\n"
_JSON_STRUCTURE = re.compile(rb'["\[\]{}]')
_JSON_SCALAR_END = re.compile(rb'[,\]}:\s]')


def _json_ws(data, i):
    while i < len(data) and data[i] in _JSON_WS:
        i += 1
    return i


def _json_skip(data, i):
    c = data[i]
    if c == 0x22:  # string: find the closing quote not preceded by an odd run of '\'
        i += 1
        while True:
            j = data.index(b'"', i)
            k, backslashes = j - 1, 0
            while data[k] == 0x5C:
                backslashes += 1
                k -= 1
            if backslashes % 2 == 0:
                return j + 1
            i = j + 1
    if c in (0x5B, 0x7B):  # [ or {
        depth = 0
        while True:
            m = _JSON_STRUCTURE.search(data, i)
            if m is None:
                raise ValueError("unterminated JSON container")
            i = m.start()
            c = data[i]
            if c == 0x22:
                i = _json_skip(data, i)
                continue
            depth += 1 if c in (0x5B, 0x7B) else -1
            i += 1
            if depth == 0:
                return i
    m = _JSON_SCALAR_END.search(data, i)
    return m.start() if m else len(data)


def _json_items(data, i):
    i = _json_ws(data, i)
    if data[i] != 0x5B:
        raise ValueError("not a JSON array")
    i = _json_ws(data, i + 1)
    spans = []
    if data[i] == 0x5D:
        return spans, i + 1
    while True:
        i = _json_ws(data, i)
        end = _json_skip(data, i)
        spans.append((i, end))
        i = _json_ws(data, end)
        if data[i] == 0x2C:
            i += 1
        elif data[i] == 0x5D:
            return spans, i + 1
        else:
            raise ValueError(f"unexpected byte {data[i]:#x} in JSON array")


_MSGPACK_FIXED = {0xca: 4, 0xcb: 8, 0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8, 0xd0: 1, 0xd1: 2,
                  0xd2: 4, 0xd3: 8, 0xd4: 2, 0xd5: 3, 0xd6: 5, 0xd7: 9, 0xd8: 17}
_MSGPACK_SIZED = {0xc4: 1, 0xc5: 2, 0xc6: 4, 0xd9: 1, 0xda: 2, 0xdb: 4}  # bin, str
_MSGPACK_EXT = {0xc7: 1, 0xc8: 2, 0xc9: 4}


def _uint(data, i, n):
    return int.from_bytes(data[i:i + n], "big")


def _msgpack_container(data, i):
    """(number of items to skip, position after the header) for an array or map at i."""
    b = data[i]
    if 0x90 <= b <= 0x9f:
        return b & 0x0f, i + 1
    if 0x80 <= b <= 0x8f:
        return 2 * (b & 0x0f), i + 1
    if b in (0xdc, 0xde):
        return _uint(data, i + 1, 2) * (2 if b == 0xde else 1), i + 3
    if b in (0xdd, 0xdf):
        return _uint(data, i + 1, 4) * (2 if b == 0xdf else 1), i + 5
    return None, i


def _msgpack_skip(data, i):
    b = data[i]
    if b <= 0x7f or b >= 0xe0 or b in (0xc0, 0xc2, 0xc3):
        return i + 1
    if 0xa0 <= b <= 0xbf:
        return i + 1 + (b & 0x1f)
    if b in _MSGPACK_FIXED:
        return i + 1 + _MSGPACK_FIXED[b]
    if b in _MSGPACK_SIZED:
        n = _MSGPACK_SIZED[b]
        return i + 1 + n + _uint(data, i + 1, n)
    if b in _MSGPACK_EXT:
        n = _MSGPACK_EXT[b]
        return i + 1 + n + 1 + _uint(data, i + 1, n)
    count, i = _msgpack_container(data, i)
    if count is None:
        raise ValueError(f"invalid MsgPack type byte {b:#x}")
    for _ in range(count):
        i = _msgpack_skip(data, i)
    return i


def _msgpack_items(data, i):
    b = data[i]
    if not (0x90 <= b <= 0x9f or b in (0xdc, 0xdd)):
        raise ValueError("not a MsgPack array")
    count, i = _msgpack_container(data, i)
    spans = []
    for _ in range(count):
        end = _msgpack_skip(data, i)
        spans.append((i, end))
        i = end
    return spans, i


def _cbor_head(data, i):
    """(major type, argument or None for indefinite length, position after the head)."""
    initial = data[i]
    major, info = initial >> 5, initial & 0x1f
    i += 1
    if info < 24:
        return major, info, i
    if info in (24, 25, 26, 27):
        n = 1 << (info - 24)
        return major, _uint(data, i, n), i + n
    if info == 31:
        return major, None, i
    raise ValueError(f"invalid CBOR initial byte {initial:#x}")


def _cbor_skip(data, i):
    major, arg, i = _cbor_head(data, i)
    if major in (0, 1, 7):
        return i
    if major == 6:  # tag: skip the tagged item
        return _cbor_skip(data, i)
    if arg is None:  # indefinite length: items (or chunks) until the break byte 0xff
        while data[i] != 0xff:
            i = _cbor_skip(data, i)
        return i + 1
    if major in (2, 3):
        return i + arg
    for _ in range(arg * (2 if major == 5 else 1)):
        i = _cbor_skip(data, i)
    return i


def _cbor_items(data, i):
    major, arg, i = _cbor_head(data, i)
    if major != 4:
        raise ValueError("not a CBOR array")
    spans = []
    while (arg is None and data[i] != 0xff) or (arg is not None and len(spans) < arg):
        end = _cbor_skip(data, i)
        spans.append((i, end))
        i = end
    return spans, (i + 1 if arg is None else i)


_ITEMS = {"json": _json_items, "msgpack": _msgpack_items, "cbor": _cbor_items}


def item_spans(serializer, data, start=0):
    """Byte ranges [(start, end), ...] of the items of the array encoded at ``start``."""
    spans, _ = _ITEMS[serializer](bytes(data), start)
    return spans


# --------------------------------------------------------------------------------------
# The payload of a message, as bytes on the wire
# --------------------------------------------------------------------------------------

class PayloadView:
    """Where a transparent payload sits in one encoded WAMP message.

    ``form`` is "legacy" (a binary element in place of Arguments), "spec" (Arguments is a
    list of exactly one binary item) or None for a message whose Arguments are ordinary
    values. ``ciphertext`` is the decoded binary, ``element`` the encoded bytes of the
    binary element exactly as they are in the frame, ``keys`` the enc_*/ppt_* entries of
    Options/Details.
    """

    __slots__ = ("code", "message", "form", "ciphertext", "element", "element_span",
                 "details_span", "keys", "uri")

    def __init__(self, code, message, form, ciphertext, element, element_span,
                 details_span, keys, uri):
        self.code = code
        self.message = message
        self.form = form
        self.ciphertext = ciphertext
        self.element = element
        self.element_span = element_span
        self.details_span = details_span
        self.keys = keys
        self.uri = uri


def message_uri(message):
    """The URI a message is about, where the message names one."""
    code = message[0] if message else None
    try:
        if code in (PUBLISH, SUBSCRIBE, CALL, REGISTER):
            return message[3]
        if code == ERROR:
            return message[4]
        if code in (EVENT, INVOCATION):
            details = message[3]
            return details.get("topic") or details.get("procedure")
    except (IndexError, AttributeError):
        return None
    return None


def payload_view(serializer, data, message=None):
    """The PayloadView of an encoded message, or None if it cannot carry a payload."""
    data = bytes(data)
    if message is None:
        message = decode(serializer, data)
    if not isinstance(message, list) or not message or message[0] not in PAYLOAD_LAYOUT:
        return None
    code = message[0]
    details_index, args_index = PAYLOAD_LAYOUT[code]
    if len(message) <= args_index:
        return None
    details = message[details_index] if isinstance(message[details_index], dict) else {}
    keys = {k: v for k, v in details.items() if is_transparency_key(k)}
    spans = item_spans(serializer, data)
    args = message[args_index]
    form = None
    ciphertext = element = element_span = None
    if isinstance(args, bytes):
        form, ciphertext, element_span = "legacy", args, spans[args_index]
    elif isinstance(args, list) and len(args) == 1 and isinstance(args[0], bytes):
        form, ciphertext = "spec", args[0]
        element_span = item_spans(serializer, data, spans[args_index][0])[0]
    if element_span is not None:
        element = data[element_span[0]:element_span[1]]
    return PayloadView(code, message, form, ciphertext, element, element_span,
                       spans[details_index], keys, message_uri(message))
