"""Client-side URI scrambling for WAMP: the router routes by names it cannot read.

Each URI component becomes a keyed hash: libsodium's generic hash (BLAKE2b, through
PyNaCl) keyed with a scrambling key that every client of the application holds and the
router never gets, over ``"<position>:<component>"``, truncated to ``HASH_BYTES`` and
written as lowercase hex (a valid strict WAMP URI component). Scrambling is
component-wise and fixed-length, so a prefix subscription or registration on
``com.example.`` still matches every URI under it, and a wildcard's empty components stay
empty. The position is hashed in, so a word means something else at another depth, and
nothing but the position, so wildcards keep working.

Not scrambled: URIs under a ``keep`` prefix (default ``wamp.``: the meta API and the
spec's error URIs, which the router itself serves and raises), and the components of a
``public`` prefix (for instance the prefix a router's authorization rules or
``require_encryption`` permission names in readable form); what follows a public prefix
is scrambled. Payloads are untouched: cryptobox (set the key ring's keys on the
scrambled prefix) and the spec's ``ppt_*`` form encrypt exactly as before.

What scrambling does not hide: that two messages use the same URI (or share its first
components), sizes, timing, and who talks to whom. See README.md, "URI scrambling".
This module needs PyNaCl only; AutobahnJS users have clients/js/uri-scramble.js, which
scrambles identically.
"""

import argparse
import sys

import nacl.encoding
import nacl.hash
import nacl.utils

# 80 bits: among n distinct components at one position two collide with odds about
# n^2 / 2^81 (1e6 components: 4e-13). A collision makes two names one URI to the router.
HASH_BYTES = 10
# libsodium's crypto_generichash output floor (crypto_generichash_BYTES_MIN); the first
# HASH_BYTES of it are kept.
_DIGEST_BYTES = 16
KEY_BYTES = 32
DEFAULT_KEEP = ("wamp.",)


def generate_key():
    """A fresh random scrambling key (share it with the application's clients only)."""
    return nacl.utils.random(KEY_BYTES)


class UriScrambler:
    def __init__(self, key, keep=DEFAULT_KEEP, public=()):
        key = bytes.fromhex(key) if isinstance(key, str) else bytes(key)
        if len(key) != KEY_BYTES:
            raise ValueError(f"the scrambling key must be {KEY_BYTES} bytes")
        self._key = key
        self.keep = tuple(keep)
        self.public = tuple(public)
        for prefix in self.public:
            if not prefix.endswith("."):
                raise ValueError(f"public prefix {prefix!r} must end with '.'")
        self._plain = {}    # (position, scrambled component) -> component

    def component(self, position, text):
        """The scrambled form of component ``text`` at ``position`` (0 = first)."""
        digest = nacl.hash.blake2b(f"{position}:{text}".encode("utf-8"), digest_size=_DIGEST_BYTES,
                                   key=self._key, encoder=nacl.encoding.RawEncoder)
        hashed = digest[:HASH_BYTES].hex()
        self._plain[(position, hashed)] = text
        return hashed

    def scramble(self, uri, match="exact"):
        """The scrambled URI (``match`` ``exact``), prefix (``prefix``: a prefix that stops
        inside a component matches only that whole component) or pattern (``wildcard``:
        empty components stay empty) for a SUBSCRIBE / REGISTER with that match policy."""
        if uri.startswith(self.keep):
            return uri
        readable = next((len(p.split(".")) - 1 for p in self.public if uri.startswith(p)), 0)
        parts = uri.split(".")
        out = []
        for position, text in enumerate(parts):
            if position < readable or (text == "" and (match == "wildcard" or
                                                       (match == "prefix" and position == len(parts) - 1))):
                out.append(text)
            elif text == "":
                raise ValueError(f"empty component in {match} URI {uri!r}")
            else:
                out.append(self.component(position, text))
        return ".".join(out)

    def uri(self, uri):
        return self.scramble(uri, "exact")

    def prefix(self, prefix):
        return self.scramble(prefix, "prefix")

    def wildcard(self, pattern):
        return self.scramble(pattern, "wildcard")

    def unscramble(self, uri):
        """``uri`` with every component this scrambler produced made readable again
        (the concrete topic of an EVENT through a pattern subscription, an error URI);
        components it never produced stay as they are."""
        return ".".join(self._plain.get((i, text), text) for i, text in enumerate(uri.split(".")))

    def is_scrambled(self, position, text):
        """Whether ``text`` at ``position`` is a component this scrambler produced."""
        return (position, text) in self._plain


class ScrambledSession:
    """An Autobahn|Python session whose publish / subscribe / call / register scramble
    the URI (and a pattern by its ``options.match``); everything else is the session's."""

    def __init__(self, session, scrambler):
        self.session = session
        self.scrambler = scrambler

    def _pattern(self, uri, options):
        return self.scrambler.scramble(uri, getattr(options, "match", None) or "exact")

    def publish(self, topic, *args, **kwargs):
        return self.session.publish(self.scrambler.uri(topic), *args, **kwargs)

    def call(self, procedure, *args, **kwargs):
        return self.session.call(self.scrambler.uri(procedure), *args, **kwargs)

    def subscribe(self, handler, topic, options=None):
        return self.session.subscribe(handler, self._pattern(topic, options), options=options)

    def register(self, endpoint, procedure, options=None):
        return self.session.register(endpoint, self._pattern(procedure, options), options=options)

    def __getattr__(self, name):
        return getattr(self.session, name)


def main(argv=None):
    """``scramble-uri``: the scrambled form of URIs, for the router's authorization rules."""
    parser = argparse.ArgumentParser(
        prog="scramble-uri", description="Print the scrambled form of WAMP URIs (one per line), "
        "e.g. for a permission's uri in the router's config. The key never goes to the router.")
    key = parser.add_mutually_exclusive_group(required=True)
    key.add_argument("--key", help=f"the scrambling key, {KEY_BYTES} bytes in hex")
    key.add_argument("--key-file", help="a file holding the key in hex")
    key.add_argument("--generate-key", action="store_true", help="print a new random key and exit")
    parser.add_argument("--match", choices=("exact", "prefix", "wildcard"), default="exact",
                        help="the match policy the URI is used with (default: %(default)s)")
    parser.add_argument("--public", action="append", default=[],
                        help="a URI prefix (ending with '.') whose components stay readable; repeatable")
    parser.add_argument("uri", nargs="*")
    args = parser.parse_args(argv)
    if args.generate_key:
        print(generate_key().hex())
        return 0
    if args.key_file:
        with open(args.key_file, encoding="ascii") as f:
            args.key = f.read().strip()
    try:
        scrambler = UriScrambler(args.key, public=args.public)
        for uri in args.uri:
            print(scrambler.scramble(uri, args.match))
    except ValueError as e:
        print(f"scramble-uri: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
