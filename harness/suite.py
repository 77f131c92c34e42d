"""The traffic the harness sends through the router, and the conformance probes.

Groups: for every wire form (legacy ``enc_*`` with Autobahn's cryptobox, spec ``ppt_*``
with the raw client) and every serializer, one session per client endpoint that serves
that serializer (at least two sessions). In a group every session subscribes to one topic
and registers echo / progressive / failing procedures; then each session publishes once
(EVENT to all others) and calls the next session's three procedures (CALL→INVOCATION,
YIELD→RESULT, progressive YIELDs→RESULTs, ERROR→ERROR); legacy groups also go through a
prefix subscription and a prefix registration, spec groups through a retained event when
the router announces event_retention. Every one of those messages is encrypted and
carries fresh canaries (ledger.py).

Probes (raw clients; rule ids of docs/blindness-audit.md): feature announcement and the
spec-form rules (E3), serializer mismatches (E4), plaintext on encryption-required URIs
(E5), malformed transparency options (E6) -- the e2e profile only -- and a meta-event
watcher (B4: no payload in meta events).
"""

import asyncio
import secrets
import time

from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.exception import Error as AutobahnError
from autobahn.wamp.types import CallOptions, CallResult, PublishOptions, RegisterOptions, \
    SubscribeOptions

from . import abclient, crypto, wire
from .ledger import SessionInfo
from .rawclient import PLAIN_ROLES, RawSession
from .results import Result

MISMATCH_URI = "blindrouter.error.serializer_mismatch"
ENCRYPTION_REQUIRED_URI = "blindrouter.error.encryption_required"
META_TOPICS = ["wamp.session.on_join", "wamp.session.on_leave",
               "wamp.subscription.on_create", "wamp.subscription.on_subscribe",
               "wamp.subscription.on_unsubscribe", "wamp.subscription.on_delete",
               "wamp.registration.on_create", "wamp.registration.on_register",
               "wamp.registration.on_unregister", "wamp.registration.on_delete"]
# Split mode: NATS interest reaches the other servers of the cluster asynchronously after
# SUBSCRIBED (the project README, "Clustered realms (NATS)"); publications wait this long.
SPLIT_SETTLE = 0.3
# What crosses between the nodes in split mode, and what stays on the first one.
SPLIT_LAYOUT = ("split mode: each traffic group has sessions on both nodes; every PUBLISH reaches "
                "subscribers on the other node (and one on its own), the prefix subscription's "
                "publication crosses too, and every session calls a callee on the other node "
                "(CALL, INVOCATION, YIELD, progressive results, ERROR cross NATS). On node A only: "
                "the prefix registration, the retained event, progressive call invocations, and the "
                "probes (features, serializer-mismatch, encryption-required, malformed) and the meta "
                "watcher.")
WANTED_FEATURES = ("payload_passthru_mode", "payload_transparency",
                   "payload_encryption_cryptobox")


