"""strategy-runner as a real subprocess, for the kill -9 tests (imported by module name)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path


class RunnerProcess:
    """``python -m tradeloom.strategy_runner run`` with ``env`` (the test's settings)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tradeloom.strategy_runner", "run"],
                env=self.env,
                stdout=out,
                stderr=out,
            )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
