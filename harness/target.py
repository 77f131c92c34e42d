"""The router under test: either a blindrouter process the harness starts on a copy of a
Crossbar-format node directory, or an already-running router given by URL(s).

What the harness needs from either: the router's listeners (where to relay to), the
services on each (WebSocket path and/or RawSocket, with serializers), the realm, the
realm's ``payload_transparency.serializer_mismatch`` mode, and the URI prefixes under a
``require_encryption`` permission.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from urllib.parse import urlparse

from . import wire
from .ports import free_port

DEFAULT_SERIALIZERS = list(wire.SERIALIZERS)
STARTUP_TIMEOUT = 10.0
SHUTDOWN_TIMEOUT = 5.0


class Listener:
    """One router endpoint and the WAMP services it offers."""

    def __init__(self, label, address, services, node=0):
        self.label = label
        self.address = address      # dict: kind tcp|unix, host, port | path, tls
        self.services = services    # [{"protocol": websocket|rawsocket, "ws_path", "serializers"}]
        self.node = node            # 0: the router (node A); 1: a second node of its cluster (--split-url)


class RealmFacts:
    def __init__(self, name, serializer_mismatch="reject", required_prefixes=()):
        self.name = name
        self.serializer_mismatch = serializer_mismatch
        self.required_prefixes = list(required_prefixes)


# --------------------------------------------------------------------------------------
# Reading a Crossbar node config
# --------------------------------------------------------------------------------------

def _serializers(service):
    wanted = service.get("serializers", DEFAULT_SERIALIZERS)
    return [s for s in wanted if s in wire.SERIALIZERS]


def _ws_services(paths):
    found = []
    for path, service in sorted(paths.items()):
        if isinstance(service, dict) and service.get("type") == "websocket":
            found.append({"protocol": "websocket", "ws_path": "" if path == "/" else path,
                          "serializers": _serializers(service)})
    return found


def transport_services(transport):
    kind = transport.get("type")
    if kind == "websocket":
        return [{"protocol": "websocket", "ws_path": "", "serializers": _serializers(transport)}]
    if kind == "web":
        return _ws_services(transport.get("paths", {}))
    if kind == "rawsocket":
        return [{"protocol": "rawsocket", "serializers": _serializers(transport)}]
    if kind == "universal":
        services = []
        if isinstance(transport.get("rawsocket"), dict):
            services.append({"protocol": "rawsocket",
                             "serializers": _serializers(transport["rawsocket"])})
        services += _ws_services(transport.get("websocket", {}) or {})
        services += _ws_services((transport.get("web") or {}).get("paths", {}))
        return services
    return []


def config_listeners(config, cbdir):
    listeners = []
    for worker in config.get("workers", []):
        if worker.get("type") != "router":
            continue
        for i, transport in enumerate(worker.get("transports", [])):
            endpoint = transport.get("endpoint", {})
            services = transport_services(transport)
            if not services:
                continue
            if endpoint.get("type", "tcp") == "unix":
                path = endpoint["path"]
                address = {"kind": "unix",
                           "path": path if os.path.isabs(path) else os.path.join(cbdir, path)}
                where = "unix"
            else:
                address = {"kind": "tcp", "host": "127.0.0.1", "port": endpoint.get("port"),
                           "tls": bool(endpoint.get("tls"))}
                where = "tls" if address["tls"] else "tcp"
            label = f"{transport.get('type')}#{i}@{where}"
            listeners.append(Listener(label, address, services))
    return listeners


def config_realm(config, realm_name=None):
    for worker in config.get("workers", []):
        for realm in worker.get("realms", []):
            if realm_name is not None and realm.get("name") != realm_name:
                continue
            mode = (realm.get("payload_transparency") or {}).get("serializer_mismatch", "reject")
            prefixes = []
            for role in realm.get("roles", []):
                if role.get("name") != "anonymous":
                    continue
                for permission in role.get("permissions", []):
                    if permission.get("require_encryption") and \
                            permission.get("match", "exact") in ("prefix", "exact"):
                        prefixes.append(permission.get("uri", ""))
            return RealmFacts(realm.get("name"), mode, prefixes)
    raise ValueError(f"config has no realm {realm_name!r}" if realm_name else "config has no realm")


# --------------------------------------------------------------------------------------
# A router process the harness runs
# --------------------------------------------------------------------------------------

def prepare_node(src_dir, dest_dir, socket_dir=None):
    """Copy a node directory; move TCP endpoints to free loopback ports and Unix sockets
    into the copy, or into ``socket_dir`` (socket paths are limited to ~108 bytes)."""
    shutil.copytree(src_dir, dest_dir)
    path = os.path.join(dest_dir, "config.json")
    with open(path, encoding="utf-8") as f:
        config = json.load(f)
    sockets = 0
    for worker in config.get("workers", []):
        for transport in worker.get("transports", []):
            endpoint = transport.get("endpoint")
            if not isinstance(endpoint, dict):
                continue
            if endpoint.get("type", "tcp") == "unix":
                sockets += 1
                endpoint["path"] = os.path.join(socket_dir or dest_dir, f"s{sockets}.sock")
            else:
                endpoint["port"] = free_port()
                endpoint["interface"] = "127.0.0.1"
    with open(path, "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
    return config


def _accepts(address):
    try:
        if address["kind"] == "unix":
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(0.2)
                s.connect(address["path"])
        else:
            with socket.create_connection((address["host"], address["port"]), timeout=0.2):
                pass
        return True
    except OSError:
        return False


class RouterProcess:
    def __init__(self, binary, src_cbdir, workdir, socket_dir=None):
        self.socket_dir = socket_dir
        self.binary = os.path.abspath(binary)
        self.src_cbdir = os.path.abspath(src_cbdir)
        self.workdir = workdir
        self.cbdir = os.path.join(workdir, "node")
        self.stderr_path = os.path.join(workdir, "router.stderr.log")
        self.stdout_path = os.path.join(workdir, "router.stdout.log")
        self.proc = None
        self.config = None
        self.exit_code = None
        self.start_seconds = None
        # blindrouter's Prometheus endpoint, with URIs as labels so that the scan sees
        # everything the endpoint can show; scraped before the router is stopped.
        self.metrics_url = None

    def start(self):
        if not (os.path.isfile(self.binary) and os.access(self.binary, os.X_OK)):
            raise RuntimeError(f"router binary {self.binary} not found or not executable")
        if not os.path.isfile(os.path.join(self.src_cbdir, "config.json")):
            raise RuntimeError(f"{self.src_cbdir} has no config.json")
        self.config = prepare_node(self.src_cbdir, self.cbdir, self.socket_dir)
        metrics_port = free_port()
        self.metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
        cmd = [self.binary, "start", "--cbdir", self.cbdir, "--loglevel", "trace",
               "--metrics", f"127.0.0.1:{metrics_port}", "--metrics-uri-labels"]
        t0 = time.monotonic()
        with open(self.stderr_path, "wb") as err, open(self.stdout_path, "wb") as out:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                         start_new_session=True)
        pending = [l.address for l in self.listeners()]
        while pending:
            if self.proc.poll() is not None:
                raise RuntimeError(f"router exited with code {self.proc.returncode} during "
                                   f"start-up; stderr:\n{self.log_text()[-3000:]}")
            if _accepts(pending[0]):
                pending.pop(0)
                continue
            if time.monotonic() - t0 > STARTUP_TIMEOUT:
                self.kill()
                raise RuntimeError(f"router did not accept on {pending[0]} within "
                                   f"{STARTUP_TIMEOUT}s; stderr:\n{self.log_text()[-3000:]}")
            time.sleep(0.02)
        self.start_seconds = time.monotonic() - t0
        return self

    def listeners(self):
        return config_listeners(self.config, self.cbdir)

    def realm(self, name=None):
        return config_realm(self.config, name)

    def stop(self):
        """SIGTERM; returns the exit code (None if it had to be killed)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=SHUTDOWN_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
                self.exit_code = None
                return None
        self.exit_code = self.proc.returncode
        return self.exit_code

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def log_files(self):
        return [self.stderr_path, self.stdout_path]

    def log_text(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", errors="replace")


# --------------------------------------------------------------------------------------
# A router given by URL
# --------------------------------------------------------------------------------------

def url_listener(url, serializers, index, node=0):
    """ws://host:port/path, wss://..., rs://host:port (RawSocket over TCP), rss://
    (RawSocket over TLS), unix:/path/to/socket (RawSocket over a Unix socket). ``node`` 1
    is a second node of a clustered router (--split-url)."""
    parsed = urlparse(url)
    scheme = parsed.scheme
    if scheme in ("ws", "wss"):
        address = {"kind": "tcp", "host": parsed.hostname, "port": parsed.port or (443 if scheme == "wss" else 80),
                   "tls": scheme == "wss"}
        services = [{"protocol": "websocket", "ws_path": parsed.path.lstrip("/"),
                     "serializers": serializers}]
    elif scheme in ("rs", "rss", "tcp"):
        address = {"kind": "tcp", "host": parsed.hostname, "port": parsed.port, "tls": scheme == "rss"}
        services = [{"protocol": "rawsocket", "serializers": serializers}]
    elif scheme == "unix":
        address = {"kind": "unix", "path": parsed.path}
        services = [{"protocol": "rawsocket", "serializers": serializers}]
    else:
        raise ValueError(f"unsupported URL {url!r} (ws://, wss://, rs://, rss://, unix:/path)")
    return Listener(f"{'node-b:' if node else ''}{scheme}#{index}", address, services, node)
