"""The metadata exposure report: what the router could still see (docs/blindness-audit.md,
"Metadata exposure").

Built from the relay's capture -- exactly the messages the router received and sent --
so it lists what any operator of the router could learn in this run: realms, URIs and how
each was used, session ids, authids and roles, message kinds and counts, payload sizes
and timing per session.
"""

import math
import statistics
from urllib.parse import unquote

from . import scrambling, wire
from .relay import FROM_ROUTER, TO_ROUTER

URI_USES = {wire.PUBLISH: "publish", wire.SUBSCRIBE: "subscribe", wire.CALL: "call",
            wire.REGISTER: "register", wire.EVENT: "event", wire.INVOCATION: "invocation",
            wire.ERROR: "error"}


# Ciphertexts below this size share one bucket: a padding floor smaller than a key is moot.
MIN_BUCKET = 64


def bucket_of(size):
    """The power-of-two size bucket (its upper bound in bytes) a payload size falls in."""
    return max(MIN_BUCKET, 1 << max(0, size - 1).bit_length())


def _entropy_bits(values):
    n = len(values)
    counts = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return round(-sum(c / n * math.log2(c / n) for c in counts.values()), 2) if n else 0.0


def _singled_out(samples, key):
    """How many messages have a size (after ``key``) that only one URI's messages have:
    for those, the size alone tells an observer the topic / procedure."""
    uris_of = {}
    for uri, size in samples:
        uris_of.setdefault(key(size), set()).add(uri)
    if len({uri for uri, _ in samples}) < 2:
        return 0   # one URI: sizes cannot tell URIs apart
    return sum(1 for uri, size in samples if len(uris_of[key(size)]) == 1)


def size_exposure(samples):
    """What payload lengths reveal. ``samples``: [(uri, ciphertext length)] of every
    encrypted payload the router received, the URI being the topic / procedure it was
    routed by."""
    sizes = [size for _, size in samples]
    per_size = {}
    for size in sizes:
        per_size[size] = per_size.get(size, 0) + 1
    buckets = {}
    for size in sizes:
        buckets[bucket_of(size)] = buckets.get(bucket_of(size), 0) + 1
    padded = sum(bucket_of(size) for size in sizes)
    found = {
        "payloads": len(sizes),
        "uris": len({uri for uri, _ in samples}),
        "distinct_sizes": len(per_size),
        "unique_size_messages": sum(1 for size in sizes if per_size[size] == 1),
        "size_entropy_bits": _entropy_bits(sizes),
        "buckets": {str(upper): buckets[upper] for upper in sorted(buckets)},
        "bucket_entropy_bits": _entropy_bits([bucket_of(size) for size in sizes]),
        "size_identifies_uri": _singled_out(samples, lambda size: size),
        "bucket_identifies_uri": _singled_out(samples, bucket_of),
        "padding_overhead_percent": round(100 * (padded - sum(sizes)) / sum(sizes), 1) if sizes else 0.0,
    }
    found["padding_suggestion"] = _padding_suggestion(found)
    return found


def _padding_suggestion(found):
    if not found["size_identifies_uri"] and found["unique_size_messages"] == 0:
        return None
    after = ("sizes would then single out none" if not found["bucket_identifies_uri"] else
             f"sizes would still single out {found['bucket_identifies_uri']} (for those, pad "
             f"every payload that may share their URIs' audience to one common size)")
    return (f"pad each plaintext so its ciphertext fills a power-of-two bucket (at least "
            f"{MIN_BUCKET} B): {found['distinct_sizes']} distinct sizes become "
            f"{len(found['buckets'])} buckets ({found['size_entropy_bits']} -> "
            f"{found['bucket_entropy_bits']} bits per message); of the "
            f"{found['size_identifies_uri']} messages whose exact size singles out their "
            f"topic / procedure, {after}; it costs {found['padding_overhead_percent']}% more "
            f"payload bytes. Pad inside the encryption (the ciphertext length is what shows).")


def _routing_uris(conn):
    """{id(record): URI} for the YIELDs and callee ERRORs of ``conn``: the procedure the
    router knows each one answers (REGISTER -> REGISTERED -> INVOCATION -> reply)."""
    requested, registered, invoked, found = {}, {}, {}, {}
    for record, msg in conn.messages():
        if not isinstance(msg, list) or len(msg) < 3:
            continue
        code = msg[0]
        if code == wire.REGISTER and len(msg) > 3:
            requested[msg[1]] = msg[3]
        elif code == wire.REGISTERED:
            registered[msg[2]] = requested.get(msg[1])
        elif code == wire.INVOCATION and len(msg) > 3 and isinstance(msg[3], dict):
            invoked[msg[1]] = msg[3].get("procedure") or registered.get(msg[2])
        elif code == wire.YIELD:
            found[id(record)] = invoked.get(msg[1])
        elif code == wire.ERROR and msg[1] == wire.INVOCATION:
            found[id(record)] = invoked.get(msg[2])
    return found


