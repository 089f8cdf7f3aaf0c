"""Fixtures of sandbox-executor's tests: one prepared sandbox runner per module, small limits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tradeloom.sandbox_executor.sandbox.layout import discover_layout
from tradeloom.sandbox_executor.sandbox.runner import RunRequest, RunResult, SandboxConfig, SandboxRunner

TEST_UID_BASE = 210_000  # apart from the service default, so tests never meet a running service


@pytest.fixture(scope="module")
def runner() -> Iterator[SandboxRunner]:
    """A runner whose isolation is verified (the probe passed), with small test limits."""
    sandbox = SandboxRunner(
        SandboxConfig(uid_base=TEST_UID_BASE, slots=2, tmpfs_mb=8, max_processes=24, stdout_max_bytes=4096),
        discover_layout(),
    )
    isolation = sandbox.prepare()
    assert isolation.ready, isolation.reason
    yield sandbox
    sandbox.close()


@pytest.fixture
def run(runner: SandboxRunner) -> Callable[..., RunResult]:
    """Run code with test-sized limits (2 s, 128 MB unless given)."""

    def execute(code: str, time_limit_s: float = 2, memory_mb: int = 128, **extra: Any) -> RunResult:
        return runner.run(RunRequest(code=code, time_limit_s=time_limit_s, memory_mb=memory_mb, **extra))

    return execute
