"""Postgres in a Docker container via testcontainers, used when a Docker engine answers."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from tradeloom.shared.testing._util import TestServerError
from tradeloom.shared.testing.ports import free_port

if TYPE_CHECKING:
    from testcontainers.community.postgres import PostgresContainer

IMAGE_ENV = "TL_TEST_PG_IMAGE"
DEFAULT_IMAGE = "postgres:16-alpine"
_DEFAULT_SOCKET = "/var/run/docker.sock"
_PING = b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n"


def _http_ping(sock: socket.socket) -> bool:
    """Send ``GET /_ping`` on a connected socket; True on an HTTP 200 answer."""
    sock.sendall(_PING)
    reply = b""
    while b"\r\n" not in reply and len(reply) < 4096:
        chunk = sock.recv(1024)
        if not chunk:
            break
        reply += chunk
    status = reply.split(b"\r\n", 1)[0].split()
    return len(status) >= 2 and status[0].startswith(b"HTTP/") and status[1] == b"200"


def docker_available(timeout: float = 1.0) -> bool:
    """True when a Docker engine answers a ping within ``timeout`` seconds.

    Checks ``$DOCKER_HOST`` (``unix://`` or ``tcp://``; with TLS only the TCP connect is checked)
    or the default socket ``/var/run/docker.sock`` - the same places testcontainers looks.
    """
    host = os.environ.get("DOCKER_HOST", f"unix://{_DEFAULT_SOCKET}")
    parts = urlsplit(host)
    try:
        if parts.scheme == "unix":
            if not os.path.exists(parts.path):
                return False
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(timeout)
                sock.connect(parts.path)
                return _http_ping(sock)
        if parts.scheme in ("tcp", "http", "https") and parts.hostname:
            port = parts.port or (2376 if os.environ.get("DOCKER_TLS_VERIFY") else 2375)
            with socket.create_connection((parts.hostname, port), timeout=timeout) as sock:
                if os.environ.get("DOCKER_TLS_VERIFY") or parts.scheme == "https":
                    return True
                return _http_ping(sock)
    except OSError:
        return False
    return False


class ContainerPostgres:
    """A Postgres container with trust auth, superuser ``postgres`` and the given server settings."""

    def __init__(self, settings: Mapping[str, str], *, timeout: float = 60.0) -> None:
        """Remember the settings; the container is created on the first :meth:`start`."""
        self.settings = dict(settings)
        self.timeout = timeout
        self.image = os.environ.get(IMAGE_ENV, DEFAULT_IMAGE)
        self.host = "127.0.0.1"
        self.port = 0
        self._container: PostgresContainer | None = None

    def start(self) -> None:
        """Create and start the container, or start the stopped one again (same volume and port)."""
        if self._container is None:
            from testcontainers.community.postgres import PostgresContainer  # heavy: import lazily

            if not docker_available(timeout=2.0):
                raise TestServerError(
                    "no Docker engine answers (checked $DOCKER_HOST or /var/run/docker.sock)"
                )
            command = ["postgres", *(f"-c{key}={value}" for key, value in self.settings.items())]
            try:
                container = PostgresContainer(  # the image insists on a password; auth is trust anyway
                    self.image,
                    username="postgres",
                    password="postgres",  # noqa: S106 - throwaway test container
                    dbname="postgres",
                    driver=None,
                )
                container.with_env("POSTGRES_HOST_AUTH_METHOD", "trust").with_command(command)
                if urlsplit(os.environ.get("DOCKER_HOST", "unix://")).scheme == "unix":
                    # a fixed host port survives container restarts (an ephemeral mapping may not)
                    container.with_bind_ports(5432, free_port())
                container.start()
            except Exception as exc:
                raise TestServerError(f"could not start Postgres container {self.image}: {exc}") from exc
            self._container = container
        else:
            self._container.get_wrapped_container().start()
        self._container.get_wrapped_container().reload()
        host = self._container.get_container_host_ip()
        self.host = "127.0.0.1" if host == "localhost" else host
        self.port = int(self._container.get_exposed_port(5432))

    def running(self) -> bool:
        """True while the container is running."""
        if self._container is None:
            return False
        wrapped = self._container.get_wrapped_container()
        wrapped.reload()
        return bool(wrapped.status == "running")

    def stop(self, mode: str = "fast") -> None:
        """Stop the container, keeping it (and its data) for :meth:`start`; ``immediate`` kills it."""
        if self._container is None:
            return
        wrapped = self._container.get_wrapped_container()
        if mode == "immediate":
            wrapped.kill()
        else:
            wrapped.stop(timeout=30)

    def close(self) -> None:
        """Remove the container and its volume."""
        if self._container is not None:
            container, self._container = self._container, None
            container.stop()
