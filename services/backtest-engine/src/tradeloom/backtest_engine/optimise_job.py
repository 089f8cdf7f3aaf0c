"""The optimisation side of the worker: a search or a walk-forward on fetched bars, in chunks.

Each chunk (about ``OPTIMISE_CHUNK_BAR_EVALUATIONS`` simulated bars) runs in a thread; between
chunks ``checkpoint`` records progress or raises ``Cancelled``, so a cancel is honoured within about
one chunk. The results are written in the caller's (inbox) transaction: a search's full table and
best row in ``optimisations``; a walk-forward's folds there too, and its stitched out-of-sample
equity and metrics in ``series``/``results`` (so ``results``, ``equity``, ``export`` and ``compare``
serve it like a backtest).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.backtest_engine.domain.optimisation import (
    TRADE_COLUMNS,
    FoldOutcome,
    chunk_size,
    evaluate_chunk,
    fold_ranges,
    merge,
    quant_bars,
    stitch,
    trade_fold,
)
from tradeloom.backtest_engine.domain.run_plan import RunPlan
from tradeloom.backtest_engine.domain.search_space import SearchPlan
from tradeloom.backtest_engine.domain.simulation import BacktestOutcome, BarArrays, check_bars
from tradeloom.backtest_engine.store.optimisations_store import OptimisationsStore
from tradeloom.backtest_engine.store.results_store import ResultsStore
from tradeloom.quant.optimise import SearchResults
from tradeloom.quant.simulator import Bars
from tradeloom.shared.contracts.backtest import metric_or_none

Checkpoint = Callable[[float], Awaitable[None]]
START, END = 60.0, 90.0  # the share of the progress bar spent optimising


class OptimisationFailure(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Completion:
    """What the ``completed`` event reports."""

    bar_count: int
    trade_count: int
    final_equity: Decimal
    metrics: dict[str, float]


def completion_of(outcome: BacktestOutcome, initial: Decimal) -> Completion:
    """A single run's ``completed`` figures (its final equity, or ``initial`` with no bars)."""
    final = Decimal(repr(float(outcome.equity[-1]))) if outcome.equity.size else initial
    return Completion(int(outcome.equity.size), int(outcome.trades.shape[0]), final, outcome.metrics)


