"""The blindness harness (harness/) against blindrouter, and the harness's own controls.

A run without an injected leak must pass on each shipped config; a run with each
injected leak must fail and name it -- a harness that cannot fail is worth nothing. The
scanner and the span finder the verdicts rest on are tested directly too.
"""

import base64
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from wamp_helpers import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT))

from harness import canary, wire  # noqa: E402

HARNESS = REPO_ROOT / "harness" / "harness"
CONFIGS = REPO_ROOT / "crossbar-config"
RUN_TIMEOUT = 120


def run_harness(tmp_path, *args):
    """Run ``harness/harness run ARGS --json --junit``; (process, JSON report or None)."""
    report = tmp_path / "harness.json"
    junit = tmp_path / "harness.xml"
    proc = subprocess.run([str(HARNESS), "run", *map(str, args), "--json", str(report),
                           "--junit", str(junit), "--workdir", str(tmp_path / "work")],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    document = json.loads(report.read_text()) if report.exists() else None
    return proc, document


def explain(proc):
    return f"exit {proc.returncode}\nstdout:\n{proc.stdout[-8000:]}\nstderr:\n{proc.stderr[-3000:]}"


def served(document):
    """{(listener, protocol, serializer)} of the sessions the exposure report saw."""
    return {(s["listener"], s["protocol"], s["serializer"])
            for s in document["metadata_exposure"]["sessions"]}


def assert_passed(proc, document, tmp_path):
    assert proc.returncode == 0, explain(proc)
    assert document["result"] == "pass"
    assert "harness: PASS" in proc.stdout
    assert "Metadata exposure" in proc.stdout
    checks = document["checks"]
    for check in ("decrypt", "wire", "ciphertext", "details", "serializer-mismatch", "features",
                  "malformed", "meta"):
        assert checks[check]["pass"] > 0 and checks[check]["fail"] == 0, check
    # Every message kind that carries a payload went through.
    names = " ".join(r["name"] for r in checks["decrypt"]["results"])
    for kind in ("PUBLISH#", "CALL#", "YIELD#", "YIELD(progress)#", "ERROR#"):
        assert kind in names, kind
    # Retained events are announced, so the harness exercises them instead of skipping.
    assert "/retained PUBLISH#" in names
    assert not any(r["name"] == "retained events" for r in checks["traffic"]["results"])
    junit = ET.parse(tmp_path / "harness.xml").getroot()
    assert junit.get("failures") == "0"
    assert int(junit.get("tests")) == sum(c["pass"] + c["fail"] + c["skip"] for c in checks.values())


@pytest.mark.parametrize("config", ["cryptobox", "encrypted-mixed"])
def test_harness_passes_against_blindrouter(router_binary, tmp_path, config):
    proc, document = run_harness(tmp_path, "--router", router_binary, "--cbdir", CONFIGS / config)
    assert_passed(proc, document, tmp_path)
    checks = document["checks"]
    assert checks["router"]["pass"] == 2          # started, and exited 0 on SIGTERM
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


def test_harness_by_url(router_factory, tmp_path):
    router = router_factory(config_dir=CONFIGS / "cryptobox", loglevel="trace")
    config = json.loads((router.cbdir / "config.json").read_text())
    web, raw, unix = config["workers"][0]["transports"]
    socket_path = router.cbdir / unix["endpoint"]["path"]
    proc, document = run_harness(
        tmp_path, "--realm", "realm1", "--url", f"ws://127.0.0.1:{web['endpoint']['port']}/ws",
        "--url", f"rs://127.0.0.1:{raw['endpoint']['port']}", "--url", f"unix:{socket_path}")
    assert_passed(proc, document, tmp_path)
    assert document["checks"]["logs"]["skip"] == 1   # no process, no logs
    assert len({listener for listener, _, _ in served(document)}) == 3


# What each injected leak must make the run report: (failing check, text naming the leak).
LEAKS = {
    "log": ("logs", "LEAK: leak-relay.log"),
    "alter": ("ciphertext", "ALTERED: the ciphertext reached"),
    "reencode": ("ciphertext", "RE-ENCODED: the payload element reached"),
    "drop-details": ("details", "DROPPED DETAILS:"),
    "plaintext": ("wire", "LEAK: client→router bytes"),
}


@pytest.mark.parametrize("leak", sorted(LEAKS))
def test_injected_leak_fails_the_run_and_is_named(router_binary, tmp_path, leak):
    check, text = LEAKS[leak]
    proc, document = run_harness(tmp_path, "--router", router_binary,
                                 "--cbdir", CONFIGS / "encrypted-mixed", "--inject-leak", leak,
                                 "--timeout", "0.5")
    assert proc.returncode == 1, explain(proc)
    assert document["result"] == "fail"
    assert document["checks"][check]["fail"] > 0, explain(proc)
    assert text in proc.stdout, explain(proc)
    assert "harness: FAIL" in proc.stdout


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
