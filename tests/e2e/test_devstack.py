"""`make run`'s stack: up with all eight services healthy, Ctrl-C stops it, a restart keeps the data."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import nats
import nats.errors
import pytest

from tradeloom.shared.testing.nats_server import NatsServer
from tradeloom.shared.testing.ports import free_port_run, free_ports
from tradeloom.shared.testing.postgres_server import PostgresServer

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def start_stack(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "tools.devstack", "up"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, like a terminal's foreground job
        )


def wait_up(
    process: subprocess.Popen[bytes], gateway: str, log: Path, timeout_s: float = 90
) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        try:
            body = httpx.get(f"{gateway}/v1/system/status", timeout=3).json()
            if body["status"] == "up":
                return dict(body)
        except (httpx.HTTPError, ValueError, KeyError):
            pass
        time.sleep(0.5)
    raise AssertionError("stack not up:\n" + log.read_text(errors="replace")[-4000:])


def wait_for_line(log: Path, marker: str, timeout_s: float = 60) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            if marker in line:
                return line
        time.sleep(0.3)
    raise AssertionError(f"no {marker!r} in the log:\n" + log.read_text(errors="replace")[-3000:])


def ctrl_c(process: subprocess.Popen[bytes]) -> int:
    """What a terminal does on Ctrl-C: SIGINT to the whole foreground process group."""
    os.killpg(process.pid, signal.SIGINT)
    return process.wait(timeout=60)


async def count_started_events(devstack: Path, pg_port: int) -> int:
    password = (devstack / "pg" / "admin-password").read_text().strip()
    url = f"postgresql://postgres:{password}@127.0.0.1:{pg_port}/tradeloom"
    connection = await asyncpg.connect(url)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM gateway.outbox"))
    finally:
        await connection.close()


@pytest.fixture
def devstack_dir() -> Iterator[Path]:
    """Not under pytest's 0700 tmp dirs: under root, Postgres runs as `nobody`, who must reach it."""
    path = Path(tempfile.mkdtemp(prefix="tl-devstack-"))
    path.chmod(0o755)
    yield path / "devstack"
    shutil.rmtree(path, ignore_errors=True)


async def nats_refuses_anonymous(port: int) -> None:
    with pytest.raises((nats.errors.Error, OSError)):
        await nats.connect(f"nats://127.0.0.1:{port}", allow_reconnect=False, connect_timeout=5)


async def test_make_run_stack_survives_restart(tmp_path: Path, devstack_dir: Path) -> None:
    nats_port, nats_monitor, pg_port, gateway_port = free_ports(4)
    devstack = devstack_dir
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("TL_") and k not in ("NATS_URL", "DATABASE_URL")
    }
    env |= {
        "TL_DEVSTACK_DIR": str(devstack),
        "TL_DEV_NATS_PORT": str(nats_port),
        "TL_DEV_NATS_MONITOR_PORT": str(nats_monitor),
        "TL_DEV_PG_PORT": str(pg_port),
        "TL_DEV_GATEWAY_PORT": str(gateway_port),
        "TL_DEV_PORT_BASE": str(free_port_run(8) - 1),  # health ports base+1..base+8
    }
    gateway = f"http://127.0.0.1:{gateway_port}"
    log = tmp_path / "stack.log"

    first = start_stack(env, log)
    try:
        status = wait_up(first, gateway, log)
        assert len(status["services"]) == 8  # type: ignore[arg-type]
        demo = wait_for_line(log, "devstack: demo login ")
        email, password = demo.split("demo login ", 1)[1].split(" (")[0].strip().split(" / ")
        login = httpx.post(
            f"{gateway}/v1/auth/login", json={"email": email, "password": password}, timeout=10
        )
        assert login.status_code == 200, login.text
        await nats_refuses_anonymous(nats_port)  # the services above connected as their own users
    finally:
        assert ctrl_c(first) == 0
    assert "devstack: stopped" in log.read_text()
    leftovers = subprocess.run(
        ["pgrep", "-f", str(devstack)], capture_output=True, text=True, check=False
    ).stdout
    assert leftovers.strip() == "", f"processes left behind: {leftovers}"

    second = start_stack(env, log)
    try:
        wait_up(second, gateway, log)
        # Each start writes a ServiceStarted event to the outbox: the first run's row is still there.
        assert await count_started_events(devstack, pg_port) >= 2
    finally:
        assert ctrl_c(second) == 0


def test_make_run_uses_existing_servers(
    nats_server: NatsServer, pg_server: PostgresServer, devstack_dir: Path, tmp_path: Path
) -> None:
    """NATS_URL and DATABASE_URL point the stack at servers it did not start (and must not stop)."""
    (gateway_port,) = free_ports(1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TL_")}
    env |= {
        "TL_DEVSTACK_DIR": str(devstack_dir),
        "NATS_URL": nats_server.url,
        **nats_server.environment(),  # that server's users: the admin's and each service's password
        "DATABASE_URL": pg_server.dsn(),
        "TL_DEV_GATEWAY_PORT": str(gateway_port),
        "TL_DEV_PORT_BASE": str(free_port_run(8) - 1),  # health ports base+1..base+8
    }
    log = tmp_path / "stack.log"
    stack = start_stack(env, log)
    try:
        wait_up(stack, f"http://127.0.0.1:{gateway_port}", log)
    finally:
        assert ctrl_c(stack) == 0
    assert not (devstack_dir / "nats").exists() and not (devstack_dir / "pg").exists()
    assert nats_server.running and pg_server.running