class OptimisationJob:
    def __init__(self, schema: str, chunk_bar_evaluations: int, max_bar_evaluations: int) -> None:
        self.tables = OptimisationsStore(schema)
        self.results = ResultsStore(schema)
        self.chunk_bar_evaluations = chunk_bar_evaluations
        self.max_bar_evaluations = max_bar_evaluations

    def _bound(self, work: int) -> None:
        if work > self.max_bar_evaluations:
            raise OptimisationFailure(
                "too_much_work",
                f"{work} simulated bars (parameter sets x bars); at most {self.max_bar_evaluations}: "
                "fewer combinations or a shorter range",
            )

    async def _search(
        self, plan: RunPlan, bars: Bars, checkpoint: Checkpoint, done: int, total: int
    ) -> SearchResults:
        """Every candidate on ``bars`` in chunks; ``done``/``total`` place it on the progress bar."""
        assert plan.search is not None
        candidates = plan.search.candidates
        size = chunk_size(len(bars.close), self.chunk_bar_evaluations)
        parts = []
        for first in range(0, len(candidates), size):
            chunk = candidates[first : first + size]
            parts.append(await asyncio.to_thread(evaluate_chunk, plan, bars, chunk))
            finished = done + (first + len(chunk)) * len(bars.close)
            await checkpoint(START + (END - START) * finished / max(total, 1))
        return merge(plan.strategy, parts)

    def windows(self, plan: RunPlan, bar_count: int) -> list[tuple[int, int, int]]:
        """The searched windows: the whole range, or every fold's (in-sample start, end, out-of-sample
        end); refuses too much work and walk-forward windows longer than the data."""
        search = plan.search
        assert search is not None
        if search.walk_forward is None:
            windows = [(0, bar_count, bar_count)]
        else:
            try:
                windows = fold_ranges(bar_count, search.walk_forward)
            except ValueError as error:
                raise OptimisationFailure("invalid_request", f"optimise.walk_forward: {error}") from error
        self._bound(sum((end - start) * len(search.candidates) for start, end, _ in windows))
        return windows

    async def run(
        self, conn: AsyncConnection, backtest_id: str, plan: RunPlan, bars: BarArrays, checkpoint: Checkpoint
    ) -> Completion:
        """The whole search here, chunk after chunk (a job that fits one replica)."""
        search = plan.search
        assert search is not None
        check_bars(bars)
        windows = self.windows(plan, len(bars))
        total = sum((end - start) * len(search.candidates) for start, end, _ in windows)
        tables, done = [], 0
        for start, end, _ in windows:
            tables.append(await self._search(plan, quant_bars(bars, start, end), checkpoint, done, total))
            done += (end - start) * len(search.candidates)
        return await self.store(conn, backtest_id, plan, bars=bars, windows=windows, tables=tables)

    async def store(
        self,
        conn: AsyncConnection,
        backtest_id: str,
        plan: RunPlan,
        *,
        bars: BarArrays,
        windows: list[tuple[int, int, int]],
        tables: list[SearchResults],
    ) -> Completion:
        """Store a finished search (one table per window), however it was evaluated."""
        search = plan.search
        assert search is not None
        for table in tables:
            if len(table) == 0:
                raise OptimisationFailure(
                    "invalid_request",
                    "every parameter set was refused by the strategy's rules (e.g. fast >= slow)",
                )
        if search.walk_forward is None:
            return await self._store_search(
                conn, backtest_id, plan, search=search, bars=bars, table=tables[0]
            )
        return await self._store_walk_forward(
            conn, backtest_id, plan, search=search, bars=bars, windows=windows, tables=tables
        )

    async def _store_search(
        self,
        conn: AsyncConnection,
        backtest_id: str,
        plan: RunPlan,
        *,
        search: SearchPlan,
        bars: BarArrays,
        table: SearchResults,
    ) -> Completion:
        try:
            best: tuple[dict[str, Any], float | None] | None = table.best(search.metric, search.maximize)
        except ValueError:
            best = None  # no row has a value for the metric (e.g. Sharpe without a single trade)
        await self.tables.save(conn, backtest_id, method=search.method, metric=search.metric,
                              maximize=search.maximize, evaluated=len(table), table=table, best=best,
                              folds=[])  # fmt: skip
        row = 0
        if best is not None:
            row = int(np.flatnonzero(table.metrics[search.metric] == best[1])[0])
        metrics = {name: float(values[row]) for name, values in table.metrics.items()}
        initial = float(plan.config.initial_cash)
        final = (
            initial * (1.0 + metrics["total_return"]) if math.isfinite(metrics["total_return"]) else initial
        )
        return Completion(len(bars), int(metrics["trades"]), Decimal(repr(final)), metrics)

    async def _store_walk_forward(
        self,
        conn: AsyncConnection,
        backtest_id: str,
        plan: RunPlan,
        *,
        search: SearchPlan,
        bars: BarArrays,
        windows: list[tuple[int, int, int]],
        tables: list[SearchResults],
    ) -> Completion:
        folds: list[FoldOutcome] = []
        cash = float(plan.config.initial_cash)
        for window, table in zip(windows, tables, strict=True):
            is_start, is_end, _ = window
            try:
                params, value = table.best(search.metric, search.maximize)
            except ValueError as error:
                raise OptimisationFailure(
                    "no_best_parameters", f"fold {len(folds)} (bars {is_start}-{is_end}): {error}"
                ) from error
            fold = await asyncio.to_thread(trade_fold, plan, bars, window, params,
                                           in_sample_value=value, cash=cash)  # fmt: skip
            folds.append(fold)
            cash = float(fold.equity[-1])
        index, equity, position, metrics = stitch(plan, folds)
        exposure = np.abs(position) * bars.close[index]
        outcome = BacktestOutcome(bars.time[index], equity, np.empty((0, TRADE_COLUMNS)), metrics, None,
                                  plan.annualisation, position, exposure)  # fmt: skip
        await self.results.save(conn, backtest_id, outcome, Decimal(repr(float(plan.config.initial_cash))))
        empty = SearchResults(plan.strategy, {}, {}, 0)
        await self.tables.save(conn, backtest_id, method=search.method, metric=search.metric,
                              maximize=search.maximize, evaluated=len(tables[-1]), table=empty, best=None,
                              folds=[fold_record(fold, bars) for fold in folds])  # fmt: skip
        return Completion(int(equity.size), int(metrics["trades"]), Decimal(repr(float(equity[-1]))), metrics)


def fold_record(fold: FoldOutcome, bars: BarArrays) -> dict[str, Any]:
    """A fold as stored (and served as ``WalkForwardFold``)."""
    return {
        "in_sample": list(fold.in_sample),
        "out_of_sample": list(fold.out_of_sample),
        "in_sample_start_ns": int(bars.time[fold.in_sample[0]]),
        "out_of_sample_start_ns": int(bars.time[fold.out_of_sample[0]]),
        "out_of_sample_end_ns": int(bars.time[fold.out_of_sample[1] - 1]),
        "params": fold.params,
        "in_sample_value": metric_or_none(fold.in_sample_value),
        "out_of_sample_metrics": {name: metric_or_none(v) for name, v in fold.metrics.items()},
    }
