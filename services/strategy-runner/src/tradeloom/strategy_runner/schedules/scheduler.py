"""The scheduler loop: claims due firings in Postgres and runs their actions as the owner.

Every ``tick_s`` each replica locks the due schedules (``FOR UPDATE SKIP LOCKED``: another
replica's are left to it), claims each firing by inserting its run (primary key schedule + firing
time: a firing is claimed once, whatever the replicas), moves ``next_run_at`` on and commits; then
runs the claimed actions concurrently (a followed import does not hold up the others) and records
their outcome. Firings missed past ``grace_s`` follow the
schedule's policy (``domain.schedule_times.due``): one ``skipped`` run records them, ``run_once``
also runs the newest. A replica that dies between the claim and the outcome leaves that run
``running``; after ``stale_s`` (far longer than an action may take) a live replica takes it over
and runs the action once more, up to ``max_attempts`` in all, then records it ``failed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.strategy_runner.domain.schedule_times import Timing, due
from tradeloom.strategy_runner.schedules.actions import ScheduleActions
from tradeloom.strategy_runner.store.schedules_store import SchedulesStore

log = logging.getLogger(__name__)
BATCH = 50


class Scheduler:
    def __init__(
        self, engine: Callable[[], AsyncEngine], actions: ScheduleActions, *,
        schema: str, owner: str, tick_s: float, grace_s: float, stale_s: float = 300.0, max_attempts: int = 2,
    ) -> None:  # fmt: skip
        self._engine = engine
        self.actions = actions
        self.store = SchedulesStore(schema)
        self.owner = owner
        self.tick_s = tick_s
        self.grace = timedelta(seconds=grace_s)
        self.stale_s = stale_s
        self.max_attempts = max_attempts

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:  # the database may be restarting: try again next tick
                log.exception("scheduler tick failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.tick_s)

    async def tick(self) -> int:
        """Claim and run what is due now; the number of actions run."""
        now = datetime.now(UTC)
        claimed: list[tuple[Row[Any], datetime, str]] = []  # (schedule, firing, note)
        async with self._engine().begin() as conn:
            for row in await self.store.lock_due(conn, BATCH):
                timing = Timing(row.cron, row.interval_s, row.timezone, row.anchor)
                plan = due(timing, row.next_run_at, now, self.grace, row.missed)
                if plan.missed and plan.latest_missed is not None:
                    detail = f"{plan.missed} firing(s) missed while no replica ran (policy {row.missed})"
                    await self.store.claim_run(
                        conn, row.id, plan.latest_missed, owner=self.owner, outcome="skipped", detail=detail
                    )
                if plan.run_for is not None and await self.store.claim_run(
                    conn, row.id, plan.run_for, owner=self.owner, outcome="running"
                ):
                    claimed.append((row, plan.run_for, ""))
                await self.store.advance(conn, row.id, plan.next_run_at)
            claimed += [
                (row, row.scheduled_for, "retried (the replica running it died): ")
                for row in await self.store.take_stale_runs(
                    conn, self.owner, stale_s=self.stale_s, max_attempts=self.max_attempts, limit=BATCH
                )
            ]
        await asyncio.gather(
            *(self._run_one(row, scheduled_for, note) for row, scheduled_for, note in claimed)
        )
        return len(claimed)

    async def _run_one(self, row: Row[Any], scheduled_for: datetime, note: str) -> None:
        result = await self.actions.run(row.user_id, row.action, scheduled_for)
        async with self._engine().begin() as conn:
            await self.store.finish_run(
                conn, row.id, scheduled_for, outcome=result.outcome, detail=note + result.detail,
                backtest_id=result.backtest_id, import_id=result.import_id, report=result.report,
            )  # fmt: skip
