"""Progressive call invocations (WAMP spec, advanced profile) over real sockets.

Autobahn|Python 22.7.1 cannot send them (its CallOptions has no ``progress`` and its
caller does not announce ``progressive_call_invocations``), so a raw client plays the
caller and the callee. Crossbar serves none of this (ADVANCED.md §4b).
"""

import base64

import msgpack

from wamp_helpers import (CALL, CANCEL, ERROR, HELLO, INTERRUPT, INVOCATION, REGISTER, REGISTERED, RESULT,
                          WELCOME, YIELD, RawWamp, assert_protocol_violation)

PROC = "com.example.upload"
STREAM_CALLER = {"roles": {"caller": {"features": {"progressive_call_invocations": True}}}}
STREAM_CALLEE = {"roles": {"callee": {"features": {"progressive_call_invocations": True,
                                                   "call_canceling": True}}}}


def joined(router, details, subprotocols=("wamp.2.json",)):
    raw = RawWamp(router.url, subprotocols=subprotocols)
    welcome = raw.hello(details=details)
    assert welcome[0] == WELCOME
    return raw


def registered_callee(router, details=STREAM_CALLEE, procedure=PROC):
    callee = joined(router, details)
    callee.send([REGISTER, 1, {}, procedure])
    callee.expect(REGISTERED)
    return callee


def test_welcome_announces_progressive_call_invocations(router):
    raw = RawWamp(router.url)
    try:
        welcome = raw.hello(details=STREAM_CALLER)
        assert welcome[2]["roles"]["dealer"]["features"]["progressive_call_invocations"] is True
    finally:
        raw.close()


def test_chunks_reach_the_callee_in_order_on_one_invocation(router):
    callee, caller = registered_callee(router), joined(router, STREAM_CALLER)
    try:
        caller.send([CALL, 5, {"progress": True, "receive_progress": True}, PROC, ["a"]])
        first = callee.expect(INVOCATION)
        assert first[3] == {"receive_progress": True, "progress": True} and first[4] == ["a"]
        for chunk in ("b", "c"):
            caller.send([CALL, 5, {"progress": True}, PROC, [chunk]])
        caller.send([CALL, 5, {}, PROC, ["d"], {"last": True}])
        chunks = [callee.expect(INVOCATION) for _ in range(3)]
        assert [c[1] for c in chunks] == [first[1]] * 3
        assert [c[4] for c in chunks] == [["b"], ["c"], ["d"]]
        assert [c[3].get("progress") for c in chunks] == [True, True, None]
        assert chunks[2][5] == {"last": True}
        # Progressive results may flow back while chunks go forth (spec).
        callee.send([YIELD, first[1], {"progress": True}, ["got 4"]])
        assert caller.expect(RESULT) == [RESULT, 5, {"progress": True}, ["got 4"]]
        callee.send([YIELD, first[1], {}, ["done"]])
        assert caller.expect(RESULT) == [RESULT, 5, {}, ["done"]]
    finally:
        caller.close()
        callee.close()


def test_a_callee_without_the_feature_makes_the_call_feature_not_supported(router):
    callee = registered_callee(router, {"roles": {"callee": {"features": {"call_canceling": True}}}})
    caller = joined(router, STREAM_CALLER)
    try:
        caller.send([CALL, 5, {"progress": True}, PROC, ["a"]])
        assert caller.expect(ERROR)[1:5] == [CALL, 5, {}, "wamp.error.feature_not_supported"]
        caller.send([CALL, 6, {}, PROC, ["plain"]])
        assert callee.expect(INVOCATION)[4] == ["plain"]
    finally:
        caller.close()
        callee.close()


def test_progress_from_a_caller_that_did_not_announce_it_aborts_it(router):
    callee = registered_callee(router)
    caller = joined(router, {"roles": {"caller": {}}})
    try:
        caller.send([CALL, 5, {"progress": True}, PROC, ["a"]])
        abort, _ = assert_protocol_violation(caller)
        assert "progressive_call_invocations" in abort[1]["message"]
    finally:
        caller.close()
        callee.close()


