"""``harness run``: start (or reach) the router, relay and record, run the suite, check,
report. Exit status 0 when every check passed or was skipped, 1 on any failure, 2 when
the run could not be set up."""

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
import traceback
import urllib.request
import warnings

from . import exposure as exposure_report
from . import report, scrambling, target
from .checks import Analysis
from .leaks import LEAK_MODES, Leak
from .ledger import Ledger
from .natstap import NatsTap
from .relay import Relay
from .results import CHECKS, DOCS, PROFILES, Result, checks_of, profiles_in
from .suite import SPLIT_LAYOUT, Suite


class Options:
    def __init__(self, args):
        self.forms = [f for f in args.forms.split(",") if f]
        self.serializers = [s for s in args.serializers.split(",") if s]
        self.uri_base = args.uri_base.rstrip(".")
        self.leak = args.inject_leak
        self.timeout = args.timeout
        self.scrambler = args.scrambler
        # The probes of checks outside the chosen profile do not run.
        self.skip = set(args.skip) | (set(CHECKS) - set(checks_of(args.profile)))


def build_parser():
    parser = argparse.ArgumentParser(
        prog="blindness-audit", description="Blindness audit for WAMP routers that carry "
        f"end-to-end encrypted payloads; the rules it checks are in {DOCS}.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run", help="run the suite against a router",
        description="Run the blindness suite. Either --router with --cbdir (the harness starts "
        "the router on a copy of the node directory) or --url (an already-running router).")
    run.add_argument("--router", help="router binary to start, e.g. build/blindrouter")
    run.add_argument("--cbdir", help="Crossbar-format node directory for --router")
    run.add_argument("--url", action="append", default=[],
                     help="an already-running router: ws://host:port/path, wss://..., "
                     "rs://host:port (RawSocket), rss://... (RawSocket over TLS), "
                     "unix:/path (RawSocket over a Unix socket); repeatable")
    run.add_argument("--split-url", action="append", default=[],
                     help="with --url: a listener of a second router node serving the same "
                     "clustered realm; every publication and every call then crosses between the "
                     "nodes; repeatable")
    run.add_argument("--nats", metavar="URL",
                     help="nats://[user:password@]host:port of a server of the router cluster's "
                     "NATS: the harness subscribes to '>' there and scans what the cluster "
                     "carries (rule B9, and E7 with --profile e2e)")
    run.add_argument("--realm", help="realm to join (default: the config's first realm; "
                     "required with --url)")
    run.add_argument("--profile", choices=PROFILES, default=None,
                     help="blind: only what makes any router blind or not; e2e: blind plus "
                     "blindrouter's own end-to-end rules (default: e2e with --router, blind "
                     f"with --url; see {DOCS})")
    run.add_argument("--serializers", default="json,msgpack,cbor",
                     help="serializers to use, of those the router serves (default: %(default)s)")
    run.add_argument("--forms", default="legacy,spec",
                     help="payload forms: legacy (enc_*, Autobahn cryptobox), spec (ppt_*) "
                     "(default: %(default)s)")
    run.add_argument("--serializer-mismatch", choices=("reject", "translate"), default=None,
                     help="with --url: the realm's payload_transparency.serializer_mismatch "
                     "(default reject)")
    run.add_argument("--encrypted-uri", action="append", default=[],
                     help="with --url: a URI prefix under a require_encryption permission "
                     "(enables the encryption-required probes); repeatable")
    run.add_argument("--uri-base", default="com.myapp.encrypted.harness",
                     help="URI prefix for the harness's topics and procedures (default: %(default)s)")
    run.add_argument("--scramble", action="store_true",
                     help="the clients scramble every application URI with a generated key "
                     "(README.md, \"URI scrambling\"); checks rule S1 and compares the exposure "
                     "with and without scrambling")
    run.add_argument("--scramble-key", metavar="HEX",
                     help="scramble with this 32-byte key (hex) instead of a generated one, e.g. "
                     "for a config whose permissions name scrambled URIs; implies --scramble")
    run.add_argument("--scramble-public", metavar="PREFIX", action="append", default=None,
                     help="a URI prefix whose components stay readable (default: the realm's "
                     "require_encryption prefixes, which the router must match); repeatable")
    run.add_argument("--metrics-url", help="the router's metrics endpoint to scan (HTTP GET)")
    run.add_argument("--junit", metavar="PATH", help="write a JUnit XML report")
    run.add_argument("--json", metavar="PATH", help="write a JSON report")
    run.add_argument("--workdir", metavar="DIR",
                     help="keep the router copy, its logs and sockets here (default: a temporary "
                     "directory, removed after a passing run)")
    run.add_argument("--skip", action="append", default=[], choices=sorted(CHECKS),
                     help="skip a check: its probes do not run and its results count as skipped "
                     "(e.g. serializer-mismatch against Crossbar.io); repeatable")
    run.add_argument("--timeout", type=float, default=2.0,
                     help="seconds to wait for a delivery (default: %(default)s)")
    run.add_argument("--inject-leak", choices=LEAK_MODES, default=None,
                     help="SELF-TEST ONLY: make the system under test leak on purpose; the run "
                     "must fail and name the leak")
    return parser


