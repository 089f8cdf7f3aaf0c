"""Request/reply operations of sandbox-executor (``svc.sandbox-executor.<op>``); ping is built in."""

from __future__ import annotations

import asyncio
from typing import Any

from tradeloom.sandbox_executor.domain import limits
from tradeloom.sandbox_executor.executions import Executions
from tradeloom.sandbox_executor.jobs import JOBS_CONSUMER, Jobs
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.sandbox import (
    EmptyRequest,
    ExecuteReply,
    ExecuteRequest,
    ExecutionDetail,
    ExecutionRequest,
    ExecutionSummary,
    HealthReply,
    HistoryReply,
    HistoryRequest,
    LimitsReply,
    QuotaState,
    Range,
    SubmitReply,
)
from tradeloom.shared.errors import NotFound, require_user
from tradeloom.shared.rpc import Operation
from tradeloom.shared.runtime import ServiceRuntime


class SandboxApi:
    """Thin handlers: identity, ownership and shaping; the work is in ``Executions``/``Jobs``."""

    def __init__(self, executions: Executions, jobs: Jobs) -> None:
        self.executions = executions
        self.jobs = jobs

    async def execute(self, caller: CallerContext, request: ExecuteRequest) -> ExecuteReply:
        return await self.executions.execute(caller, request)

    async def submit(self, caller: CallerContext, request: ExecuteRequest) -> SubmitReply:
        return await self.jobs.submit(caller, request)

    async def limits(self, caller: CallerContext, _: EmptyRequest) -> LimitsReply:
        user_id = require_user(caller)
        executions = self.executions
        async with executions.engine.begin() as conn:
            usage = await executions.store.lock_usage(conn, user_id)
        config, policy = executions.runner.config, executions.policy
        return LimitsReply(
            code_max_chars=limits.CODE_MAX_CHARS,
            time_limit_s=Range(min=limits.TIME_MIN_S, max=limits.TIME_MAX_S, default=limits.TIME_DEFAULT_S),
            memory_mb=Range(
                min=limits.MEMORY_MIN_MB, max=limits.MEMORY_MAX_MB, default=limits.MEMORY_DEFAULT_MB
            ),
            stdout_max_bytes=config.stdout_max_bytes,
            stderr_max_bytes=config.stderr_max_bytes,
            quotas=QuotaState(
                concurrent_max=policy.concurrent,
                concurrent_running=usage.running,
                cpu_seconds_per_day=policy.cpu_seconds_per_day,
                cpu_seconds_used_today=round(usage.cpu_seconds_today, 3),
                executions_per_minute=policy.rate_per_minute,
            ),
        )

    async def health(self, _: CallerContext, __: EmptyRequest) -> HealthReply:
        isolation = self.executions.runner.isolation
        return HealthReply(ready=isolation.ready, reason=isolation.reason, features=dict(isolation.features))

    async def history(self, caller: CallerContext, request: HistoryRequest) -> HistoryReply:
        user_id = require_user(caller)
        async with self.executions.engine.connect() as conn:
            rows = await self.executions.store.history(conn, user_id, request.limit, request.before)
        items = [ExecutionSummary(**row) for row in rows]
        next_before = items[-1].created_at if len(items) == request.limit else None
        return HistoryReply(items=items, next_before=next_before)

    async def get(self, caller: CallerContext, request: ExecutionRequest) -> ExecutionDetail:
        user_id = require_user(caller)
        async with self.executions.engine.connect() as conn:
            row = await self.executions.store.get(conn, user_id, request.execution_id)
        if row is None:  # someone else's execution looks exactly like a missing one
            raise NotFound(f"execution {request.execution_id} not found", details={"field": "execution_id"})
        reply, error_code = row.pop("reply"), row.pop("error_code")
        return ExecutionDetail(
            summary=ExecutionSummary(**row),
            reply=None if reply is None else ExecuteReply.model_validate(reply),
            error_code=error_code,
        )


def register(runtime: ServiceRuntime, api: SandboxApi) -> None:
    """Add this service's operations, the job consumer and the sandbox preparation task."""
    operations: list[Operation[Any, Any]] = [
        Operation("execute", ExecuteRequest, ExecuteReply, api.execute, "run code now"),
        Operation("submit", ExecuteRequest, SubmitReply, api.submit, "queue code as a job"),
        Operation("get", ExecutionRequest, ExecutionDetail, api.get, "one of the caller's executions"),
        Operation("history", HistoryRequest, HistoryReply, api.history, "the caller's executions"),
        Operation("limits", EmptyRequest, LimitsReply, api.limits, "bounds and quotas"),
        Operation("health", EmptyRequest, HealthReply, api.health, "isolation state"),
    ]
    for operation in operations:
        runtime.add_operation(operation)
    runtime.add_consumer(JOBS_CONSUMER, api.jobs.handle)

    async def prepare_sandbox(stop: asyncio.Event) -> None:
        """Probe the sandbox once at start; until it passes every execution is refused (503)."""
        await asyncio.to_thread(api.executions.runner.prepare)
        await stop.wait()
        async with api.executions.slots:  # (a run still in flight keeps its slot until it ends)
            api.executions.runner.close()

    runtime.add_task(prepare_sandbox)
