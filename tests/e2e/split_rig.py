"""Split mode of the end-to-end suite (``pytest tests/e2e --split 3``; issue 19, shared
SCALE-OUT.md §3 F1): every test's router is a cluster of nodes over 3 NATS servers,
all started by scripts/cluster-up, and each client of a test lands on the next node.

One NATS cluster serves the whole pytest session (``cluster-up --nodes 0``); each test
starts only its nodes (``cluster-up --nats-urls ...``) on its own node directory, and
after they stopped the JetStream streams the nodes keep state in are purged, so no test
sees another's retained events, registrations or testaments. Starting a NATS cluster
costs ~1.1 s (its JetStream meta leader election); 3 nodes start in 0.2-0.3 s when
their KV buckets exist (purged, not deleted: creating the 3 replicated buckets again
took 0.5-0.7 s more per test) and stop in 0.17 s.
"""

import itertools
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

from wamp_helpers import REPO_ROOT, SHUTDOWN_TIMEOUT, Router, load_config, prepare_cbdir, websocket_path

CLUSTER_UP = REPO_ROOT / "scripts" / "cluster-up"
NATS_SERVERS = 3
START_TIMEOUT = 30.0
# The streams behind the JetStream KV buckets of lib/src/cluster (cluster_node.cpp):
# registrations directory, retained events, testaments.
STATE_STREAMS = ("KV_br_regs", "KV_br_ret", "KV_br_testament")
# Log levels at which a node does not log "blindrouter stopped" (an info line).
QUIET_LEVELS = ("none", "critical", "error", "warn")


def _start_cluster_up(args, work, env=None):
    """scripts/cluster-up with ``args`` in ``work``; returns (process, state) once it wrote
    its state file."""
    work.mkdir(parents=True, exist_ok=True)
    state_path = work / "state.json"
    log_path = work / "cluster-up.log"
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(["/usr/bin/python3", str(CLUSTER_UP), *args, "--dir", str(work / "run"),
                                 "--state", str(state_path)],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env=env)
    deadline = time.monotonic() + START_TIMEOUT
    while not state_path.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            raise AssertionError(f"scripts/cluster-up {' '.join(args)} did not start:\n"
                                 + log_path.read_text(errors="replace")[-4000:])
        time.sleep(0.02)
    return proc, json.loads(state_path.read_text())


def _stop_cluster_up(proc, timeout):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise AssertionError(f"scripts/cluster-up did not stop within {timeout}s")



def purge_streams(port, names, timeout=5.0):
    """Empty JetStream streams through the NATS server on ``port`` (request/reply on
    the JetStream API, $JS.API.STREAM.PURGE.<name>); a stream that does not exist is
    fine."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        reader = s.makefile("rb")
        reader.readline()  # INFO
        s.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\nSUB _INBOX.split_rig 1\r\n')
        for name in names:
            s.sendall(f"PUB $JS.API.STREAM.PURGE.{name} _INBOX.split_rig 0\r\n\r\n".encode())
            reply = _nats_reply(s, reader)
            error = reply.get("error")
            # 10059: stream not found (no test of this node directory used it).
            assert reply.get("success") or (error and error.get("err_code") == 10059), \
                f"JetStream did not purge stream {name}: {reply}"


def _nats_reply(s, reader):
    while True:
        line = reader.readline()
        if not line:
            raise AssertionError("NATS closed the connection")
        if line.startswith(b"PING"):
            s.sendall(b"PONG\r\n")
        elif line.startswith(b"MSG "):
            body = reader.read(int(line.split()[-1]) + 2)[:-2]
            return json.loads(body)
        elif line.startswith(b"-ERR"):
            raise AssertionError(f"NATS: {line.decode(errors='replace').strip()}")

class NatsCluster:
    """The session's NATS servers (cluster-up --nodes 0)."""

    def __init__(self, work):
        self.proc, state = _start_cluster_up(["--router", "/bin/false", "--nodes", "0",
                                              "--nats", str(NATS_SERVERS)], work)
        self.urls = [f"nats://127.0.0.1:{s['port']}" for s in state["nats"]]

    def purge_state_streams(self):
        purge_streams(urlparse(self.urls[0]).port, STATE_STREAMS)

    def stop(self):
        _stop_cluster_up(self.proc, 30)


