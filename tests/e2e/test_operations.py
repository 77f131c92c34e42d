"""Crossbar's command line for operators: `init`, `start`/`stop`/`status` through the node's
pid file (CBDIR/node.pid, as crossbar/node/main.py keeps it), the log options `--logformat`
(standard, syslogd, none, and json lines), `--color`, `--logtofile`/`--logdir`, with
Crossbar's exit codes (69, os.EX_UNAVAILABLE, for `stop` with nothing running and for a
failed `status --assert`)."""

import json
import os
import re
import signal
import subprocess
import time

import pytest

from wamp_helpers import DEFAULT_CONFIG_DIR, RawWamp, port_accepts, prepare_cbdir

EX_UNAVAILABLE = 69
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def cli(binary, *args, env=None, cwd=None, timeout=30):
    return subprocess.run([str(binary), *map(str, args)], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=cwd)


def run_once(binary, tmp_path, *args, name="node"):
    """`start --shutdownafter 1` on a copy of the default node; (process result, cbdir)."""
    cbdir = tmp_path / name
    prepare_cbdir(DEFAULT_CONFIG_DIR, cbdir)
    proc = cli(binary, "start", "--cbdir", cbdir, "--shutdownafter", "1", *args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc, cbdir


def dead_pid():
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_no_command_prints_usage_and_succeeds(router_binary):
    proc = cli(router_binary)
    assert proc.returncode == 0
    assert "usage: blindrouter" in proc.stdout


def test_version_names_the_libraries(router_binary):
    proc = cli(router_binary, "version")
    assert proc.returncode == 0
    assert re.match(r"blindrouter \d+\.\d+\.\d+\n", proc.stdout)
    for name in ("OpenSSL", "libsodium", "Boost", "Operating system"):
        assert name in proc.stdout, proc.stdout


def test_init_creates_a_node_directory_that_checks_clean(router_binary, tmp_path):
    appdir = tmp_path / "app"
    proc = cli(router_binary, "init", "--appdir", appdir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    cbdir = appdir / ".crossbar"
    for name in ("config.json", "key.priv", "key.pub"):
        assert (cbdir / name).is_file(), name
    assert (appdir / "README.md").is_file()
    assert f"blindrouter start --cbdir {cbdir}" in proc.stdout
    config = json.loads((cbdir / "config.json").read_text())
    assert config["version"] == 2 and config["workers"][0]["type"] == "router"
    checked = cli(router_binary, "check", "--cbdir", cbdir)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Warning" not in checked.stdout, checked.stdout

    # A second init keeps what is there (Crossbar skips existing files).
    (cbdir / "config.json").write_text(json.dumps(config) + "\n")
    before = (cbdir / "config.json").read_text()
    again = cli(router_binary, "init", "--appdir", appdir)
    assert again.returncode == 0
    assert "already exists" in again.stdout
    assert (cbdir / "config.json").read_text() == before


@pytest.mark.single_node("the PID file, status and stop commands of one process")
def test_start_status_stop_through_the_pid_file(router_factory, router_binary):
    router = router_factory()
    cbdir = router.cbdir
    pid_file = cbdir / "node.pid"
    data = json.loads(pid_file.read_text())
    assert data["pid"] == router.proc.pid
    assert data["argv"][1] == "start"
    assert data["options"]["cbdir"] == str(cbdir)

    status = cli(router_binary, "status", "--cbdir", cbdir)
    assert (status.returncode, status.stdout.strip()) == (0, "Status is RUNNING")
    assert cli(router_binary, "status", "--cbdir", cbdir, "--assert", "running").returncode == 0
    refused = cli(router_binary, "status", "--cbdir", cbdir, "--assert", "stopped")
    assert refused.returncode == EX_UNAVAILABLE
    assert "Assert status STOPPED failed: status is RUNNING" in refused.stdout

    # One node per node directory, as Crossbar.
    second = cli(router_binary, "start", "--cbdir", cbdir, timeout=10)
    assert second.returncode == 1
    assert f"already running from node directory {cbdir} (PID {router.proc.pid})" in second.stdout
    assert router.is_alive()

    stopped = cli(router_binary, "stop", "--cbdir", cbdir)
    assert stopped.returncode == 0, stopped.stdout
    assert f"SIGINT sent to process {router.proc.pid}" in stopped.stdout
    assert "exited gracefully" in stopped.stdout
    assert router.proc.wait(timeout=5) == 0
    assert not pid_file.exists()

    status = cli(router_binary, "status", "--cbdir", cbdir)
    assert (status.returncode, status.stdout.strip()) == (0, "Status is STOPPED")
    assert cli(router_binary, "status", "--cbdir", cbdir, "--assert", "stopped").returncode == 0
    assert cli(router_binary, "status", "--cbdir", cbdir, "--assert", "running").returncode == EX_UNAVAILABLE
    nothing = cli(router_binary, "stop", "--cbdir", cbdir)
    assert nothing.returncode == EX_UNAVAILABLE
    assert "No blindrouter is currently running" in nothing.stdout


@pytest.mark.parametrize("content,kind", [(None, "Stale"), ("{not json", "Corrupt")], ids=["stale", "corrupt"])
def test_a_stale_or_corrupt_pid_file_is_removed(router_binary, tmp_path, content, kind):
    cbdir = tmp_path / "node"
    prepare_cbdir(DEFAULT_CONFIG_DIR, cbdir)
    pid_file = cbdir / "node.pid"
    pid_file.write_text(content if content is not None else json.dumps({"pid": dead_pid()}))
    status = cli(router_binary, "status", "--cbdir", cbdir)
    assert status.returncode == 0
    assert f"{kind} PID file" in status.stdout and "removed" in status.stdout
    assert "Status is STOPPED" in status.stdout
    assert not pid_file.exists()

    # start removes it too, and runs.
    pid_file.write_text(content if content is not None else json.dumps({"pid": dead_pid()}))
    proc = cli(router_binary, "start", "--cbdir", cbdir, "--shutdownafter", "1")
    assert proc.returncode == 0, proc.stderr
    assert f"{kind} PID file" in proc.stderr
    assert not pid_file.exists()


def test_a_pid_file_of_another_program_does_not_block_start(router_binary, tmp_path):
    cbdir = tmp_path / "node"
    prepare_cbdir(DEFAULT_CONFIG_DIR, cbdir)
    other = subprocess.Popen(["sleep", "30"])
    try:
        (cbdir / "node.pid").write_text(json.dumps({"pid": other.pid}))
        status = cli(router_binary, "status", "--cbdir", cbdir)
        assert "Status is STOPPED" in status.stdout
        assert "not a router process" in status.stdout
        proc = cli(router_binary, "start", "--cbdir", cbdir, "--shutdownafter", "1")
        assert proc.returncode == 0, proc.stderr
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


def test_stop_escalates_to_sigterm_when_sigint_is_not_enough(router_binary, tmp_path):
    """Crossbar's stop: SIGINT, 5 s, then SIGTERM. A stand-in "blindrouter" that ignores
    SIGINT shows the second step."""
    cbdir = tmp_path / "node"
    cbdir.mkdir()
    script = tmp_path / "blindrouter"
    script.write_text("import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                      "print('ignoring SIGINT', flush=True)\ntime.sleep(60)\n")
    fake = subprocess.Popen(["/usr/bin/python3", str(script)], stdout=subprocess.PIPE, text=True)
    try:
        # A SIGINT before the handler is installed would end it at once, and "stop" would
        # not need its second step: on a loaded machine the interpreter's start-up alone
        # can outlast a fixed pause, so the stand-in says when it is ready.
        assert fake.stdout.readline() == "ignoring SIGINT\n"
        (cbdir / "node.pid").write_text(json.dumps({"pid": fake.pid}))
        stopped = cli(router_binary, "stop", "--cbdir", cbdir, timeout=20)
        assert stopped.returncode == 0, stopped.stdout
        assert "still alive - will _terminate_ now" in stopped.stdout
        assert f"Process {fake.pid} terminated." in stopped.stdout
        assert fake.wait(timeout=5) == -signal.SIGTERM
    finally:
        if fake.poll() is None:
            fake.kill()
            fake.wait()
        fake.stdout.close()


def test_cbdir_from_environment_and_auto_created(router_binary, tmp_path):
    cbdir = tmp_path / "fresh" / "cbdir"
    env = dict(os.environ, CROSSBAR_DIR=str(cbdir))
    status = cli(router_binary, "status", env=env)
    assert status.returncode == 0
    assert f"Auto-created node directory {cbdir}" in status.stdout
    assert cbdir.is_dir()


def test_logformat_json_is_one_object_per_line(router_binary, tmp_path):
    cbdir = tmp_path / "node"
    config, ports = prepare_cbdir(DEFAULT_CONFIG_DIR, cbdir)
    ws_port = config["workers"][0]["transports"][0]["endpoint"]["port"]
    proc = subprocess.Popen([str(router_binary), "start", "--cbdir", str(cbdir), "--logformat", "json",
                             "--loglevel", "debug", "--shutdownafter", "2"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 10
    while not port_accepts(ws_port):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    # A client-chosen realm name with a line break and a quote: it must stay inside one
    # line, escaped by the router (wamp::log_text), then JSON-escaped.
    raw = RawWamp(f"ws://127.0.0.1:{ws_port}/ws")
    raw.send([1, 'bad\nrealm"', {"roles": {"subscriber": {}}}])
    try:
        raw.recv()
    except Exception:
        pass
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    lines = err.splitlines()
    assert len(lines) >= 3
    records = [json.loads(line) for line in lines]
    for record in records:
        assert set(record) >= {"time", "level", "logger", "system", "message"}
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["time"])
        assert record["level"] in ("trace", "debug", "info", "warn", "error", "critical")
    messages = [r["message"] for r in records]
    assert any("blindrouter 0.1.0 started" in m for m in messages)
    realm_lines = [m for m in messages if "bad" in m and "realm" in m]
    assert realm_lines, messages
    assert all("\n" not in m for m in realm_lines)
    assert any("bad\\nrealm" in m for m in realm_lines), realm_lines


@pytest.mark.parametrize("logformat,pattern", [
    ("standard", r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d \[Router +\d+\] info  blindrouter \S+ started"),
    ("syslogd", r"\[Router +\d+\] info  blindrouter \S+ started"),
    ("none", r"blindrouter \S+ started"),
])
def test_text_log_formats(router_binary, tmp_path, logformat, pattern):
    proc, _ = run_once(router_binary, tmp_path, "--logformat", logformat)
    started = [line for line in proc.stderr.splitlines() if "started" in line and "blindrouter" in line]
    assert started and re.fullmatch(pattern, started[0]), proc.stderr
    assert not ANSI.search(proc.stderr)  # --color auto, and stderr is no terminal


def test_color_true_colours_and_false_does_not(router_binary, tmp_path):
    coloured, _ = run_once(router_binary, tmp_path, "--color", "true", name="a")
    assert ANSI.search(coloured.stderr)
    plain, _ = run_once(router_binary, tmp_path, "--color", "false", name="b")
    assert not ANSI.search(plain.stderr)


@pytest.mark.parametrize("option,value", [("--logformat", "xml"), ("--color", "maybe"),
                                          ("--loglevel", "verbose"), ("--logmaxbytes", "0")])
def test_unknown_log_option_values_are_refused(router_binary, tmp_path, option, value):
    cbdir = tmp_path / "node"
    prepare_cbdir(DEFAULT_CONFIG_DIR, cbdir)
    proc = cli(router_binary, "start", "--cbdir", cbdir, option, value, timeout=10)
    assert proc.returncode == 2
    assert f"invalid {option} '{value}'" in proc.stderr


def test_logtofile_writes_node_log_in_the_node_directory(router_binary, tmp_path):
    proc, cbdir = run_once(router_binary, tmp_path, "--logtofile")
    assert proc.stderr == ""
    text = (cbdir / "node.log").read_text()
    assert "blindrouter 0.1.0 started" in text and "blindrouter stopped" in text
    assert not ANSI.search(text)


def test_logdir_is_relative_to_the_node_directory_and_created(router_binary, tmp_path):
    proc, cbdir = run_once(router_binary, tmp_path, "--logtofile", "--logdir", "logs", "--logformat", "json")
    assert f"Auto-created log directory {cbdir / 'logs'}" in proc.stdout
    lines = (cbdir / "logs" / "node.log").read_text().splitlines()
    assert any(json.loads(line)["message"].startswith("blindrouter 0.1.0 started") for line in lines)
    assert not (cbdir / "node.log").exists()


def test_log_file_size_is_bounded(router_binary, tmp_path):
    proc, cbdir = run_once(router_binary, tmp_path, "--logtofile", "--loglevel", "debug", "--logmaxbytes", "300")
    files = sorted(p.name for p in cbdir.iterdir() if p.name.startswith("node.log"))
    assert "node.log" in files and len(files) > 1, files
    assert all(re.fullmatch(r"node\.log(\.\d{4}_\d{1,2}_\d{1,2}(\.\d+)?)?", f) for f in files), files
    for name in files:
        assert (cbdir / name).stat().st_size <= 300 or (cbdir / name).read_text().count("\n") == 1
