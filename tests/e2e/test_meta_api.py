"""The WAMP meta API as Crossbar serves it (shared/ADVANCED.md §6), through the router's
own trusted service session: a real Autobahn|Python component uses every meta procedure
and subscribes to every meta event; revocation notices are checked on the wire.
"""

import asyncio
import re

import pytest

from autobahn.wamp.types import SubscribeOptions, RegisterOptions

from wamp_helpers import (
    RawWamp,
    EventSink,
    close_all,
    connect,
    expect_application_error,
    run,
)

COUNT = "wamp.session.count"
CREATED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
SESSION_EVENTS = ["wamp.session.on_join", "wamp.session.on_leave"]
SUBSCRIPTION_EVENTS = ["wamp.subscription." + e for e in ("on_create", "on_subscribe", "on_unsubscribe", "on_delete")]
REGISTRATION_EVENTS = ["wamp.registration." + e for e in ("on_create", "on_register", "on_unregister", "on_delete")]


async def call(session, procedure, *args, **kwargs):
    return await asyncio.wait_for(session.call(procedure, *args, **kwargs), 3)


async def watch(session, topics):
    sinks = {}
    for topic in topics:
        sinks[topic] = EventSink()
        await session.subscribe(sinks[topic], topic)
    return sinks


def test_session_count_counts_the_joined_client_sessions(router):
    async def scenario():
        a, b, c = await connect(router.url), await connect(router.url), await connect(router.url)
        # The router's own service session is not counted (Crossbar's is no client session).
        assert await call(a, COUNT) == 3
        assert await call(a, COUNT, ["anonymous"]) == 3
        assert await call(a, COUNT, filter_authroles=["anonymous"]) == 3
        assert await call(a, COUNT, ["frontend", "backend"]) == 0
        assert await call(a, COUNT, None) == 3
        await c.leave()
        await asyncio.sleep(0.1)
        assert await call(b, COUNT) == 2
        await close_all(a, b, c)
    run(scenario())


def test_session_count_refuses_a_filter_that_is_no_list(router):
    async def scenario():
        a = await connect(router.url)
        # Crossbar asserts the type; Autobahn answers the AssertionError with runtime_error.
        await expect_application_error(a.call(COUNT, "anonymous"), "wamp.error.runtime_error")
        await expect_application_error(a.call(COUNT, [], []), "wamp.error.runtime_error")
        await close_all(a)
    run(scenario())


def test_meta_procedures_and_events_need_permissions(auth_router):
    async def scenario():
        a = await connect(auth_router.url)
        await expect_application_error(a.call(COUNT), "wamp.error.not_authorized")
        await expect_application_error(a.call("wamp.session.list"), "wamp.error.not_authorized")
        await expect_application_error(a.subscribe(lambda *_: None, "wamp.session.on_join"),
                                       "wamp.error.not_authorized")
        await close_all(a)
    run(scenario())


def test_welcome_announces_the_meta_api(router):
    raw = RawWamp(router.url)
    try:
        welcome = raw.hello()
    finally:
        raw.close()
    broker = welcome[2]["roles"]["broker"]["features"]
    dealer = welcome[2]["roles"]["dealer"]["features"]
    for feature in ("session_meta_api", "subscription_meta_api", "subscription_revocation"):
        assert broker.get(feature) is True, feature
    for feature in ("session_meta_api", "registration_meta_api", "registration_revocation"):
        assert dealer.get(feature) is True, feature


