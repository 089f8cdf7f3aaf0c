"""strategy-runner as a real subprocess, for the kill -9 tests (imported by module name)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine


def runner_env(
    database_url: str, nats_url: str, nats_prefix: str, schema: str, **settings: str
) -> dict[str, str]:
    """The process environment of a replica on the test's servers; ``settings``: more variables
    by their name after ``TL_STRATEGY_RUNNER_`` (``BOT_LEASE_TTL_S="3"``)."""
    return {
        **os.environ,
        "TL_STRATEGY_RUNNER_DATABASE_URL": database_url, "TL_STRATEGY_RUNNER_NATS_URL": nats_url,
        "TL_STRATEGY_RUNNER_NATS_PREFIX": nats_prefix, "TL_STRATEGY_RUNNER_DB_SCHEMA": schema,
        "TL_STRATEGY_RUNNER_ENVIRONMENT": "test", "TL_STRATEGY_RUNNER_LOG_JSON": "false",
        **{f"TL_STRATEGY_RUNNER_{name}": value for name, value in settings.items()},
    }  # fmt: skip


async def scalar(env: dict[str, str], query: str, **params: Any) -> Any:
    """One value of ``query`` (``{s}``: the replicas' schema) read from their database."""
    engine = create_async_engine(env["TL_STRATEGY_RUNNER_DATABASE_URL"])
    try:
        async with engine.connect() as conn:
            sql = text(query.format(s=env["TL_STRATEGY_RUNNER_DB_SCHEMA"]))
            return (await conn.execute(sql, params)).scalar_one()
    finally:
        await engine.dispose()


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
