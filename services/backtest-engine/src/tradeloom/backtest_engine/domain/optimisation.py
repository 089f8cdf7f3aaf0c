"""Optimisation in cancellable pieces, via ``tradeloom.quant.optimise``.

A search is ``evaluate`` over consecutive chunks of the candidate list, merged in order: every row
is independent, so the merged table (and ``best``, which keeps the first of equal rows) equals one
``evaluate`` over the whole list. A walk-forward is run fold by fold with the fold
pieces ``tradeloom.quant.optimise.walk_forward`` itself is built from (windows, out-of-sample
trading from the previous fold's equity, stitching), so the worker can stop between chunks and
folds; a test checks the two agree. Pure and synchronous.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tradeloom.backtest_engine.domain.run_plan import RunPlan
from tradeloom.backtest_engine.domain.series import FloatArray, IntArray
from tradeloom.backtest_engine.domain.simulation import BarArrays
from tradeloom.quant.optimise import SearchResults, evaluate
from tradeloom.quant.optimise.walk_forward import fold_windows, stitch_out_of_sample, trade_out_of_sample
from tradeloom.quant.simulator import Bars, TradeColumn
from tradeloom.quant.strategies.schema import ParamValue
from tradeloom.shared.contracts.backtest_optimise import WalkForwardSpec

TRADE_COLUMNS = len(TradeColumn)


@dataclass(frozen=True)
class FoldOutcome:
    in_sample: tuple[int, int]
    out_of_sample: tuple[int, int]
    params: dict[str, ParamValue]
    in_sample_value: float
    metrics: dict[str, float]
    equity: FloatArray
    position: FloatArray


def quant_bars(bars: BarArrays, start: int = 0, end: int | None = None) -> Bars:
    stop = len(bars) if end is None else end
    return Bars(bars.open[start:stop], bars.high[start:stop], bars.low[start:stop], bars.close[start:stop],
                bars.volume[start:stop], bars.time[start:stop])  # fmt: skip


def chunk_size(bar_count: int, bar_evaluations: int) -> int:
    """Candidates per chunk so that one chunk is about ``bar_evaluations`` simulated bars (≥ 2, so
    the parallel loop has work for two cores)."""
    return max(2, bar_evaluations // max(bar_count, 1))


def evaluate_chunk(plan: RunPlan, bars: Bars, candidates: Sequence[dict[str, object]]) -> SearchResults:
    return evaluate(plan.strategy, candidates, bars, plan.config, plan.costs,
                    periods_per_year=plan.periods_per_year)  # fmt: skip


def merge(strategy: str, parts: Sequence[SearchResults]) -> SearchResults:
    """Chunks' tables concatenated in order (skipped counts summed)."""
    first = parts[0]
    return SearchResults(
        strategy,
        {name: np.concatenate([p.params[name] for p in parts]) for name in first.params},
        {name: np.concatenate([p.metrics[name] for p in parts]) for name in first.metrics},
        sum(p.skipped for p in parts),
    )


def fold_ranges(bar_count: int, spec: WalkForwardSpec) -> list[tuple[int, int, int]]:
    """(in-sample start, in-sample end = out-of-sample start, out-of-sample end) of every fold."""
    if spec.in_sample_bars + spec.out_of_sample_bars > bar_count:
        raise ValueError(
            f"in-sample plus out-of-sample windows ({spec.in_sample_bars} + {spec.out_of_sample_bars} "
            f"bars) are longer than the data ({bar_count} bars)"
        )
    return fold_windows(bar_count, spec.in_sample_bars, spec.out_of_sample_bars, spec.anchored)


def trade_fold(
    plan: RunPlan,
    bars: BarArrays,
    window: tuple[int, int, int],
    params: dict[str, ParamValue],
    *,
    in_sample_value: float,
    cash: float,
) -> FoldOutcome:
    """Trade the out-of-sample part of ``window`` with ``params``, from ``cash``."""
    is_start, is_end, oos_end = window
    equity, position, metrics = trade_out_of_sample(
        plan.strategy,
        quant_bars(bars),
        window,
        params,
        config=plan.config,
        costs=plan.costs,
        cash=cash,
        periods_per_year=plan.periods_per_year,
    )
    return FoldOutcome(
        (is_start, is_end), (is_end, oos_end), params, in_sample_value, metrics, equity, position
    )


def stitch(
    plan: RunPlan, folds: Sequence[FoldOutcome]
) -> tuple[IntArray, FloatArray, FloatArray, dict[str, float]]:
    """Bar numbers, equity, position and summary metrics of the stitched out-of-sample curve (trades
    summed over folds; win rate and profit factor live in the folds)."""
    pieces = [(f.out_of_sample, f.equity, f.position, f.metrics["trades"]) for f in folds]
    return stitch_out_of_sample(pieces, float(plan.config.initial_cash), plan.periods_per_year)