def test_session_meta_api_and_events(router):
    async def scenario():
        admin = await connect(router.url)
        sinks = await watch(admin, SESSION_EVENTS)
        b = await connect(router.url)
        b_id = b._session_id
        [details], _, _ = await sinks["wamp.session.on_join"].next()
        assert details["session"] == b_id
        for key in ("realm", "authid", "authrole", "authmethod", "authprovider", "authextra", "transport",
                    "serializer", "resumed", "resumable", "resume_token"):
            assert key in details, key
        assert details["authrole"] == "anonymous"
        assert details["transport"]["channel_framing"] == "websocket"
        assert details["transport"]["peer"].startswith("tcp4:127.0.0.1:")

        assert sorted(await call(admin, "wamp.session.list")) == sorted([admin._session_id, b_id])
        assert await call(admin, "wamp.session.list", ["nobody"]) == []
        assert (await call(admin, "wamp.session.get", b_id))["session"] == b_id
        await expect_application_error(admin.call("wamp.session.get", 42), "wamp.error.no_such_session")

        # kill: GOODBYE with the reason and message, null result, on_leave(session).
        assert await call(admin, "wamp.session.kill", b_id, reason="com.example.kicked", message="bye") is None
        left = await asyncio.wait_for(b.left, 3)
        assert left.reason == "com.example.kicked"
        assert left.message == "bye"
        assert (await sinks["wamp.session.on_leave"].next())[0] == [b_id]
        # A session cannot kill itself (WAMP spec).
        await expect_application_error(admin.call("wamp.session.kill", admin._session_id),
                                       "wamp.error.no_such_session")
        await expect_application_error(admin.call("wamp.session.kill", 7), "wamp.error.no_such_session")

        c, d = await connect(router.url), await connect(router.url)
        c_id, d_id = c._session_id, d._session_id
        killed = await call(admin, "wamp.session.kill_by_authid", c._session_details.authid)
        assert killed == [c_id]
        assert (await asyncio.wait_for(c.left, 3)).reason == "wamp.close.normal"
        # kill_by_authrole returns the killed ids, as Crossbar does, and spares the caller.
        assert await call(admin, "wamp.session.kill_by_authrole", "anonymous") == [d_id]
        await asyncio.wait_for(d.left, 3)
        assert await call(admin, COUNT) == 1
        await close_all(admin, b, c, d)
    run(scenario())


def test_killing_a_callee_mid_call_cancels_its_caller(router):
    async def scenario():
        admin, callee, caller = await connect(router.url), await connect(router.url), await connect(router.url)
        started = asyncio.get_running_loop().create_future()

        async def slow():
            started.set_result(True)
            await asyncio.sleep(10)

        await callee.register(slow, "com.meta.slow")
        pending = asyncio.ensure_future(caller.call("com.meta.slow"))
        await asyncio.wait_for(started, 3)
        await call(admin, "wamp.session.kill", callee._session_id)
        await expect_application_error(pending, "wamp.error.canceled")
        await close_all(admin, callee, caller)
    run(scenario())


def test_subscription_meta_api_and_events(router):
    async def scenario():
        admin, a = await connect(router.url), await connect(router.url)
        sinks = await watch(admin, SUBSCRIPTION_EVENTS)
        sub = await a.subscribe(lambda *_: None, "com.meta.", options=SubscribeOptions(match="prefix"))
        (session, created), _, _ = await sinks["wamp.subscription.on_create"].next()
        assert session == a._session_id
        assert created["id"] == sub.id and created["uri"] == "com.meta." and created["match"] == "prefix"
        assert CREATED.match(created["created"])
        assert (await sinks["wamp.subscription.on_subscribe"].next())[0] == [a._session_id, sub.id]

        listed = await call(admin, "wamp.subscription.list")
        assert sub.id in listed["prefix"]
        assert (await call(admin, "wamp.subscription.list", a._session_id))["prefix"] == [sub.id]
        assert await call(admin, "wamp.subscription.lookup", "com.meta.", {"match": "prefix"}) == sub.id
        assert await call(admin, "wamp.subscription.lookup", "com.meta.") is None
        assert await call(admin, "wamp.subscription.match", "com.meta.x") == [sub.id]
        assert await call(admin, "wamp.subscription.match", "org.x") is None
        assert (await call(admin, "wamp.subscription.get", sub.id))["uri"] == "com.meta."
        assert await call(admin, "wamp.subscription.list_subscribers", sub.id) == [a._session_id]
        assert await call(admin, "wamp.subscription.count_subscribers", sub.id) == 1
        await expect_application_error(admin.call("wamp.subscription.get", 1), "wamp.error.no_such_subscription")

        await sub.unsubscribe()
        assert (await sinks["wamp.subscription.on_unsubscribe"].next())[0] == [a._session_id, sub.id]
        assert (await sinks["wamp.subscription.on_delete"].next())[0] == [a._session_id, sub.id]
        await close_all(admin, a)
    run(scenario())


