"""The blindness harness (harness/) against blindrouter, and the harness's own controls.

A run without an injected leak must pass on each shipped config; a run with each
injected leak must fail the ``blind`` profile and name it -- a harness that cannot fail
is worth nothing. A router that delivers across serializers passes ``blind`` and fails
only ``e2e``. The package installs from a wheel and runs. The scanner, the span finder,
the verdicts and the size figures the reports rest on are tested directly too.
"""

import base64
import json
import os
import shutil
import subprocess
import socket
import sys
import venv
import xml.etree.ElementTree as ET

import pytest

from wamp_helpers import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT))

from harness import canary, exposure, ports, report, wire  # noqa: E402
from harness.results import CHECK_RULES, Result  # noqa: E402

HARNESS = REPO_ROOT / "harness" / "harness"
CONFIGS = REPO_ROOT / "crossbar-config"
RUN_TIMEOUT = 120


def run_harness(tmp_path, *args, command=HARNESS, name="harness"):
    """Run ``COMMAND run ARGS --json --junit``; (process, JSON report or None)."""
    report_path = tmp_path / f"{name}.json"
    junit = tmp_path / f"{name}.xml"
    for stale in (report_path, junit):
        stale.unlink(missing_ok=True)
    proc = subprocess.run([str(command), "run", *map(str, args), "--json", str(report_path),
                           "--junit", str(junit), "--workdir", str(tmp_path / f"{name}-work")],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    document = json.loads(report_path.read_text()) if report_path.exists() else None
    return proc, document


def explain(proc):
    return f"exit {proc.returncode}\nstdout:\n{proc.stdout[-8000:]}\nstderr:\n{proc.stderr[-3000:]}"


def served(document):
    """{(listener, protocol, serializer)} of the sessions the exposure report saw."""
    return {(s["listener"], s["protocol"], s["serializer"])
            for s in document["metadata_exposure"]["sessions"]}


def verdict_lines(proc):
    """The summary's leading verdict lines, {profile: line}."""
    lines = [line for line in proc.stdout.splitlines() if line.startswith(("BLIND: ", "E2E: "))]
    return {line.split(":")[0].lower(): line for line in lines}


def assert_passed(proc, document, tmp_path, profile="e2e", name="harness"):
    assert proc.returncode == 0, explain(proc)
    assert document["result"] == "pass"
    assert "harness: PASS" in proc.stdout
    assert "Metadata exposure" in proc.stdout
    profiles = ["blind"] if profile == "blind" else ["blind", "e2e"]
    verdicts = verdict_lines(proc)
    assert sorted(verdicts) == sorted(profiles), explain(proc)
    assert all(" PASS (" in line for line in verdicts.values()), verdicts
    assert {p: v["verdict"] for p, v in document["profiles"].items()} == {p: "PASS" for p in profiles}
    checks = document["checks"]
    wanted = ["decrypt", "wire", "ciphertext", "details", "meta"]
    if profile == "e2e":
        wanted += ["serializer-mismatch", "features", "malformed", "pattern-uri"]
    else:
        assert not any(CHECK_RULES[c][0] == "e2e" for c in checks), sorted(checks)
        assert {r["profile"] for c in checks.values() for r in c["results"]} == {"blind"}
    for check in wanted:
        assert checks[check]["pass"] > 0 and checks[check]["fail"] == 0, check
    # Every message kind that carries a payload went through.
    names = " ".join(r["name"] for r in checks["decrypt"]["results"])
    for kind in ("PUBLISH#", "CALL#", "YIELD#", "YIELD(progress)#", "ERROR#"):
        assert kind in names, kind
    # Retained events are announced, so the harness exercises them instead of skipping.
    assert "/retained PUBLISH#" in names
    assert not any(r["name"] == "retained events" for r in checks["traffic"]["results"])
    junit = ET.parse(tmp_path / f"{name}.xml").getroot()
    assert junit.get("failures") == "0"
    assert int(junit.get("tests")) == sum(c["pass"] + c["fail"] + c["skip"] for c in checks.values())
    # Every testcase names its profile: in its classname and as a property.
    cases = junit.findall(".//testcase")
    assert {c.get("classname").split(".")[1] for c in cases} == set(profiles)
    assert all(c.find("properties/property[@name='profile']").get("value") ==
               c.get("classname").split(".")[1] for c in cases)
    sizes = document["metadata_exposure"]["payload_sizes"]
    assert sum(sizes["buckets"].values()) == sizes["payloads"] > 0
    assert 0 <= sizes["size_identifies_uri"] <= sizes["payloads"]
    # The known part of the run: one 256 KiB publication per spec group, alone in the
    # 512 KiB bucket (its ciphertext is 256 KiB and a little).
    spec_groups = sum(1 for r in checks["traffic"]["results"] if r["name"].startswith("spec "))
    assert sizes["buckets"].get(str(512 * 1024)) == spec_groups == 3
    assert "payload sizes:" in proc.stdout and "per size bucket:" in proc.stdout


@pytest.mark.parametrize("config", ["cryptobox", "encrypted-mixed"])
def test_harness_passes_against_blindrouter(router_binary, tmp_path, config):
    proc, document = run_harness(tmp_path, "--router", router_binary, "--cbdir", CONFIGS / config)
    assert_passed(proc, document, tmp_path)
    checks = document["checks"]
    assert checks["router"]["pass"] == 1          # started
    assert checks["shutdown"]["pass"] == 1        # exited 0 on SIGTERM
    assert checks["logs"]["pass"] >= 1            # the router's trace log was scanned
    assert checks["metrics"]["pass"] == 1         # its metrics endpoint was scraped and scanned
    kinds = {(protocol, serializer) for _, protocol, serializer in served(document)}
    for serializer in wire.SERIALIZERS:
        assert ("websocket", serializer) in kinds and ("rawsocket", serializer) in kinds
    assert any(listener.endswith("@unix") for listener, _, _ in served(document))
    if config == "encrypted-mixed":
        assert checks["encryption-required"]["pass"] >= 7
        assert any(listener.startswith("universal") for listener, _, _ in served(document))


def test_harness_passes_under_translate(router_binary, tmp_path):
    node = tmp_path / "node"
    node.mkdir()
    config = json.loads((CONFIGS / "encrypted-mixed" / "config.json").read_text())
    config["workers"][0]["realms"][0]["payload_transparency"]["serializer_mismatch"] = "translate"
    (node / "config.json").write_text(json.dumps(config))
    proc, document = run_harness(tmp_path, "--router", router_binary, "--cbdir", node)
    assert_passed(proc, document, tmp_path)
    names = [r["name"] for r in document["checks"]["serializer-mismatch"]["results"]]
    assert any("(translate)" in n for n in names)


def test_harness_over_tls(router_binary, tmp_path):
    node = tmp_path / "node"
    node.mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(node / "server.key"),
                    "-out", str(node / "server.crt"), "-days", "1", "-subj", "/CN=localhost"],
                   check=True, capture_output=True, timeout=30)
    config = json.loads((CONFIGS / "cryptobox" / "config.json").read_text())
    tls = {"key": "server.key", "certificate": "server.crt"}
    transports = config["workers"][0]["transports"]
    transports[0]["endpoint"]["tls"] = tls        # WebSocket over TLS
    transports[1]["endpoint"]["tls"] = tls        # RawSocket over TLS
    (node / "config.json").write_text(json.dumps(config))
    proc, document = run_harness(tmp_path, "--router", router_binary, "--cbdir", node)
    assert_passed(proc, document, tmp_path)
    tls_sessions = {(p, s) for listener, p, s in served(document) if listener.endswith("@tls")}
    assert {p for p, _ in tls_sessions} == {"websocket", "rawsocket"}


