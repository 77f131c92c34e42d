"""One outcome of one check; what the reports are made of."""

# Check ids, in report order, with what each one establishes.
CHECKS = {
    "router": "the router starts on the config, serves every listener, and exits 0 on SIGTERM",
    "capture": "every harness connection was relayed and parsed into WAMP messages",
    "traffic": "every traffic group ran to the end",
    "decrypt": "(1) every recipient decrypted exactly the plaintext that was sent",
    "wire": "(2) no canary in any encoding in the bytes to or from the router (probe "
            "plaintext: none from the router)",
    "logs": "(3) the router's logs (trace level) hold no canary, probe plaintext or ciphertext",
    "meta": "(3) meta events hold no canary, probe plaintext or ciphertext",
    "metrics": "(3) the metrics endpoint holds no canary, probe plaintext or ciphertext",
    "ciphertext": "(4) recipients get the payload element byte for byte as the sender put it "
                  "on the wire, and only the intended recipients get it",
    "details": "(4) the enc_*/ppt_* details reach the recipient unchanged, form kept",
    "serializer-mismatch": "(5) serializer mismatches refused with "
                           "blindrouter.error.serializer_mismatch (shared/E2E.md §3)",
    "encryption-required": "(5) plaintext on encryption-required URIs refused with "
                           "blindrouter.error.encryption_required (shared/E2E.md §5)",
    "features": "WELCOME announcements and spec-form rules (shared/E2E.md §4)",
    "malformed": "malformed enc_*/ppt_* options refused with wamp.error.invalid_argument "
                 "(shared/E2E.md §1); keys without a payload dropped (§2)",
}


class Result:
    __slots__ = ("check", "name", "status", "message", "seconds")

    def __init__(self, check, name, status, message="", seconds=0.0):
        assert status in ("pass", "fail", "skip"), status
        self.check = check
        self.name = name
        self.status = status
        self.message = message
        self.seconds = seconds

    def as_dict(self):
        return {"check": self.check, "name": self.name, "status": self.status,
                "message": self.message}
