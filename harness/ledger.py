"""What the harness's clients sent and received, as they saw it.

Every encrypted application message gets an entry before it is sent: its canaries, its
plaintext, who must receive it and as which message kind. The clients report the
ciphertext they produced and what each recipient decrypted; the checks later hold this
against the bytes the relay captured on the wire.
"""

import asyncio
import time

from . import canary


class Delivery:
    __slots__ = ("ciphertext", "args", "kwargs", "error", "t")

    def __init__(self, ciphertext, args=None, kwargs=None, error=None):
        self.ciphertext = ciphertext
        self.args = args
        self.kwargs = kwargs
        self.error = error
        self.t = time.monotonic()


class Message:
    """One encrypted application message (PUBLISH, CALL, YIELD or ERROR) the harness sends."""

    def __init__(self, ledger, exchange, kind, sender, recipients, form, uri):
        self.ledger = ledger
        self.exchange = exchange
        self.kind = kind
        self.sender = sender            # session label
        self.recipients = recipients    # {session label: expected message code}
        self.form = form                # "legacy" | "spec"
        self.uri = uri
        self.canaries = [canary.ascii_canary(), canary.unicode_canary()]
        self.seq = len(ledger.messages) + 1
        self.args = [self.canaries[0], self.seq, {"note": "harness plaintext"}]
        self.kwargs = {"canary": self.canaries[1], "bytes": b"\x00\x01harness\xff"}
        self.ciphertext = None
        self.keys = None
        self.sent_plaintext = False     # a deliberate client-side leak (--inject-leak)
        self.t_sent = None
        self.outcome = None             # what the sender heard back, if it failed
        self.deliveries = {}            # session label -> Delivery
        self._arrived = {label: asyncio.Event() for label in recipients}

    @property
    def name(self):
        return f"{self.exchange} {self.kind}#{self.seq}"

    def encrypted(self, ciphertext, keys):
        self.ciphertext = bytes(ciphertext)
        self.keys = dict(keys)
        self.t_sent = time.monotonic()
        self.ledger.scanner.add_ciphertext(self.ciphertext, self.name)

    def delivered(self, label, delivery):
        self.deliveries.setdefault(label, delivery)
        if label in self._arrived:
            self._arrived[label].set()

    async def wait(self, timeout):
        """Wait until every recipient reported (decrypted or failed); False on timeout."""
        pending = [e.wait() for e in self._arrived.values() if not e.is_set()]
        if not pending:
            return True
        try:
            await asyncio.wait_for(asyncio.gather(*pending), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    def missing(self):
        return [label for label in self.recipients if label not in self.deliveries]


class Ledger:
    def __init__(self):
        self.messages = []
        self.by_canary = {}
        self.decrypt_failures = []    # (session label, uri, ciphertext, error text)
        self.probes = {}              # probe marker -> description
        self.scanner = canary.SecretScanner()
        self.sessions = {}            # label -> SessionInfo
        self.notes = []

    def new_message(self, exchange, kind, sender, recipients, form, uri):
        m = Message(self, exchange, kind, sender, dict(recipients), form, uri)
        self.messages.append(m)
        for c in m.canaries:
            self.by_canary[c] = m
            self.scanner.add_token(c, m.name)
        return m

    def new_probe(self, description):
        marker = canary.probe_marker()
        self.probes[marker] = description
        self.scanner.add_token(marker, f"probe {description}")
        return marker

    def message_of(self, args):
        """The Message whose canary opens ``args``, or None."""
        if args and isinstance(args[0], str):
            return self.by_canary.get(args[0])
        return None

    def decrypted(self, label, ciphertext, args, kwargs):
        m = self.message_of(args)
        if m is None:
            self.notes.append(f"{label} decrypted a payload with no known canary")
            return
        m.delivered(label, Delivery(bytes(ciphertext), list(args), dict(kwargs or {})))

    def decrypt_failed(self, label, uri, ciphertext, error, message=None):
        self.decrypt_failures.append((label, uri, bytes(ciphertext or b""), str(error)))
        if message is not None:
            message.delivered(label, Delivery(bytes(ciphertext or b""), error=str(error)))
            return
        # Without a canary, attribute the failure to the oldest message still awaited by
        # this session on this URI, so nobody waits out a timeout for it.
        for m in self.messages:
            if m.uri == uri and label in m.recipients and label not in m.deliveries:
                m.delivered(label, Delivery(bytes(ciphertext or b""), error=str(error)))
                return


class SessionInfo:
    """A harness client session: its label, where it connected, and its session id."""

    def __init__(self, label, target, serializer, client):
        self.label = label
        self.target = target
        self.serializer = serializer
        self.client = client          # "autobahn" | "raw"
        self.session_id = None
        self.welcome_details = None