def main(argv=None):
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    args = build_parser().parse_args(argv)
    if args.command == "run":
        return run(args)
    return 2


def _progress(t0):
    def say(text):
        print(f"harness [{time.monotonic() - t0:5.1f}s] {text}", flush=True)
    return say


def _client_endpoints(relays, wanted_serializers):
    endpoints = []
    for relay, listener in relays:
        for service in listener.services:
            serializers = [s for s in service["serializers"] if s in wanted_serializers]
            if not serializers:
                continue
            ep = dict(relay.listen)
            ep.update(protocol=service["protocol"], serializers=serializers,
                      listener=listener.label, ws_path=service.get("ws_path", ""), node=listener.node)
            ep["label"] = (f"{listener.label}:ws/{ep['ws_path']}" if service["protocol"] == "websocket"
                           else f"{listener.label}:rawsocket")
            endpoints.append(ep)
    return endpoints


def run(args):
    t0 = time.monotonic()
    say = _progress(t0)
    if bool(args.url) == bool(args.router or args.cbdir) or (args.router and not args.cbdir) \
            or (args.cbdir and not args.router):
        print("harness run: give either --router PATH --cbdir DIR, or --url URL [--url URL ...] "
              "--realm REALM", file=sys.stderr)
        return 2
    if args.url and not args.realm:
        print("harness run: --url needs --realm", file=sys.stderr)
        return 2
    if args.split_url and not args.url:
        print("harness run: --split-url needs --url (the first node's listeners)", file=sys.stderr)
        return 2
    args.profile = args.profile or ("e2e" if args.router else "blind")
    args.scramble = args.scramble or bool(args.scramble_key)
    if args.inject_leak == "readable-uri" and not args.scramble:
        print("harness run: --inject-leak readable-uri needs --scramble", file=sys.stderr)
        return 2
    args.scrambler = None
    workdir = os.path.abspath(args.workdir) if args.workdir else tempfile.mkdtemp(prefix="bh-")
    os.makedirs(workdir, exist_ok=True)
    # Unix socket paths must stay under ~108 bytes: a deep --workdir gets a short sibling.
    socket_dir = workdir if len(workdir) <= 64 else tempfile.mkdtemp(prefix="bhs-")
    results, router = [], None
    properties = {"profile": args.profile, "inject_leak": args.inject_leak or "none"}
    try:
        if args.router:
            router = target.RouterProcess(args.router, args.cbdir, workdir, socket_dir)
            properties.update(router=router.binary, cbdir=router.src_cbdir)
            try:
                router.start()
            except RuntimeError as e:
                results.append(Result("router", "start", "fail", str(e)))
                say(f"router did not start: {e}")
                return _finish(args, results, t0, properties, {}, None, workdir, keep=True)
            listeners = router.listeners()
            realm = router.realm(args.realm)
            results.append(Result("router", "start", "pass",
                                  f"{len(listeners)} listeners in {router.start_seconds:.2f}s"))
            say(f"router {router.binary} started on a copy of {router.src_cbdir} "
                f"({len(listeners)} listeners, {router.start_seconds:.2f}s, --loglevel trace)")
        else:
            serializers = [s for s in args.serializers.split(",") if s]
            listeners = [target.url_listener(u, serializers, i) for i, u in enumerate(args.url)]
            listeners += [target.url_listener(u, serializers, i, node=1) for i, u in enumerate(args.split_url)]
            realm = target.RealmFacts(args.realm, args.serializer_mismatch or "reject",
                                      args.encrypted_uri)
            properties["urls"] = " ".join(args.url)
            if args.split_url:
                properties["split_urls"] = " ".join(args.split_url)
                properties["split_layout"] = SPLIT_LAYOUT
        properties.update(realm=realm.name, serializer_mismatch=realm.serializer_mismatch,
                          require_encryption=" ".join(realm.required_prefixes) or "none",
                          scramble="yes" if args.scramble else "no", nats=args.nats or "none")
        if args.scramble:
            try:
                args.scrambler = scrambling.make_scrambler(
                    args.scramble_key, realm.required_prefixes if args.scramble_public is None
                    else args.scramble_public)
            except (RuntimeError, ValueError) as e:
                print(f"harness run: --scramble: {e}", file=sys.stderr)
                return 2
            say("clients scramble every application URI; readable: "
                + (", ".join(args.scrambler.public) or "none") + " (and the router's wamp.* URIs)")
        leak = Leak(args.inject_leak, os.path.join(workdir, "leak-relay.log")) if args.inject_leak else None
        if leak is not None:
            say(f"SELF-TEST: injecting leak '{args.inject_leak}' -- this run must fail")
        ledger = Ledger()
        try:
            state = asyncio.run(_run_async(args, router, listeners, realm, socket_dir, leak,
                                           ledger, say, results))
        except Exception:
            # A harness bug must not pass for a router verdict: say so and exit 2.
            traceback.print_exc()
            print(f"harness: internal error; router copy and logs kept in {workdir}", file=sys.stderr)
            return 2
        if leak is not None:
            leak.close()
        log_files = []
        if router is not None:
            log_files = [("router stderr", router.stderr_path), ("router stdout", router.stdout_path)]
        if leak is not None and leak.mode == "log":
            log_files.append(("leak-relay.log", leak.log_path))
        metrics = state["metrics"] if router is not None else _fetch_metrics(args.metrics_url, results)
        analysis = Analysis(ledger, state["connections"], log_files, state["meta_events"], metrics,
                            state["meta_topics"], meta_results=state["meta_results"],
                            meta_skip=state["meta_skip"])
        results += analysis.run()
        results += state["suite_results"]
        if args.scrambler is not None:
            results += scrambling.check(state["connections"], log_files, metrics, args.scrambler,
                                        state["run_id"])
        if state["nats"] is not None:
            results += analysis.check_nats(state["nats"], {l.label: l.node for l in listeners})
        exposure = exposure_report.build(state["connections"], t0, args.scrambler, state["nats"])
        figures = dict(analysis.figures)
        figures["suite_seconds"] = round(state["suite_seconds"], 1)
        return _finish(args, results, t0, properties, figures, exposure, workdir,
                       keep=bool(args.workdir))
    finally:
        if router is not None:
            router.kill()
        if socket_dir != workdir:
            shutil.rmtree(socket_dir, ignore_errors=True)


