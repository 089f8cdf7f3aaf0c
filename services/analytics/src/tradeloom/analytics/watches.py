"""Watched prop-firm evaluations: measured when watched and again every ``interval_s`` from the
stored daily equity; a status change updates the row and writes
``analytics.evt.evaluation_status.v1.<evaluation_id>`` to the outbox in one transaction (the update
is conditional on the old status, so two replicas never announce one change twice)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.analytics.api_propfirm import PropFirmApi, domain_rules, with_low
from tradeloom.analytics.domain import propfirm
from tradeloom.analytics.store.equity_store import EquityStore
from tradeloom.analytics.store.evaluations_store import EvaluationsStore
from tradeloom.shared.aio import wait_for_stop
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.analytics import RangeRequest
from tradeloom.shared.contracts.analytics_propfirm import (
    EvaluationStatusChanged,
    Rules,
    WatchDeleted,
    WatchInfo,
    WatchList,
    WatchListRequest,
    WatchRef,
    WatchRequest,
)
from tradeloom.shared.errors import NotFound, require_user
from tradeloom.shared.outbox import Outbox

log = logging.getLogger(__name__)


def watch_info(row: Any) -> WatchInfo:
    return WatchInfo(
        evaluation_id=row.evaluation_id, scope=row.scope, id=row.scope_id, rule_set_id=row.rule_set_id,
        start=row.start_day, status=row.status, failed_on=row.failed_on, passed_on=row.passed_on,
        updated_at=row.updated_at,
    )  # fmt: skip


class Watches:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        equity: EquityStore,
        store: EvaluationsStore,
        prop: PropFirmApi,
        outbox: Callable[[], Outbox],
        *,
        interval_s: float,
    ) -> None:
        self._engine = engine
        self.equity = equity
        self.store = store
        self.prop = prop
        self._outbox = outbox
        self.interval_s = interval_s

    async def _measure(self, conn: AsyncConnection, row: Any) -> propfirm.Evaluation:
        rows = await self.equity.rows(conn, row.scope, [row.scope_id], row.start_day, None)
        lows = await self.prop.intraday.lows(conn, row.scope, [row.scope_id], row.start_day, None)
        days = [with_low(r.day, Decimal(r.pnl), r.trades, lows.get((row.scope_id, r.day))) for r in rows]
        return propfirm.evaluate(domain_rules(Rules(**row.rules)), days)

    async def _announce(self, conn: AsyncConnection, row: Any, previous: str | None) -> None:
        event = EvaluationStatusChanged(
            user_id=row.user_id, evaluation=watch_info(row), previous_status=previous
        )
        await self._outbox().add(conn, event, row.evaluation_id)

    async def watch(self, caller: CallerContext, body: WatchRequest) -> WatchInfo:
        user = require_user(caller)
        rules = await self.prop.rules_of(user, body.rule_set_id)
        check = RangeRequest(scope=body.scope, id=body.id, start=body.start, capital=rules.start_balance)
        await self.prop.performance.series(caller, check)  # the owner and the range
        async with self._engine().begin() as conn:
            existing = await self.store.existing(conn, user, body.scope, body.id, body.rule_set_id)
            if existing is not None:
                return watch_info(existing)
            draft = {
                "evaluation_id": f"e-{uuid.uuid4().hex}", "user_id": user, "scope": body.scope,
                "scope_id": body.id, "rule_set_id": body.rule_set_id, "rules": rules.model_dump(mode="json"),
                "start_day": body.start, "status": "in_progress", "failed_on": None, "passed_on": None,
            }  # fmt: skip
            row = await self.store.add(conn, draft)
            if row is None:  # a concurrent watch of the same won
                row = await self.store.existing(conn, user, body.scope, body.id, body.rule_set_id)
                assert row is not None
                return watch_info(row)
            result = await self._measure(conn, row)
            changed = await self.store.change_status(
                conn, row.evaluation_id, old="in_progress", new=result.status, failed_on=result.failed_on,
                passed_on=result.passed_on,
            )  # fmt: skip
            row = changed or row
            await self._announce(conn, row, None)
        return watch_info(row)

    async def list(self, caller: CallerContext, body: WatchListRequest) -> WatchList:
        user = require_user(caller)
        async with self._engine().connect() as conn:
            rows = await self.store.of_user(conn, user)
        return WatchList(items=[watch_info(row) for row in rows])

    async def unwatch(self, caller: CallerContext, body: WatchRef) -> WatchDeleted:
        user = require_user(caller)
        async with self._engine().begin() as conn:
            if not await self.store.delete(conn, user, body.evaluation_id):
                raise NotFound(f"evaluation {body.evaluation_id} not found")
        return WatchDeleted(evaluation_id=body.evaluation_id, deleted=True)

    async def round(self) -> int:
        """Measure every watch once; the number of status changes announced."""
        async with self._engine().connect() as conn:
            watched = await self.store.every(conn)
        changes = 0
        for row in watched:
            async with self._engine().begin() as conn:
                result = await self._measure(conn, row)
                if result.status == row.status:
                    continue
                changed = await self.store.change_status(
                    conn, row.evaluation_id, old=row.status, new=result.status, failed_on=result.failed_on,
                    passed_on=result.passed_on,
                )  # fmt: skip
                if changed is not None:
                    await self._announce(conn, changed, row.status)
                    changes += 1
        return changes

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.round()
            except Exception as error:  # Postgres restarting: the next round tries again
                log.warning("prop-firm watch round failed: %r", error)
            await wait_for_stop(stop, self.interval_s)
