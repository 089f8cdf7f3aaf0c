"""`make run` supervises: kill -9 of a service, nats-server or Postgres leaves the rest running, the
status route shows the gap, and the killed process comes back; SIGTERM to its pid stops it all."""

from __future__ import annotations

import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.e2e.devstack_kit import (
    ROOT,
    child,
    descendants,
    remove_devstack,
    services,
    stack_env,
    start_stack,
    stop,
    wait_status,
    wait_up,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def devstack_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="tl-devstack-"))
    yield path / "devstack"
    remove_devstack(path / "devstack")
    path.rmdir()


def wait_for(condition: object, log: Path, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if condition():  # type: ignore[operator]
                return
        except (AssertionError, httpx.HTTPError):
            pass
        assert time.monotonic() < deadline, log.read_text(errors="replace")[-4000:]
        time.sleep(0.5)


def register(gateway: str) -> httpx.Response:
    body = {"email": f"{uuid.uuid4().hex[:12]}@example.com", "password": "violet-harbor-kettle-42"}
    return httpx.post(f"{gateway}/v1/auth/register", json=body | {"display_name": "After crash"}, timeout=10)


def instance_ids(body: dict[str, object]) -> dict[str, object]:
    return {name: item["instance_id"] for name, item in services(body).items()}


def test_a_killed_service_or_nats_server_comes_back_while_the_rest_runs(
    tmp_path: Path, devstack_dir: Path
) -> None:
    # A first restart delay of 2 s keeps the gap long enough for the status route to show it.
    env, gateway, _ = stack_env(devstack_dir, TL_DEV_RESTART_FIRST_S="2")
    log = tmp_path / "stack.log"
    stack = start_stack(env, log)
    try:
        before = instance_ids(wait_up(stack, gateway, log))

        market_data = child(stack, "tradeloom.market_data run")
        market_data.kill()  # kill -9
        gap = wait_status(stack, gateway, log, lambda b: services(b)["market-data"]["status"] == "down")
        assert gap["status"] == "degraded"
        assert all(item["status"] == "up" for name, item in services(gap).items() if name != "market-data")
        back = instance_ids(wait_up(stack, gateway, log))
        assert back["market-data"] != before["market-data"]  # a new process
        assert {k: v for k, v in back.items() if k != "market-data"} == {
            k: v for k, v in before.items() if k != "market-data"
        }  # the others never stopped
        assert child(stack, "tradeloom.market_data run").pid != market_data.pid

        nats = child(stack, "nats-server")
        nats.kill()
        wait_status(stack, gateway, log, lambda b: b["status"] != "up")
        wait_up(stack, gateway, log)  # every service reports up again
        assert child(stack, "nats-server").pid != nats.pid
        assert "nats-server exited (code -9); restarting" in log.read_text()

        postgres = child(stack, "postgres -D")
        postgres.kill()
        wait_for(lambda: child(stack, "postgres -D").pid != postgres.pid, log)
        wait_up(stack, gateway, log)
        # Writes work again: the services' pools replace the connections the crash broke.
        wait_for(lambda: register(gateway).status_code == 201, log)
    finally:
        assert stop(stack, "SIGTERM") == 0
    assert "devstack: stopped" in log.read_text()
    assert not psutil.pid_exists(stack.pid)


def test_sigterm_to_make_run_stops_the_whole_stack(tmp_path: Path, devstack_dir: Path) -> None:
    """GNU make dies at once on SIGTERM without passing it on; the stack must not outlive it."""
    env, gateway, _ = stack_env(devstack_dir)
    log = tmp_path / "stack.log"
    with log.open("ab") as out:
        make = subprocess.Popen(
            ["make", "--no-print-directory", "run"], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        wait_up(make, gateway, log)
        family = descendants(make)
        assert any("tools.devstack" in " ".join(p.cmdline()) for p in family)
    finally:
        make.send_signal(signal.SIGTERM)
        make.wait(timeout=30)  # make's own status is its signal's (it re-raises it): not ours
    _, alive = psutil.wait_procs(family, timeout=60)
    assert not alive, f"processes left behind: {[(p.pid, p.name()) for p in alive]}"
    assert "devstack: stopped" in log.read_text()
