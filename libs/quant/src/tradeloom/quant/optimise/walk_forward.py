"""Walk-forward analysis: optimise on a rolling in-sample window, trade the next out-of-sample window
with the winning parameters, and stitch the out-of-sample equity.

Out-of-sample signals are computed on in-sample + out-of-sample bars (so indicators are warm) and
masked before the first out-of-sample bar: no trade uses a bar the optimiser saw. A position still
open at the end of a window is marked at its last close and the next window starts flat from that
equity (no exit fee is charged for this hand-over).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from tradeloom.quant.fills.models import Costs
from tradeloom.quant.optimise.compiled import SUMMARY_COLUMNS, summary_metrics
from tradeloom.quant.optimise.search import evaluate
from tradeloom.quant.simulator.api import Bars, Signals, run_simulation
from tradeloom.quant.simulator.config import SimulationConfig
from tradeloom.quant.strategies.catalog import strategy_signals
from tradeloom.quant.strategies.schema import OhlcArrays, ParamValue
from tradeloom.quant.types import FloatArray, IntArray


@dataclass(frozen=True)
class Fold:
    in_sample: tuple[int, int]  # bar range [start, end)
    out_of_sample: tuple[int, int]
    params: dict[str, ParamValue]
    in_sample_value: float  # the optimised metric in sample
    out_of_sample_metrics: dict[str, float]


@dataclass(frozen=True)
class WalkForwardResult:
    folds: list[Fold]
    index: IntArray  # bar numbers of the stitched out-of-sample curve
    equity: FloatArray
    position: FloatArray
    metrics: dict[str, float]  # SUMMARY_COLUMNS of the stitched curve (trades: summed over folds)


def _slice(bars: Bars, start: int, end: int) -> Bars:
    time = None if bars.time is None else bars.time[start:end]
    return Bars(bars.open[start:end], bars.high[start:end], bars.low[start:end], bars.close[start:end],
                bars.volume[start:end], time)  # fmt: skip


def fold_windows(
    n: int, in_sample: int, out_of_sample: int, anchored: bool = False
) -> list[tuple[int, int, int]]:
    """(in-sample start, in-sample end = out-of-sample start, out-of-sample end) of every fold."""
    if in_sample < 2:
        raise ValueError("in_sample: must be at least 2 bars")
    if out_of_sample < 1:
        raise ValueError("out_of_sample: must be at least 1 bar")
    if in_sample + out_of_sample > n:
        raise ValueError("in_sample: in-sample plus out-of-sample windows are longer than the data")
    windows = []
    start = 0
    while start + in_sample < n:
        is_end = start + in_sample
        windows.append((0 if anchored else start, is_end, min(is_end + out_of_sample, n)))
        start += out_of_sample
    return windows


def trade_out_of_sample(
    strategy: str,
    bars: Bars,
    window: tuple[int, int, int],
    params: Mapping[str, ParamValue],
    *,
    config: SimulationConfig,
    costs: Costs | None,
    cash: float,
    periods_per_year: float,
) -> tuple[FloatArray, FloatArray, dict[str, float]]:
    """Equity, position and summary metrics of trading the out-of-sample part of ``window`` from
    ``cash`` (signals see the in-sample bars as warm-up but cannot trade in them)."""
    is_start, is_end, oos_end = window
    span = _slice(bars, is_start, oos_end)
    el, xl, es, xs, level = strategy_signals(
        strategy, OhlcArrays(span.open, span.high, span.low, span.close), dict(params)
    )
    warm = is_end - is_start
    for flags in (el, xl, es, xs):
        flags[:warm] = False
    run = run_simulation(span, Signals(el, xl, es, xs, level), config._replace(initial_cash=cash), costs)
    equity, position = run.equity[warm:], run.position[warm:]
    values = summary_metrics(equity, position, run.trades.table, cash, periods_per_year)
    return equity, position, dict(zip(SUMMARY_COLUMNS, values.tolist(), strict=True))


def stitch_out_of_sample(
    pieces: Sequence[tuple[tuple[int, int], FloatArray, FloatArray, float]],
    initial_cash: float,
    periods_per_year: float,
) -> tuple[IntArray, FloatArray, FloatArray, dict[str, float]]:
    """Bar numbers, equity, position and metrics of the stitched out-of-sample curve from
    ``(out-of-sample range, equity, position, trades)`` per fold (trades summed; win rate and
    profit factor live in the folds)."""
    index = np.concatenate([np.arange(*span, dtype=np.int64) for span, _, _, _ in pieces])
    equity = np.concatenate([piece[1] for piece in pieces])
    position = np.concatenate([piece[2] for piece in pieces])
    stitched = summary_metrics(equity, position, np.empty((0, 12)), initial_cash, periods_per_year)
    metrics = dict(zip(SUMMARY_COLUMNS, stitched.tolist(), strict=True))
    metrics["trades"] = float(sum(piece[3] for piece in pieces))
    for name in ("win_rate", "profit_factor"):
        metrics.pop(name)
    return index, equity, position, metrics


def walk_forward(
    strategy: str,
    candidates: Sequence[Mapping[str, object]],
    bars: Bars,
    in_sample: int,
    out_of_sample: int,
    *,
    config: SimulationConfig | None = None,
    costs: Costs | None = None,
    metric: str = "sharpe",
    maximize: bool = True,
    anchored: bool = False,
    periods_per_year: float = 252.0,
) -> WalkForwardResult:
    """Rolling (or ``anchored``: growing from bar 0) in-sample windows of ``in_sample`` bars, each
    followed by ``out_of_sample`` bars of trading; windows step by ``out_of_sample``."""
    config = config or SimulationConfig()
    n = int(np.asarray(bars.close).shape[0])
    folds: list[Fold] = []
    pieces: list[tuple[tuple[int, int], FloatArray, FloatArray, float]] = []
    cash = float(config.initial_cash)
    for window in fold_windows(n, in_sample, out_of_sample, anchored):
        is_start, is_end, oos_end = window
        found = evaluate(strategy, candidates, _slice(bars, is_start, is_end), config, costs,
                         periods_per_year=periods_per_year)  # fmt: skip
        params, value = found.best(metric, maximize)
        equity, position, fold_metrics = trade_out_of_sample(
            strategy, bars, window, params, config=config, costs=costs, cash=cash,
            periods_per_year=periods_per_year,
        )  # fmt: skip
        folds.append(Fold((is_start, is_end), (is_end, oos_end), params, value, fold_metrics))
        pieces.append(((is_end, oos_end), equity, position, fold_metrics["trades"]))
        cash = float(equity[-1])
    index, equity, position, metrics = stitch_out_of_sample(
        pieces, float(config.initial_cash), periods_per_year
    )
    return WalkForwardResult(folds, index, equity, position, metrics)
