"""One outcome of one check; what the reports are made of.

Every result belongs to a profile (docs/blindness-audit.md, "Profiles"): ``blind`` holds
what makes any router blind or not; ``e2e`` adds blindrouter's own end-to-end rules. A
run with ``--profile e2e`` checks both and gives a verdict for each.
"""

DOCS = "docs/blindness-audit.md"
PROFILES = ("blind", "e2e")

# Check ids, in report order: (profile, rule ids in the docs page, what the check establishes).
CHECK_RULES = {
    "router": ("blind", "R", "the router starts on the config and serves every listener"),
    "capture": ("blind", "R", "every harness connection was relayed and parsed into WAMP messages"),
    "traffic": ("blind", "R", "every traffic group ran to the end"),
    "decrypt": ("blind", "B1", "every recipient decrypted exactly the plaintext that was sent"),
    "wire": ("blind", "B2", "no canary in any encoding in the bytes to or from the router "
             "(probe plaintext: none from the router)"),
    "logs": ("blind", "B3", "the router's logs (trace level) hold no canary, probe plaintext or "
             "ciphertext"),
    "meta": ("blind", "B4", "meta events and meta procedure results hold no canary, probe "
             "plaintext or ciphertext"),
    "metrics": ("blind", "B5", "the metrics endpoint holds no canary, probe plaintext or ciphertext"),
    "ciphertext": ("blind", "B6 B8", "recipients get the payload element byte for byte as the "
                   "sender put it on the wire, once, and only the intended recipients get it"),
    "details": ("blind", "B7", "the enc_*/ppt_* details reach the recipient unchanged, form kept"),
    "nats": ("blind", "B9", "with --nats: what the router cluster's NATS carries (subjects, headers, "
             "bodies) holds no canary, and no ciphertext outside the bodies"),
    "scramble": ("blind", "S1", "with --scramble: no readable application URI component in "
                 "what the router receives, sends, logs or exposes"),
    "shutdown": ("e2e", "E1", "the router exits 0 on SIGTERM"),
    "pattern-uri": ("e2e", "E2", "a delivery through a pattern subscription / registration "
                    "names the concrete topic / procedure in its details"),
    "features": ("e2e", "E3", "WELCOME announcements and spec-form rules"),
    "serializer-mismatch": ("e2e", "E4", "serializer mismatches refused with "
                            "blindrouter.error.serializer_mismatch"),
    "encryption-required": ("e2e", "E5", "plaintext on encryption-required URIs refused with "
                            "blindrouter.error.encryption_required"),
    "malformed": ("e2e", "E6", "malformed enc_*/ppt_* options refused with "
                  "wamp.error.invalid_argument; keys without a payload dropped"),
    "nats-frame": ("e2e", "E7", "with --nats and --split-url: a PUBLISH reaching another node "
                   "crosses NATS as the frame its sender wrote, byte for byte, once, its serializer "
                   "named"),
}
CHECKS = {check: f"[{rules}] {text}" for check, (_, rules, text) in CHECK_RULES.items()}

# Ledger exchanges sent by the e2e probes: their deliveries follow blindrouter's rules
# (a mismatched receiver must not get them, ...), not rules every router must keep.
E2E_EXCHANGES = ("mismatch/", "required/")


def profile_of(check):
    return CHECK_RULES.get(check, ("e2e",))[0]


def profiles_in(profile):
    """The profiles a run with ``profile`` checks: e2e includes blind."""
    return PROFILES[:PROFILES.index(profile) + 1]


def checks_of(profile):
    """The checks a run with ``profile`` performs."""
    return [check for check, (p, _, _) in CHECK_RULES.items() if p in profiles_in(profile)]


class Result:
    __slots__ = ("check", "name", "status", "message", "seconds", "profile")

    def __init__(self, check, name, status, message="", seconds=0.0, profile=None):
        assert status in ("pass", "fail", "skip"), status
        self.check = check
        self.name = name
        self.status = status
        self.message = message
        self.seconds = seconds
        self.profile = profile or profile_of(check)
        assert self.profile in PROFILES, self.profile

    def as_dict(self):
        return {"check": self.check, "name": self.name, "status": self.status,
                "profile": self.profile, "message": self.message}