def url_args(router):
    """``--realm --url ...`` for every transport of a running cryptobox-config router."""
    config = json.loads((router.cbdir / "config.json").read_text())
    web, raw, unix = config["workers"][0]["transports"]
    socket_path = router.cbdir / unix["endpoint"]["path"]
    return ["--realm", "realm1", "--url", f"ws://127.0.0.1:{web['endpoint']['port']}/ws",
            "--url", f"rs://127.0.0.1:{raw['endpoint']['port']}", "--url", f"unix:{socket_path}"]


@pytest.fixture(scope="module")
def installed_audit(tmp_path_factory):
    """The harness as a user installs it: a wheel built from harness/ with Debian's
    setuptools, installed in a venv that sees Debian's Autobahn and PyNaCl, no index.
    Returns the ``blindness-audit`` console script."""
    root = tmp_path_factory.mktemp("package")
    source = root / "src"
    shutil.copytree(REPO_ROOT / "harness", source,
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    subprocess.run(pip + ["wheel", "--no-index", "--no-build-isolation", "--no-deps",
                          "-w", str(root / "dist"), str(source)],
                   check=True, capture_output=True, timeout=120)
    wheels = list((root / "dist").glob("blindness_audit-*.whl"))
    assert len(wheels) == 1, wheels
    venv.EnvBuilder(system_site_packages=True, with_pip=True).create(root / "venv")
    subprocess.run([str(root / "venv" / "bin" / "pip"), "install", "--no-index",
                    "--disable-pip-version-check", str(wheels[0])],
                   check=True, capture_output=True, timeout=120)
    script = root / "venv" / "bin" / "blindness-audit"
    assert script.exists()
    return script


def test_by_url_blind_passes_and_cross_serializer_delivery_fails_only_e2e(
        router_factory, installed_audit, tmp_path):
    """The installed package against a router already running, whose realm translates
    serializer mismatches (as Crossbar.io does). By URL the default profile is blind:
    it passes. Told the realm rejects mismatches, the e2e profile sees deliveries across
    serializers: BLIND still passes (nothing leaked), E2E fails, and nothing else."""
    def translate(config):
        config["workers"][0]["realms"][0]["payload_transparency"]["serializer_mismatch"] = "translate"
    urls = url_args(router_factory(config_dir=CONFIGS / "cryptobox", mutate=translate,
                                   loglevel="trace"))
    proc, document = run_harness(tmp_path, *urls, command=installed_audit, name="blind")
    assert_passed(proc, document, tmp_path, profile="blind", name="blind")
    assert document["checks"]["logs"]["skip"] == 1   # no process, no logs
    assert len({listener for listener, _, _ in served(document)}) == 3

    proc, document = run_harness(tmp_path, *urls, "--profile", "e2e", "--serializer-mismatch", "reject",
                                 command=installed_audit, name="e2e")
    assert proc.returncode == 1, explain(proc)
    verdicts = verdict_lines(proc)
    assert verdicts["blind"].startswith("BLIND: PASS ("), explain(proc)
    assert verdicts["e2e"].startswith("E2E: FAIL ("), explain(proc)
    assert "serializer-mismatch" in verdicts["e2e"]
    assert document["profiles"]["blind"]["verdict"] == "PASS"
    failed = [r for c in document["checks"].values() for r in c["results"] if r["status"] == "fail"]
    assert failed and {r["profile"] for r in failed} == {"e2e"}
    assert any(r["check"] == "ciphertext" and r["message"].startswith("UNEXPECTED DELIVERY")
               for r in failed)


# What each injected leak must make the run report: (failing check, text naming the leak).
LEAKS = {
    "log": ("logs", "LEAK: leak-relay.log"),
    "alter": ("ciphertext", "ALTERED: the ciphertext reached"),
    "reencode": ("ciphertext", "RE-ENCODED: the payload element reached"),
    "drop-details": ("details", "DROPPED DETAILS:"),
    "plaintext": ("wire", "LEAK: client→router bytes"),
}


@pytest.mark.parametrize("leak", sorted(LEAKS))
def test_injected_leak_fails_blind_and_is_named(router_binary, router_factory, tmp_path, leak):
    check, text = LEAKS[leak]
    if leak == "drop-details":
        # As a user audits a router that forwards byte-exact but drops ppt_* details (as
        # Crossbar.io does): by URL, where blind is the default profile.
        target = url_args(router_factory(config_dir=CONFIGS / "cryptobox"))
    else:
        target = ["--router", router_binary, "--profile", "blind",
                  "--cbdir", CONFIGS / "encrypted-mixed"]
    proc, document = run_harness(tmp_path, *target, "--inject-leak", leak, "--timeout", "0.5")
    assert proc.returncode == 1, explain(proc)
    assert document["result"] == "fail"
    assert document["checks"][check]["fail"] > 0, explain(proc)
    assert text in proc.stdout, explain(proc)
    assert "harness: FAIL" in proc.stdout
    if leak == "drop-details":   # named for both forms, ppt_* included
        messages = [r["message"] for r in document["checks"]["details"]["results"]]
        assert any("'ppt_scheme'" in m and m.startswith("DROPPED DETAILS") for m in messages)
    assert list(verdict_lines(proc)) == ["blind"]
    assert verdict_lines(proc)["blind"].startswith("BLIND: FAIL (") and check in verdict_lines(proc)["blind"]
    # The verdict leads the summary, before the per-check table.
    summary = proc.stdout.split("\n\n", 1)[-1]
    assert summary.startswith("BLIND: FAIL"), summary[:200]


def test_usage_errors_exit_2(tmp_path):
    proc = subprocess.run([str(HARNESS), "run", "--cbdir", str(CONFIGS / "cryptobox")],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert "--router" in proc.stderr


# --------------------------------------------------------------------------------------
# The scanner and the span finder, directly
# --------------------------------------------------------------------------------------

def _scanner():
    scanner = canary.SecretScanner()
    ascii_token, unicode_token = canary.ascii_canary(), canary.unicode_canary()
    scanner.add_token(ascii_token, "ascii")
    scanner.add_token(unicode_token, "unicode")
    return scanner, ascii_token, unicode_token


def _encodings(token):
    raw = token.encode("utf-8")
    forms = {"raw": raw, "hex": raw.hex().encode(), "hex upper": raw.hex().upper().encode(),
             "JSON \\u-escaped": "".join(f"\\u{ord(c):04x}" for c in token).encode(),
             "\\x-escaped": "".join(f"\\x{b:02x}" for b in raw).encode()}
    for shift in range(3):  # every alignment of the token inside base64 data
        data = os.urandom(shift) + raw + os.urandom(5)
        forms[f"base64+{shift}"] = base64.b64encode(data)
        forms[f"base64url+{shift}"] = base64.urlsafe_b64encode(data)
    return forms


@pytest.mark.parametrize("which", ["ascii", "unicode"])
def test_scanner_finds_a_canary_in_every_encoding(which):
    scanner, ascii_token, unicode_token = _scanner()
    token = ascii_token if which == "ascii" else unicode_token
    for name, form in _encodings(token).items():
        haystack = b"2026 trace session 42 payload=" + form + b" size=17\n"
        hits = scanner.scan(haystack)
        assert {h.owner for h in hits} == {which}, name


def test_scanner_finds_a_ciphertext_excerpt_and_nothing_in_noise():
    scanner = canary.SecretScanner()
    ciphertext = os.urandom(200)
    scanner.add_ciphertext(ciphertext, "m1")
    excerpt = ciphertext[50:80]  # any 24+ byte excerpt holds an aligned 12-byte chunk
    for form in (excerpt.hex().encode(), base64.b64encode(b"x" + excerpt), excerpt):
        assert {h.owner for h in scanner.scan(b"log: " + form + b"\n")} == {"m1"}
    scanner.add_token(canary.ascii_canary(), "c")
    noise = base64.b64encode(os.urandom(4000)) + os.urandom(4000).hex().encode()
    assert scanner.scan(noise) == []


@pytest.mark.parametrize("serializer", wire.SERIALIZERS)
def test_payload_element_spans_are_exact(serializer):
    ciphertext = os.urandom(300)
    for message in ([wire.EVENT, 1, 2, {"enc_algo": "cryptobox", "x": [1, {"s": "a\"]}"}]}, ciphertext],
                    [wire.YIELD, 7, {"ppt_scheme": "wamp"}, [ciphertext], {}]):
        data = wire.encode(serializer, message)
        view = wire.payload_view(serializer, data)
        assert view.ciphertext == ciphertext
        assert wire.decode_value(serializer, view.element) == ciphertext
        assert data[view.element_span[0]:view.element_span[1]] == view.element
        spans = wire.item_spans(serializer, data)
        assert [wire.decode_value(serializer, data[s:e]) for s, e in spans] == message


TOKEN = canary.ascii_canary()


def _meta_analysis(**meta):
    from harness.checks import Analysis
    from harness.ledger import Ledger
    ledger = Ledger()
    ledger.scanner.add_token(TOKEN, "m1")
    analysis = Analysis(ledger, [], **meta)
    analysis.check_meta()
    return {r.name: r for r in analysis.results}


def test_meta_check_skips_a_router_without_the_meta_api():
    results = _meta_analysis(meta_events=None, meta_skip="the router does not announce session_meta_api")
    assert [(r.status, r.message) for r in results.values()] == \
        [("skip", "the router does not announce session_meta_api")]


def test_metrics_check_finds_a_canary_in_a_scrape():
    from harness.checks import Analysis
    from harness.ledger import Ledger
    ledger = Ledger()
    ledger.scanner.add_token(TOKEN, "m1")
    for text, status in ((b'blindrouter_uri_messages_total{uri="com.x.' + TOKEN.encode() + b'"} 1\n', "fail"),
                         (b'blindrouter_uri_messages_total{uri="com.x"} 1\n', "pass")):
        analysis = Analysis(ledger, [], metrics_text=text)
        analysis.check_metrics()
        assert [r.status for r in analysis.results] == [status]


def test_meta_check_finds_a_canary_in_a_meta_result_or_event():
    topics = {"wamp.session.on_join": "subscribed"}
    results = _meta_analysis(meta_events=[[36, 1, 2, {}, [{"authid": "x"}]]], meta_topics=topics,
                             meta_results=[[50, 3, {}, [{"authextra": {"note": TOKEN}}]]])
    assert results["1 meta procedure result(s)"].status == "fail"
    assert results["1 meta procedure result(s)"].message.startswith("LEAK")
    assert results["1 meta event(s) on 1 of 1 meta topics"].status == "pass"
    results = _meta_analysis(meta_events=[], meta_topics=topics, meta_results=[])
    assert results["meta watcher"].status == "fail"


def test_nats_checks_find_a_canary_in_headers_and_a_changed_or_repeated_frame():
    from types import SimpleNamespace

    from harness.checks import Analysis
    from harness.ledger import Ledger
    from harness.natstap import NatsMessage, NatsTap
    ledger = Ledger()
    ledger.scanner.add_token(TOKEN, "m1")
    tap = NatsTap("nats://127.0.0.1:4222")
    frame = b'[16,1,{"enc_algo":"cryptobox"},"com.t",' + b'"\\u0000CIPHER"]'
    header = b"NATS/1.0\r\nBr-Ser: json\r\nBr-Authid: " + TOKEN.encode() + b"\r\n\r\n"
    tap.messages = [NatsMessage("br.realm1.e.com.t", header, frame, 0.0)]
    analysis = Analysis(ledger, [])
    results = {r.name: r for r in analysis.check_nats(tap, {})}
    assert results["subjects and headers of 1 NATS messages"].message.startswith("LEAK")
    assert results["bodies of 1 NATS messages"].status == "pass"
    assert results["all"].status == "skip"  # nothing crossed nodes: no E7 verdict

    def frame_verdict(bodies):
        tap.messages = [NatsMessage("br.realm1.e.com.t", b"NATS/1.0\r\nBr-Ser: json\r\n\r\n", body, 0.0)
                        for body in bodies]
        analysis.results = []
        analysis._check_nats_frames(tap, [(SimpleNamespace(name="m1", ciphertext=b"CIPHER"), frame, "json")])
        return analysis.results[0].status, analysis.results[0].message.split(":")[0]

    assert frame_verdict([frame]) == ("pass", "")
    assert frame_verdict([frame, frame]) == ("fail", "DUPLICATED")
    assert frame_verdict([frame.replace(b",", b", ")]) == ("fail", "RE-ENCODED")
    assert frame_verdict([]) == ("fail", "NOT DELIVERED")


def test_nats_subjects_read_back_as_uris():
    assert exposure._subject_uri("br.realm1.e.com.a.~2a2e") == ("realm1", "com.a.*.")
    assert exposure._subject_uri("br.~7265616c6d2e31.e.x") == ("realm.1", "x")
    assert exposure._subject_uri("br.n.1234.call") is None


# --------------------------------------------------------------------------------------
# Verdicts, size figures, and what the harness cites
# --------------------------------------------------------------------------------------

def test_verdict_per_profile():
    blind_ok = Result("wire", "conn#1", "pass")
    stray = Result("ciphertext", "mismatch/x → r (not a recipient)", "fail",
                   "UNEXPECTED DELIVERY: ...", profile="e2e")
    found = report.verdicts([blind_ok, stray], ["blind", "e2e"])
    assert found["blind"]["verdict"] == "PASS" and found["blind"]["pass"] == 1
    assert found["e2e"]["verdict"] == "FAIL" and found["e2e"]["failed_checks"] == {"ciphertext": 1}
    leak = Result("logs", "router stderr", "fail", "LEAK: ...")
    found = report.verdicts([blind_ok, leak], ["blind", "e2e"])
    assert [v["verdict"] for v in found.values()] == ["FAIL", "FAIL"]
    lines = report.verdict_lines(found)
    assert lines[0].startswith("BLIND: FAIL (2 checks, 1 failed, 0 skipped; failed: logs ×1)")
    # A profile nothing passed in proved nothing.
    skipped = Result("logs", "router logs", "skip", "no router process")
    assert report.verdicts([skipped], ["blind"])["blind"]["verdict"] == "FAIL"
    assert Result("shutdown", "exit", "pass").profile == "e2e"
    assert Result("details", "m → r", "pass").profile == "blind"


def test_size_figures_on_a_known_sample():
    # Topic a: three 100 B payloads; b: 100 B and 200 B; c: one 1000 B.
    samples = [("a", 100)] * 3 + [("b", 100), ("b", 200), ("c", 1000)]
    sizes = exposure.size_exposure(samples)
    assert sizes["payloads"] == 6 and sizes["uris"] == 3
    assert sizes["distinct_sizes"] == 3
    assert sizes["unique_size_messages"] == 2              # 200 and 1000
    assert sizes["buckets"] == {"128": 4, "256": 1, "1024": 1}
    assert sizes["size_identifies_uri"] == 2                # 200 -> b, 1000 -> c
    assert sizes["bucket_identifies_uri"] == 2              # the buckets still tell them apart
    assert sizes["size_entropy_bits"] == 1.25               # -(4/6 log 4/6 + 2 * 1/6 log 1/6)
    assert sizes["padding_overhead_percent"] == 12.0        # (4*128+256+1024-1500)/1500
    assert "power-of-two bucket" in sizes["padding_suggestion"]
    # Same-size payloads on every URI: nothing to pad.
    even = exposure.size_exposure([("a", 120), ("b", 120), ("a", 120), ("b", 120)])
    assert even["size_identifies_uri"] == 0 and even["padding_suggestion"] is None
    assert even["buckets"] == {"128": 4}
    # Distinct sizes that padding to a bucket makes alike.
    padded = exposure.size_exposure([("a", 70), ("b", 90), ("a", 100), ("b", 110)])
    assert padded["size_identifies_uri"] == 4 and padded["bucket_identifies_uri"] == 0
    assert "would then single out none" in padded["padding_suggestion"]
    assert [exposure.bucket_of(n) for n in (1, 64, 65, 128, 129, 262311)] == [64, 64, 128, 128, 256, 524288]


def test_harness_cites_only_the_repository():
    """Users of the harness have the repository, not the project's working notes: its
    messages and documents cite docs/blindness-audit.md."""
    cited = [REPO_ROOT / "README.md", REPO_ROOT / "docs" / "blindness-audit.md",
             *sorted((REPO_ROOT / "harness").glob("*.py")), REPO_ROOT / "harness" / "README.md",
             REPO_ROOT / "harness" / "pyproject.toml"]
    for path in cited:
        text = path.read_text(encoding="utf-8")
        for outside in ("shared/", "E2E.md", "ADVANCED.md", "STYLE.md"):
            assert outside not in text, f"{path.relative_to(REPO_ROOT)} cites {outside}"
    assert (REPO_ROOT / "docs" / "blindness-audit.md").exists()
    for check, (_, rules, _) in CHECK_RULES.items():
        doc = (REPO_ROOT / "docs" / "blindness-audit.md").read_text(encoding="utf-8")
        assert f"`{check}`" in doc, check
        for rule in rules.split():
            assert f"**{rule} " in doc or rule == "R", rule


def test_free_ports_come_from_below_the_ephemeral_range_never_twice_and_never_taken():
    low, _ = ports.ephemeral_range()
    handed = [ports.free_port() for _ in range(300)]
    assert len(set(handed)) == len(handed)
    assert all(ports.candidate_ports(low).start <= port < low for port in handed)
    # A port someone holds is walked past: hold the next one the walk would give.
    candidates = ports.candidate_ports(low)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        taken = next(p for p in (candidates[(ports._next + i) % len(candidates)] for i in range(100))
                     if ports.bindable(p))
        holder.bind(("127.0.0.1", taken))
        holder.listen()
        ports._next = candidates.index(taken)
        assert ports.free_port() != taken