def test_registration_meta_api_and_events(router):
    async def scenario():
        admin, a = await connect(router.url), await connect(router.url)
        sinks = await watch(admin, REGISTRATION_EVENTS)
        reg = await a.register(lambda: 1, "com.meta.proc", options=RegisterOptions(invoke="roundrobin"))
        (session, created), _, _ = await sinks["wamp.registration.on_create"].next()
        assert session == a._session_id
        assert created["uri"] == "com.meta.proc" and created["invoke"] == "roundrobin"
        assert (await sinks["wamp.registration.on_register"].next())[0] == [a._session_id, reg.id]

        assert reg.id in (await call(admin, "wamp.registration.list"))["exact"]
        assert (await call(admin, "wamp.registration.list", a._session_id))["exact"] == [reg.id]
        assert await call(admin, "wamp.registration.lookup", "com.meta.proc") == reg.id
        assert await call(admin, "wamp.registration.match", "com.meta.proc") == reg.id
        # The meta API's own registrations are hidden from a caller that is not trusted.
        assert await call(admin, "wamp.registration.match", "wamp.session.get") is None
        assert (await call(admin, "wamp.registration.get", reg.id))["match"] == "exact"
        assert await call(admin, "wamp.registration.list_callees", reg.id) == [a._session_id]
        assert await call(admin, "wamp.registration.count_callees", reg.id) == 1

        # Autobahn|Python does not announce registration_revocation: no notice, but gone.
        assert await call(admin, "wamp.registration.remove_callee", reg.id, a._session_id) is None
        assert (await sinks["wamp.registration.on_unregister"].next())[0] == [a._session_id, reg.id]
        assert (await sinks["wamp.registration.on_delete"].next())[0] == [a._session_id, reg.id]
        await expect_application_error(admin.call("com.meta.proc"), "wamp.error.no_such_procedure")
        await expect_application_error(admin.call("wamp.registration.remove_callee", reg.id, a._session_id),
                                       "wamp.error.no_such_registration")
        await close_all(admin, a)
    run(scenario())


def test_revocation_notices_go_to_clients_that_announced_them(router):
    async def scenario():
        admin = await connect(router.url)
        raw = RawWamp(router.url)
        try:
            raw.hello(details={"roles": {"subscriber": {"features": {"subscription_revocation": True}},
                                         "callee": {"features": {"registration_revocation": True}}}})
            raw.send([32, 1, {}, "com.meta.revoked"])
            subscription = raw.expect(33)[2]
            raw.send([64, 2, {}, "com.meta.revoked_proc"])
            registration = raw.expect(65)[2]
            session = await call(admin, "wamp.subscription.list_subscribers", subscription)
            await call(admin, "wamp.subscription.remove_subscriber", subscription, session[0],
                       reason="com.example.revoked")
            assert raw.expect(35) == [35, 0, {"subscription": subscription, "reason": "com.example.revoked"}]
            await call(admin, "wamp.registration.remove_callee", registration, session[0])
            assert raw.expect(67) == [67, 0, {"registration": registration}]
            await expect_application_error(admin.call("wamp.subscription.remove_subscriber", subscription, 5),
                                           "wamp.error.no_such_session")
        finally:
            raw.close()
        await close_all(admin)
    run(scenario())
