"""`make run`'s stack: up with all eight services healthy, stopped by SIGINT (to its pid or its
group), a restart keeps the data (and an emergency stop: it holds after every service, NATS and
Postgres restarted, until resumed), and it works from a checkout in a private (0700) directory."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import nats
import nats.errors
import pytest

from tests.e2e import halt_kit
from tests.e2e.devstack_kit import (
    remove_devstack,
    stack_env,
    start_stack,
    stop,
    wait_for_line,
    wait_up,
)
from tradeloom.shared.testing.nats_server import NatsServer
from tradeloom.shared.testing.ports import free_port_run, free_ports
from tradeloom.shared.testing.postgres_server import PostgresServer

pytestmark = pytest.mark.e2e


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
    """A private directory (mode 0700, like a checkout under /root): under root, Postgres runs as
    `nobody`, who cannot enter it, so the stack must place what Postgres needs elsewhere."""
    path = Path(tempfile.mkdtemp(prefix="tl-devstack-"))  # mkdtemp makes it 0700
    assert path.stat().st_mode & 0o777 == 0o700
    yield path / "devstack"
    remove_devstack(path / "devstack")
    path.rmdir()


async def nats_refuses_anonymous(port: int) -> None:
    with pytest.raises((nats.errors.Error, OSError)):
        await nats.connect(f"nats://127.0.0.1:{port}", allow_reconnect=False, connect_timeout=5)


@pytest.mark.timeout(420)  # two whole-stack start-ups of up to 120 s each on a loaded machine
async def test_make_run_stack_survives_restart(tmp_path: Path, devstack_dir: Path) -> None:
    env, gateway, pg_port = stack_env(devstack_dir)
    log = tmp_path / "stack.log"

    first = start_stack(env, log)
    try:
        body = wait_up(first, gateway, log)
        assert len(body["services"]) == 8  # type: ignore[arg-type]
        demo = wait_for_line(log, "devstack: demo login ")
        email, password = demo.split("demo login ", 1)[1].split(" (")[0].strip().split(" / ")
        login = httpx.post(
            f"{gateway}/v1/auth/login", json={"email": email, "password": password}, timeout=10
        )
        assert login.status_code == 200, login.text
        await nats_refuses_anonymous(
            int(env["TL_DEV_NATS_PORT"])
        )  # the services above connected as their own users
        headers = halt_kit.login(gateway, email, password)
        account_id = halt_kit.demo_account(gateway, headers)
        halt_kit.halt_with_a_resting_order(gateway, headers, account_id)
    finally:
        assert stop(first, "SIGINT") == 0  # to make run's own pid, not its group
    assert "devstack: stopped" in log.read_text()

    second = start_stack(env, log)
    try:
        wait_up(second, gateway, log)
        # Each start writes a ServiceStarted event to the outbox: the first run's row is still there.
        assert await count_started_events(devstack_dir, pg_port) >= 2
        # the emergency stop holds after every service, NATS and Postgres restarted, until resumed
        halt_kit.still_halted_then_resumed(gateway, halt_kit.login(gateway, email, password), account_id)
    finally:
        assert stop(second, "group") == 0  # a terminal's Ctrl-C


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
        assert stop(stack, "group") == 0
    assert not (devstack_dir / "nats").exists() and not (devstack_dir / "pg").exists()
    assert nats_server.running and pg_server.running
