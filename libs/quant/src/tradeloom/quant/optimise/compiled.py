# ruff: noqa: PLR0917 (compiled kernels take positional arguments: Numba has no keyword-only ones)
"""Compiled pieces of the optimiser: strategy dispatch, summary metrics, the parallel grid loop."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from tradeloom.quant.fills.models import Costs
from tradeloom.quant.simulator.config import END_OF_DATA_EXIT, SimulationConfig
from tradeloom.quant.simulator.kernel import simulate
from tradeloom.quant.simulator.summary_fold import (
    NO_TRADES,
    SUMMARY_FIGURES,
    finish_returns,
    finish_trades,
    fold_return,
    fold_trade,
    start_returns,
)
from tradeloom.quant.strategies import signals as k
from tradeloom.quant.types import FloatArray

# Strategy ids and the order of their parameter rows (the StrategySpec.params order).
STRATEGY_IDS = {"sma_cross": 0, "ema_cross": 1, "macd": 2, "rsi_reversion": 3, "bollinger": 4,
                "donchian_breakout": 5}  # fmt: skip
SUMMARY_COLUMNS = ("total_return", "cagr", "sharpe", "sortino", "max_drawdown", "calmar", "trades",
                   "win_rate", "profit_factor", "exposure")  # fmt: skip
assert len(SUMMARY_COLUMNS) == SUMMARY_FIGURES


@njit(cache=True)
def builtin_signals(
    strategy: int, p: FloatArray, high: FloatArray, low: FloatArray, close: FloatArray
) -> k.SignalArrays:
    if strategy == 0:
        return k.sma_cross(close, int(p[0]), int(p[1]), p[2] != 0.0)
    if strategy == 1:
        return k.ema_cross(close, int(p[0]), int(p[1]), p[2] != 0.0)
    if strategy == 2:
        return k.macd_cross(close, int(p[0]), int(p[1]), int(p[2]), p[3] != 0.0)
    if strategy == 3:
        return k.rsi_reversion(close, int(p[0]), p[1], p[2], p[3], p[4] != 0.0)
    if strategy == 4:
        return k.bollinger_bands(close, int(p[0]), p[1], p[2] != 0.0, p[3] != 0.0)
    return k.donchian_breakout(high, low, close, int(p[0]), int(p[1]), p[2] != 0.0)


@njit(cache=True)
def _trade_summary(trades: FloatArray, out: FloatArray) -> None:
    """Trades, win rate and profit factor (columns 6–8); the still-open last trade is left out."""
    acc = NO_TRADES
    for row in range(trades.shape[0]):
        if trades[row, 11] != END_OF_DATA_EXIT:
            acc = fold_trade(acc, trades[row, 6])
    finish_trades(acc, out)


@njit(cache=True)
def summary_metrics(
    equity: FloatArray, position: FloatArray, trades: FloatArray, initial: float, periods_per_year: float
) -> FloatArray:
    """SUMMARY_COLUMNS of one run, with the same definitions as tradeloom.quant.metrics (risk-free 0)."""
    out = np.full(len(SUMMARY_COLUMNS), np.nan)
    n = equity.shape[0]
    if n == 0:
        return out
    acc = start_returns(initial, equity[0])
    exposed = 0
    for i in range(n):
        acc = fold_return(acc, equity[i])
        exposed += position[i] != 0.0
    finish_returns(acc, n, initial, periods_per_year, out)
    _trade_summary(trades, out)
    out[9] = exposed / n
    return out


@njit(cache=True, parallel=True)
def run_grid(
    strategy: int,
    param_rows: FloatArray,
    open_: FloatArray,
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    volatility: FloatArray,
    config: SimulationConfig,
    costs: Costs,
    periods_per_year: float,
) -> FloatArray:
    """Summary metrics for every parameter row, rows run in parallel threads (bars validated first)."""
    rows = param_rows.shape[0]
    out = np.empty((rows, len(SUMMARY_COLUMNS)))
    NO_DAYS = np.empty(0, dtype=np.int64)  # noqa: N806 (searches run without the daily entry limit)
    for r in prange(rows):
        el, xl, es, xs, level = builtin_signals(strategy, param_rows[r], high, low, close)
        trades, equity, position, _, _ = simulate(
            open_, high, low, close, volume, el, xl, es, xs, level, volatility, NO_DAYS, config, costs
        )
        out[r] = summary_metrics(equity, position, trades, config.initial_cash, periods_per_year)
    return out
