"""The metadata exposure report: what the router could still see (shared/E2E.md §6).

Built from the relay's capture -- exactly the messages the router received and sent --
so it lists what any operator of the router could learn in this run: realms, URIs and how
each was used, session ids, authids and roles, message kinds and counts, payload sizes
and timing per session.
"""

import statistics

from . import wire
from .relay import FROM_ROUTER, TO_ROUTER

URI_USES = {wire.PUBLISH: "publish", wire.SUBSCRIBE: "subscribe", wire.CALL: "call",
            wire.REGISTER: "register", wire.EVENT: "event", wire.INVOCATION: "invocation",
            wire.ERROR: "error"}


def build(connections, t0):
    realms = {}
    sessions = []
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
            if realm is not None and uri and msg[0] in URI_USES:
                uses = realms.setdefault(realm, {"uris": {}, "authids": set(), "sessions": 0})["uris"]
                use = uses.setdefault(uri, {})
                use[URI_USES[msg[0]]] = use.get(URI_USES[msg[0]], 0) + 1
        for record, view in conn.payloads():
            if view.ciphertext is not None and record.direction == TO_ROUTER:
                sizes.append(len(view.ciphertext))
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
    return {"realms": realms, "sessions": sessions}


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
    return lines