NOT_HIDDEN = ("which messages share a URI (and which URIs share their first components)",
              "payload sizes", "timing", "who talks to whom")


def _name_view(uses, scrambler):
    """What the URIs ``uses`` [(uri as on the wire)] tell a reader, scrambled or not."""
    readable = set()
    for uri in uses:
        readable.update(scrambling.readable_components(uri, scrambler))
    application = [u for u in uses if scrambling.is_application_uri(u)]
    return {"readable_components": sorted(readable), "application_uris": len(set(application)),
            "uri_bytes": sum(len(u.encode("utf-8")) for u in application)}


def uri_names(uses, scrambler):
    """Readable URI components, distinct URIs and URI bytes as the router saw them; with
    --scramble, side by side with the same run's URIs unscrambled (the harness knows them)."""
    found = {"scrambled": scrambler is not None, "operator_sees": _name_view(uses, scrambler),
             "not_hidden": list(NOT_HIDDEN)}
    if scrambler is not None:
        found["public_prefixes"] = list(scrambler.public)
        found["without_scrambling"] = _name_view([scrambler.unscramble(u) for u in uses], None)
    return found


def _subject_uri(subject):
    """(realm, URI) of an event subject ``br.<realm>.e.<components>`` (blindrouter's subject map:
    a component other than [A-Za-z0-9_-]+ is ``~`` and the hex of its bytes), else None."""
    tokens = subject.split(".")
    if len(tokens) < 4 or tokens[0] != "br" or tokens[2] != "e":
        return None

    def plain(token):
        if token.startswith("~"):
            try:
                return bytes.fromhex(token[1:]).decode("utf-8", errors="replace")
            except ValueError:
                return token
        return token
    return plain(tokens[1]), ".".join(plain(t) for t in tokens[3:])


# Headers whose values are identities or message facts an observer can collect.
NATS_IDENTITY_HEADERS = ("Br-Sess", "Br-Authid", "Br-Authrole", "Br-Node", "Br-Ser", "Br-Disclose")


def nats_observer(tap, scrambler=None):
    """What the NATS cluster of a clustered router sees (--nats): subjects (URIs), the
    envelope headers, and each sender's frame (routing fields readable, payload sealed)."""
    messages = tap.router_messages()
    uris, header_values, sizes = {}, {}, []
    for m in messages:
        found = _subject_uri(m.subject)
        if found is not None:
            realm, uri = found
            uris.setdefault(realm, {}).setdefault(uri, 0)
            uris[realm][uri] += 1
        for name, value in m.header_values().items():
            # Values are percent-encoded on the wire (client strings may hold anything);
            # those that may be empty carry a leading '=' mark (cluster/envelope.hpp).
            header_values.setdefault(name, set()).add(unquote(value[1:] if value.startswith("=") else value))
        sizes.append(len(m.body))
    readable = set()
    for realm_uris in uris.values():
        for uri in realm_uris:
            readable.update(scrambling.readable_components(uri, scrambler))
    return {
        "observer": "NATS cluster",
        "where": f"{tap.host}:{tap.port} (a subscriber on '>' sees what every server of the cluster carries)",
        "messages": len(messages),
        "other_messages": len(tap.messages) - len(messages),
        "bytes": sum(sizes),
        "uris_in_subjects": {realm: dict(sorted(u.items())) for realm, u in sorted(uris.items())},
        "readable_uri_components": len(readable),
        "headers": {name: len(values) for name, values in sorted(header_values.items())},
        "identities": {name: sorted(header_values.get(name, ()))[:20] for name in NATS_IDENTITY_HEADERS
                       if name in header_values and name != "Br-Sess"},
        "sessions": len(header_values.get("Br-Sess", ())),
        "body_bytes_min": min(sizes) if sizes else None,
        "body_bytes_max": max(sizes) if sizes else None,
        "sees": ["each publication's topic (in the subject) and realm", "the publisher's session id, authid "
                 "and authrole, its node and serializer (headers)", "the whole PUBLISH frame: options "
                 "and topic readable, the payload as the router sees it (encrypted)",
                 "sizes and timing of every cross-node publication"]
        + (["the router's meta events (wamp.session.on_join: authid, role, transport and peer address) "
            "like any publication"] if any(realm_uris.get(u) for realm_uris in uris.values()
                                           for u in realm_uris if u.startswith("wamp.")) else []),
    }


