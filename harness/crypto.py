"""End-to-end encryption as the harness's clients do it.

Keys follow Autobahn's cryptobox model (autobahn.wamp.cryptobox.Key): per URI prefix an
originator key pair (publishers, callers) and a responder key pair (subscribers,
callees); an originator encrypts with the responder's public key and authenticates with
its own private key (libsodium ``crypto_box``, XSalsa20-Poly1305), a responder the other
way round. The router never holds any of these keys.

The spec form (WAMP "Payload PassThru Mode", scheme ``wamp``) uses the same boxes with a
CBOR plaintext ``{"args": [...], "kwargs": {...}}``; the legacy form is produced by
Autobahn's own KeyRing (a JSON plaintext ``{"uri", "args", "kwargs"}``), reproduced by
``seal_legacy`` for the raw probes that need a hand-built legacy message.
"""

import base64
import secrets

import cbor2
from autobahn.wamp.cryptobox import Key
from autobahn.wamp.serializer import _dumps as autobahn_json_dumps
from autobahn.wamp.serializer import _loads as autobahn_json_loads
from nacl.public import Box, PrivateKey

# Spec form options used by the harness (WAMP spec, Payload PassThru Mode).
SPEC_OPTIONS = {"ppt_scheme": "wamp", "ppt_serializer": "cbor", "ppt_cipher": "xsalsa20poly1305"}
# A custom scheme without ppt_serializer: the payload serializer is implicit (the
# sender's session serializer), which blindrouter treats as a mismatch on any
# cross-serializer delivery (docs/blindness-audit.md, rule E4).
IMPLICIT_SPEC_OPTIONS = {"ppt_scheme": "x_harness", "ppt_cipher": "xsalsa20poly1305"}
LEGACY_OPTIONS = {"enc_algo": "cryptobox", "enc_serializer": "json"}


class GroupKeys:
    """The originator and responder key pairs for one URI prefix."""

    def __init__(self, name):
        self.key_id = f"harness-{name}-{secrets.token_hex(4)}"
        self.originator = PrivateKey.generate()
        self.responder = PrivateKey.generate()

    def box(self, originating):
        if originating:
            return Box(self.originator, self.responder.public_key)
        return Box(self.responder, self.originator.public_key)

    def autobahn_key(self):
        """The same key pairs as an Autobahn cryptobox Key (both private halves: every
        harness session may act as originator and responder)."""
        def b64(private):
            return base64.b64encode(bytes(private)).decode("ascii")
        return Key(originator_priv=b64(self.originator), responder_priv=b64(self.responder))


def seal_spec(box, args, kwargs):
    return bytes(box.encrypt(cbor2.dumps({"args": list(args), "kwargs": dict(kwargs)})))


def open_spec(box, ciphertext):
    plain = cbor2.loads(box.decrypt(bytes(ciphertext)))
    return list(plain.get("args") or []), dict(plain.get("kwargs") or {})


def seal_legacy(box, uri, args, kwargs):
    """What Autobahn's KeyRing.encode produces for (uri, args, kwargs)."""
    plain = autobahn_json_dumps({"uri": uri, "args": list(args), "kwargs": dict(kwargs)})
    return bytes(box.encrypt(plain.encode("utf-8")))


def open_legacy(box, ciphertext):
    plain = autobahn_json_loads(box.decrypt(bytes(ciphertext)).decode("utf-8"))
    return plain.get("uri"), list(plain.get("args") or []), dict(plain.get("kwargs") or {})
