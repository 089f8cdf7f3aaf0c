"""Optimisation result operations: the outcome (best parameters or walk-forward folds), the search
table (sorted, paginated) and heat-map data for two parameters. Owner-checked like every run op."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.backtest_engine.api_runs import not_found
from tradeloom.backtest_engine.store.optimisations_store import OptimisationsStore, StoredOptimisation
from tradeloom.backtest_engine.store.runs_store import RunsStore
from tradeloom.quant.strategies import BUILTIN_STRATEGIES
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.backtest import BacktestRef, metric_or_none
from tradeloom.shared.contracts.backtest_optimise import (
    Heatmap,
    HeatmapRequest,
    OptimisationResults,
    OptimisationRow,
    OptimisationRows,
    OptimisationRowsRequest,
    WalkForwardFold,
)
from tradeloom.shared.errors import Conflict, field_invalid, require_user


def _param(strategy: str, name: str, value: float) -> int | float | bool:
    kinds = {p.name: p.kind for p in BUILTIN_STRATEGIES[strategy].params}
    return kinds.get(name, float)(value)


class OptimisationsApi:
    def __init__(self, engine: Callable[[], AsyncEngine], schema: str) -> None:
        self._engine = engine
        self.runs = RunsStore(schema)
        self.store = OptimisationsStore(schema)

    async def _load(self, caller: CallerContext, backtest_id: str) -> tuple[Any, StoredOptimisation]:
        user_id = require_user(caller)
        async with self._engine().connect() as conn:
            run = await self.runs.get(conn, backtest_id, user_id)
            if run is None:
                raise not_found(backtest_id)
            if run.kind == "backtest":
                raise Conflict(
                    f"{backtest_id} is a single backtest, not an optimisation", details={"kind": "backtest"}
                )
            if run.status != "completed":
                raise Conflict(
                    f"optimisation {backtest_id} is {run.status}, not completed",
                    details={"status": run.status},
                )
            stored = await self.store.load(conn, backtest_id, run.strategy)
        if stored is None:
            raise not_found(backtest_id)
        return run, stored

    async def optimisation(self, caller: CallerContext, body: BacktestRef) -> OptimisationResults:
        run, stored = await self._load(caller, body.backtest_id)
        return OptimisationResults(
            backtest_id=body.backtest_id,
            kind=run.kind,
            strategy=run.strategy,
            method=stored.method,
            metric=stored.metric,
            maximize=stored.maximize,
            evaluated=stored.evaluated,
            skipped=stored.skipped,
            best_params=stored.best_params,
            best_value=stored.best_value,
            folds=[WalkForwardFold.model_validate(fold) for fold in stored.folds],
        )

    async def rows(self, caller: CallerContext, body: OptimisationRowsRequest) -> OptimisationRows:
        offset = 0
        if body.cursor is not None:
            if not body.cursor.isdigit():
                raise field_invalid("cursor", "not a cursor this service returned")
            offset = int(body.cursor)
        run, stored = await self._load(caller, body.backtest_id)
        if run.kind != "search":
            raise Conflict("a walk-forward has folds, not a search table: use optimisation")
        table = stored.table
        total = len(table)
        order = np.arange(total)
        if body.sort_by is not None:
            values = table.metrics[body.sort_by]
            key = np.where(np.isnan(values), -np.inf if body.descending else np.inf, values)
            order = np.argsort(-key if body.descending else key, kind="stable")
        page = order[offset : offset + body.limit]
        items = [
            OptimisationRow(
                row=int(r),
                params={n: _param(run.strategy, n, float(v[r])) for n, v in table.params.items()},
                metrics={n: metric_or_none(v[r]) for n, v in table.metrics.items()},
            )
            for r in page
        ]
        more = offset + body.limit < total
        return OptimisationRows(
            total=total, items=items, next_cursor=str(offset + body.limit) if more else None
        )

    async def heatmap(self, caller: CallerContext, body: HeatmapRequest) -> Heatmap:
        run, stored = await self._load(caller, body.backtest_id)
        if run.kind != "search":
            raise Conflict("a walk-forward has no search table: heat maps are for searches")
        for field, name in (("x", body.x), ("y", body.y)):
            if name not in stored.table.params:
                raise field_invalid(field, f"not a parameter of {run.strategy}")
        if body.x == body.y:
            raise field_invalid("y", "must differ from x")
        metric = body.metric or stored.metric
        xs, ys, grid = stored.table.heatmap(body.x, body.y, metric)
        return Heatmap(
            backtest_id=body.backtest_id,
            x=body.x,
            y=body.y,
            metric=metric,
            x_values=xs.tolist(),
            y_values=ys.tolist(),
            values=[[v if math.isfinite(v) else None for v in row] for row in grid.tolist()],
        )
