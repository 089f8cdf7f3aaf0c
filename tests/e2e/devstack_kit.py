"""Helpers for the tests of ``make run``'s stack (``python -m tools.devstack up``) as a process."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from tradeloom.shared.testing.ports import free_port_run, free_ports
from tradeloom.shared.testing.sandbox_uids import uid_base

ROOT = Path(__file__).resolve().parents[2]


def stack_env(devstack: Path, **extra: str) -> tuple[dict[str, str], str, int]:
    """The environment of a stack with its own servers on free ports: (env, gateway URL, pg port)."""
    nats_port, nats_monitor, pg_port, gateway_port = free_ports(4)
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
        "TL_SANDBOX_EXECUTOR_UID_BASE": str(uid_base(241_000)),  # this pytest worker's own range
    } | extra
    return env, f"http://127.0.0.1:{gateway_port}", pg_port


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


def status(gateway: str) -> dict[str, object]:
    return dict(httpx.get(f"{gateway}/v1/system/status", timeout=5).json())


def services(body: dict[str, object]) -> dict[str, dict[str, object]]:
    return {str(item["service"]): item for item in body["services"]}  # type: ignore[attr-defined]


def wait_status(
    process: subprocess.Popen[bytes], gateway: str, log: Path, check: object, timeout_s: float = 120
) -> dict[str, object]:
    """Poll ``/v1/system/status`` until ``check(body)`` holds (the stack must keep running)."""
    deadline = time.monotonic() + timeout_s
    last: object = None
    while time.monotonic() < deadline and process.poll() is None:
        try:
            last = body = status(gateway)
            if check(body):  # type: ignore[operator]
                return body
        except (httpx.HTTPError, ValueError, KeyError) as error:
            last = error
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-4000:]
    raise AssertionError(f"status never matched (exit {process.poll()}); last {last}\n{tail}")


def wait_up(
    process: subprocess.Popen[bytes], gateway: str, log: Path, timeout_s: float = 120
) -> dict[str, object]:
    return wait_status(process, gateway, log, lambda body: body["status"] == "up", timeout_s)


def wait_for_line(log: Path, marker: str, timeout_s: float = 60) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            if marker in line:
                return line
        time.sleep(0.3)
    raise AssertionError(f"no {marker!r} in the log:\n" + log.read_text(errors="replace")[-3000:])


def descendants(process: subprocess.Popen[bytes]) -> list[psutil.Process]:
    return psutil.Process(process.pid).children(recursive=True)


def child(process: subprocess.Popen[bytes], marker: str) -> psutil.Process:
    """The stack's direct child whose command line contains ``marker``."""
    for candidate in psutil.Process(process.pid).children():
        try:
            if marker in " ".join(candidate.cmdline()):
                return candidate
        except psutil.NoSuchProcess:
            continue
    raise AssertionError(f"no child process of the stack runs {marker!r}")


def stop(process: subprocess.Popen[bytes], how: str) -> int:
    """``group``: a terminal's Ctrl-C (SIGINT to the whole process group); ``SIGINT``/``SIGTERM``:
    that signal to the stack's own pid only, as a process manager, systemd or CI sends it.
    Returns the exit code once every process the stack had started is gone."""
    family = descendants(process)
    if how == "group":
        os.killpg(process.pid, signal.SIGINT)
    else:
        os.kill(process.pid, getattr(signal, how))
    code = process.wait(timeout=90)
    _, alive = psutil.wait_procs(family, timeout=30)
    assert not alive, f"processes left behind: {[(p.pid, p.name()) for p in alive]}"
    return code


def remove_devstack(devstack: Path) -> None:
    """The dev stack's directory and, where Postgres could not reach it, its data directory."""
    location = devstack / "pg" / "data-location"
    if location.exists():
        shutil.rmtree(location.read_text().strip(), ignore_errors=True)
    shutil.rmtree(devstack, ignore_errors=True)