def test_chunks_after_the_callee_answered_are_dropped(router):
    callee, caller = registered_callee(router), joined(router, STREAM_CALLER)
    try:
        caller.send([CALL, 5, {"progress": True}, PROC, ["a"]])
        invocation = callee.expect(INVOCATION)
        callee.send([ERROR, INVOCATION, invocation[1], {}, "com.example.too_big"])
        assert caller.expect(ERROR)[4] == "com.example.too_big"
        caller.send([CALL, 5, {"progress": True}, PROC, ["b"]])
        caller.send([CALL, 5, {}, PROC, ["c"]])
        # Nothing for either (spec, "Continuations on Completed Calls"); both still served.
        caller.send([CALL, 6, {}, PROC, ["next"]])
        assert callee.expect(INVOCATION)[4] == ["next"]
    finally:
        caller.close()
        callee.close()


def test_cancel_during_a_stream_interrupts_the_callee(router):
    callee, caller = registered_callee(router), joined(router, STREAM_CALLER)
    try:
        caller.send([CALL, 5, {"progress": True}, PROC, ["a"]])
        invocation = callee.expect(INVOCATION)
        caller.send([CANCEL, 5, {"mode": "killnowait"}])
        assert callee.expect(INTERRUPT)[1:3] == [invocation[1], {"mode": "killnowait"}]
        assert caller.expect(ERROR)[4] == "wamp.error.canceled"
        caller.send([CALL, 5, {}, PROC, ["late"]])
        caller.send([CALL, 6, {}, PROC, ["next"]])
        assert callee.expect(INVOCATION)[4] == ["next"]
    finally:
        caller.close()
        callee.close()


def test_encrypted_chunks_travel_byte_exact_and_each_is_gated(router_factory):
    """Each chunk is its own payload: forwarded with its enc_* keys (E2E.md §2), and
    judged by the plugin for its callee (E2E.md §3) like a CALL. With `translate`, a
    chunk naming its payload serializer crosses from JSON to MsgPack; one that does not
    name it cannot."""
    def translate(config):
        config["workers"][0]["realms"][0]["payload_transparency"] = {"serializer_mismatch": "translate"}
    router = router_factory(mutate=translate)
    callee = RawWamp(router.url, subprotocols=("wamp.2.msgpack",))
    caller = joined(router, STREAM_CALLER)

    def recv_msgpack(code):
        msg = msgpack.unpackb(callee.recv())
        assert msg[0] == code, msg
        return msg

    try:
        callee.send_binary(msgpack.packb([HELLO, "realm1", STREAM_CALLEE]))
        recv_msgpack(WELCOME)
        callee.send_binary(msgpack.packb([REGISTER, 1, {}, PROC]))
        recv_msgpack(REGISTERED)
        cipher = bytes(range(40))
        as_json = "\x00" + base64.b64encode(cipher).decode()
        legacy = {"progress": True, "enc_algo": "cryptobox", "enc_serializer": "json", "enc_key": "k1"}
        caller.send([CALL, 5, legacy, PROC, as_json])
        first = recv_msgpack(INVOCATION)
        assert first[3] == {"progress": True, "enc_algo": "cryptobox", "enc_serializer": "json",
                            "enc_key": "k1"}
        assert first[4] == cipher
        caller.send([CALL, 5, dict(legacy, enc_key="k2"), PROC, as_json])
        second = recv_msgpack(INVOCATION)
        assert second[1] == first[1] and second[3]["enc_key"] == "k2" and second[4] == cipher
        # A chunk whose payload serializer is implicit (the caller's own) cannot reach
        # the MsgPack callee (E2E.md §3): the stream ends for both.
        caller.send([CALL, 5, {"progress": True, "enc_algo": "cryptobox"}, PROC, as_json])
        error = caller.expect(ERROR)
        assert error[1:5] == [CALL, 5, {}, "blindrouter.error.serializer_mismatch"]
        assert recv_msgpack(INTERRUPT)[1:3] == [first[1], {"mode": "killnowait"}]
        caller.send([CALL, 5, {}, PROC, ["late"]])
        caller.send([CALL, 6, {}, "com.example.none"])
        assert caller.expect(ERROR)[4] == "wamp.error.no_such_procedure"
    finally:
        caller.close()
        callee.close()
