"""Session establishment and teardown over WebSocket (WAMP basic profile).

Covers the WebSocket subprotocol negotiation, the WELCOME a Crossbar user expects
(roles with feature dicts, authid/authrole/authmethod/authprovider/realm), ABORT for an
unknown realm, and GOODBYE in both directions' basic form.
"""

import asyncio
import socket

import websocket  # websocket-client

from wamp_helpers import (
    ABORT,
    CLIENT_ROLES,
    GOODBYE,
    MAX_ID,
    REALM,
    RawWamp,
    close_all,
    connect,
    http_upgrade_status,
    raw_session,
    run,
)


def test_upgrade_with_wamp_json_subprotocol_is_accepted(router):
    status, headers = http_upgrade_status(router.port, "ws", ["wamp.2.json"])
    assert status == 101
    assert headers.get("sec-websocket-protocol") == "wamp.2.json"


def test_upgrade_picks_wamp_json_among_unknown_subprotocols(router):
    status, headers = http_upgrade_status(router.port, "ws",
                                          ["com.example.nope", "wamp.2.json"])
    assert status == 101
    assert headers.get("sec-websocket-protocol") == "wamp.2.json"


def test_upgrade_with_only_unsupported_subprotocols_is_refused(router):
    status, _ = http_upgrade_status(router.port, "ws", ["wamp.2.bogus", "com.example.nope"])
    assert status != 101


def test_upgrade_without_subprotocol_is_refused(router):
    # Autobahn/Crossbar default (requireWebSocketSubprotocol): no subprotocol, no WAMP.
    status, _ = http_upgrade_status(router.port, "ws", None)
    assert status != 101


def test_router_still_serves_after_refused_upgrade(router):
    status, _ = http_upgrade_status(router.port, "ws", ["com.example.nope"])
    assert status != 101
    raw = raw_session(router.url)
    raw.close()


def test_welcome_details(router):
    raw = RawWamp(router.url)
    assert raw.subprotocol == "wamp.2.json"
    welcome = raw.hello(REALM)
    raw.close()

    assert len(welcome) == 3, welcome
    session_id, details = welcome[1], welcome[2]
    assert isinstance(session_id, int) and 1 <= session_id <= MAX_ID
    assert isinstance(details, dict)
    roles = details.get("roles")
    assert isinstance(roles, dict), details
    for role in ("broker", "dealer"):
        assert isinstance(roles.get(role), dict), f"no {role} role in {roles}"
        assert isinstance(roles[role].get("features"), dict), f"{role} has no features dict"
    assert isinstance(details.get("authid"), str) and details["authid"], details
    assert details.get("authrole") == "anonymous"
    assert details.get("authmethod") == "anonymous"
    assert details.get("authprovider") == "static"
    assert details.get("realm") == REALM


def test_welcome_features_are_booleans(router):
    raw = RawWamp(router.url)
    welcome = raw.hello(REALM)
    raw.close()
    for role in ("broker", "dealer"):
        features = welcome[2]["roles"][role]["features"]
        for name, value in features.items():
            assert isinstance(value, bool), f"{role}.{name} = {value!r}"


def test_session_ids_are_distinct(router):
    raws = [RawWamp(router.url) for _ in range(4)]
    ids = {raw.hello()[1] for raw in raws}
    for raw in raws:
        raw.close()
    assert len(ids) == 4


def test_autobahn_session_joins(router):
    async def scenario():
        session = await connect(router.url)
        details = session.joined.result()
        assert details.realm == REALM
        assert details.authrole == "anonymous"
        assert details.authmethod == "anonymous"
        assert details.authprovider == "static"
        assert isinstance(details.authid, str) and details.authid
        assert isinstance(details.session, int) and 1 <= details.session <= MAX_ID
        await close_all(session)
    run(scenario())


def test_unknown_realm_is_aborted_with_no_such_realm(router):
    async def scenario():
        session = await connect(router.url, realm="com.example.no_such_realm", join=False)
        assert not session.joined.done()
        assert session.left.done(), "no ABORT received"
        assert session.left.result().reason == "wamp.error.no_such_realm"
        await asyncio.wait_for(session.disconnected, 3)
    run(scenario())


def test_unknown_realm_abort_wire_format(router):
    raw = RawWamp(router.url)
    raw.send([1, "com.example.no_such_realm", {"roles": {"subscriber": {}}}])
    msg = raw.expect(ABORT)
    assert len(msg) == 3 and isinstance(msg[1], dict), msg
    assert msg[2] == "wamp.error.no_such_realm"
    raw.wait_closed()
    raw.close()


def test_goodbye_is_answered_with_crossbars_reason(router):
    # The spec's reply is wamp.close.goodbye_and_out; Crossbar answers wamp.close.normal
    # (Autobahn's default GOODBYE), and clients written for Crossbar check for it.
    raw = raw_session(router.url)
    raw.send([GOODBYE, {}, "wamp.close.close_realm"])
    reply = raw.expect(GOODBYE)
    assert reply[2] == "wamp.close.normal"
    raw.close()


def test_autobahn_leave_is_clean(router):
    async def scenario():
        session = await connect(router.url)
        session.leave()
        details = await asyncio.wait_for(session.left, 3)
        assert details.reason == "wamp.close.normal"
        await asyncio.wait_for(session.disconnected, 3)
        # The realm still takes new sessions.
        again = await connect(router.url)
        await close_all(again)
    run(scenario())


def test_many_concurrent_sessions(router):
    async def scenario():
        sessions = await asyncio.gather(*(connect(router.url) for _ in range(20)))
        ids = {s.joined.result().session for s in sessions}
        assert len(ids) == 20
        await close_all(*sessions)
    run(scenario())


def test_plain_http_request_is_not_upgraded(router):
    with socket.create_connection(("127.0.0.1", router.port), timeout=3) as s:
        s.sendall(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        head = s.recv(4096)
    assert head.startswith(b"HTTP/1.1 "), head[:100]
    assert int(head.split()[1]) != 101
    raw_session(router.url).close()


def test_upgrade_on_unknown_path_is_refused(router):
    status, _ = http_upgrade_status(router.port, "no-such-path", ["wamp.2.json"])
    assert status != 101
    raw_session(router.url).close()


def test_websocket_ping_is_answered(router):
    raw = raw_session(router.url)
    raw.ws.ping(b"are you there")
    raw.ws.settimeout(3)
    frame = raw.ws.recv_frame()
    assert frame.opcode == websocket.ABNF.OPCODE_PONG
    assert frame.data == b"are you there"
    raw.close()


def test_invalid_realm_name_is_aborted(router):
    raw = RawWamp(router.url)
    raw.send([1, "has space", {"roles": CLIENT_ROLES}])
    msg = raw.expect(ABORT)
    assert msg[2] in ("wamp.error.invalid_uri", "wamp.error.no_such_realm"), msg
    raw.wait_closed()
    raw.close()
