"""One backtest on arrays: strategy signals, the compiled simulator and the metrics, via tradeloom.quant.

A template strategy runs through ``run_template_backtest`` (one fused pass for an SMA cross on the
market fast path, signals then simulation otherwise); a graph or user-code strategy's signals go to
``run_simulation``.

Pure and synchronous (the worker runs it in a thread). ``BarArrays`` is what the data fetch
assembles; ``BacktestOutcome`` is what the store persists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from tradeloom.backtest_engine.domain.annualisation import Annualisation
from tradeloom.backtest_engine.domain.run_plan import RunPlan
from tradeloom.backtest_engine.domain.series import FloatArray, IntArray
from tradeloom.quant.backtest import run_template_backtest
from tradeloom.quant.metrics import MaxDrawdown, compute_metrics
from tradeloom.quant.simulator import Bars, Signals, run_simulation
from tradeloom.quant.strategies import strategy_counters
from tradeloom.quant.strategies.signals import SignalArrays
from tradeloom.shared.user_code import SIGNALS


class BadBars(ValueError):
    """Market data the simulator cannot use (non-positive prices, unordered times)."""


@dataclass(frozen=True)
class BarArrays:
    time: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray

    def __len__(self) -> int:
        return int(self.time.shape[0])


@dataclass(frozen=True)
class BacktestOutcome:
    time: IntArray
    equity: FloatArray
    trades: FloatArray  # the quant trade table (TradeColumn layout)
    metrics: dict[str, float]
    max_drawdown: MaxDrawdown | None
    annualisation: Annualisation | None = None
    position: FloatArray | None = None  # signed units at each close
    exposure: FloatArray | None = None  # gross exposure |position| × close, cash
    counters: dict[str, int] | None = None  # the strategy's named events and the simulator's counts


def check_bars(bars: BarArrays) -> None:
    if len(bars) and np.any(np.diff(bars.time) <= 0):
        raise BadBars("bar times must be strictly increasing")
    prices = (bars.open, bars.high, bars.low, bars.close)
    if not all(np.isfinite(p).all() for p in (*prices, bars.volume)):
        raise BadBars("bars must have finite prices and volumes")
    if len(bars) and (min(float(p.min()) for p in prices) <= 0 or float(bars.volume.min()) < 0):
        raise BadBars("bars must have positive prices and non-negative volumes")


def code_signals(count: int, found: Mapping[str, list[int]]) -> SignalArrays:
    """A user-code strategy's signal arrays from the indices its sandbox run answered."""
    arrays = []
    for name in SIGNALS:
        series = np.zeros(count, dtype=np.bool_)
        series[np.asarray(found.get(name, []), dtype=np.int64)] = True
        arrays.append(series)
    return arrays[0], arrays[1], arrays[2], arrays[3], np.empty(0)


def run_backtest(plan: RunPlan, bars: BarArrays, signals: SignalArrays | None = None) -> BacktestOutcome:
    """Signals → simulation → metrics for ``plan`` on ``bars``; ``signals`` given: a user-code
    strategy's, computed in the sandbox."""
    check_bars(bars)
    quant_bars = Bars(bars.open, bars.high, bars.low, bars.close, bars.volume, bars.time)
    if signals is None and plan.graph is not None:
        signals = plan.graph.signals(quant_bars)
    if signals is None:  # a template strategy: tradeloom.quant's one-call backtest
        template = run_template_backtest(plan.strategy, plan.params, quant_bars, plan.config, plan.costs,
                                         periods_per_year=plan.periods_per_year)  # fmt: skip
        result, events = template.simulation, template.events
    else:
        result = run_simulation(
            quant_bars,
            Signals(*signals),
            plan.config,
            plan.costs,
            periods_per_year=plan.periods_per_year,
        )
        events = strategy_counters(plan.strategy, signals)
    report = compute_metrics(
        result,
        bars.close,
        plan.config.initial_cash,
        periods_per_year=plan.periods_per_year,
        time=bars.time,
        years=None if plan.annualisation is None else plan.annualisation.years,
    )
    exposure = np.abs(result.position) * bars.close
    counters = events | result.counters
    return BacktestOutcome(bars.time, result.equity, result.trades.table, report.metrics, report.max_drawdown,
                           plan.annualisation, result.position, exposure, counters)  # fmt: skip


def drawdown_of(equity: FloatArray, initial_cash: float) -> FloatArray:
    """Fraction below the running peak (the initial cash counts as the first peak)."""
    if equity.size == 0:
        return equity.copy()
    peak = np.maximum.accumulate(np.maximum(equity, initial_cash))
    out: FloatArray = equity / peak - 1.0
    return out
