"""Fixtures of sandbox-executor's tests: one prepared sandbox runner per module, small limits."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tradeloom.sandbox_executor.sandbox.layout import discover_layout
from tradeloom.sandbox_executor.sandbox.runner import (
    RunRequest,
    RunResult,
    SandboxConfig,
    SandboxRunner,
    SandboxUnavailable,
)

# test helpers next to the tests are imported by their module name
sys.path.insert(0, str(Path(__file__).parent))
from sandbox_testkit import skip_after_refusal

from tradeloom.shared.testing.sandbox_uids import uid_base

TEST_UID_BASE = uid_base(210_000)  # apart from the service default, so tests never meet a running service


@pytest.fixture(scope="module")
def runner() -> Iterator[SandboxRunner]:
    """A runner whose isolation is verified (the probe passed), with small test limits and the
    service's default pool of ready workers (the path production runs take); where the OS cannot
    isolate, its refusal is asserted and the tests that need a sandbox are skipped."""
    sandbox = SandboxRunner(
        SandboxConfig(
            uid_base=TEST_UID_BASE, slots=2, tmpfs_mb=8, max_processes=24, stdout_max_bytes=4096, pool_size=2
        ),
        discover_layout(),
    )
    isolation = sandbox.prepare()
    if not isolation.ready:
        try:
            with pytest.raises(SandboxUnavailable) as refused:
                sandbox.run(RunRequest(code="print(1)", time_limit_s=1, memory_mb=64))
        finally:
            sandbox.close()
        assert str(refused.value) == isolation.reason
        skip_after_refusal(isolation.reason, "run() refuses with that reason")
    yield sandbox
    sandbox.close()


@pytest.fixture
def run(runner: SandboxRunner) -> Callable[..., RunResult]:
    """Run code with test-sized limits (2 s, 128 MB unless given)."""

    def execute(code: str, time_limit_s: float = 2, memory_mb: int = 128, **extra: Any) -> RunResult:
        return runner.run(RunRequest(code=code, time_limit_s=time_limit_s, memory_mb=memory_mb, **extra))

    return execute