def build(connections, t0, scrambler=None, tap=None):
    realms = {}
    uses_seen = []
    sessions = []
    samples = []
    for conn in connections:
        hello, welcome = conn.hello(), conn.welcome()
        realm = hello[1] if hello and len(hello) > 1 else None
        details = welcome[2] if welcome and len(welcome) > 2 and isinstance(welcome[2], dict) else {}
        counts = {TO_ROUTER: {}, FROM_ROUTER: {}}
        sizes, times = [], []
        for record, msg in conn.messages():
            name = wire.message_name(msg[0]) if isinstance(msg, list) and msg else "undecodable"
            counts[record.direction][name] = counts[record.direction].get(name, 0) + 1
            times.append(record.t)
            uri = wire.message_uri(msg) if isinstance(msg, list) else None
            if isinstance(uri, str) and msg[0] in URI_USES:
                uses_seen.append(uri)
            if realm is not None and uri and msg[0] in URI_USES:
                uses = realms.setdefault(realm, {"uris": {}, "authids": set(), "sessions": 0})["uris"]
                use = uses.setdefault(uri, {})
                use[URI_USES[msg[0]]] = use.get(URI_USES[msg[0]], 0) + 1
        replies = _routing_uris(conn)
        for record, view in conn.payloads():
            if view.ciphertext is not None and record.direction == TO_ROUTER:
                sizes.append(len(view.ciphertext))
                uri = replies.get(id(record)) or view.uri
                samples.append((uri or f"(unknown {wire.message_name(view.code)})", len(view.ciphertext)))
        if realm is not None:
            entry = realms.setdefault(realm, {"uris": {}, "authids": set(), "sessions": 0})
            entry["sessions"] += 1
            if details.get("authid"):
                entry["authids"].add(details["authid"])
        gaps = [b - a for a, b in zip(times, times[1:])]
        sessions.append({
            "connection": conn.id,
            "listener": conn.listener,
            "protocol": conn.protocol,
            "serializer": conn.serializer,
            "realm": realm,
            "session": welcome[1] if welcome and len(welcome) > 1 else None,
            "authid": details.get("authid"),
            "authrole": details.get("authrole"),
            "authmethod": details.get("authmethod"),
            "opened_s": round(conn.t_open - t0, 3),
            "duration_s": round(((conn.t_close or (times[-1] if times else conn.t_open)) - conn.t_open), 3),
            "messages_to_router": counts[TO_ROUTER],
            "messages_from_router": counts[FROM_ROUTER],
            "bytes_to_router": len(conn.raw[TO_ROUTER]),
            "bytes_from_router": len(conn.raw[FROM_ROUTER]),
            "payloads_sent": len(sizes),
            "payload_bytes_min": min(sizes) if sizes else None,
            "payload_bytes_max": max(sizes) if sizes else None,
            "payload_bytes_mean": round(statistics.mean(sizes), 1) if sizes else None,
            "mean_gap_ms": round(1000 * statistics.mean(gaps), 2) if gaps else None,
        })
    for entry in realms.values():
        entry["authids"] = sorted(entry["authids"])
    found = {"realms": realms, "sessions": sessions, "payload_sizes": size_exposure(samples),
             "uri_names": uri_names(uses_seen, scrambler),
             "observers": [{"observer": "router", "where": "the relay's capture of every client connection",
                            "sees": ["everything above"]}]}
    if tap is not None:
        found["observers"].append(nats_observer(tap, scrambler))
    return found


