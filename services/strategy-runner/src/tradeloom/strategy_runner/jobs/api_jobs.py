"""``jobs_list``: the caller's backtests, sandbox executions and scheduled runs, newest first.

Each source is asked as the caller (so it only answers the caller's own work) with the same
limit, concurrently; the merged list keeps the newest ``limit``. A source that does not answer is
named in ``unavailable``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.backtest import BacktestList, ListBacktests
from tradeloom.shared.contracts.jobs import Job, JobList, JobListRequest
from tradeloom.shared.contracts.sandbox import HistoryReply, HistoryRequest
from tradeloom.shared.errors import ServiceError, require_user
from tradeloom.shared.rpc import ServiceClient
from tradeloom.strategy_runner.domain.jobs import RUN_STATUS, backtest_job, sandbox_job
from tradeloom.strategy_runner.store.schedules_store import SchedulesStore

log = logging.getLogger(__name__)
ACTIVE = ("queued", "running")


class JobsApi:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        client: Callable[[], ServiceClient],
        schema: str,
        timeout_s: float,
    ) -> None:
        self._engine = engine
        self._client = client
        self._timeout_s = timeout_s
        self.schedules = SchedulesStore(schema)

    async def list_jobs(self, caller: CallerContext, body: JobListRequest) -> JobList:
        user_id = require_user(caller)
        backtests, sandbox, runs = await asyncio.gather(
            self._backtests(caller, body), self._sandbox(caller, body), self._runs(user_id, body)
        )
        unavailable = [
            name
            for name, got in (("backtest-engine", backtests), ("sandbox-executor", sandbox))
            if got is None
        ]
        jobs = [*(backtests or []), *(sandbox or []), *runs]
        if body.active_only:
            jobs = [job for job in jobs if job.status in ACTIVE]
        jobs.sort(key=lambda job: job.created_at, reverse=True)
        return JobList(items=jobs[: body.limit], unavailable=unavailable)

    async def _ask(self, caller: CallerContext, service: str, op: str, request: Any, reply: type[Any]) -> Any:
        try:
            return await self._client().call(
                service, op, request, reply, caller=caller, timeout_s=self._timeout_s
            )
        except ServiceError as error:
            log.warning("jobs view: %s %s: %s", service, op, error)
            return None

    async def _backtests(self, caller: CallerContext, body: JobListRequest) -> list[Job] | None:
        jobs: list[Job] = []
        for status in ACTIVE if body.active_only else (None,):
            request = ListBacktests.model_validate({"limit": body.limit, "status": status})
            reply = await self._ask(caller, "backtest-engine", "list", request, BacktestList)
            if reply is None:
                return None
            jobs += [backtest_job(item) for item in reply.items]
        return jobs

    async def _sandbox(self, caller: CallerContext, body: JobListRequest) -> list[Job] | None:
        reply = await self._ask(
            caller, "sandbox-executor", "history", HistoryRequest(limit=body.limit), HistoryReply
        )
        return None if reply is None else [sandbox_job(item) for item in reply.items]

    async def _runs(self, user_id: str, body: JobListRequest) -> list[Job]:
        async with self._engine().connect() as conn:
            rows = await self.schedules.user_runs(conn, user_id, body.limit, active_only=body.active_only)
        return [
            Job(
                kind="scheduled_run",
                job_id=str(row.schedule_id),
                status=RUN_STATUS[row.outcome],
                title=f"schedule {row.name}: {row.action['kind']}",
                detail=row.detail,
                href=f"/v1/schedules/{row.schedule_id}/runs",
                created_at=row.started_at,
                finished_at=row.finished_at,
            )
            for row in rows
        ]
