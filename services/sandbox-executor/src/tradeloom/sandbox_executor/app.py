"""Wiring: the one place sandbox-executor builds its concrete objects."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.sandbox_executor import SERVICE, __version__, api
from tradeloom.sandbox_executor.domain.quotas import QuotaPolicy
from tradeloom.sandbox_executor.executions import Executions
from tradeloom.sandbox_executor.jobs import Jobs
from tradeloom.sandbox_executor.sandbox.layout import discover_layout
from tradeloom.sandbox_executor.sandbox.runner import SandboxRunner
from tradeloom.sandbox_executor.settings import SandboxExecutorSettings
from tradeloom.sandbox_executor.store import ExecutionStore
from tradeloom.shared.cli import service_main
from tradeloom.shared.migrations import find_migrations
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.shared.settings import ServiceSettings


class _LazyEngine:
    """The runtime's engine exists only after ``start``; resolve it on use."""

    def __init__(self, runtime: ServiceRuntime) -> None:
        self._runtime = runtime

    def __getattr__(self, name: str) -> Any:
        return getattr(self._runtime.engine, name)


def build(settings: ServiceSettings) -> ServiceRuntime:
    """A runtime with sandbox-executor's operations registered, not yet started."""
    return build_parts(settings)[0]


def build_parts(settings: ServiceSettings) -> tuple[ServiceRuntime, api.SandboxApi]:
    """The runtime and the API object behind its operations (tests call handlers directly)."""
    if not isinstance(settings, SandboxExecutorSettings):
        raise TypeError("sandbox-executor needs SandboxExecutorSettings")
    runtime = ServiceRuntime(settings, service=SERVICE, version=__version__, description=__doc__ or "")
    runner = SandboxRunner(settings.sandbox_config(), discover_layout())
    policy = QuotaPolicy(
        concurrent=settings.quota_concurrent,
        cpu_seconds_per_day=settings.quota_cpu_seconds_per_day,
        rate_per_minute=settings.rate_per_minute,
    )
    engine = cast(AsyncEngine, _LazyEngine(runtime))  # resolved on first use, after start
    executions = Executions(runner, engine, ExecutionStore(settings.db_schema), runtime.outbox, policy)
    jobs = Jobs(executions, runtime.subjects, f"tradeloom/{SERVICE}")
    handlers = api.SandboxApi(executions, jobs)
    api.register(runtime, handlers)
    return runtime, handlers


def main(argv: list[str] | None = None) -> int:
    return service_main(
        service=SERVICE,
        settings_cls=SandboxExecutorSettings,
        build=build,
        migrations_dir=find_migrations(__file__),
        argv=argv,
    )