def summary_lines(exposure, max_uris=12, max_sessions=12):
    lines = ["Metadata exposure -- what the router could still see (routing data is not encrypted):"]
    for realm, entry in sorted(exposure["realms"].items()):
        uris = entry["uris"]
        lines.append(f"  realm {realm}: {entry['sessions']} sessions, {len(entry['authids'])} authids, "
                     f"{len(uris)} URIs")
        if entry["authids"]:
            shown = ", ".join(entry["authids"][:6])
            more = f", ... (+{len(entry['authids']) - 6})" if len(entry["authids"]) > 6 else ""
            lines.append(f"    authids: {shown}{more}")
        for uri in sorted(uris, key=lambda u: -sum(uris[u].values()))[:max_uris]:
            uses = ", ".join(f"{k} {v}" for k, v in sorted(uris[uri].items()))
            lines.append(f"    {uri}: {uses}")
        if len(uris) > max_uris:
            lines.append(f"    ... {len(uris) - max_uris} more URIs in the JSON report")
    lines.append("  sessions (messages in/out, bytes in/out, payload sizes min/mean/max, mean gap):")
    for s in exposure["sessions"][:max_sessions]:
        sent = sum(s["messages_to_router"].values())
        got = sum(s["messages_from_router"].values())
        sizes = (f"{s['payload_bytes_min']}/{s['payload_bytes_mean']}/{s['payload_bytes_max']} B"
                 if s["payloads_sent"] else "no payloads")
        lines.append(f"    session {s['session']} {s['authid'] or '-'} ({s['authrole'] or '-'}) "
                     f"{s['protocol']}/{s['serializer']} on {s['listener']}: {sent}/{got} msgs, "
                     f"{s['bytes_to_router']}/{s['bytes_from_router']} B, {sizes}, "
                     f"gap {s['mean_gap_ms']} ms, {s['duration_s']} s")
    if len(exposure["sessions"]) > max_sessions:
        lines.append(f"    ... {len(exposure['sessions']) - max_sessions} more sessions in the JSON report")
    return lines + size_lines(exposure["payload_sizes"]) + name_lines(exposure["uri_names"]) + \
        observer_lines(exposure.get("observers", []))


def observer_lines(observers, max_uris=8):
    lines = ["  observers: " + ", ".join(o["observer"] for o in observers)]
    for o in observers:
        if o["observer"] != "NATS cluster":
            continue
        lines.append(f"  NATS cluster ({o['where']}): {o['messages']} router messages, {o['bytes']} body bytes "
                     f"(bodies {o['body_bytes_min']}..{o['body_bytes_max']} B), {o['sessions']} publisher "
                     f"session ids, {o['readable_uri_components']} readable URI components")
        for realm, uris in o["uris_in_subjects"].items():
            shown = sorted(uris, key=lambda u: -uris[u])[:max_uris]
            more = f", ... (+{len(uris) - max_uris})" if len(uris) > max_uris else ""
            lines.append(f"    realm {realm}, URIs in subjects: " + ", ".join(f"{u} ({uris[u]})" for u in shown) + more)
        for name, values in o["identities"].items():
            lines.append(f"    header {name}: " + ", ".join(values[:6]) + (" ..." if len(values) > 6 else ""))
        lines.append("    sees: " + "; ".join(o["sees"]))
    return lines


def _components(view, shown=8):
    words = view["readable_components"]
    more = f", ... (+{len(words) - shown})" if len(words) > shown else ""
    return f"{len(words)}" + (f" ({', '.join(words[:shown])}{more})" if words else "")


def name_lines(names):
    seen = names["operator_sees"]
    not_hidden = ", ".join(names["not_hidden"])
    if not names["scrambled"]:
        return [f"  URI names: {_components(seen)} readable components in "
                f"{seen['application_uris']} application URIs; --scramble would hide the names, "
                f"not {not_hidden}"]
    plain = names["without_scrambling"]
    public = ", ".join(names["public_prefixes"]) or "none"
    return [
        "  URI names, scrambled (--scramble) | the same run's URIs unscrambled:",
        f"    readable URI components:   {_components(seen)} | {_components(plain)}"
        f"   (kept readable: wamp.*, the router's error URIs, public prefixes: {public})",
        f"    distinct application URIs: {seen['application_uris']} | {plain['application_uris']}"
        f"   (scrambling keeps which messages share a URI)",
        f"    URI bytes in messages:     {seen['uri_bytes']} | {plain['uri_bytes']}",
        "    payload sizes and timing:  the same (above): scrambling changes names only",
        f"    not hidden by scrambling:  {not_hidden}",
    ]


def size_lines(sizes):
    if not sizes["payloads"]:
        return ["  payload sizes: no encrypted payload"]
    buckets = ", ".join(f"<={_bytes(int(upper))}: {n}" for upper, n in sizes["buckets"].items())
    lines = [f"  payload sizes: {sizes['payloads']} encrypted payloads on {sizes['uris']} URIs, "
             f"{sizes['distinct_sizes']} distinct sizes ({sizes['size_entropy_bits']} bits), "
             f"{sizes['unique_size_messages']} with a size no other payload has",
             f"    per size bucket: {buckets}",
             f"    the exact size singles out the topic / procedure of "
             f"{sizes['size_identifies_uri']} of {sizes['payloads']} payloads (the bucket: "
             f"{sizes['bucket_identifies_uri']})"]
    if sizes["padding_suggestion"]:
        lines.append(f"    padding suggestion: {sizes['padding_suggestion']}")
    return lines


def _bytes(n):
    return f"{n // 1024} KiB" if n >= 1024 and n % 1024 == 0 else f"{n} B"