class Suite:
    def __init__(self, endpoints, realm, ledger, options, progress):
        self.endpoints = endpoints      # client endpoints (relay addresses + service)
        self.realm = realm              # target.RealmFacts
        self.ledger = ledger
        self.options = options          # forms, serializers, uri_base, leak, timeout
        self.progress = progress
        self.results = []
        self.timeout = options.timeout
        self.scrambler = options.scrambler   # None, or a wamp_uri_scramble.UriScrambler
        # Scrambled, the run id is the marker rule S1 searches for in its readable form:
        # long enough never to show up by chance.
        self.run_id = secrets.token_hex(8 if self.scrambler else 3)
        self.base = f"{options.uri_base}.{self.run_id}"
        self.forget_scrambling = False  # --inject-leak readable-uri, first traffic group
        self.watcher = None
        self.watcher_topics = {}
        self.meta_events = None
        self.meta_results = []          # RESULT/ERROR of the meta procedures sampled during the run
        self.meta_skip = None           # why the meta check cannot run on this router
        # --split-url: endpoints on two nodes of a clustered router (cli.py sets "node").
        self.split = any(ep["node"] for ep in endpoints)
        self._open = []                 # every session, closed at the end

    # -- helpers ------------------------------------------------------------------------

    def result(self, check, name, ok, message="", status=None, note=""):
        """``message`` explains a failure (or a skip); ``note`` is kept on a pass."""
        status = status or ("pass" if ok else "fail")
        self.results.append(Result(check, name, status, message if status != "pass" else note))

    def uri(self, uri, match="exact"):
        """An application URI as the harness's clients put it on the wire (scrambled with
        --scramble, README.md "URI scrambling")."""
        return self.scrambler.scramble(uri, match) if self.scrambler and not self.forget_scrambling else uri

    def note_timeout(self):
        # After the first timeout the router is evidently misbehaving; wait less from now
        # on so a broken run still ends quickly.
        self.timeout = min(self.timeout, 0.2)

    def endpoints_for(self, serializer):
        return [ep for ep in self.endpoints if serializer in ep["serializers"]]

    def session_info(self, label, endpoint, serializer, client):
        info = SessionInfo(label, endpoint["label"], serializer, client)
        self.ledger.sessions[label] = info
        return info

    async def raw_session(self, label, endpoint, serializer, roles=None):
        info = self.session_info(label, endpoint, serializer, "raw")
        session = RawSession(label, endpoint, serializer)
        self._open.append(session)
        await session.connect()
        await session.join(self.realm.name, roles)
        info.session_id = session.session_id
        info.welcome_details = session.welcome[2]
        return session

    async def close_all(self):
        await asyncio.gather(*(s.close() for s in self._open), return_exceptions=True)
        self._open = []

    # -- run ----------------------------------------------------------------------------

    async def run(self):
        t0 = time.monotonic()
        if self.split:
            self.progress(SPLIT_LAYOUT)
        await self.start_meta_watcher()
        groups = 0
        for form in self.options.forms:
            for serializer in self.options.serializers:
                endpoints = self.endpoints_for(serializer)
                if not endpoints:
                    continue
                t = time.monotonic()
                runner = self.legacy_group if form == "legacy" else self.spec_group
                self.forget_scrambling = self.options.leak == "readable-uri" and groups == 0
                groups += 1
                try:
                    await asyncio.wait_for(runner(serializer, endpoints), 30)
                    await self.sample_meta_results()
                    state = "done"
                    self.result("traffic", f"{form} {serializer}", True)
                except asyncio.TimeoutError:
                    state = "ABORTED after 30 s"
                    self.result("traffic", f"{form} {serializer}", False,
                                f"group {form}/{serializer} did not finish within 30 s")
                except Exception as e:  # a broken group is a failed check, not a crash
                    state = f"ABORTED: {type(e).__name__}: {e}"
                    self.result("traffic", f"{form} {serializer}", False,
                                f"group {form}/{serializer} could not run: {type(e).__name__}: {e}")
                finally:
                    await self.close_all()
                sent = sum(1 for m in self.ledger.messages if m.exchange.startswith(f"{form}/{serializer}/"))
                self.progress(f"traffic {form:6} {serializer:7} over {len(endpoints)} endpoint(s): "
                              f"{sent} encrypted messages, {state} ({time.monotonic() - t:.1f}s)")
        self.forget_scrambling = False
        for name, probe in (("features", self.features),
                            ("serializer-mismatch", self.mismatch_probes),
                            ("encryption-required", self.encryption_required_probes),
                            ("malformed", self.malformed_probes)):
            if name in self.options.skip:
                continue
            t = time.monotonic()
            before = len(self.results)
            try:
                await asyncio.wait_for(probe(), 30)
            except Exception as e:  # a probe that crashes is a failed check, not a crash
                self.result(name, "probe run", False, f"{type(e).__name__}: {e}")
            finally:
                await self.close_all()
            mine = [r for r in self.results[before:] if r.check == name]
            failed = sum(1 for r in mine if r.status == "fail")
            skipped = sum(1 for r in mine if r.status == "skip")
            self.progress(f"probes  {name:27} {len(mine)} checks, {failed} failed, "
                          f"{skipped} skipped ({time.monotonic() - t:.1f}s)")
        await self.stop_meta_watcher()
        return time.monotonic() - t0

    # -- legacy form: Autobahn|Python with its cryptobox KeyRing ---------------------------

    async def legacy_group(self, serializer, endpoints):
        form = "legacy"
        keys = crypto.GroupKeys(f"{form}-{serializer}")
        base = f"{self.base}.{form}.{serializer}"
        u = self.uri
        topic, pattern = u(f"{base}.topic"), f"{base}.pattern."
        pattern_prefix = u(pattern, "prefix")
        error_uri = u(f"{base}.error.failed")
        nodes = self._spread(endpoints)
        sessions = []
        leak_once = self._plaintext_leak_once() if self.options.leak == "plaintext" else None
        for i, ep in enumerate(nodes):
            label = f"{form}/{serializer}/{i}@{ep['label']}"
            info = self.session_info(label, ep, serializer, "autobahn")
            ring = abclient.RecordingKeyRing(self.ledger, label, leak_once)
            ring.set_key(u(base + ".", "prefix"), keys.autobahn_key())
            session = await abclient.connect(ep, serializer, self.realm.name, ring)
            self._open.append(session)
            info.session_id = session._session_id
            sessions.append((label, session))

        def callee(label, i, kind, procedure=None):
            procedure = procedure or u(f"{base}.{kind}.{i}")

            def reply(args, kind_name):
                call = self.ledger.message_of(args)
                if call is None:
                    # The INVOCATION reached the application without its plaintext (a
                    # router that dropped enc_*: Autobahn then hands over raw values).
                    # Answer without canaries; the checks report the CALL.
                    raise ApplicationError(error_uri, "invocation without a known canary")
                return self.ledger.new_message(
                    f"{form}/{serializer}/{kind}", kind_name, label,
                    {call.sender: wire.ERROR if kind_name == "ERROR" else wire.RESULT},
                    form, error_uri if kind_name == "ERROR" else procedure)

            def echo(*args, **kwargs):
                m = reply(args, "YIELD")
                return CallResult(*m.args, **m.kwargs)

            async def progressive(*args, details=None, **kwargs):
                for _ in range(2):
                    m = reply(args, "YIELD(progress)")
                    details.progress(*m.args, **m.kwargs)
                m = reply(args, "YIELD")
                return CallResult(*m.args, **m.kwargs)

            def fail(*args, **kwargs):
                m = reply(args, "ERROR")
                raise ApplicationError(error_uri, *m.args, **m.kwargs)

            handler = {"echo": echo, "progress": progressive, "fail": fail}[kind]
            options = RegisterOptions(details_arg="details") if kind == "progress" else None
            return handler, procedure, options

        def on_event(*args, **kwargs):
            pass  # the KeyRing already reported the decrypted payload to the ledger

        for i, (label, session) in enumerate(sessions):
            await session.subscribe(on_event, topic)
            for kind in ("echo", "progress", "fail"):
                handler, procedure, options = callee(label, i, kind)
                await session.register(handler, procedure, options=options)
        await sessions[0][1].subscribe(on_event, pattern_prefix,
                                       options=SubscribeOptions(match="prefix"))
        handler, _, _ = callee(sessions[0][0], 0, "echo", u(f"{pattern}proc"))
        await sessions[0][1].register(handler, pattern_prefix, options=RegisterOptions(match="prefix"))
        if self.split:
            await asyncio.sleep(SPLIT_SETTLE)

        async def publish(i, uri, recipients, exchange):
            label, session = sessions[i]
            m = self.ledger.new_message(f"{form}/{serializer}/{exchange}", "PUBLISH", label,
                                        {r: wire.EVENT for r in recipients}, form, uri)
            try:
                await asyncio.wait_for(session.publish(
                    uri, *m.args, options=PublishOptions(acknowledge=True), **m.kwargs), self.timeout)
            except (AutobahnError, asyncio.TimeoutError) as e:
                m.outcome = f"publish failed: {type(e).__name__}: {e}"
            if not await m.wait(self.timeout):
                self.note_timeout()

        for i in range(len(sessions)):
            await publish(i, topic, [l for j, (l, _) in enumerate(sessions) if j != i], "publish")
        await publish(self._other_node_session(nodes, 1), u(f"{pattern}x"), [sessions[0][0]], "pattern-publish")

        calls = [(i, self._callee_of(i, nodes), kind, u(f"{base}.{kind}.{self._callee_of(i, nodes)}"), kind)
                 for i in range(len(sessions)) for kind in ("echo", "progress", "fail")]
        calls.append((1, 0, "echo", u(f"{pattern}proc"), "pattern-call"))
        for i, j, kind, procedure, exchange in calls:
            label, session = sessions[i]
            m = self.ledger.new_message(f"{form}/{serializer}/{exchange}", "CALL", label,
                                        {sessions[j][0]: wire.INVOCATION}, form, procedure)
            options = CallOptions(on_progress=lambda *a, **kw: None) if kind == "progress" else None
            try:
                await asyncio.wait_for(session.call(procedure, *m.args, options=options,
                                                    **m.kwargs), self.timeout)
            except ApplicationError:
                pass  # "fail" raises by design; the ledger holds what arrived
            except asyncio.TimeoutError:
                self.note_timeout()
            except AutobahnError as e:  # e.g. TransportLost: the checks report the rest
                m.outcome = f"{type(e).__name__}: {e}"
            await m.wait(0.01)

    def _plaintext_leak_once(self):
        done = []

        def forget(message):
            if not done and message.kind == "PUBLISH":
                done.append(message)
                return True
            return False
        return forget

    def _spread(self, endpoints):
        """At least two session endpoints, one per endpoint: every endpoint both sends to
        and receives from another. Split (--split-url): at least two on each node, the
        first node's first, so that sessions 0 and 1 (the retained event, progressive
        invocations) share a node, and every publication reaches the other node."""
        if not self.split:
            return endpoints if len(endpoints) >= 2 else endpoints * 2
        spread = []
        for node in (0, 1):
            mine = [ep for ep in endpoints if ep["node"] == node]
            spread += mine if len(mine) >= 2 else mine * 2
        return spread

    def _callee_of(self, i, nodes):
        """The session that session ``i`` calls: the next one; when split, one on the other
        node, so that every call and its answers cross the cluster (each callee there
        serves one caller)."""
        if not self.split:
            return (i + 1) % len(nodes)
        mine = [j for j, ep in enumerate(nodes) if ep["node"] == nodes[i]["node"]]
        others = [j for j, ep in enumerate(nodes) if ep["node"] != nodes[i]["node"]]
        return others[mine.index(i) % len(others)]

    def _other_node_session(self, nodes, default):
        """A session on another node than session 0's (split), else ``default``."""
        return next((k for k, ep in enumerate(nodes) if self.split and ep["node"] != nodes[0]["node"]), default)

    # -- spec form: raw client, ppt_* options --------------------------------------------

    def _spec_receive(self, label, msg, m, box):
        """Record what a raw recipient got for message ``m``."""
        if msg is None:
            self.note_timeout()
            return
        details_index, args_index = wire.PAYLOAD_LAYOUT[msg[0]]
        details = msg[details_index] if isinstance(msg[details_index], dict) else {}
        args = msg[args_index] if len(msg) > args_index else None
        ciphertext = args[0] if isinstance(args, list) and len(args) == 1 and isinstance(args[0], bytes) else \
            (args if isinstance(args, bytes) else None)
        if ciphertext is None:
            self.ledger.decrypt_failed(label, m.uri, b"", f"no binary payload in {wire.message_name(msg[0])}",
                                       message=m)
            return
        try:
            if m.form == "legacy":
                _, plain_args, plain_kwargs = crypto.open_legacy(box, ciphertext)
            else:
                plain_args, plain_kwargs = crypto.open_spec(box, ciphertext)
        except Exception as e:
            self.ledger.decrypt_failed(label, m.uri, ciphertext, f"decryption failed: {e}", message=m)
            return
        if not any(wire.is_transparency_key(k) for k in details):
            self.ledger.decrypt_failed(
                label, m.uri, ciphertext,
                "payload arrived without its ppt_*/enc_* details (the application would "
                "take the ciphertext for a plain argument)", message=m)
            return
        self.ledger.decrypted(label, ciphertext, plain_args, plain_kwargs)

    def _seal(self, m, box, options):
        """Encrypt m's plaintext; returns (options with transparency keys, Arguments element)."""
        if m.form == "legacy":
            ciphertext = crypto.seal_legacy(box, m.uri, m.args, m.kwargs)
            element = ciphertext
        else:
            ciphertext = crypto.seal_spec(box, m.args, m.kwargs)
            element = [ciphertext]
        m.encrypted(ciphertext, {k: v for k, v in options.items() if wire.is_transparency_key(k)})
        return element

    async def spec_group(self, serializer, endpoints):
        form = "spec"
        keys = crypto.GroupKeys(f"{form}-{serializer}")
        base = f"{self.base}.{form}.{serializer}"
        u = self.uri
        topic = u(f"{base}.topic")
        error_uri = u(f"{base}.error.failed")
        ppt = dict(crypto.SPEC_OPTIONS, ppt_keyid=keys.key_id)
        nodes = self._spread(endpoints)
        sessions = []
        for i, ep in enumerate(nodes):
            label = f"{form}/{serializer}/{i}@{ep['label']}"
            sessions.append((label, await self.raw_session(label, ep, serializer)))
        subscriptions, registrations = {}, {}
        streams = bool(_features(sessions[0][1].welcome, "dealer").get("progressive_call_invocations"))
        for i, (label, s) in enumerate(sessions):
            subscriptions[label] = await s.subscribe(topic)
            for kind in ("echo", "progress", "fail") + (("stream",) if streams else ()):
                registrations[(i, kind)] = await s.register(u(f"{base}.{kind}.{i}"))
        if self.split:
            await asyncio.sleep(SPLIT_SETTLE)

        originator, responder = keys.box(True), keys.box(False)
        # Each session publishes once; the last publication is large (a 256 KiB plaintext:
        # long length prefixes in every serializer, 64-bit WebSocket lengths).
        for i, (label, s) in enumerate(sessions + sessions[:1]):
            others = [(l, o) for l, o in sessions if l != label]
            large = i == len(sessions)
            m = self.ledger.new_message(f"{form}/{serializer}/{'large-' if large else ''}publish",
                                        "PUBLISH", label, {l: wire.EVENT for l, _ in others}, form, topic)
            if large:
                m.kwargs["padding"] = secrets.token_hex(128 * 1024)
            options = dict(ppt, acknowledge=True)
            element = self._seal(m, originator, options)
            request = s.next_request()
            if i == 0 and self.options.leak == "plaintext":
                # --inject-leak=plaintext: this client forgot to encrypt.
                m.sent_plaintext, m.ciphertext = True, None
                s.send([wire.PUBLISH, request, {"acknowledge": True}, topic, m.args, m.kwargs])
            else:
                s.send([wire.PUBLISH, request, options, topic, element])
            events = await asyncio.gather(*(o.expect(
                wire.EVENT, self.timeout, match=lambda e, l=l: e[1] == subscriptions[l])
                for l, o in others))
            for (l, _), event in zip(others, events):
                self._spec_receive(l, event, m, responder)
            await s.expect_any((wire.PUBLISHED, wire.ERROR), self.timeout,
                               match=answers(request))

        if _features(sessions[0][1].welcome, "broker").get("event_retention"):
            await self._spec_retained(sessions, u(f"{base}.retained"), ppt, originator, responder)
        if streams:
            await self._spec_stream(sessions, f"{base}.stream", registrations, ppt, originator, responder)

        for i, (label, s) in enumerate(sessions):
            j = self._callee_of(i, nodes)
            callee_label, callee = sessions[j]
            for kind in ("echo", "progress", "fail"):
                procedure = u(f"{base}.{kind}.{j}")
                m = self.ledger.new_message(f"{form}/{serializer}/{kind}", "CALL", label,
                                            {callee_label: wire.INVOCATION}, form, procedure)
                options = dict(ppt)
                if kind == "progress":
                    options["receive_progress"] = True
                element = self._seal(m, originator, options)
                request = s.next_request()
                s.send([wire.CALL, request, options, procedure, element])
                invocation = await callee.expect(
                    wire.INVOCATION, self.timeout,
                    match=lambda v: v[2] == registrations[(j, kind)])
                self._spec_receive(callee_label, invocation, m, responder)
                if invocation is None:
                    continue
                replies = ["YIELD(progress)", "YIELD(progress)", "YIELD"] if kind == "progress" \
                    else ["ERROR" if kind == "fail" else "YIELD"]
                for reply_kind in replies:
                    code = wire.ERROR if reply_kind == "ERROR" else wire.RESULT
                    r = self.ledger.new_message(f"{form}/{serializer}/{kind}", reply_kind, callee_label,
                                                {label: code}, form,
                                                error_uri if code == wire.ERROR else procedure)
                    reply_options = dict(ppt)
                    if reply_kind == "YIELD(progress)":
                        reply_options["progress"] = True
                    element = self._seal(r, responder, reply_options)
                    if code == wire.ERROR:
                        callee.send([wire.ERROR, wire.INVOCATION, invocation[1], reply_options,
                                     error_uri, element])
                        got = await s.expect(wire.ERROR, self.timeout, match=lambda e: e[2] == request)
                    else:
                        callee.send([wire.YIELD, invocation[1], reply_options, element])
                        got = await s.expect(wire.RESULT, self.timeout, match=lambda e: e[1] == request)
                    self._spec_receive(label, got, r, originator)

    async def _spec_retained(self, sessions, topic, ppt, originator, responder):
        """A retained event (rule B6) reaches a later subscriber with the same bytes."""
        (publisher_label, publisher), (late_label, late) = sessions[0], sessions[1]
        m = self.ledger.new_message(f"spec/{late.serializer}/retained", "PUBLISH", publisher_label,
                                    {late_label: wire.EVENT}, "spec", topic)
        options = dict(ppt, acknowledge=True, retain=True)
        reply = await publisher.request([wire.PUBLISH, options, topic, self._seal(m, originator, options)],
                                        (wire.PUBLISHED,), self.timeout)
        if reply is None or reply[0] != wire.PUBLISHED:
            m.outcome = _short(reply)
        subscription = await late.subscribe(topic, {"get_retained": True})
        event = await late.expect(wire.EVENT, self.timeout, match=lambda e: e[1] == subscription)
        self._spec_receive(late_label, event, m, responder)

    async def _spec_stream(self, sessions, base, registrations, ppt, originator, responder):
        """Progressive call invocations (rule B6): each chunk, sealed on its own,
        reaches the callee byte-exact on the call's one INVOCATION id."""
        (label, caller), (callee_label, callee) = sessions[0], sessions[1]
        procedure = self.uri(f"{base}.1")
        request = caller.next_request()
        invocation_id = None
        for chunk in range(3):
            final = chunk == 2
            m = self.ledger.new_message(f"spec/{caller.serializer}/stream",
                                        "CALL" if final else "CALL(progress)", label,
                                        {callee_label: wire.INVOCATION}, "spec", procedure)
            options = dict(ppt) if final else dict(ppt, progress=True)
            caller.send([wire.CALL, request, options, procedure, self._seal(m, originator, options)])
            invocation = await callee.expect(
                wire.INVOCATION, self.timeout,
                match=lambda v: v[2] == registrations[(1, "stream")] and
                (invocation_id is None or v[1] == invocation_id))
            self._spec_receive(callee_label, invocation, m, responder)
            if invocation is None:
                return
            invocation_id = invocation[1]
        r = self.ledger.new_message(f"spec/{caller.serializer}/stream", "YIELD", callee_label,
                                    {label: wire.RESULT}, "spec", procedure)
        reply_options = dict(ppt)
        callee.send([wire.YIELD, invocation_id, reply_options, self._seal(r, responder, reply_options)])
        got = await caller.expect(wire.RESULT, self.timeout, match=lambda e: e[1] == request)
        self._spec_receive(label, got, r, originator)

    def feature_gaps(self, welcome):
        """Payload-carrying features the harness exercises only when announced."""
        if welcome is None:
            return
        if not _features(welcome, "broker").get("event_retention"):
            self.result("traffic", "retained events", True, "the router does not announce "
                        "broker feature event_retention", status="skip")
        if not _features(welcome, "dealer").get("progressive_call_invocations"):
            self.result("traffic", "progressive call invocations", True, "the router does not "
                        "announce dealer feature progressive_call_invocations", status="skip")

    # -- feature announcement (rule E3) -----------------------------------------------------

    async def features(self):
        check = "features"
        ep = self.endpoints[0]
        serializer = ep["serializers"][0]
        caller = await self.raw_session(f"features/caller@{ep['label']}", ep, serializer)
        missing = [f"{role}.{feature}" for role in ("broker", "dealer") for feature in WANTED_FEATURES
                   if _features(caller.welcome, role).get(feature) is not True]
        self.result(check, "WELCOME announces payload passthru / transparency", not missing,
                    f"WELCOME does not announce {', '.join(missing)}" if missing else "")
        # Spec form from a session that did not announce payload_passthru_mode: ABORT.
        s = await self.raw_session(f"features/unannounced@{ep['label']}", ep, serializer, PLAIN_ROLES)
        s.send([wire.PUBLISH, s.next_request(), dict(crypto.SPEC_OPTIONS, acknowledge=True),
                self.uri(f"{self.base}.features.topic"), [b"\x00" * 48]])
        abort = await s.expect(wire.ABORT, 2.0)
        self.result(check, "spec form without announcement: ABORT", abort is not None and
                    abort[2] == "wamp.error.protocol_violation",
                    f"expected ABORT wamp.error.protocol_violation, got {_short(abort)}")
        # CALL in spec form to a callee that did not announce it: feature_not_supported.
        callee = await self.raw_session(f"features/plain-callee@{ep['label']}", ep, serializer,
                                        PLAIN_ROLES)
        procedure = self.uri(f"{self.base}.features.plain")
        await callee.register(procedure)
        reply = await caller.request([wire.CALL, dict(crypto.SPEC_OPTIONS), procedure, [b"\x00" * 48]],
                                     (wire.RESULT,), 2.0)
        leaked = callee.drain(wire.INVOCATION)
        ok = reply is not None and reply[0] == wire.ERROR and \
            reply[4] == "wamp.error.feature_not_supported" and not leaked
        self.result(check, "spec-form CALL to a callee without announcement", ok,
                    f"expected ERROR wamp.error.feature_not_supported and no INVOCATION; got "
                    f"{_short(reply)}, {len(leaked)} INVOCATION(s)")

    # -- serializer mismatch (rule E4) -----------------------------------------------------

    def _mismatch_pair(self):
        served = {}
        for ep in self.endpoints:
            for s in ep["serializers"]:
                served.setdefault(s, ep)
        order = [s for s in ("json", "msgpack", "cbor") if s in served]
        if len(order) < 2:
            return None
        return (order[0], served[order[0]]), (order[1], served[order[1]])

    async def mismatch_probes(self):
        check = "serializer-mismatch"
        pair = self._mismatch_pair()
        if pair is None:
            self.result(check, "all", True, "the router serves fewer than two serializers",
                        status="skip")
            return
        (a, ep_a), (b, ep_b) = pair
        translate = self.realm.serializer_mismatch == "translate"
        mode = self.realm.serializer_mismatch
        base = f"{self.base}.mismatch"
        pub = await self.raw_session(f"mismatch/{a}-sender@{ep_a['label']}", ep_a, a)
        same = await self.raw_session(f"mismatch/{a}-receiver@{ep_a['label']}", ep_a, a)
        other = await self.raw_session(f"mismatch/{b}-receiver@{ep_b['label']}", ep_b, b)
        keys = crypto.GroupKeys("mismatch")
        variants = [("spec", True, dict(crypto.SPEC_OPTIONS)),
                    ("spec", False, dict(crypto.IMPLICIT_SPEC_OPTIONS)),
                    ("legacy", True, dict(crypto.LEGACY_OPTIONS))]

        for form, explicit, options in variants:
            kind = f"{form} {'explicit' if explicit else 'implicit'}"
            payload_serializer = options.get("ppt_serializer") or options.get("enc_serializer") or a
            topic = self.uri(f"{base}.{form}.{'explicit' if explicit else 'implicit'}")
            sub_same, sub_other = await same.subscribe(topic), await other.subscribe(topic)
            delivered_other = translate and explicit
            recipients = {same.label: wire.EVENT}
            if delivered_other:
                recipients[other.label] = wire.EVENT
            m = self.ledger.new_message(f"mismatch/{kind}", "PUBLISH", pub.label, recipients, form, topic)
            options = dict(options, acknowledge=True)
            element = self._seal(m, keys.box(True), options)
            request = pub.next_request()
            pub.send([wire.PUBLISH, request, options, topic, element])
            reply = await pub.expect_any((wire.PUBLISHED, wire.ERROR), 2.0,
                                         match=answers(request))
            ev_same = await same.expect(wire.EVENT, 2.0, match=lambda e: e[1] == sub_same)
            ev_other = await other.expect(wire.EVENT, 0.3 if not delivered_other else 2.0,
                                          match=lambda e: e[1] == sub_other)
            self._spec_receive(same.label, ev_same, m, keys.box(False))
            if ev_other is not None:
                self._spec_receive(other.label, ev_other, m, keys.box(False))
            name = f"PUBLISH {kind} {a}→{b} ({mode})"
            if delivered_other:
                ok = reply is not None and reply[0] == wire.PUBLISHED and ev_other is not None
                self.result(check, name, ok, "translate with an explicit payload serializer: "
                            f"expected PUBLISHED and delivery to the {b} subscriber; got "
                            f"{_short(reply)}, {b} EVENT: {ev_other is not None}")
            else:
                want = {"sender_serializer": a, "receiver_serializer": b,
                        "payload_serializer": payload_serializer, "delivered": 1, "skipped": 1}
                problem = _mismatch_error_problem(reply, want)
                if ev_other is not None:
                    problem = f"the {b} subscriber got the EVENT; " + (problem or "")
                if ev_same is None:
                    problem = f"the {a} subscriber got nothing; " + (problem or "")
                self.result(check, name, problem is None, problem or "")

        # CALL: the caller gets the error when no callee matches.
        for explicit, options in ((True, dict(crypto.SPEC_OPTIONS)), (False, dict(crypto.IMPLICIT_SPEC_OPTIONS))):
            kind = "explicit" if explicit else "implicit"
            procedure = self.uri(f"{base}.call.{kind}")
            registration = await other.register(procedure)
            delivered = translate and explicit
            m = self.ledger.new_message(f"mismatch/call-{kind}", "CALL", pub.label,
                                        {other.label: wire.INVOCATION} if delivered else {}, "spec", procedure)
            element = self._seal(m, keys.box(True), options)
            request = pub.next_request()
            pub.send([wire.CALL, request, options, procedure, element])
            invocation = await other.expect(wire.INVOCATION, 2.0 if delivered else 0.3,
                                            match=lambda v: v[2] == registration)
            name = f"CALL spec {kind} {a}→{b} ({mode})"
            if delivered:
                self._spec_receive(other.label, invocation, m, keys.box(False))
                if invocation is not None:
                    y = self.ledger.new_message(f"mismatch/call-{kind}", "YIELD", other.label,
                                                {pub.label: wire.RESULT}, "spec", procedure)
                    y_options = dict(crypto.SPEC_OPTIONS)
                    other.send([wire.YIELD, invocation[1], y_options, self._seal(y, keys.box(False), y_options)])
                reply = await pub.expect_any((wire.RESULT, wire.ERROR), 2.0,
                                             match=answers(request))
                if reply is not None and reply[0] == wire.RESULT:
                    self._spec_receive(pub.label, reply, y, keys.box(True))
                ok = invocation is not None and reply is not None and reply[0] == wire.RESULT
                self.result(check, name, ok, f"translate with an explicit payload serializer: expected "
                            f"INVOCATION and RESULT; got INVOCATION {invocation is not None}, {_short(reply)}")
            else:
                reply = await pub.expect(wire.ERROR, 2.0, match=lambda r: r[2] == request)
                want = {"sender_serializer": a, "receiver_serializer": b,
                        "payload_serializer": options.get("ppt_serializer", a)}
                problem = _mismatch_error_problem(reply, want)
                if invocation is not None:
                    problem = f"the {b} callee got the INVOCATION; " + (problem or "")
                self.result(check, name, problem is None, problem or "")

        # YIELD and ERROR from a callee with an implicit payload serializer: both the callee
        # and the caller get the error.
        for reply_kind in ("YIELD", "ERROR"):
            procedure = self.uri(f"{base}.reply.{reply_kind.lower()}")
            registration = await other.register(procedure)
            request = pub.next_request()
            pub.send([wire.CALL, request, {}, procedure])
            invocation = await other.expect(wire.INVOCATION, 2.0, match=lambda v: v[2] == registration)
            name = f"{reply_kind} spec implicit {b}→{a} ({mode})"
            if invocation is None:
                self.result(check, name, False, "the plain CALL never reached the callee")
                continue
            m = self.ledger.new_message(f"mismatch/{reply_kind.lower()}", reply_kind, other.label, {},
                                        "spec", procedure)
            options = dict(crypto.IMPLICIT_SPEC_OPTIONS)
            element = self._seal(m, keys.box(False), options)
            if reply_kind == "YIELD":
                other.send([wire.YIELD, invocation[1], options, element])
            else:
                other.send([wire.ERROR, wire.INVOCATION, invocation[1], options,
                            self.uri(f"{base}.error.failed"), element])
            callee_error = await other.expect(wire.ERROR, 2.0, match=lambda e: e[4] == MISMATCH_URI)
            caller_reply = await pub.expect_any((wire.RESULT, wire.ERROR), 2.0,
                                                match=answers(request))
            want = {"sender_serializer": b, "receiver_serializer": a, "payload_serializer": b}
            problems = [p for p in (_mismatch_error_problem(callee_error, want, who="callee"),
                                    _mismatch_error_problem(caller_reply, want, who="caller")) if p]
            self.result(check, name, not problems, "; ".join(problems))

    # -- encryption required (rule E5) -------------------------------------------------------

    async def encryption_required_probes(self):
        check = "encryption-required"
        if not self.realm.required_prefixes:
            self.result(check, "all", True, "no permission with require_encryption in the realm "
                        "(or none given with --encrypted-uri)", status="skip")
            return
        prefix = self.realm.required_prefixes[0]
        base = f"{prefix}harness.{self.run_id}" if prefix.endswith(".") or prefix == "" else prefix
        ep = self.endpoints[0]
        serializer = ep["serializers"][0]
        keys = crypto.GroupKeys("required")
        sender = await self.raw_session(f"required/sender@{ep['label']}", ep, serializer)
        receiver = await self.raw_session(f"required/receiver@{ep['label']}", ep, serializer)
        topic, procedure = self.uri(f"{base}.topic"), self.uri(f"{base}.proc")
        subscription = await receiver.subscribe(topic)
        registration = await receiver.register(procedure)

        async def no_event(period=0.3):
            return await receiver.expect(wire.EVENT, period, match=lambda e: e[1] == subscription)

        # Plaintext PUBLISH, acknowledged and not.
        for acknowledge in (True, False):
            marker = self.ledger.new_probe(f"plaintext PUBLISH (acknowledge={acknowledge})")
            request = sender.next_request()
            sender.send([wire.PUBLISH, request, {"acknowledge": True} if acknowledge else {}, topic,
                         [marker], {"probe": marker}])
            reply = await sender.expect_any((wire.PUBLISHED, wire.ERROR), 1.0 if acknowledge else 0.3,
                                            match=answers(request))
            event = await no_event()
            problems = []
            if acknowledge and (reply is None or reply[0] != wire.ERROR or reply[4] != ENCRYPTION_REQUIRED_URI):
                problems.append(f"expected ERROR {ENCRYPTION_REQUIRED_URI}, got {_short(reply)}")
            if not acknowledge and reply is not None:
                problems.append(f"unacknowledged PUBLISH got an answer {_short(reply)}")
            if event is not None:
                problems.append("the subscriber got the plaintext EVENT")
            self.result(check, f"plaintext PUBLISH acknowledge={acknowledge}", not problems, "; ".join(problems))

        # Plaintext CALL.
        marker = self.ledger.new_probe("plaintext CALL")
        reply = await sender.request([wire.CALL, {}, procedure, [marker]], (wire.RESULT,), 1.0)
        invocation = await receiver.expect(wire.INVOCATION, 0.3, match=lambda v: v[2] == registration)
        problems = []
        if reply is None or reply[0] != wire.ERROR or reply[4] != ENCRYPTION_REQUIRED_URI:
            problems.append(f"expected ERROR {ENCRYPTION_REQUIRED_URI}, got {_short(reply)}")
        if invocation is not None:
            problems.append("the callee got the plaintext INVOCATION")
        self.result(check, "plaintext CALL", not problems, "; ".join(problems))

        # Encrypted CALL answered with plaintext YIELD / ERROR: refused to the callee.
        for reply_kind in ("YIELD", "ERROR"):
            m = self.ledger.new_message(f"required/{reply_kind.lower()}", "CALL", sender.label,
                                        {receiver.label: wire.INVOCATION}, "spec", procedure)
            options = dict(crypto.SPEC_OPTIONS)
            request = sender.next_request()
            sender.send([wire.CALL, request, options, procedure, self._seal(m, keys.box(True), options)])
            invocation = await receiver.expect(wire.INVOCATION, 1.0, match=lambda v: v[2] == registration)
            self._spec_receive(receiver.label, invocation, m, keys.box(False))
            name = f"plaintext {reply_kind} to an encrypted CALL"
            if invocation is None:
                self.result(check, name, False, "the encrypted CALL never reached the callee")
                continue
            marker = self.ledger.new_probe(f"plaintext {reply_kind}")
            if reply_kind == "YIELD":
                receiver.send([wire.YIELD, invocation[1], {}, [marker]])
            else:
                receiver.send([wire.ERROR, wire.INVOCATION, invocation[1], {}, self.uri(f"{base}.error"), [marker]])
            refused = await receiver.expect(wire.ERROR, 1.0, match=lambda e: e[4] == ENCRYPTION_REQUIRED_URI)
            caller_got = await sender.expect_any((wire.RESULT, wire.ERROR), 1.0,
                                                 match=answers(request))
            problems = []
            if refused is None:
                problems.append(f"the callee got no ERROR {ENCRYPTION_REQUIRED_URI}")
            if caller_got is not None and marker in repr(caller_got):
                problems.append("the caller got the plaintext")
            outcome = f"caller got {_short(caller_got)}" if caller_got else "caller got no answer within 1 s"
            self.result(check, name, not problems, "; ".join(problems), note=outcome)

        # Encrypted PUBLISH and a PUBLISH without arguments are allowed.
        m = self.ledger.new_message("required/publish", "PUBLISH", sender.label,
                                    {receiver.label: wire.EVENT}, "spec", topic)
        options = dict(crypto.SPEC_OPTIONS, acknowledge=True)
        request = sender.next_request()
        sender.send([wire.PUBLISH, request, options, topic, self._seal(m, keys.box(True), options)])
        reply = await sender.expect_any((wire.PUBLISHED, wire.ERROR), 1.0,
                                        match=answers(request))
        self._spec_receive(receiver.label, await receiver.expect(wire.EVENT, 1.0), m, keys.box(False))
        self.result(check, "encrypted PUBLISH is accepted", reply is not None and reply[0] == wire.PUBLISHED,
                    f"expected PUBLISHED, got {_short(reply)}")
        request = sender.next_request()
        sender.send([wire.PUBLISH, request, {"acknowledge": True}, topic])
        reply = await sender.expect_any((wire.PUBLISHED, wire.ERROR), 1.0,
                                        match=answers(request))
        event = await receiver.expect(wire.EVENT, 1.0)
        self.result(check, "PUBLISH without arguments is accepted",
                    reply is not None and reply[0] == wire.PUBLISHED and event is not None,
                    f"expected PUBLISHED and an EVENT, got {_short(reply)}, EVENT {event is not None}")

    # -- malformed transparency options and absent payloads (rule E6) ------------------

    async def malformed_probes(self):
        check = "malformed"
        ep = self.endpoints[0]
        serializer = ep["serializers"][0]
        sender = await self.raw_session(f"malformed/sender@{ep['label']}", ep, serializer)
        receiver = await self.raw_session(f"malformed/receiver@{ep['label']}", ep, serializer)
        topic, procedure = self.uri(f"{self.base}.malformed.topic"), self.uri(f"{self.base}.malformed.proc")
        subscription = await receiver.subscribe(topic)
        await receiver.register(procedure)
        spec = dict(crypto.SPEC_OPTIONS)
        cases = [  # (name, options, Arguments, ArgumentsKw or None); "BLOB" marks the payload
            ("empty ppt_scheme", dict(spec, ppt_scheme=""), ["BLOB"], None),
            ("ppt_scheme of the wrong type", dict(spec, ppt_scheme=7), ["BLOB"], None),
            ("spec form with two arguments", spec, ["BLOB", "BLOB"], None),
            ("spec form with a non-binary argument", spec, ["TEXT"], None),
            ("spec form with ArgumentsKw", spec, ["BLOB"], {"k": 1}),
            ("scheme wamp without ppt_serializer", {"ppt_scheme": "wamp", "ppt_cipher": "xsalsa20poly1305"},
             ["BLOB"], None),
            ("unknown ppt_cipher", dict(spec, ppt_cipher="rot13"), ["BLOB"], None),
            ("unknown enc_algo", {"enc_algo": "rot13", "enc_serializer": "json"}, "BLOB", None),
            ("enc_* and ppt_* mixed", dict(spec, enc_algo="cryptobox"), ["BLOB"], None),
        ]
        # All cases at once, each with its own payload bytes, then one quiet period: what
        # reaches the receiver is told apart by those bytes.
        pending = []
        for name, options, args, kwargs in cases:
            for kind in ("PUBLISH", "CALL"):
                marker = secrets.token_hex(12)
                blob = marker.encode("ascii") + secrets.token_bytes(24)
                payload = blob if args == "BLOB" else \
                    [{"BLOB": blob, "TEXT": marker}.get(a, a) for a in args]
                message = [wire.PUBLISH, dict(options, acknowledge=True), topic, payload] \
                    if kind == "PUBLISH" else [wire.CALL, dict(options), procedure, payload]
                if kwargs is not None:
                    message.append(kwargs)
                request = sender.next_request()
                message.insert(1, request)
                sender.send(message)
                pending.append((f"{kind} with {name}", kind, request, marker))
        await asyncio.sleep(0.2)
        delivered = receiver.drain(wire.EVENT) + receiver.drain(wire.INVOCATION)
        for name, kind, request, marker in pending:
            reply = await sender.expect_any((wire.PUBLISHED, wire.RESULT, wire.ERROR), 1.0,
                                            match=answers(request))
            got = [d for d in delivered if marker in repr(d)
                   or any(marker.encode("ascii") in b for b in _binaries(d))]
            problems = []
            if reply is None or reply[0] != wire.ERROR or reply[4] != "wamp.error.invalid_argument":
                problems.append(f"expected ERROR wamp.error.invalid_argument, got {_short(reply)}")
            if got:
                problems.append(f"the {'subscriber' if kind == 'PUBLISH' else 'callee'} got it")
            self.result(check, name, not problems, "; ".join(problems))
        for invocation in (d for d in delivered if d[0] == wire.INVOCATION):
            receiver.send([wire.ERROR, wire.INVOCATION, invocation[1], {}, "wamp.error.canceled"])
        # Unacknowledged malformed PUBLISH: dropped, nobody gets it, no answer.
        request = sender.next_request()
        sender.send([wire.PUBLISH, request, dict(spec, ppt_scheme=""), topic, [blob]])
        reply = await sender.expect_any((wire.PUBLISHED, wire.ERROR), 0.3, match=answers(request))
        event = await receiver.expect(wire.EVENT, 0.1, match=lambda e: e[1] == subscription)
        self.result(check, "unacknowledged malformed PUBLISH is dropped", reply is None and event is None,
                    f"got answer {_short(reply)}, subscriber got EVENT: {event is not None}")
        # Transparency keys without a payload: forwarded as a plain message without them
        # (rule E6, as Crossbar does).
        reply = await sender.request([wire.PUBLISH, {"acknowledge": True, "enc_algo": "cryptobox",
                                                     "enc_serializer": "json"}, topic],
                                     (wire.PUBLISHED,), 1.0)
        event = await receiver.expect(wire.EVENT, 1.0, match=lambda e: e[1] == subscription)
        kept = sorted(k for k in (event[3] if event else {}) if wire.is_transparency_key(k))
        self.result(check, "enc_* keys without a payload: plain EVENT without them",
                    reply is not None and reply[0] == wire.PUBLISHED and event is not None and not kept,
                    f"got {_short(reply)}, EVENT {_short(event)}")

    # -- meta events (rule B4) ---------------------------------------------------------------

    async def start_meta_watcher(self):
        ep = self.endpoints[0]
        try:
            self.watcher = await self.raw_session(f"meta-watcher@{ep['label']}", ep, ep["serializers"][0])
        except (ConnectionError, OSError) as e:
            self.result("meta", "watcher", False, f"could not open the meta watcher: {e}")
            return
        self._open.remove(self.watcher)   # lives across groups
        self.feature_gaps(self.watcher.welcome)   # in every profile: what the run leaves out
        if "session_meta_api" not in _features(self.watcher.welcome, "broker"):
            # A router without the meta API (any --url target may lack it) has nothing to check.
            self.meta_skip = "the router does not announce session_meta_api"
            await self.watcher.close()
            self.watcher = None
            return
        for topic in META_TOPICS:
            reply = await self.watcher.request([wire.SUBSCRIBE, {}, topic], (wire.SUBSCRIBED,), 1.0)
            self.watcher_topics[topic] = "subscribed" if reply and reply[0] == wire.SUBSCRIBED else \
                (reply[4] if reply else "no answer")

    async def sample_meta_results(self):
        """While a group's sessions are still open, ask the meta procedures what they show
        of them (sessions, subscriptions, registrations); the replies are scanned with the
        events. A procedure the watcher may not call answers ERROR, kept as well."""
        if self.watcher is None:
            return

        async def call(procedure, *args):
            reply = await self.watcher.request([wire.CALL, {}, procedure, list(args)], (wire.RESULT,), 1.0)
            if reply is not None:
                self.meta_results.append(reply)
            ok = reply is not None and reply[0] == wire.RESULT and len(reply) > 3 and reply[3]
            return reply[3][0] if ok else None

        sessions = await call("wamp.session.list")
        for session in (sessions or [])[:50]:
            await call("wamp.session.get", session)
        for family, members in (("subscription", "subscribers"), ("registration", "callees")):
            listed = await call(f"wamp.{family}.list")
            ids = [i for ids in (listed or {}).values() for i in ids] if isinstance(listed, dict) else []
            for observation in ids[:50]:
                await call(f"wamp.{family}.get", observation)
                await call(f"wamp.{family}.list_{members}", observation)

    async def stop_meta_watcher(self):
        if self.watcher is None:
            return
        await asyncio.sleep(0.1)
        self.meta_events = self.watcher.drain(wire.EVENT)
        await self.watcher.close()


