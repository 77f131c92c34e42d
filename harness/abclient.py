"""Autobahn|Python sessions with Autobahn's own cryptobox: the legacy ``enc_*`` form as
Crossbar.io users send it today.

Each session gets a ``RecordingKeyRing`` -- Autobahn's ``KeyRing`` that also reports to
the ledger the ciphertext it produced and the plaintext it decrypted -- set with
``session.set_payload_codec``.
"""

import asyncio

import txaio

txaio.use_asyncio()
# The clients' own log lines (a raised ApplicationError is logged by design, a closed
# session too) would drown the harness's progress output.
txaio.set_global_log_level("critical")

from autobahn.asyncio.rawsocket import WampRawSocketClientFactory, WampRawSocketClientProtocol  # noqa: E402
from autobahn.asyncio.wamp import ApplicationSession  # noqa: E402
from autobahn.asyncio.websocket import WampWebSocketClientFactory  # noqa: E402
from autobahn.wamp.cryptobox import KeyRing  # noqa: E402
from autobahn.wamp.serializer import CBORSerializer, JsonSerializer, MsgPackSerializer  # noqa: E402
from autobahn.wamp.types import ComponentConfig  # noqa: E402

# Known quirk of Debian's Autobahn|Python 22.7.1: the asyncio RawSocket protocol lacks the
# `transport_details` property that ApplicationSession reads on WELCOME
# (autobahn/wamp/protocol.py), so every asyncio RawSocket session dies on join. We keep
# asyncio and add the property, reading the `_transport_details` the protocol already
# sets in connection_made (autobahn/asyncio/rawsocket.py), rather than switching RawSocket
# clients to the Twisted flavour.
if not hasattr(WampRawSocketClientProtocol, "transport_details"):
    WampRawSocketClientProtocol.transport_details = property(lambda self: self._transport_details)

AUTOBAHN_SERIALIZERS = {"json": JsonSerializer, "msgpack": MsgPackSerializer,
                        "cbor": CBORSerializer}


class RecordingKeyRing(KeyRing):
    def __init__(self, ledger, label, forget_to_encrypt=None):
        super().__init__()
        self.ledger = ledger
        self.label = label
        # --inject-leak=plaintext: a callable(message) telling which message to send in
        # the clear, as a client that forgot to configure its keyring would.
        self.forget_to_encrypt = forget_to_encrypt

    def encode(self, is_originating, uri, args=None, kwargs=None):
        message = self.ledger.message_of(args)
        if message is not None and self.forget_to_encrypt and self.forget_to_encrypt(message):
            message.sent_plaintext = True
            return None
        encoded = super().encode(is_originating, uri, args, kwargs)
        if encoded is not None and message is not None:
            keys = {"enc_algo": encoded.enc_algo, "enc_serializer": encoded.enc_serializer}
            if encoded.enc_key is not None:
                keys["enc_key"] = encoded.enc_key
            message.encrypted(encoded.payload, keys)
        return encoded

    def decode(self, is_originating, uri, encoded_payload):
        try:
            result = super().decode(is_originating, uri, encoded_payload)
        except Exception as e:
            self.ledger.decrypt_failed(self.label, uri, encoded_payload.payload,
                                       f"decryption failed: {e}")
            raise
        _, args, kwargs = result
        self.ledger.decrypted(self.label, encoded_payload.payload, args or [], kwargs or {})
        return result


class HarnessSession(ApplicationSession):
    def __init__(self, config):
        super().__init__(config)
        loop = asyncio.get_running_loop()
        self.joined = loop.create_future()
        self.gone = loop.create_future()

    def onJoin(self, details):
        if not self.joined.done():
            self.joined.set_result(details)

    def onLeave(self, details):
        if not self.joined.done():
            self.joined.set_exception(ConnectionError(f"left: {details.reason}"))
        return super().onLeave(details)

    def onDisconnect(self):
        if not self.gone.done():
            self.gone.set_result(True)
        if not self.joined.done():
            self.joined.set_exception(ConnectionError("disconnected before join"))

    async def close(self, timeout=1.0):
        if self.gone.done():
            return
        try:
            if self.is_attached():
                self.leave()
            elif self._transport is not None:
                self._transport.close()
            await asyncio.wait_for(asyncio.shield(self.gone), timeout)
        except Exception:
            if self._transport is not None:
                self._transport.transport.abort()


async def connect(endpoint, serializer, realm, keyring, timeout=5.0):
    """An Autobahn session on ``endpoint`` (relay address) with ``keyring`` as codec."""
    loop = asyncio.get_running_loop()
    session = HarnessSession(ComponentConfig(realm=realm))
    session.set_payload_codec(keyring)
    ser = AUTOBAHN_SERIALIZERS[serializer]()
    if endpoint["protocol"] == "websocket":
        url = f"ws://{endpoint['host']}:{endpoint['port']}/{endpoint.get('ws_path', '')}"
        factory = WampWebSocketClientFactory(lambda: session, url=url, serializers=[ser])
        factory.setProtocolOptions(openHandshakeTimeout=timeout, closeHandshakeTimeout=1,
                                   autoPingInterval=0)
    else:
        factory = WampRawSocketClientFactory(lambda: session, serializer=ser)
    if endpoint["kind"] == "unix":
        opening = loop.create_unix_connection(factory, endpoint["path"])
    else:
        opening = loop.create_connection(factory, endpoint["host"], endpoint["port"])
    await asyncio.wait_for(opening, timeout)
    await asyncio.wait_for(asyncio.shield(session.joined), timeout)
    return session
