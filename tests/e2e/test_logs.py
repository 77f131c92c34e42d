"""Logs never carry application payloads, at any level (shared/E2E.md §2).

A router at `--loglevel trace` routes messages whose args / kwargs hold random canary
strings - through events, calls, results, application errors, refused requests and
protocol violations - and none of the canaries may appear in what it wrote.
"""

import asyncio
import json
import uuid

from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import PublishOptions

from wamp_helpers import (
    CALL,
    ERROR,
    PUBLISH,
    EventSink,
    RawWamp,
    assert_protocol_violation,
    close_all,
    connect,
    echo,
    raw_session,
    run,
)


def canary(label):
    return f"CANARY-{label}-{uuid.uuid4().hex}"


def test_payloads_never_logged_at_trace(router_factory):
    router = router_factory(loglevel="trace")
    c = {name: canary(name) for name in (
        "publish_arg", "publish_kwarg_value", "publish_kwarg_key", "call_arg", "call_kwarg",
        "error_arg", "error_kwarg", "refused_publish", "refused_call",
        "violation_args", "violation_broken_json")}

    async def scenario():
        sub, pub = await connect(router.url), await connect(router.url)
        sink = EventSink()
        await sub.subscribe(sink, "com.example.topic")
        await pub.publish("com.example.topic", c["publish_arg"], [c["publish_arg"]],
                          options=PublishOptions(acknowledge=True),
                          **{"k": c["publish_kwarg_value"], c["publish_kwarg_key"]: 1})
        args, kwargs, _ = await sink.next()
        assert args[0] == c["publish_arg"]  # it really went through the router

        await sub.register(echo, "com.example.echo")
        result = await asyncio.wait_for(
            pub.call("com.example.echo", c["call_arg"], k=c["call_kwarg"]), 3)
        assert list(result.results) == [c["call_arg"]]

        def fail():
            raise ApplicationError("com.example.error", c["error_arg"], k=c["error_kwarg"])

        await sub.register(fail, "com.example.fail")
        try:
            await asyncio.wait_for(pub.call("com.example.fail"), 3)
            raise AssertionError("call did not fail")
        except ApplicationError as e:
            assert e.args[0] == c["error_arg"]
        await close_all(sub, pub)

    run(scenario())

    # Requests refused by the router (invalid URI) with a payload.
    raw = raw_session(router.url)
    raw.send([PUBLISH, 1, {"acknowledge": True}, "com..bad", [c["refused_publish"]]])
    assert raw.expect(ERROR)[4] == "wamp.error.invalid_uri"
    raw.send([CALL, 2, {}, "com.example.nobody", [c["refused_call"]]])
    assert raw.expect(ERROR)[4] == "wamp.error.no_such_procedure"
    raw.close()

    # Protocol violations whose offending message holds a payload.
    raw = raw_session(router.url)
    raw.send([PUBLISH, 3, {}, "com.example.topic", c["violation_args"]])
    assert_protocol_violation(raw)
    raw.close()
    raw = RawWamp(router.url)
    raw.hello()
    raw.send_text(json.dumps([PUBLISH, 4, {}, "com.example.topic",
                              [c["violation_broken_json"]]])[:-2])
    assert_protocol_violation(raw)
    raw.close()

    assert router.stop() == 0
    log = router.log() + router.stdout()
    assert log.strip(), "nothing logged at --loglevel trace; the test would prove nothing"
    leaked = [name for name, value in c.items() if value in log]
    assert not leaked, f"payload canaries found in the router's output: {leaked}"
    # Not even a fragment (a truncated dump would still leak).
    fragments = [name for name, value in c.items() if value.split("-")[-1][:12] in log]
    assert not fragments, f"payload canary fragments in the router's output: {fragments}"


def test_logs_go_to_stderr_not_stdout(router_factory):
    router = router_factory(loglevel="debug")
    raw = raw_session(router.url)
    raw.send([999])
    assert_protocol_violation(raw)
    raw.close()
    assert router.wait_for_log(r"protocol violation")
    assert router.stop() == 0
    assert router.stdout() == "", f"stdout is not for logs: {router.stdout()[:500]!r}"
