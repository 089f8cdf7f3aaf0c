"""Run lifecycle operations: submit, status, list, cancel, delete (thin: validate, store, reply)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.backtest_engine.domain.graph_plan import GraphPlanError
from tradeloom.backtest_engine.domain.portfolio_plan import plan_portfolio
from tradeloom.backtest_engine.domain.run_plan import PlanError, plan_run
from tradeloom.backtest_engine.owned_dataset import check_dataset_owned
from tradeloom.backtest_engine.saved_strategies import resolve_saved_strategy
from tradeloom.backtest_engine.store.runs_store import RunsStore
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.backtest import (
    BacktestAccepted,
    BacktestCancelled,
    BacktestDeleted,
    BacktestList,
    BacktestRef,
    BacktestSummary,
    ListBacktests,
    RunCommand,
    SubmitBacktest,
)
from tradeloom.shared.contracts.backtest_portfolio import PortfolioRunCommand, SubmitPortfolioBacktest
from tradeloom.shared.errors import Conflict, NotFound, field_invalid, require_user
from tradeloom.shared.ids import new_event_id
from tradeloom.shared.outbox import Outbox
from tradeloom.shared.paging import fetch_size, page_of
from tradeloom.shared.publish import make_envelope
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.subjects import Subjects


def not_found(backtest_id: str) -> NotFound:
    return NotFound(f"no backtest {backtest_id}", details={"backtest_id": backtest_id})


def summary(row: Row[Any]) -> BacktestSummary:
    return BacktestSummary(
        backtest_id=row.backtest_id,
        name=row.name,
        status=row.status,
        phase=row.phase,
        percent=row.percent,
        kind=row.kind,
        strategy=row.strategy,
        params=row.params,
        strategy_id=row.strategy_id,
        strategy_version=row.strategy_version,
        symbol=row.symbol,
        venue=row.venue,
        timeframe=row.timeframe,
        dataset_id=row.dataset_id,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        error_code=row.error_code,
        error=row.error,
    )


class RunsApi:
    def __init__(  # noqa: PLR0917 - the runtime's parts this API uses, wired in app.py
        self,
        engine: Callable[[], AsyncEngine],
        schema: str,
        outbox: Outbox,
        subjects: Subjects,
        source: str,
        client: Callable[[], ServiceClient],
    ) -> None:
        self._engine = engine
        self.runs = RunsStore(schema)
        self.outbox = outbox
        self.subjects = subjects
        self.source = source
        self._client = client

    async def submit(self, caller: CallerContext, body: SubmitBacktest) -> BacktestAccepted:
        """Validate now; queue the run row and its command in one transaction (outbox)."""
        user_id = require_user(caller)
        body = await resolve_saved_strategy(self._client(), caller, body)
        try:
            plan = plan_run(body)
        except GraphPlanError as error:  # every issue of the graph, each with its node and port
            raise field_invalid(
                error.field, error.message, issues=[i.as_dict() for i in error.issues]
            ) from None
        except PlanError as error:
            raise field_invalid(error.field, error.message) from None
        await check_dataset_owned(self._client(), caller, plan.dataset_id)
        backtest_id = new_event_id()
        command = RunCommand(backtest_id=backtest_id, user_id=user_id, request=body)
        subject = self.subjects.command(command.domain, command.name, command.major)
        async with self._engine().begin() as conn:
            await self.runs.insert(conn, backtest_id, user_id, body, plan)
            envelope = make_envelope(command, self.source, event_id=backtest_id, subject=backtest_id)
            await self.outbox.add_envelope(conn, subject, envelope)
        return BacktestAccepted(backtest_id=backtest_id, status="queued")

    async def submit_portfolio(
        self, caller: CallerContext, body: SubmitPortfolioBacktest
    ) -> BacktestAccepted:
        """A basket run: validated like single runs (members' fields ``symbols.<i>.<field>``, the
        ``weights``), queued with its ``backtest.cmd.portfolio.v1`` command in one transaction."""
        user_id = require_user(caller)
        try:
            plan = plan_portfolio(body)
        except PlanError as error:
            raise field_invalid(error.field, error.message) from None
        for i, leg in enumerate(plan.legs):
            await check_dataset_owned(self._client(), caller, leg.dataset_id, f"symbols.{i}.dataset_id")
        backtest_id = new_event_id()
        command = PortfolioRunCommand(backtest_id=backtest_id, user_id=user_id, request=body)
        subject = self.subjects.command(command.domain, command.name, command.major)
        async with self._engine().begin() as conn:
            await self.runs.insert_portfolio(conn, backtest_id, user_id, body, plan)
            envelope = make_envelope(command, self.source, event_id=backtest_id, subject=backtest_id)
            await self.outbox.add_envelope(conn, subject, envelope)
        return BacktestAccepted(backtest_id=backtest_id, status="queued")

    async def status(self, caller: CallerContext, body: BacktestRef) -> BacktestSummary:
        user_id = require_user(caller)
        async with self._engine().connect() as conn:
            row = await self.runs.get(conn, body.backtest_id, user_id)
        if row is None:
            raise not_found(body.backtest_id)
        return summary(row)

    async def list(self, caller: CallerContext, body: ListBacktests) -> BacktestList:
        user_id = require_user(caller)
        async with self._engine().connect() as conn:
            rows, total = await self.runs.list(
                conn,
                user_id,
                limit=fetch_size(body.limit),
                before=body.cursor,
                status=body.status,
                strategy=body.strategy,
                symbol=body.symbol,
                kind=body.kind,
                strategy_id=body.strategy_id,
            )
        items, next_cursor = page_of(rows, body.limit, summary, lambda run: run.backtest_id)
        return BacktestList(items=items, next_cursor=next_cursor, total=total)

    async def cancel(self, caller: CallerContext, body: BacktestRef) -> BacktestSummary:
        """A queued run is cancelled at once; a running one at the worker's next check (< 1 s)."""
        user_id = require_user(caller)
        async with self._engine().begin() as conn:
            outcome = await self.runs.request_cancel(conn, body.backtest_id, user_id)
            if outcome is None:
                raise not_found(body.backtest_id)
            if outcome == "cancelled":
                event = BacktestCancelled(
                    backtest_id=body.backtest_id, user_id=user_id, finished_at=datetime.now(UTC)
                )
                await self.outbox.add(conn, event, body.backtest_id)
            row = await self.runs.get(conn, body.backtest_id, user_id)
        if row is None:
            raise not_found(body.backtest_id)
        return summary(row)

    async def delete(self, caller: CallerContext, body: BacktestRef) -> BacktestDeleted:
        user_id = require_user(caller)
        async with self._engine().begin() as conn:
            row = await self.runs.get(conn, body.backtest_id, user_id)
            if row is None:
                raise not_found(body.backtest_id)
            if row.status in ("queued", "running"):
                raise Conflict(f"backtest {body.backtest_id} is {row.status}: cancel it first")
            deleted = await self.runs.delete(conn, body.backtest_id, user_id)
        return BacktestDeleted(backtest_id=body.backtest_id, deleted=deleted)
