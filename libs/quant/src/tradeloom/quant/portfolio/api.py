"""Portfolio backtests: a built-in strategy applied to a basket, one cash balance (``kernel.py``).

``run_portfolio`` validates the basket (symbols unique, weights > 0 summing to at most 1; equal
weights when none are given), aligns the symbols' bars on the union of their times (a symbol
without a bar at a time has a NaN close there and is skipped), computes each symbol's long signals
on its own bars, simulates, and reports the portfolio's and every symbol's metrics.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from tradeloom.quant.metrics.drawdown import drawdown_episodes
from tradeloom.quant.metrics.returns import annual_volatility, equity_returns, sharpe_ratio, total_return
from tradeloom.quant.metrics.trades import trade_statistics
from tradeloom.quant.portfolio.kernel import EXIT_BAR, PNL, RETURN, SYMBOL, simulate_portfolio
from tradeloom.quant.strategies import OhlcArrays, strategy_signals
from tradeloom.quant.types import BoolArray, FloatArray, IntArray

WEIGHT_SLACK = 1e-9  # sum(weights) may exceed 1 by rounding of decimal inputs only


class BasketError(ValueError):
    """A bad basket; ``field`` names the offending input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class SymbolBars:
    symbol: str
    time: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray


@dataclass(frozen=True)
class PortfolioResult:
    symbols: list[str]
    weights: FloatArray
    time: IntArray  # the aligned bar times
    equity: FloatArray
    cash: FloatArray
    held: FloatArray  # units per bar and symbol
    trades: FloatArray  # kernel.TRADE_FIELDS columns; SYMBOL indexes ``symbols``
    metrics: dict[str, float]
    symbol_metrics: dict[str, dict[str, float]]


def basket_weights(symbols: Sequence[str], weights: Sequence[float] | None) -> FloatArray:
    if not symbols:
        raise BasketError("symbols", "at least one symbol")
    if len(set(symbols)) != len(symbols):
        raise BasketError("symbols", "each symbol once")
    if weights is None:
        return np.full(len(symbols), 1.0 / len(symbols))
    if len(weights) != len(symbols):
        raise BasketError("weights", f"one weight per symbol ({len(symbols)}), got {len(weights)}")
    values = np.asarray(weights, dtype=np.float64)
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise BasketError("weights", "every weight must be > 0")
    if values.sum() > 1.0 + WEIGHT_SLACK:
        raise BasketError("weights", f"weights sum to {values.sum():g}; at most 1")
    return values


def align(
    bars: Sequence[SymbolBars], signals: Sequence[tuple[BoolArray, BoolArray]]
) -> tuple[IntArray, FloatArray, BoolArray, BoolArray]:
    """(times, close, entries, exits) on the union of the symbols' times."""
    time = np.unique(np.concatenate([b.time for b in bars]))
    shape = (time.size, len(bars))
    close = np.full(shape, np.nan)
    entries = np.zeros(shape, dtype=np.bool_)
    exits = np.zeros(shape, dtype=np.bool_)
    for j, (b, (enter, leave)) in enumerate(zip(bars, signals, strict=True)):
        rows = np.searchsorted(time, b.time)
        close[rows, j] = b.close
        entries[rows, j] = enter
        exits[rows, j] = leave
    return time, close, entries, exits


def run_portfolio(
    strategy: str,
    params: Mapping[str, object],
    bars: Sequence[SymbolBars],
    *,
    weights: Sequence[float] | None,
    initial_cash: float,
    fee: float,
    periods_per_year: float,
) -> PortfolioResult:
    symbols = [b.symbol for b in bars]
    w = basket_weights(symbols, weights)
    signals = []
    for b in bars:
        entry_long, exit_long, _, _, level = strategy_signals(
            strategy, OhlcArrays(b.open, b.high, b.low, b.close, b.time), params
        )
        if level.size:
            raise BasketError(
                "strategy", f"{strategy} enters at a price level; a portfolio enters at the close"
            )
        signals.append((entry_long, exit_long))
    time, close, entries, exits = align(bars, signals)
    equity, cash, held, trades = simulate_portfolio(
        close, entries, exits, w * initial_cash, initial_cash, fee
    )
    per_symbol = {s: symbol_metrics(trades, j, w[j] * initial_cash) for j, s in enumerate(symbols)}
    metrics = portfolio_metrics(equity, trades, initial_cash, periods_per_year)
    return PortfolioResult(symbols, w, time, equity, cash, held, trades, metrics, per_symbol)


def portfolio_metrics(
    equity: FloatArray, trades: FloatArray, initial_cash: float, periods_per_year: float
) -> dict[str, float]:
    returns = equity_returns(equity, initial_cash)
    closed = trades[trades[:, EXIT_BAR] >= 0]
    _, _, _, depths = drawdown_episodes(equity, initial_cash)
    return {
        "total_return": total_return(equity, initial_cash),
        "sharpe": sharpe_ratio(returns, periods_per_year),
        "volatility": annual_volatility(returns, periods_per_year),
        "max_drawdown": float(depths.min()) if depths.size else 0.0,
        **trade_statistics(closed[:, PNL], closed[:, RETURN]),
    }


def symbol_metrics(trades: FloatArray, symbol: int, allocation: float) -> dict[str, float]:
    mine = trades[trades[:, SYMBOL] == symbol]
    closed = mine[mine[:, EXIT_BAR] >= 0]
    pnl = float(mine[:, PNL].sum())
    return {
        "pnl": pnl,
        "return_on_allocation": pnl / allocation if allocation > 0 else float("nan"),
        "open_trades": float(mine.shape[0] - closed.shape[0]),
        **trade_statistics(closed[:, PNL], closed[:, RETURN]),
    }
