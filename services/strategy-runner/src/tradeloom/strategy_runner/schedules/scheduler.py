"""The scheduler loop: claims due firings in Postgres and runs their actions as the owner.

Every ``tick_s`` each replica locks the due schedules (``FOR UPDATE SKIP LOCKED``: another
replica's are left to it), claims each firing by inserting its run (primary key schedule + firing
time: a firing is claimed once, whatever the replicas), moves ``next_run_at`` on and commits; then
runs the claimed actions and records their outcome. Firings missed past ``grace_s`` follow the
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

from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.backtest import BacktestAccepted, SubmitBacktest
from tradeloom.shared.contracts.bots import BotRef
from tradeloom.shared.errors import ServiceError
from tradeloom.shared.rpc import ServiceClient
from tradeloom.strategy_runner.bots.api_bots import BotsApi
from tradeloom.strategy_runner.domain.schedule_times import Timing, due
from tradeloom.strategy_runner.store.schedules_store import SchedulesStore

log = logging.getLogger(__name__)
BATCH = 50


class Scheduler:
    def __init__(
        self, engine: Callable[[], AsyncEngine], client: Callable[[], ServiceClient], bots: BotsApi, *,
        schema: str, owner: str, tick_s: float, grace_s: float, backtest_timeout_s: float,
        stale_s: float = 300.0, max_attempts: int = 2,
    ) -> None:  # fmt: skip
        self._engine = engine
        self._client = client
        self._bots = bots
        self.store = SchedulesStore(schema)
        self.owner = owner
        self.tick_s = tick_s
        self.grace = timedelta(seconds=grace_s)
        self.backtest_timeout_s = backtest_timeout_s
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
        for row, scheduled_for, note in claimed:
            outcome, detail, backtest_id = await self._execute(row)
            detail = note + detail
            async with self._engine().begin() as conn:
                await self.store.finish_run(
                    conn, row.id, scheduled_for, outcome=outcome, detail=detail, backtest_id=backtest_id
                )
        return len(claimed)

    async def _execute(self, row: Row[Any]) -> tuple[str, str, str | None]:
        """(outcome, detail, backtest id) of the schedule's action, run as its owner."""
        caller = CallerContext(user_id=row.user_id)
        action = row.action
        try:
            if action["kind"] == "backtest":
                accepted = await self._client().call(
                    "backtest-engine", "submit", SubmitBacktest.model_validate(action["backtest"]),
                    BacktestAccepted, caller=caller, timeout_s=self.backtest_timeout_s,
                )  # fmt: skip
                return "succeeded", f"backtest {accepted.backtest_id} queued", accepted.backtest_id
            ref = BotRef(bot_id=action["bot_id"])
            bot = await (self._bots.start if action["kind"] == "bot_start" else self._bots.stop)(caller, ref)
            return "succeeded", f"bot {bot.bot_id} {bot.status}", None
        except ServiceError as error:
            return "failed", f"{error.code}: {error}", None
        except Exception as error:  # an action's bug must not stop the loop; the run says what failed
            log.exception("schedule %s failed", row.id)
            return "failed", f"internal: {type(error).__name__}", None
