"""The checks that read the ledger, the capture, the logs and the meta events after a run.

Failure messages start with an upper-case word naming the leak (LEAK, ALTERED,
RE-ENCODED, DROPPED DETAILS, UNEXPECTED DELIVERY, NOT DELIVERED) so a CI log says what
went wrong before it says where.
"""

from . import wire
from .relay import FROM_ROUTER, TO_ROUTER
from .results import E2E_EXCHANGES, Result

DIRECTION_TEXT = {TO_ROUTER: "client→router", FROM_ROUTER: "router→client"}


def _normal(value):
    """Plaintext values compared across serializers: tuples are lists."""
    if isinstance(value, (list, tuple)):
        return [_normal(v) for v in value]
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    return value


class Analysis:
    def __init__(self, ledger, connections, log_files=(), meta_events=None, metrics_text=None,
                 meta_topics=None, meta_results=None, meta_skip=None):
        self.ledger = ledger
        self.connections = connections
        self.log_files = list(log_files)      # [(label, path)]
        self.meta_events = meta_events        # list of EVENT messages or None (not watched)
        self.metrics_text = metrics_text      # bytes or None (no endpoint)
        self.meta_topics = meta_topics or {}  # meta topic -> "subscribed" or the error URI
        self.meta_results = meta_results or []  # RESULT/ERROR replies of meta procedures
        self.meta_skip = meta_skip            # why no meta watcher ran, when none did
        self.results = []
        self.figures = {}
        self._conn_of_session = {}

    def add(self, check, name, ok, message="", profile=None):
        self.results.append(Result(check, name, "pass" if ok else "fail", message, profile=profile))

    @staticmethod
    def _profile(m):
        """A message an e2e probe sent is judged under the e2e profile, whatever the check."""
        return "e2e" if m.exchange.startswith(E2E_EXCHANGES) else None

    def skip(self, check, name, message):
        self.results.append(Result(check, name, "skip", message))

    def run(self):
        self.map_sessions()
        self.check_decrypt()
        self.check_wire()
        self.check_logs()
        self.check_meta()
        self.check_metrics()
        self.check_ciphertext()
        return self.results

    # -- capture ----------------------------------------------------------------------

    def map_sessions(self):
        by_id = {}
        for conn in self.connections:
            sid = conn.session_id()
            if sid is not None:
                by_id[sid] = conn
        unmapped = []
        for label, info in self.ledger.sessions.items():
            conn = by_id.get(info.session_id)
            if conn is None:
                unmapped.append(label)
            else:
                self._conn_of_session[label] = conn
        problems = [f"{c.label()}: {p}" for c in self.connections for p in c.problems]
        self.add("capture", "every session's connection captured", not unmapped,
                 f"no captured connection for {', '.join(unmapped[:5])}" if unmapped else "")
        self.add("capture", "every connection parsed", not problems, "; ".join(problems[:5]))
        self.figures["connections"] = len(self.connections)
        self.figures["bytes_captured"] = sum(len(c.raw[d]) for c in self.connections for d in c.raw)
        self.figures["wamp_messages_captured"] = sum(len(c.records) for c in self.connections)

    # -- (1) decrypt ------------------------------------------------------------------

    def check_decrypt(self):
        checked = 0
        for m in self.ledger.messages:
            profile = self._profile(m)
            for recipient in m.recipients:
                checked += 1
                name = f"{m.name} → {recipient}"
                d = m.deliveries.get(recipient)
                if m.sent_plaintext:
                    note = " (its sender sent it unencrypted: --inject-leak=plaintext)"
                else:
                    note = ""
                if m.ciphertext is None and not m.sent_plaintext:
                    why = f" ({m.outcome})" if m.outcome else ""
                    self.add("decrypt", name, False, f"NOT SENT: the sender never sent it{why}", profile)
                elif d is None:
                    why = f"; the sender heard {m.outcome}" if m.outcome else ""
                    self.add("decrypt", name, False, f"NOT DELIVERED: nothing reached the "
                             f"recipient's application{why}{note}", profile)
                elif d.error:
                    self.add("decrypt", name, False, f"{d.error}{note}", profile)
                elif _normal(d.args) != _normal(m.args) or _normal(d.kwargs) != _normal(m.kwargs):
                    self.add("decrypt", name, False, f"ALTERED: decrypted plaintext differs: "
                             f"sent {m.args!r} {m.kwargs!r}, got {d.args!r} {d.kwargs!r}", profile)
                else:
                    self.add("decrypt", name, True, profile=profile)
        self.figures["encrypted_messages"] = len(self.ledger.messages)
        self.figures["deliveries_checked"] = checked

    # -- (2) wire -----------------------------------------------------------------------

    def check_wire(self):
        scanner = self.ledger.scanner
        scanned = 0
        for conn in self.connections:
            for direction in (TO_ROUTER, FROM_ROUTER):
                frames = b"\n".join(r.data for r in conn.records if r.direction == direction)
                haystack = bytes(conn.raw[direction]) + b"\n" + frames
                scanned += len(haystack)
                hits = [h for h in scanner.scan(haystack, find_ciphertext=False)
                        if direction == FROM_ROUTER or not h.owner.startswith("probe ")]
                name = f"{conn.label()} {DIRECTION_TEXT[direction]}"
                if hits:
                    text = "; ".join(f"{'probe plaintext' if h.owner.startswith('probe ') else 'canary'}"
                                     f" of {h.owner} as {h.encoding}" for h in hits[:3])
                    self.add("wire", name, False, f"LEAK: {DIRECTION_TEXT[direction]} bytes "
                             f"of {conn.label()} (session {conn.session_id()}) contain {text}")
                else:
                    self.add("wire", name, True)
        self.figures["wire_bytes_scanned"] = scanned
        self.check_router_errors()

    def check_router_errors(self):
        """What the router says itself (its ERRORs, ABORTs, GOODBYEs) never quotes a
        payload (docs/blindness-audit.md, rule B2)."""
        own = (wire.ERROR, wire.ABORT, wire.GOODBYE)
        count, leaks = 0, []
        for conn in self.connections:
            for record, msg in conn.messages():
                if record.direction != FROM_ROUTER or not isinstance(msg, list) or not msg \
                        or msg[0] not in own:
                    continue
                uri = msg[4] if msg[0] == wire.ERROR and len(msg) > 4 else (msg[2] if len(msg) > 2 else "")
                if msg[0] == wire.ERROR and not str(uri).startswith(("wamp.error.", "blindrouter.error.")):
                    continue  # an application error forwarded from a callee
                if msg[0] == wire.ERROR and str(uri).startswith("wamp.error.") and len(msg) > 5 \
                        and not isinstance(msg[5], list):
                    continue  # a transparent payload forwarded from a callee (legacy form)
                count += 1
                for h in self.ledger.scanner.scan(record.data):
                    leaks.append(f"{wire.message_name(msg[0])} {uri} to {conn.label()} holds "
                                 f"{'ciphertext' if h.secret == 'ciphertext' else 'a secret'} of "
                                 f"{h.owner} ({h.encoding})")
        self.add("wire", f"{count} router-generated ERROR/ABORT/GOODBYE messages", not leaks,
                 "LEAK: " + "; ".join(leaks[:3]) if leaks else "")

    # -- (3) logs, meta, metrics --------------------------------------------------------

    def _scan_text(self, check, name, data, where, find_ciphertext=True):
        hits = self.ledger.scanner.scan(data, find_ciphertext=find_ciphertext)
        if not hits:
            self.add(check, name, True)
            return
        parts = []
        for h in hits[:3]:
            line = data.count(b"\n", 0, h.offset) + 1
            what = "ciphertext" if h.secret == "ciphertext" else \
                ("probe plaintext" if h.owner.startswith("probe ") else "canary")
            parts.append(f"{where}:{line} holds {what} of {h.owner} ({h.encoding})")
        self.add(check, name, False, "LEAK: " + "; ".join(parts))

    def check_logs(self):
        if not self.log_files:
            self.skip("logs", "router logs", "no router process (--url): its logs are not available")
            return
        total = 0
        for label, path in self.log_files:
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError as e:
                self.add("logs", label, False, f"cannot read {path}: {e}")
                continue
            total += len(data)
            self._scan_text("logs", label, data, label)
        self.figures["log_bytes_scanned"] = total

    def check_meta(self):
        if self.meta_events is None:
            self.skip("meta", "meta events", self.meta_skip or "no meta watcher ran")
            return
        self.figures["meta_events"] = len(self.meta_events)
        self.figures["meta_results"] = len(self.meta_results)
        data = b"\n".join(repr(e).encode("utf-8") for e in self.meta_events)
        for e in self.meta_events:
            for arg in e[4:]:
                data += b"\n" + (bytes(arg) if isinstance(arg, bytes) else repr(arg).encode())
        refused = sorted({v for v in self.meta_topics.values() if v != "subscribed"})
        subscribed = sum(1 for v in self.meta_topics.values() if v == "subscribed")
        if subscribed and not self.meta_events:
            # The run opened sessions: a router that serves the meta API published on_join.
            self.add("meta", "meta watcher", False, "NOT DELIVERED: the watcher got no meta event during the run")
        self._scan_text("meta", f"{len(self.meta_results)} meta procedure result(s)",
                        b"\n".join(repr(r).encode("utf-8") for r in self.meta_results), "meta results")
        self._scan_text("meta", f"{len(self.meta_events)} meta event(s) on {subscribed} of "
                        f"{len(self.meta_topics)} meta topics"
                        + (f" (refused: {', '.join(refused)})" if refused else ""),
                        data, "meta events")

    def check_metrics(self):
        if self.metrics_text is None:
            self.skip("metrics", "metrics endpoint", "the router has no metrics endpoint "
                      "(none configured; pass --metrics-url when it has one, or --router to "
                      "have the harness start blindrouter with --metrics)")
            return
        self._scan_text("metrics", "metrics endpoint", self.metrics_text, "metrics")

    # -- (4) ciphertext identity and details ---------------------------------------------

    def check_ciphertext(self):
        known = {}
        unmatched = {}   # conn id -> [(record, view)] deliveries whose ciphertext nobody sent
        sent = {m.ciphertext for m in self.ledger.messages if m.ciphertext}
        for conn in self.connections:
            for record, view in conn.payloads():
                if view.ciphertext is None:
                    continue
                if view.ciphertext in sent:
                    known.setdefault(view.ciphertext, []).append((conn, record, view))
                elif record.direction == FROM_ROUTER:
                    unmatched.setdefault(conn.id, []).append((record, view))
        compared = 0
        for m in self.ledger.messages:
            if m.ciphertext is None:
                continue
            profile = self._profile(m)
            seen = known.get(m.ciphertext, [])
            sender_conn = self._conn_of_session.get(m.sender)
            at_sender = [(c, r, v) for c, r, v in seen if c is sender_conn and r.direction == TO_ROUTER]
            if not at_sender:
                self.add("ciphertext", f"{m.name} at sender", False,
                         f"the ciphertext never appeared on the sender's connection ({m.sender})", profile)
                continue
            _, _, sent_view = at_sender[0]
            for recipient, code in m.recipients.items():
                name = f"{m.name} → {recipient}"
                conn = self._conn_of_session.get(recipient)
                got = [(r, v) for c, r, v in seen
                       if c is conn and r.direction == FROM_ROUTER and v.code == code]
                if not got:
                    self._missing_delivery(m, recipient, conn, code, unmatched, name, profile)
                    continue
                record, view = got[0]
                compared += 1
                if len(got) > 1:
                    self.add("ciphertext", f"{name} (once)", False,
                             f"DUPLICATED: {recipient} got {len(got)} {wire.message_name(code)}s "
                             f"carrying the ciphertext of {m.name}", profile)
                same_serializer = conn.serializer == sender_conn.serializer
                if same_serializer and view.element != sent_view.element:
                    self.add("ciphertext", name, False,
                             f"RE-ENCODED: the payload element reached {recipient} re-encoded "
                             f"(same ciphertext, different bytes on the wire: sender "
                             f"{len(sent_view.element)} bytes {sent_view.element[:16].hex()}..., "
                             f"recipient {len(view.element)} bytes {view.element[:16].hex()}...)",
                             profile)
                else:
                    self.add("ciphertext", name, True, profile=profile)
                dropped = {k: v for k, v in sent_view.keys.items() if view.keys.get(k) != v}
                if dropped:
                    self.add("details", name, False,
                             f"DROPPED DETAILS: {wire.message_name(code)} to {recipient} lacks or "
                             f"changed {sorted(dropped)} (sender sent {sent_view.keys}, "
                             f"recipient got {view.keys}); a receiver takes the ciphertext for a "
                             f"plain argument", profile)
                elif view.form != sent_view.form:
                    self.add("details", name, False, f"DROPPED DETAILS: form changed: sent "
                             f"{sent_view.form}, delivered {view.form}", profile)
                else:
                    self.add("details", name, True, profile=profile)
                self._check_pattern_uri(m, view, name)
            # Only the intended recipients may get it (a mismatched subscriber, a callee of
            # a refused CALL, ...).
            for c, r, v in seen:
                if r.direction != FROM_ROUTER or c is sender_conn:
                    continue
                owner = next((l for l, cc in self._conn_of_session.items() if cc is c), c.label())
                if owner not in m.recipients:
                    self.add("ciphertext", f"{m.name} → {owner} (not a recipient)", False,
                             f"UNEXPECTED DELIVERY: {wire.message_name(v.code)} with the ciphertext "
                             f"of {m.name} reached {owner}, which must not get it", profile)
        self.figures["payload_elements_compared"] = compared

    def _check_pattern_uri(self, m, view, name):
        """A delivery through a pattern subscription / registration names the concrete
        URI in its details (WAMP spec, pattern-based subscriptions; a cryptobox receiver
        picks its key by it)."""
        if "/pattern-" not in m.exchange or view.code not in (wire.EVENT, wire.INVOCATION):
            return
        key = "topic" if view.code == wire.EVENT else "procedure"
        got = view.message[3].get(key)
        self.add("pattern-uri", name, got == m.uri,
                 f"PATTERN URI MISSING: {wire.message_name(view.code)} for a pattern "
                 f"{'subscription' if view.code == wire.EVENT else 'registration'} has "
                 f"details.{key} {got!r}, not {m.uri!r}")

    def _missing_delivery(self, m, recipient, conn, code, unmatched, name, profile):
        if conn is None:
            self.add("ciphertext", name, False, f"NOT DELIVERED: no captured connection for {recipient}",
                     profile)
            return
        # A delivery of the right kind whose ciphertext nobody sent, arriving after m was
        # sent, is m with its bytes changed.
        candidates = [(r, v) for r, v in unmatched.get(conn.id, [])
                      if v.code == code and m.t_sent is not None and r.t >= m.t_sent - 0.001]
        best = None
        for r, v in candidates:
            if len(v.ciphertext) == len(m.ciphertext):
                diff = sum(1 for x, y in zip(v.ciphertext, m.ciphertext) if x != y)
                if best is None or diff < best[0]:
                    best = (diff, r, v)
        if best is not None and best[0] < len(m.ciphertext) // 2:
            unmatched[conn.id].remove((best[1], best[2]))
            self.add("ciphertext", name, False,
                     f"ALTERED: the ciphertext reached {recipient} with {best[0]} of "
                     f"{len(m.ciphertext)} bytes changed", profile)
        else:
            self.add("ciphertext", name, False,
                     f"NOT DELIVERED: no {wire.message_name(code)} carrying the ciphertext "
                     f"reached {recipient}", profile)

    # -- (5) the NATS cluster of a clustered router (--nats) ---------------------------------

    def check_nats(self, tap, node_of_listener):
        """What the NATS cluster carried: no secret outside the payload (B9), and each
        PUBLISH that crossed nodes as its sender's frame, byte for byte, once (E7)."""
        results, self.results = self.results, []
        messages = tap.messages
        self.figures["nats_messages"] = len(messages)
        self.figures["nats_bytes"] = tap.bytes
        self.add("nats", "tap", not tap.problems, "; ".join(tap.problems[:3]))
        crossing = self._crossing_publications(node_of_listener)
        if crossing and not tap.router_messages():
            self.add("nats", "cluster traffic seen", False, "NOT DELIVERED: publications crossed nodes "
                     "but the tap saw no router message (subjects br.>): it watched the wrong cluster")
        # Subjects and headers are routing data: no canary, and no ciphertext either.
        self._scan_text("nats", f"subjects and headers of {len(messages)} NATS messages",
                        b"\n".join(m.subject.encode() + b"\n" + m.headers for m in messages),
                        "NATS subjects/headers")
        # Bodies are the senders' frames: the ciphertext belongs there, a canary never.
        self._scan_text("nats", f"bodies of {len(messages)} NATS messages",
                        b"\n".join(m.body for m in messages), "NATS bodies", find_ciphertext=False)
        self._check_nats_frames(tap, crossing)
        self.results, found = results, self.results
        return found

    def _crossing_publications(self, node_of_listener):
        """[(ledger message, the PUBLISH frame its sender wrote, the sender's serializer)]
        for every encrypted PUBLISH with a recipient on another node than its sender."""
        crossing = []
        for m in self.ledger.messages:
            sender = self._conn_of_session.get(m.sender)
            if m.kind != "PUBLISH" or m.ciphertext is None or sender is None:
                continue
            node = node_of_listener.get(sender.listener, 0)
            recipients = [self._conn_of_session.get(r) for r in m.recipients]
            if not any(c is not None and node_of_listener.get(c.listener, 0) != node for c in recipients):
                continue
            frame = next((r.data for r, v in sender.payloads()
                          if r.direction == TO_ROUTER and v.code == wire.PUBLISH and v.ciphertext == m.ciphertext),
                         None)
            if frame is not None:
                crossing.append((m, bytes(frame), sender.serializer))
        return crossing

    def _check_nats_frames(self, tap, crossing):
        if not crossing:
            self.results.append(Result("nats-frame", "all", "skip", "no publication crossed nodes "
                                       "(give a second node with --split-url)"))
            return
        bodies = {}
        for n in tap.router_messages():
            bodies.setdefault(bytes(n.body), []).append(n)
        for m, frame, serializer in crossing:
            name = f"{m.name} over NATS"
            copies = bodies.get(frame, [])
            if len(copies) == 1:
                named = copies[0].header_values().get("Br-Ser")
                self.add("nats-frame", name, named == serializer, "" if named == serializer else
                         f"SERIALIZER: the frame crossed with Br-Ser {named!r}, its sender spoke {serializer}")
            elif copies:
                self.add("nats-frame", name, False, f"DUPLICATED: the sender's frame crossed NATS "
                         f"{len(copies)} times")
            elif any(m.ciphertext in body for body in bodies):
                self.add("nats-frame", name, False, "RE-ENCODED: the ciphertext crossed NATS in a "
                         "frame other than the one its sender wrote")
            else:
                self.add("nats-frame", name, False, "NOT DELIVERED: no NATS message carried the "
                         "sender's frame")