async def _run_async(args, router, listeners, realm, socket_dir, leak, ledger, say, results):
    loop = asyncio.get_running_loop()
    counter = [0]
    relays = []
    for listener in listeners:
        relay = await Relay(listener.label, listener.address, socket_dir, leak, counter).start()
        relays.append((relay, listener))
    endpoints = _client_endpoints(relays, args.serializers.split(","))
    say(f"recording relays in front of {len(relays)} listener(s): "
        + ", ".join(f"{ep['label']} [{','.join(ep['serializers'])}]" for ep in endpoints))
    tap = None
    if args.nats:
        try:
            tap = await NatsTap(args.nats).start()
        except (OSError, RuntimeError, ValueError, asyncio.TimeoutError) as e:
            results.append(Result("nats", "tap", "fail", f"cannot subscribe to '>' at {args.nats}: {e}"))
        else:
            say(f"NATS tap subscribed to '>' at {tap.host}:{tap.port}: every message the cluster carries "
                "is recorded")
    suite = Suite(endpoints, realm, ledger, Options(args), say)
    suite_seconds = 0.0
    if endpoints:
        suite_seconds = await suite.run()
    else:
        results.append(Result("traffic", "endpoints", "fail", "no endpoint serves a wanted serializer"))
    if tap is not None:
        await tap.close()
    metrics = None
    if router is not None:
        # While the router still runs: what it counted for the whole suite.
        metrics = await loop.run_in_executor(None, _fetch_metrics, router.metrics_url, results)
        code = await loop.run_in_executor(None, router.stop)
        results.append(Result("shutdown", "exit on SIGTERM", "pass" if code == 0 else "fail",
                              "" if code == 0 else
                              (f"router exited with code {code} on SIGTERM" if code is not None
                               else f"router did not exit within {target.SHUTDOWN_TIMEOUT}s of SIGTERM")))
        say(f"router stopped with SIGTERM, exit code {code}")
    for relay, _ in relays:
        await relay.close()
    connections = [c for relay, _ in relays for c in relay.connections]
    return {"connections": connections, "suite_results": suite.results,
            "meta_events": suite.meta_events, "meta_topics": suite.watcher_topics,
            "meta_results": suite.meta_results, "meta_skip": suite.meta_skip,
            "suite_seconds": suite_seconds, "run_id": suite.run_id, "metrics": metrics, "nats": tap}


def _fetch_metrics(url, results):
    if not url:
        return None
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read()
    except OSError as e:
        results.append(Result("metrics", "fetch", "fail", f"cannot fetch {url}: {e}"))
        return None


def _finish(args, results, t0, properties, figures, exposure, workdir, keep):
    # A blind audit reports only blind results, even where an e2e one came for free.
    profiles = profiles_in(args.profile)
    results = [r for r in results if r.profile in profiles]
    skipped = set(args.skip)
    results = [Result(r.check, r.name, "skip", f"skipped with --skip {r.check}", profile=r.profile)
               if r.check in skipped and r.status != "skip" else r for r in results]
    present = {r.check for r in results}
    results += [Result(check, "all", "skip", f"skipped with --skip {check}")
                for check in sorted(skipped - present) if check in checks_of(args.profile)]
    seconds = time.monotonic() - t0
    verdicts = report.verdicts(results, profiles)
    failed = any(v["verdict"] != "PASS" for v in verdicts.values())
    for line in report.summary_lines(results, seconds, figures, exposure, verdicts):
        print(line)
    if args.junit:
        report.write_junit(args.junit, results, seconds, properties)
    if args.json:
        report.write_json(args.json, results, seconds, properties, figures, exposure, verdicts)
    if failed or keep:
        print(f"harness: router copy, logs and sockets kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    sys.stdout.flush()
    return 1 if failed else 0
