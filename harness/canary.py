"""Canaries and the scanners that look for them (and for ciphertext) in any encoding.

A canary is a fresh random string placed in a plaintext before it is encrypted. If the
router (or anything between the clients and the router) ever shows it, in any encoding,
the payload leaked. Two shapes per message: an ASCII token and a non-ASCII token (so a
JSON ``\\uXXXX`` escaped form differs from the raw form).

Rather than generate every encoding of every canary and search for each (thousands of
patterns over megabytes), a haystack is decoded into its candidate forms once -- raw,
JSON ``\\u``-unescaped, ``\\x``-unescaped, every hex run (lower, upper, mixed, both
nibble alignments) and every base64 / base64url run at all four character offsets,
which covers the three byte alignments of the canary inside the encoded data -- and the
canaries' fixed markers are searched in those forms.
"""

import base64
import binascii
import re
import secrets

ASCII_MARK = "cnry"
ASCII_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
ASCII_LENGTH = 20
UNICODE_MARK = "\u0416"  # CYRILLIC CAPITAL LETTER ZHE
UNICODE_ALPHABET = "".join(chr(c) for c in range(0x3B1, 0x3CA) if c != 0x3C2)  # Greek
UNICODE_LENGTH = 10
PROBE_MARK = "prbe"

CHUNK = 12  # ciphertext is searched as 12-byte chunks (any 24-byte excerpt holds one)


def _token(alphabet, length):
    return "".join(secrets.choice(alphabet) for _ in range(length))


def ascii_canary():
    return ASCII_MARK + _token(ASCII_ALPHABET, ASCII_LENGTH)


def unicode_canary():
    return UNICODE_MARK + _token(UNICODE_ALPHABET, UNICODE_LENGTH)


def probe_marker():
    """A marker for deliberate plaintext (negative probes): may reach the router, never
    a receiver or a log."""
    return PROBE_MARK + _token(ASCII_ALPHABET, ASCII_LENGTH)


_HEX_RUN = re.compile(rb"[0-9a-fA-F]{16,}")
_B64_RUN = re.compile(rb"[A-Za-z0-9+/]{12,}={0,2}")
_B64URL_RUN = re.compile(rb"[A-Za-z0-9_-]{12,}={0,2}")
_U_ESCAPE = re.compile(rb"(?:\\u[0-9a-fA-F]{4})+")
_X_ESCAPE = re.compile(rb"(?:\\x[0-9a-fA-F]{2})+")


def _unescape_u(match):
    text = match.group(0).decode("ascii")
    units = [int(text[i + 2:i + 6], 16) for i in range(0, len(text), 6)]
    raw = b"".join(u.to_bytes(2, "big") for u in units)
    return raw.decode("utf-16-be", errors="replace").encode("utf-8", errors="replace")


def _unescape_x(match):
    text = match.group(0).decode("ascii")
    return bytes(int(text[i + 2:i + 4], 16) for i in range(0, len(text), 4))


def decoded_forms(haystack):
    """Yield (encoding name, offset in haystack, decoded bytes) for every form in which a
    secret could hide in ``haystack``."""
    haystack = bytes(haystack)
    yield "raw", 0, haystack
    if b"\\u" in haystack:
        yield "JSON \\u-escaped", 0, _U_ESCAPE.sub(_unescape_u, haystack)
    if b"\\x" in haystack:
        yield "\\x-escaped", 0, _X_ESCAPE.sub(_unescape_x, haystack)
    for m in _HEX_RUN.finditer(haystack):
        run = m.group(0)
        for shift in (0, 1):
            part = run[shift:]
            part = part[:len(part) - len(part) % 2]
            yield "hex", m.start(), binascii.unhexlify(part)
    for name, pattern, altchars in (("base64", _B64_RUN, None),
                                    ("base64url", _B64URL_RUN, b"-_")):
        for m in pattern.finditer(haystack):
            run = m.group(0).rstrip(b"=")
            for shift in range(4):
                part = run[shift:]
                part = part[:len(part) - len(part) % 4]
                if not part:
                    continue
                try:
                    yield name, m.start(), base64.b64decode(part, altchars=altchars)
                except (binascii.Error, ValueError):
                    pass


class Hit:
    __slots__ = ("owner", "secret", "encoding", "offset")

    def __init__(self, owner, secret, encoding, offset):
        self.owner = owner
        self.secret = secret
        self.encoding = encoding
        self.offset = offset


class SecretScanner:
    """Finds canaries / probe markers (by their fixed marks) and ciphertext (by 12-byte
    chunks) in any form ``decoded_forms`` produces."""

    def __init__(self):
        self.tokens = {}      # utf-8 bytes of a canary or marker -> owner
        self.token_marks = {}  # mark bytes -> token length in bytes
        self.chunks = {}      # 12-byte chunk of a ciphertext -> owner

    def add_token(self, token, owner):
        raw = token.encode("utf-8")
        for mark in (ASCII_MARK, UNICODE_MARK, PROBE_MARK):
            if token.startswith(mark):
                self.token_marks[mark.encode("utf-8")] = len(raw)
                break
        else:
            raise ValueError(f"token {token!r} has no known mark")
        self.tokens[raw] = owner

    def add_ciphertext(self, ciphertext, owner):
        for i in range(0, len(ciphertext) - CHUNK + 1, CHUNK):
            self.chunks.setdefault(bytes(ciphertext[i:i + CHUNK]), owner)

    def __bool__(self):
        return bool(self.tokens or self.chunks)

    def scan(self, haystack, find_tokens=True, find_ciphertext=True, limit=20):
        hits, seen = [], set()
        for encoding, offset, form in decoded_forms(haystack):
            if find_tokens:
                for mark, length in self.token_marks.items():
                    i = form.find(mark)
                    while i >= 0:
                        token = form[i:i + length]
                        if token in self.tokens and (token, encoding) not in seen:
                            seen.add((token, encoding))
                            hits.append(Hit(self.tokens[token], token.decode("utf-8", "replace"),
                                            encoding, offset if encoding != "raw" else i))
                        i = form.find(mark, i + 1)
            if find_ciphertext and self.chunks and len(form) >= CHUNK:
                chunks = self.chunks
                for i in range(len(form) - CHUNK + 1):
                    piece = form[i:i + CHUNK]
                    if piece in chunks and (piece, encoding) not in seen:
                        seen.add((piece, encoding))
                        hits.append(Hit(chunks[piece], "ciphertext", encoding,
                                        offset if encoding != "raw" else i))
                        break
            if len(hits) >= limit:
                break
        return hits
