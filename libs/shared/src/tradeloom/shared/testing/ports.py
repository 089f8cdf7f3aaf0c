"""Free TCP ports on the loopback interface, for servers started by test fixtures."""

from __future__ import annotations

import contextlib
import random
import socket

LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    """Return a TCP port on ``host`` that nothing listens on right now.

    The kernel picks an ephemeral port for a socket bound to port 0; the socket is closed before
    returning, so there is a small window in which another process could take the port. Callers
    that start a server on it should retry with a new port when binding fails.
    """
    return free_ports(1, host)[0]


def free_ports(count: int, host: str = LOOPBACK) -> list[int]:
    """Return ``count`` distinct free TCP ports on ``host`` (all sockets held open until all are picked)."""
    if count < 1:
        raise ValueError("count must be at least 1")
    with contextlib.ExitStack() as stack:
        ports: list[int] = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((host, 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


def port_is_open(host: str, port: int, timeout: float = 0.2) -> bool:
    """True when a TCP connection to ``host:port`` succeeds within ``timeout`` seconds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port_run(count: int, host: str = LOOPBACK, low: int = 20_000, high: int = 32_000) -> int:
    """The first of ``count`` consecutive free ports between ``low`` and ``high``.

    For settings that take a base port and use the ones after it. The default range lies below
    Linux's ephemeral ports (32768+), where outgoing connections take local ports at random and so
    can collide with a port picked ahead of time.
    """
    rng = random.Random()  # noqa: S311 - spreads parallel pickers over the range; not a secret
    for _ in range(200):
        start = rng.randrange(low, high - count)
        with contextlib.ExitStack() as stack:
            try:
                for port in range(start, start + count):
                    sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
                    sock.bind((host, port))
            except OSError:
                continue
            return start
    raise RuntimeError(f"no {count} consecutive free ports between {low} and {high}")