def _node_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class SplitRouter:
    """The wamp_helpers.Router interface over a cluster of nodes. Each read of ``url``,
    ``port``, ``ports`` or ``cbdir`` (what a client connects to) hands out the next node,
    so successive clients of one test land on different nodes; logs are all nodes'."""

    def __init__(self, proc, state, work, loglevel):
        self.proc_ = proc
        self.work = work
        self.loglevel = loglevel
        self.nodes = state["nodes"]
        for node in self.nodes:
            transport, path = websocket_path(load_config(node["cbdir"]))
            node["url"] = f"ws://127.0.0.1:{transport['endpoint']['port']}/{path}"
        self._turn = itertools.count()
        self.exit_code = None

    def _next(self):
        return self.nodes[next(self._turn) % len(self.nodes)]

    @property
    def url(self):
        return self._next()["url"]

    @property
    def port(self):
        return urlparse(self._next()["url"]).port

    @property
    def ports(self):
        return list(self._next()["ports"])

    @property
    def cbdir(self):
        return Path(self._next()["cbdir"])

    def node_log(self, node):
        with open(node["log"], "rb") as f:
            return f.read().decode("utf-8", errors="replace")

    def log(self):
        return "".join(self.node_log(node) for node in self.nodes)

    def stdout(self):
        # cluster-up writes a node's stdout and stderr to one file, which log() reads.
        return ""

    def log_tail(self, chars=4000):
        return "\n".join(f"--- node {k + 1} ---\n{self.node_log(node)[-chars // len(self.nodes):]}"
                         for k, node in enumerate(self.nodes))

    # It reads log(): every node's.
    wait_for_log = Router.wait_for_log

    def is_alive(self):
        return self.proc_.poll() is None and all(_node_alive(node["pid"]) for node in self.nodes)

    def send_signal(self, sig):
        for node in self.nodes:
            os.kill(node["pid"], sig)

    def stop(self, sig=signal.SIGTERM, timeout=SHUTDOWN_TIMEOUT):
        """Stop the nodes (cluster-up sends them SIGTERM); 0 when every node exited 0
        and, where its log level shows it, logged its clean stop; else the first other
        exit code (1 for a missing stop line). ``sig`` is not used: cluster-up stops
        its nodes."""
        if self.exit_code is None:
            # cluster-up waits up to 10 s per node before it kills one.
            _stop_cluster_up(self.proc_, timeout + 10 * len(self.nodes))
            by_pid = json.loads((self.work / "state.json.exit").read_text())
            codes = [by_pid[str(node["pid"])] for node in self.nodes]
            clean = self.loglevel in QUIET_LEVELS or all(
                "blindrouter stopped" in self.node_log(node) for node in self.nodes)
            self.exit_code = next((code for code in codes if code != 0), 0 if clean else 1)
        return self.exit_code


def start_split_router(binary, nats, nodes, src_dir, work_dir, mutate=None, loglevel="debug", extra_args=()):
    """``nodes`` nodes running a copy of ``src_dir`` after ``mutate``, on the NatsCluster
    ``nats``, or with None on NATS servers of their own: the nodes would share realms of
    the same name with any other nodes on the same NATS, so a test's second router (a
    different node directory) gets its own."""
    assert not extra_args, (f"split mode cannot pass {list(extra_args)} to every node: mark the test "
                            "@pytest.mark.single_node(reason)")
    work_dir = Path(work_dir)
    prepare_cbdir(src_dir, work_dir / "cbdir", mutate)
    env = dict(os.environ, CLUSTER_LOGLEVEL=loglevel or "info")
    where = ["--nats-urls", ",".join(nats.urls)] if nats else ["--nats", str(NATS_SERVERS)]
    proc, state = _start_cluster_up(["--router", str(binary), "--cbdir", str(work_dir / "cbdir"),
                                     "--nodes", str(nodes), *where], work_dir, env)
    return SplitRouter(proc, state, work_dir, loglevel)
