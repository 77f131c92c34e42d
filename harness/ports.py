"""Loopback TCP ports for the routers and NATS servers that the harness, the tests and
``scripts/cluster-up`` start.

A port read back after binding port 0 comes from the kernel's ephemeral range, and the
kernel hands out the same range to every outgoing connection. Between the moment the
port is read back and the moment the server binds it, any client connecting anywhere
on the machine may take it as its own source port. CI saw this happen: a router
started by the harness failed with "Address already in use" on its metrics port.

The kernel never picks a port below the ephemeral range by itself, so ports are taken
from just below it. Only another process choosing explicitly can then collide. Each
process starts at a random point and walks on from there, so it never hands out the
same port twice, and a port is only handed out after binding it has just succeeded.
"""

import random
import socket
import threading

RANGE_FILE = "/proc/sys/net/ipv4/ip_local_port_range"
# How far below the ephemeral range to look; the range's own default starts at 32768.
SPAN = 16384
LOWEST = 1024

_lock = threading.Lock()
_next = None


def ephemeral_range(path=RANGE_FILE):
    """(low, high) of the kernel's ephemeral ports; Linux's default when unreadable."""
    try:
        with open(path, encoding="ascii") as f:
            low, high = (int(word) for word in f.read().split()[:2])
        return low, high
    except (OSError, ValueError):
        return 32768, 60999


def candidate_ports(low):
    """Ports below ``low`` to choose from, or an empty range if there is no room."""
    return range(max(LOWEST, low - SPAN), low)


def bindable(port, host="127.0.0.1"):
    """Whether a server could bind ``port`` right now. No SO_REUSEADDR, so a port still
    held by a connection in TIME_WAIT counts as taken too."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def kernel_port(host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def free_port(host="127.0.0.1"):
    """A TCP port on ``host`` that nothing held a moment ago, from below the ephemeral
    range (the kernel's choice, port 0, only when that range leaves no room below it)."""
    global _next
    ports = candidate_ports(ephemeral_range()[0])
    if len(ports) < 1024:
        return kernel_port(host)
    with _lock:
        if _next is None:
            _next = random.randrange(len(ports))
        for _ in range(len(ports)):
            port = ports[_next % len(ports)]
            _next += 1
            if bindable(port, host):
                return port
    raise OSError(f"no free TCP port on {host} in {ports.start}-{ports.stop - 1}")
