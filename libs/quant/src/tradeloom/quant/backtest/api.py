"""A built-in strategy's backtest for a library user: signals, simulation and the summary figures.

``run_template_backtest`` is what a caller of ``tradeloom.quant`` (and backtest-engine) runs for a
template strategy. An SMA cross on the simulator's market fast path (no stop-loss, take-profit or
trailing stop, no daily entry limit, no TIERED commission) runs as one fused pass over the bars
(``backtest.fused``); everything else takes the three passes ``strategy_signals`` →
``run_simulation`` → ``summary_metrics``. Both give the same trades, equity, position, counters and
figures bit for bit; ``TemplateBacktest.path`` says which ran.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from tradeloom.quant.backtest.fused import sma_cross_backtest
from tradeloom.quant.fills.models import CommissionModel, Costs, normalized_costs
from tradeloom.quant.memory import heap_reuse_once
from tradeloom.quant.optimise.compiled import SUMMARY_COLUMNS, summary_metrics
from tradeloom.quant.simulator.api import (
    Bars,
    Signals,
    SimulationResult,
    Trades,
    price_arrays,
    run_simulation,
    validate_config,
    volatility_for,
)
from tradeloom.quant.simulator.config import COUNTER_NAMES, SimulationConfig, normalized_config
from tradeloom.quant.strategies.catalog import BUILTIN_STRATEGIES, strategy_signals
from tradeloom.quant.strategies.counters import strategy_counters
from tradeloom.quant.strategies.schema import OhlcArrays, validate_params
from tradeloom.quant.strategies.signals import SignalArrays

FUSED = "fused_sma_cross"  # one pass: signals, market fast path and summary in one loop
# strategy_signals, run_simulation, summary_metrics (a path name, not a secret)
THREE_PASS = "three_pass"  # noqa: S105


@dataclass(frozen=True)
class TemplateBacktest:
    """The run (trades, equity, position, simulator counters), its ``SUMMARY_COLUMNS`` figures, the
    strategy's named event counts (``strategy_counters``) and the path that ran."""

    simulation: SimulationResult
    summary: dict[str, float]
    events: dict[str, int]
    path: str
    signals: SignalArrays | None = None  # the three-pass path's signal arrays (the fused one has none)


def fused_qualifies(strategy: str, config: SimulationConfig, costs: Costs) -> bool:
    """An SMA cross on the market fast path: no exits, no daily entry limit, no TIERED commission."""
    no_exits = all(np.isnan(v) for v in (config.stop_loss, config.take_profit, config.trailing_stop))
    return (
        strategy == "sma_cross"
        and no_exits
        and config.max_entries_per_day <= 0
        and costs.commission_model != CommissionModel.TIERED
    )


def run_template_backtest(  # noqa: PLR0917
    strategy: str,
    params: Mapping[str, object],
    bars: Bars,
    config: SimulationConfig | None = None,
    costs: Costs | None = None,
    volatility_window: int = 20,
    periods_per_year: float = 252.0,
) -> TemplateBacktest:
    """Backtest the built-in ``strategy`` with ``params`` (validated by its schema) on ``bars``.

    Raises ValueError naming the field for an unknown strategy, bad parameters, config or bars.
    """
    spec = BUILTIN_STRATEGIES.get(strategy)
    if spec is None:
        raise ValueError(f"strategy: unknown built-in strategy {strategy!r}")
    valid = validate_params(spec, params)
    config = normalized_config(config or SimulationConfig())
    costs = normalized_costs(costs or Costs())
    if not fused_qualifies(strategy, config, costs):
        return _three_pass(strategy, valid, bars, config, costs, volatility_window, periods_per_year)
    heap_reuse_once()
    validate_config(config)
    open_, high, low, close, volume = price_arrays(bars)
    volatility = volatility_for(config, close, volatility_window, periods_per_year)
    table, equity, position, bad, counters, figures, events = sma_cross_backtest(
        open_, high, low, close, volume, int(valid["fast"]), int(valid["slow"]), bool(valid["allow_short"]),
        volatility, config, costs, float(periods_per_year),
    )  # fmt: skip
    if bad >= 0:
        raise ValueError(f"bars: bar {bad} has a non-finite or non-positive price or a negative volume")
    named = {name: int(value) for name, value in zip(COUNTER_NAMES, counters.tolist(), strict=True)}
    run = SimulationResult(Trades(table, bars.time), equity, position, named)
    crosses = {"crosses_above": int(events[0]), "crosses_below": int(events[1])}
    return TemplateBacktest(run, _named(figures), crosses, FUSED)


def _three_pass(  # noqa: PLR0917
    strategy: str,
    params: Mapping[str, object],
    bars: Bars,
    config: SimulationConfig,
    costs: Costs,
    volatility_window: int,
    periods_per_year: float,
) -> TemplateBacktest:
    ohlc = OhlcArrays(bars.open, bars.high, bars.low, bars.close, bars.time)
    signals = strategy_signals(strategy, ohlc, params)
    run = run_simulation(bars, Signals(*signals), config, costs, volatility_window, periods_per_year)
    figures = summary_metrics(run.equity, run.position, run.trades.table, config.initial_cash,
                              float(periods_per_year))  # fmt: skip
    return TemplateBacktest(run, _named(figures), strategy_counters(strategy, signals), THREE_PASS, signals)


def _named(figures: np.ndarray) -> dict[str, float]:
    return {name: float(value) for name, value in zip(SUMMARY_COLUMNS, figures.tolist(), strict=True)}
