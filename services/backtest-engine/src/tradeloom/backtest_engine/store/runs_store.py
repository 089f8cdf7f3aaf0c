"""The ``runs`` table: one row per backtest with its owner, status, progress and error."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.backtest_engine.domain.portfolio_plan import PortfolioPlan
from tradeloom.backtest_engine.domain.run_plan import RunPlan
from tradeloom.shared.contracts.backtest import SubmitBacktest
from tradeloom.shared.contracts.backtest_portfolio import SubmitPortfolioBacktest
from tradeloom.shared.db import check_schema_name

ACTIVE = ("queued", "running")
COLUMNS = (
    "backtest_id, user_id, name, status, phase, percent, strategy, params, symbol, venue, timeframe, "
    "request, cancel_requested, attempts, error_code, error, created_at, started_at, finished_at, "
    "kind, dataset_id, strategy_id, strategy_version"
)


class RunsStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def insert(
        self,
        conn: AsyncConnection,
        backtest_id: str,
        user_id: str,
        request: SubmitBacktest,
        plan: RunPlan,
    ) -> None:
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".runs (backtest_id, user_id, name, status, strategy, params, '
                "symbol, venue, timeframe, request, kind, dataset_id, strategy_id, strategy_version) "
                "VALUES (:id, :user, :name, 'queued', :strategy, CAST(:params AS jsonb), :symbol, :venue, "
                ":timeframe, CAST(:request AS jsonb), :kind, :dataset, :strategy_id, :strategy_version)"
            ),
            {
                "id": backtest_id,
                "user": user_id,
                "name": request.name,
                "strategy": request.strategy,
                "params": json.dumps(plan.params),
                "symbol": plan.symbol,
                "venue": plan.venue,
                "timeframe": plan.timeframe,
                "request": request.model_dump_json(),
                "kind": plan.kind,
                "dataset": plan.dataset_id,
                "strategy_id": request.strategy_id,
                "strategy_version": request.strategy_version,
            },
        )

    async def insert_portfolio(
        self,
        conn: AsyncConnection,
        backtest_id: str,
        user_id: str,
        request: SubmitPortfolioBacktest,
        plan: PortfolioPlan,
    ) -> None:
        """A queued portfolio run (``kind`` portfolio; no single symbol: the basket is in ``request``)."""
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".runs (backtest_id, user_id, name, status, strategy, params, '
                "timeframe, request, kind) VALUES (:id, :user, :name, 'queued', :strategy, "
                "CAST(:params AS jsonb), :timeframe, CAST(:request AS jsonb), 'portfolio')"
            ),
            {
                "id": backtest_id,
                "user": user_id,
                "name": request.name,
                "strategy": plan.strategy,
                "params": json.dumps(plan.params),
                "timeframe": plan.timeframe,
                "request": request.model_dump_json(),
            },
        )

    async def get(
        self, conn: AsyncConnection, backtest_id: str, user_id: str | None = None
    ) -> Row[Any] | None:
        """The run, only when ``user_id`` owns it (``None``: any owner, for the worker)."""
        owner = "" if user_id is None else " AND user_id = :user"
        row = await conn.execute(
            text(f'SELECT {COLUMNS} FROM "{self.s}".runs WHERE backtest_id = :id{owner}'),
            {"id": backtest_id, "user": user_id},
        )
        return row.first()

    async def list(
        self,
        conn: AsyncConnection,
        user_id: str,
        *,
        limit: int,
        before: str | None,
        status: str | None,
        strategy: str | None,
        symbol: str | None,
        kind: str | None = None,
        strategy_id: str | None = None,
    ) -> tuple[list[Row[Any]], int]:
        """Newest first (ids are UUIDv7, so id order is creation order); ``before`` is the cursor.
        Also the number of runs matching the filters on every page."""
        where = (
            "user_id = :user "
            "AND (CAST(:status AS text) IS NULL OR status = :status) "
            "AND (CAST(:strategy AS text) IS NULL OR strategy = :strategy) "
            "AND (CAST(:symbol AS text) IS NULL OR symbol = :symbol) "
            "AND (CAST(:kind AS text) IS NULL OR kind = :kind) "
            "AND (CAST(:strategy_id AS text) IS NULL OR strategy_id = :strategy_id)"
        )
        params = {
            "user": user_id,
            "status": status,
            "strategy": strategy,
            "symbol": symbol,
            "kind": kind,
            "strategy_id": strategy_id,
        }
        rows = await conn.execute(
            text(
                f'SELECT {COLUMNS} FROM "{self.s}".runs WHERE {where} '
                "AND (CAST(:before AS text) IS NULL OR backtest_id < :before) "
                "ORDER BY backtest_id DESC LIMIT :limit"
            ),
            {**params, "before": before, "limit": limit},
        )
        total = await conn.scalar(text(f'SELECT count(*) FROM "{self.s}".runs WHERE {where}'), params)
        return list(rows.all()), int(total or 0)

    async def start(self, conn: AsyncConnection, backtest_id: str) -> Row[Any] | None:
        """Mark a queued (or crashed-while-running) run running; None when gone or already finished."""
        row = await conn.execute(
            text(
                f"UPDATE \"{self.s}\".runs SET status = 'running', attempts = attempts + 1, "
                "phase = 'fetching', percent = 0, started_at = coalesce(started_at, clock_timestamp()), "
                "heartbeat_at = now() "
                "WHERE backtest_id = :id AND status IN ('queued', 'running') "
                f"RETURNING {COLUMNS}"
            ),
            {"id": backtest_id},
        )
        return row.first()

    async def progress(self, conn: AsyncConnection, backtest_id: str, phase: str, percent: float) -> bool:
        """Record progress; returns whether the owner asked to cancel meanwhile."""
        row = await conn.execute(
            text(
                f'UPDATE "{self.s}".runs SET phase = :phase, percent = :percent, heartbeat_at = now() '
                "WHERE backtest_id = :id RETURNING cancel_requested"
            ),
            {"id": backtest_id, "phase": phase, "percent": percent},
        )
        found = row.first()
        return found is None or bool(found.cancel_requested)

    async def beat(self, conn: AsyncConnection, backtest_id: str) -> None:
        """Record that a worker is still running the run. Skips a row another transaction has
        locked (the worker's own storing transaction, which is about to finish the run) rather
        than wait for it."""
        await conn.execute(
            text(
                f'UPDATE "{self.s}".runs SET heartbeat_at = now() WHERE backtest_id = ('
                f'SELECT backtest_id FROM "{self.s}".runs WHERE backtest_id = :id '
                "AND status = 'running' FOR NO KEY UPDATE SKIP LOCKED)"
            ),
            {"id": backtest_id},
        )

    async def lock_running(self, conn: AsyncConnection, backtest_id: str) -> bool:
        """Lock the run for the rest of ``conn``'s transaction; whether it is still running.

        Taken before results are stored: a run the sweeper failed meanwhile (or that reached any
        final status) stays as it is and gets no results, while a sweep that comes after this lock
        waits for the transaction and then finds the run final."""
        row = await conn.execute(
            text(f'SELECT status FROM "{self.s}".runs WHERE backtest_id = :id FOR NO KEY UPDATE'),
            {"id": backtest_id},
        )
        found = row.first()
        return found is not None and found.status == "running"

    async def cancel_requested(self, conn: AsyncConnection, backtest_id: str) -> bool:
        row = await conn.execute(
            text(f'SELECT cancel_requested FROM "{self.s}".runs WHERE backtest_id = :id'), {"id": backtest_id}
        )
        found = row.first()
        return found is None or bool(found.cancel_requested)

    async def request_cancel(self, conn: AsyncConnection, backtest_id: str, user_id: str) -> str | None:
        """``cancelled`` (a queued run, now final), ``requested`` (a running one), ``final``, or None."""
        row = await conn.execute(
            text(
                f'SELECT status FROM "{self.s}".runs WHERE backtest_id = :id AND user_id = :user FOR UPDATE'
            ),
            {"id": backtest_id, "user": user_id},
        )
        found = row.first()
        if found is None:
            return None
        if found.status not in ACTIVE:
            return "final"
        queued = found.status == "queued"
        await conn.execute(
            text(
                f'UPDATE "{self.s}".runs SET cancel_requested = true, '
                "status = CASE WHEN :queued THEN 'cancelled' ELSE status END, "
                "finished_at = CASE WHEN :queued THEN clock_timestamp() ELSE finished_at END "
                "WHERE backtest_id = :id"
            ),
            {"id": backtest_id, "queued": queued},
        )
        return "cancelled" if queued else "requested"

    async def finish(
        self,
        conn: AsyncConnection,
        backtest_id: str,
        status: str,
        *,
        error_code: str | None = None,
        error: str | None = None,
    ) -> Row[Any] | None:
        """Set a final status unless the run is already final; returns the run or None."""
        row = await conn.execute(
            text(
                f'UPDATE "{self.s}".runs SET status = :status, error_code = :code, '
                "finished_at = greatest(clock_timestamp(), coalesce(started_at, created_at)), "
                "error = :error, phase = CASE WHEN :status = 'completed' THEN 'done' ELSE phase END, "
                "percent = CASE WHEN :status = 'completed' THEN 100 ELSE percent END "
                "WHERE backtest_id = :id AND status IN ('queued', 'running') "
                f"RETURNING {COLUMNS}"
            ),
            {"id": backtest_id, "status": status, "code": error_code, "error": error},
        )
        return row.first()

    async def delete(self, conn: AsyncConnection, backtest_id: str, user_id: str) -> bool:
        row = await conn.execute(
            text(f'DELETE FROM "{self.s}".runs WHERE backtest_id = :id AND user_id = :user RETURNING 1'),
            {"id": backtest_id, "user": user_id},
        )
        return row.first() is not None
