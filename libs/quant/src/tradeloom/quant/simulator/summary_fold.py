"""The summary figures' one-pass arithmetic, shared by ``summary_metrics`` (which reads a finished
equity curve), the market loop's figures (``market_kernel.market_loop``, for the fused backtest) and
the grid's running figures (which fold each bar as it is marked).

The running sums travel as a tuple and the helpers are inlined by Numba (``inline="always"``), so
each caller compiles to the same scalar loop it had when the arithmetic was written out in both
places; ``tests/test_running_grid.py`` checks the two paths agree bit for bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tradeloom.quant.types import FloatArray

SUMMARY_FIGURES = 10  # len(optimise.SUMMARY_COLUMNS): the figures a fold writes, in that order
# (shift, total, total_sq, down_sq, previous, peak, worst, floor, growth, lowest, highest)
ReturnFold = tuple[float, float, float, float, float, float, float, float, float, float, float]
# (closed trades, wins, gross win, gross loss)
TradeFold = tuple[float, float, float, float]
NO_TRADES: TradeFold = (0.0, 0.0, 0.0, 0.0)


@njit(cache=True)
def ratio(numerator: float, denominator: float, n: int) -> float:
    """numerator / denominator with the metrics module's edge cases: NaN below two returns or for 0/0,
    ±inf for a non-zero numerator over zero."""
    if n < 2 or (denominator == 0.0 and numerator == 0.0):
        return np.nan
    if denominator == 0.0:
        return np.inf if numerator > 0.0 else -np.inf
    return numerator / denominator


@njit(cache=True, inline="always")
def start_returns(initial: float, first_value: float) -> ReturnFold:
    """The empty fold; returns are summed shifted by the first one, which keeps the one-pass variance
    accurate."""
    return (first_value / initial - 1.0, 0.0, 0.0, 0.0, initial, initial, 0.0, initial, 1.0, np.inf, -np.inf)


@njit(cache=True, inline="always")
def fold_return(acc: ReturnFold, value: float) -> ReturnFold:
    """Fold one bar's equity ``value`` into the running sums."""
    shift, total, total_sq, down_sq, previous, peak, worst, floor, growth, lowest, highest = acc
    r = value / previous - 1.0
    growth *= 1.0 + r
    d = r - shift
    total += d
    total_sq += d * d
    lowest = min(lowest, r)
    highest = max(highest, r)
    if r < 0.0:
        down_sq += r * r
    if value > peak:
        peak = value
        floor = peak * (1.0 + worst)
    elif value < floor:  # equity below ``floor`` deepens the worst drawdown (no division per bar)
        worst = value / peak - 1.0
        floor = value
    return (shift, total, total_sq, down_sq, value, peak, worst, floor, growth, lowest, highest)


@njit(cache=True, inline="always")
def finish_returns(acc: ReturnFold, n: int, initial: float, periods_per_year: float, out: FloatArray) -> None:
    """Write total_return, cagr, sharpe, sortino, max_drawdown and calmar (columns 0–5) of ``n`` bars."""
    shift, total, total_sq, down_sq, last, _, worst, _, growth, lowest, highest = acc
    mean = shift + total / n
    variance = (total_sq - total * total / n) / (n - 1) if n > 1 else np.nan
    std = np.sqrt(max(variance, 0.0)) if n > 1 else np.nan
    cagr = growth ** (periods_per_year / n) - 1.0 if growth > 0.0 else -1.0
    out[0] = last / initial - 1.0
    out[1] = cagr
    if lowest == highest:  # identical returns: exactly no dispersion (as empyrical)
        std = 0.0
    out[2] = ratio(mean, std, n) * np.sqrt(periods_per_year)
    downside = np.sqrt(down_sq / n) * np.sqrt(periods_per_year)
    out[3] = ratio(mean * periods_per_year, downside, n)
    out[4] = worst
    out[5] = cagr / -worst if worst < 0.0 else np.nan


@njit(cache=True, inline="always")
def fold_trade(acc: TradeFold, pnl: float) -> TradeFold:
    """Fold one closed trade's ``pnl`` into (closed, wins, gross win, gross loss)."""
    closed, wins, gross_win, gross_loss = acc
    closed += 1.0
    if pnl > 0.0:
        wins += 1.0
        gross_win += pnl
    elif pnl < 0.0:
        gross_loss -= pnl
    return (closed, wins, gross_win, gross_loss)


@njit(cache=True, inline="always")
def fold_trade_into(sums: FloatArray, pnl: float) -> None:
    """``fold_trade`` on sums kept in a 4-float array: for a loop already holding many running
    values in registers (the fused backtest), where four more loop-carried floats spill on every
    bar (measured: 20 % slower) while trades close only now and then."""
    sums[0], sums[1], sums[2], sums[3] = fold_trade((sums[0], sums[1], sums[2], sums[3]), pnl)


@njit(cache=True, inline="always")
def finish_trades(acc: TradeFold, out: FloatArray) -> None:
    """Write trades, win_rate and profit_factor (columns 6–8) from closed trades' sums."""
    closed, wins, gross_win, gross_loss = acc
    out[6] = closed
    out[7] = wins / closed if closed else np.nan
    out[8] = gross_win / gross_loss if gross_loss > 0.0 else (np.inf if gross_win > 0.0 else np.nan)
