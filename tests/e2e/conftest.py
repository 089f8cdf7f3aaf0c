"""End-to-end helpers: the services as real processes, driven through the gateway."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tradeloom.shared.contracts.catalog import SERVICES
from tradeloom.shared.testing.nats_server import NatsServer
from tradeloom.shared.testing.ports import free_ports
from tradeloom.shared.testing.postgres_server import PostgresServer
from tradeloom.shared.testing.sandbox_uids import uid_base

ROOT = Path(__file__).resolve().parents[2]


def package(service: str) -> str:
    return service.replace("-", "_")


@dataclass
class Stack:
    """Eight service processes sharing one NATS prefix and one fresh database."""

    env: dict[str, str]
    gateway_url: str
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)

    def start(self, service: str, log_dir: Path) -> None:
        self.logs[service] = log_dir / f"{service}.log"
        with self.logs[service].open("ab") as log:
            self.processes[service] = subprocess.Popen(
                [sys.executable, "-m", f"tradeloom.{package(service)}", "run"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )

    def stop(self, service: str) -> int:
        process = self.processes[service]
        process.send_signal(signal.SIGTERM)
        return process.wait(timeout=15)

    def status(self, timeout_s: float = 5.0) -> httpx.Response:
        return httpx.get(f"{self.gateway_url}/v1/system/status", timeout=timeout_s)

    def health_url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.env[f'TL_{package(service).upper()}_HEALTH_PORT']}"

    def wait_ready(self, timeout_s: float = 120.0) -> None:
        """Poll each started process's ``/readyz`` until 200 (for a stack of some services only)."""
        deadline = time.monotonic() + timeout_s
        for service, process in self.processes.items():
            while True:
                if process.poll() is not None or time.monotonic() > deadline:
                    tail = self.logs[service].read_text(errors="replace")[-2000:]
                    raise AssertionError(f"{service} not ready (exit {process.poll()}):\n{tail}")
                try:
                    if httpx.get(f"{self.health_url(service)}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)

    def wait_all_up(self, timeout_s: float = 120.0) -> dict[str, str]:
        deadline = time.monotonic() + timeout_s
        last: dict[str, str] = {}
        while time.monotonic() < deadline:
            try:
                body = self.status().json()
                last = {item["service"]: item["status"] for item in body["services"]}
                if body["status"] == "up":
                    return last
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            time.sleep(0.3)
        tails = {name: path.read_text(errors="replace")[-1500:] for name, path in self.logs.items()}
        raise AssertionError(f"stack not up in {timeout_s}s: {last}\n{tails}")


def service_env(database_url: str, nats_url: str, prefix: str, ports: list[int]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TL_")}
    for index, service in enumerate(SERVICES):
        p = f"TL_{package(service).upper()}_"
        env |= {
            p + "ENVIRONMENT": "test",
            p + "DATABASE_URL": database_url,
            p + "NATS_URL": nats_url,
            p + "NATS_PREFIX": prefix,
            p + "HEALTH_PORT": str(ports[index]),
            p + "STARTUP_TIMEOUT_S": "20",
        }
    env["TL_GATEWAY_AUTH_HTTP_PORT"] = str(ports[len(SERVICES)])
    env["TL_SANDBOX_EXECUTOR_UID_BASE"] = str(uid_base(240_000))  # this pytest worker's own range
    env["TL_GATEWAY_AUTH_DASHBOARD_DIR"] = str(ROOT / "dashboard" / "dist")  # built by make install
    env["TL_GATEWAY_AUTH_JWT_SECRET"] = secrets.token_urlsafe(48)
    return env


@contextlib.contextmanager
def running_stack(
    nats_server: NatsServer,
    pg_server: PostgresServer,
    prefix: str,
    log_dir: Path,
    extra_env: dict[str, str] | None = None,
    services: tuple[str, ...] = SERVICES,
) -> Iterator[Stack]:
    """A fresh database and prefix, every schema migrated with its own CLI (concurrently), the
    ``services`` running; SIGTERM (then kill) and the database dropped at the end. The one start-up
    of the e2e tests, the journey and the chaos bench."""
    database = f"e2e_{uuid.uuid4().hex[:10]}"
    pg_server.execute(f"CREATE DATABASE {database}")
    ports = free_ports(len(SERVICES) + 1)
    env = service_env(pg_server.sqlalchemy_url(database), nats_server.url, prefix, ports)
    env |= nats_server.environment()  # each service's own NATS password (TL_<SERVICE>_NATS_PASSWORD)
    env |= extra_env or {}
    subprocess.run(
        [sys.executable, "-m", "tradeloom.shared.streams", "ensure", "--nats-url", nats_server.url,
         "--prefix", prefix],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    migrations = [
        subprocess.Popen([sys.executable, "-m", f"tradeloom.{package(s)}", "migrate"], env=env, cwd=ROOT)
        for s in SERVICES
    ]
    assert [m.wait(timeout=300) for m in migrations] == [0] * len(SERVICES)
    running = Stack(env=env, gateway_url=f"http://127.0.0.1:{ports[len(SERVICES)]}")
    try:
        for service in services:
            running.start(service, log_dir)
        yield running
    finally:
        for process in running.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in running.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        pg_server.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


@pytest.fixture
def stack(
    nats_server: NatsServer, pg_server: PostgresServer, nats_prefix: str, tmp_path: Path
) -> Iterator[Stack]:
    """All eight services on a fresh database and prefix."""
    with running_stack(nats_server, pg_server, nats_prefix, tmp_path) as running:
        yield running
