"""A service as a real child process, for crash tests: ``python -m tradeloom.<package> run`` with
its settings in ``TL_<PACKAGE>_*`` environment variables, killed with SIGKILL mid-work and started
again on the same database schema and NATS prefix.

Work-queue consumers wait ``backoff_s[0]`` (their ack wait) before a crashed worker's message is
delivered again: 15 s to 330 s in production. ``consumer_backoff`` shortens it for the child only,
by replacing the declared ``ConsumerSpec`` before the service is imported (the same spec the
service then binds with), so a restart test does not wait minutes for the redelivery.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

from tradeloom.shared.testing._util import log_tail, wait_until
from tradeloom.shared.testing.ports import free_port

# Runs in the child: shorten the named consumers' backoff, then run the service's own __main__.
_LAUNCHER = """
import dataclasses, json, runpy, sys
from tradeloom.shared import streams
package, backoff = sys.argv[1], json.loads(sys.argv[2])
streams.CONSUMERS = tuple(
    dataclasses.replace(c, backoff_s=tuple(backoff[c.durable])) if c.durable in backoff else c
    for c in streams.CONSUMERS
)
sys.argv = [package, "run"]
runpy.run_module(f"tradeloom.{package}", run_name="__main__", alter_sys=True)
"""


def settings_env(package: str, values: Mapping[str, object]) -> dict[str, str]:
    """This process's environment plus ``values`` as the service's settings (``TL_<PACKAGE>_<NAME>``;
    lists and dicts as JSON, everything else as ``str``). The rest of the environment is inherited on
    purpose: fixtures export what every service process needs there (e.g. NATS credentials)."""
    prefix = f"TL_{package.upper()}_"
    env = dict(os.environ)
    for name, value in values.items():
        env[prefix + name.upper()] = json.dumps(value) if isinstance(value, list | dict) else str(value)
    return env


@dataclass
class ServiceProcess:
    """One service process; ``start()`` again after ``kill()`` for a fresh process (new health port)."""

    package: str  # e.g. "backtest_engine"
    settings: dict[str, object]  # without health_port: each start gets a free one
    log_dir: Path
    consumer_backoff: dict[str, tuple[float, ...]] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    health_port: int = 0
    starts: int = 0

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.package}.log"

    def start(self, ready_timeout_s: float = 90.0) -> None:
        """Start the process and wait until its ``/readyz`` answers 200 (NATS and Postgres up)."""
        assert self.process is None or self.process.poll() is not None, "already running"
        self.health_port = free_port()
        self.starts += 1
        env = settings_env(self.package, {**self.settings, "health_port": self.health_port})
        backoff = json.dumps({name: list(steps) for name, steps in self.consumer_backoff.items()})
        with self.log_path.open("ab") as log:
            log.write(f"\n--- start {self.starts} ---\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [sys.executable, "-c", _LAUNCHER, self.package, backoff],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        failure = wait_until(self._ready, timeout=ready_timeout_s, interval=0.2, abort=self._exited)
        if failure is not None:
            self.close()
            raise AssertionError(f"{self.package} not ready: {failure}\n{self.log_tail()}")

    def _ready(self) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{self.health_port}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def _exited(self) -> str | None:
        code = None if self.process is None else self.process.poll()
        return None if code is None else f"exited with {code}"

    def kill(self) -> int:
        """SIGKILL: no shutdown code runs, nothing is acked or committed. Returns the exit code."""
        assert self.process is not None and self.process.poll() is None, "not running"
        self.process.send_signal(signal.SIGKILL)
        return self.process.wait(timeout=30)

    def close(self) -> None:
        """SIGTERM (SIGKILL after 20 s) if it is still running."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def log_tail(self, lines: int = 60) -> str:
        return log_tail(self.log_path, lines)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
