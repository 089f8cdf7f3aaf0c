"""The ready-worker pool: single use, the request's limits reach a worker started ahead of it,
requests beyond its ceiling and a disabled pool start cold, closing kills the idle workers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tradeloom.sandbox_executor.domain.limits import Outcome
from tradeloom.sandbox_executor.sandbox.layout import discover_layout
from tradeloom.sandbox_executor.sandbox.reaping import processes_of_uid
from tradeloom.sandbox_executor.sandbox.runner import RunRequest, SandboxConfig, SandboxRunner
from tradeloom.shared.testing.sandbox_uids import uid_base

UID_BASE = uid_base(213_000)  # apart from conftest's runner and the service default
LIMITS = (
    "import resource\n"
    "result = [resource.getrlimit(resource.RLIMIT_CPU), resource.getrlimit(resource.RLIMIT_AS)]\n"
)


@pytest.fixture(scope="module")
def small_pool() -> Iterator[SandboxRunner]:
    """One slot with a ready worker whose ceiling is 3 s and 256 MB."""
    runner = SandboxRunner(
        SandboxConfig(
            uid_base=UID_BASE, slots=1, pool_size=1, pool_spawn_time_limit_s=3, pool_spawn_memory_mb=256
        ),
        discover_layout(),
    )
    isolation = runner.prepare()
    if not isolation.ready:
        runner.close()
        pytest.skip(f"no sandbox here ({isolation.reason}); the refusal is asserted in conftest's runner")
    assert isolation.features["pool"] == "1 ready single-use workers"
    yield runner
    runner.close()


def run(runner: SandboxRunner, code: str, time_limit_s: float = 2, memory_mb: int = 128) -> object:
    answer = runner.run(RunRequest(code=code, time_limit_s=time_limit_s, memory_mb=memory_mb))
    assert answer.outcome == Outcome.OK, answer
    return answer.result


def test_a_worker_runs_once_and_its_successor_starts_fresh(small_pool: SandboxRunner) -> None:
    assert small_pool.wait_pool_settled() and small_pool.pool_counts()["ready"] == 1
    first_idle = small_pool.idle_pids()
    code = "import os\nseen = os.path.exists('/tmp/mark')\nopen('/tmp/mark', 'w').write('x')\nresult = seen\n"
    assert run(small_pool, code) is False
    assert small_pool.wait_pool_settled() and small_pool.pool_counts()["ready"] == 1
    assert not first_idle & small_pool.idle_pids()  # the used worker is gone, a new one waits
    assert run(small_pool, code) is False  # nothing of the last run is there


def test_the_request_limits_reach_a_ready_worker(small_pool: SandboxRunner) -> None:
    cpu, address_space = run(small_pool, LIMITS, time_limit_s=2, memory_mb=100)  # type: ignore[misc]
    assert cpu == [2, 3]
    assert address_space[0] == (100 + small_pool.config.address_space_headroom_mb) * 1024 * 1024
    bomb = small_pool.run(RunRequest(code="x = bytearray(300 * 1024 * 1024)", time_limit_s=3, memory_mb=64))
    assert bomb.outcome == Outcome.MEMORY_LIMIT


def test_a_request_beyond_the_ceiling_starts_its_own_sandbox(small_pool: SandboxRunner) -> None:
    cpu, _ = run(small_pool, LIMITS, time_limit_s=5, memory_mb=512)  # type: ignore[misc]
    assert cpu == [5, 6]
    assert small_pool.wait_pool_settled() and small_pool.pool_counts()["ready"] == 1


def test_without_a_pool_every_run_starts_cold_and_close_kills_idle_workers() -> None:
    cold = SandboxRunner(SandboxConfig(uid_base=UID_BASE + 100, slots=1, pool_size=0), discover_layout())
    pooled = SandboxRunner(SandboxConfig(uid_base=UID_BASE + 200, slots=1, pool_size=1), discover_layout())
    try:
        if not cold.prepare().ready:
            pytest.skip(f"no sandbox here ({cold.isolation.reason})")
        assert cold.isolation.features["pool"].startswith("off")
        assert run(cold, "result = 41 + 1") == 42
        assert cold.pool_counts() == {"free": 1, "ready": 0, "spawning": 0}
        assert not processes_of_uid(UID_BASE + 100)
        assert pooled.prepare().ready and pooled.wait_pool_settled()
        assert processes_of_uid(UID_BASE + 200)  # the ready worker
    finally:
        cold.close()
        pooled.close()
    assert not processes_of_uid(UID_BASE + 200)
    assert pooled.pool_counts() == {"free": 1, "ready": 0, "spawning": 0}