def _binaries(value):
    """Every bytes value inside a decoded message."""
    if isinstance(value, bytes):
        return [value]
    if isinstance(value, (list, tuple)):
        return [b for v in value for b in _binaries(v)]
    if isinstance(value, dict):
        return [b for v in value.values() for b in _binaries(v)]
    return []


def answers(request):
    """Matches the reply to ``request``: PUBLISHED/RESULT carry it at [1], ERROR at [2]."""
    return lambda r: (r[2] if r[0] == wire.ERROR else r[1]) == request


def _features(welcome, role):
    details = welcome[2] if welcome and len(welcome) > 2 and isinstance(welcome[2], dict) else {}
    return details.get("roles", {}).get(role, {}).get("features", {}) or {}


def _short(msg, limit=160):
    if msg is None:
        return "nothing"
    text = f"{wire.message_name(msg[0])} {msg[1:]!r}" if isinstance(msg, list) and msg else repr(msg)
    return text if len(text) <= limit else text[:limit] + "..."


def _mismatch_error_problem(reply, want, who="sender"):
    """None if ``reply`` is ERROR serializer_mismatch with kwargs ``want`` and no payload;
    otherwise what is wrong."""
    if reply is None:
        return f"the {who} got no ERROR {MISMATCH_URI}"
    if reply[0] != wire.ERROR or reply[4] != MISMATCH_URI:
        return f"the {who} expected ERROR {MISMATCH_URI}, got {_short(reply)}"
    kwargs = reply[6] if len(reply) > 6 and isinstance(reply[6], dict) else {}
    wrong = {k: kwargs.get(k) for k, v in want.items() if kwargs.get(k) != v}
    if wrong:
        return f"the {who}'s ERROR kwargs {kwargs!r} differ from the expected {want!r}"
    if any(isinstance(v, (bytes, bytearray)) for v in list(kwargs.values()) + list(reply[5] if len(reply) > 5 and isinstance(reply[5], list) else [])):
        return f"the {who}'s ERROR carries binary data (payload bytes?)"
    return None
