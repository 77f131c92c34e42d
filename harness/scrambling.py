"""``--scramble``: the harness's clients scramble every application URI (README.md, "URI
scrambling"; docs/blindness-audit.md, rule S1) with clients/python/wamp_uri_scramble.py,
and the run checks that no readable application URI component reaches the router.

The run's id is a URI component of every application URI; in its readable form it is the
marker searched in every byte to and from the router (meta events and meta procedure
results included), in the router's logs and in its metrics.
"""

import os
import sys

from . import wire
from .results import Result

# URIs the router itself names (its error URIs): not an application's, never scrambled.
ROUTER_PREFIXES = ("wamp.", "blindrouter.")


def load():
    """The scrambling module: installed (``pip install ./clients/python``), or from the
    checkout this harness runs from."""
    try:
        import wamp_uri_scramble
    except ImportError:
        checkout = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(__file__))),
                                "clients", "python")
        if not os.path.isfile(os.path.join(checkout, "wamp_uri_scramble.py")):
            raise RuntimeError("--scramble needs the wamp-uri-scramble package "
                               "(pip install ./clients/python)") from None
        sys.path.insert(0, checkout)
        import wamp_uri_scramble
    return wamp_uri_scramble


def make_scrambler(key_hex, public):
    module = load()
    key = bytes.fromhex(key_hex) if key_hex else module.generate_key()
    return module.UriScrambler(key, public=[p if p.endswith(".") else p + "." for p in public if p])


def is_application_uri(uri):
    return isinstance(uri, str) and bool(uri) and not uri.startswith(ROUTER_PREFIXES)


def readable_components(uri, scrambler):
    """The components of an application ``uri`` an operator reads as they were written:
    all of them without scrambling, else those neither scrambled nor in a public prefix."""
    if not is_application_uri(uri):
        return []
    parts = uri.split(".")
    if scrambler is None:
        return [p for p in parts if p]
    public = next((len(p.split(".")) - 1 for p in scrambler.public if uri.startswith(p)), 0)
    return [p for i, p in enumerate(parts) if p and i >= public and not scrambler.is_scrambled(i, p)]


def _result(name, failed, message):
    return Result("scramble", name, "fail" if failed else "pass", message if failed else "")


def check(connections, log_files, metrics, scrambler, marker):
    """Rule S1's results: no readable application URI component on the wire, and the run's
    readable marker nowhere the router sends, logs or exposes."""
    results = []
    readable = {}
    for conn in connections:
        for record, msg in conn.messages():
            uri = wire.message_uri(msg) if isinstance(msg, list) else None
            for part in readable_components(uri, scrambler):
                readable.setdefault(part, f"{wire.message_name(msg[0])} {uri} on {conn.label()}")
    shown = "; ".join(f"{part!r} in {where}" for part, where in list(readable.items())[:5])
    results.append(_result("URIs on the wire", readable,
                           f"READABLE URI: {len(readable)} readable component(s): {shown}"))
    needle = marker.encode("ascii")
    hits = [f"{conn.label()} {direction}" for conn in connections
            for direction, data in conn.raw.items() if needle in bytes(data)]
    results.append(_result("bytes to and from the router", hits,
                           f"READABLE URI: the run's URI component {marker} in {', '.join(hits[:5])}"))
    for label, path in log_files:
        try:
            with open(path, "rb") as f:
                found = needle in f.read()
        except OSError as e:
            results.append(Result("scramble", label, "fail", f"cannot read {path}: {e}"))
            continue
        results.append(_result(label, found, f"READABLE URI: the run's URI component {marker} in {label}"))
    if metrics is not None:
        results.append(_result("metrics", needle in metrics,
                               f"READABLE URI: the run's URI component {marker} in the metrics"))
    return results
