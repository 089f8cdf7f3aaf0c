# ruff: noqa: PLR0917 (compiled kernels take positional arguments)
"""The peers the backtest bench compares tradeloom.quant with: bare hand-written Numba loops and
vectorbt in its fastest configuration. All use the same strategy: SMA(fast) crossing SMA(slow),
strict crosses on the close, next-open all-in whole-unit long-only fills, a proportional fee.

- ``bare_minimal``: only what the minimal comparison needs — final equity and trade count.
- ``bare_full``: trade records, the equity curve and the ten figures of tradeloom's grid rows.
- ``bare_shared_grid``: the grid's peer — every distinct average computed once (in parallel) and
  shared, then one minimal loop per combination in parallel (final equity, trade count).
- ``vectorbt_grid``: ``Portfolio.from_signals`` forced onto the Rust engine (``engine="rust"`` raises
  rather than falling back), reading raw order records and the final value only (a single
  backtest is a grid of one).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numba import njit, prange


@njit(cache=True)
def bare_minimal(
    open_: np.ndarray, close: np.ndarray, fast: int, slow: int, cash0: float, fee: float
) -> tuple:
    """(final equity, trades including a still-open last one, bar of the last entry)."""
    n = close.shape[0]
    sf = 0.0
    ss = 0.0
    prev_f = np.nan
    prev_s = np.nan
    cash = cash0
    units = 0.0
    pending = 0
    count = 0
    last_entry = -1
    for t in range(n):
        if pending == 1 and units == 0.0:
            units = np.floor(cash / (open_[t] * (1.0 + fee)))
            cash -= units * open_[t] * (1.0 + fee)
            count += 1
            last_entry = t
        elif pending == -1 and units > 0.0:
            cash += units * open_[t] * (1.0 - fee)
            units = 0.0
        pending = 0
        sf += close[t]
        ss += close[t]
        if t >= fast:
            sf -= close[t - fast]
        if t >= slow:
            ss -= close[t - slow]
        f = sf / fast if t >= fast - 1 else np.nan
        s = ss / slow if t >= slow - 1 else np.nan
        if prev_f < prev_s and f > s:
            pending = 1
        elif prev_f > prev_s and f < s:
            pending = -1
        prev_f = f
        prev_s = s
    return cash + units * close[n - 1], count, last_entry


@njit(cache=True)
def bare_full(  # noqa: PLR0915 (one hand-written loop, on purpose)
    open_: np.ndarray, close: np.ndarray, fast: int, slow: int, cash0: float, fee: float
) -> tuple:
    """(trade records [entry bar, exit bar, entry, exit, pnl], equity at each close, the ten figures of
    ``SUMMARY_COLUMNS`` with 365 periods a year)."""
    n = close.shape[0]
    trades = np.empty((n // 2 + 1, 5))
    equity = np.empty(n)
    sf = 0.0
    ss = 0.0
    prev_f = np.nan
    prev_s = np.nan
    cash = cash0
    units = 0.0
    entry = 0.0
    entry_bar = 0
    pending = 0
    count = 0
    wins = 0
    gross_win = 0.0
    gross_loss = 0.0
    exposed = 0
    for t in range(n):
        if pending == 1 and units == 0.0:
            units = np.floor(cash / (open_[t] * (1.0 + fee)))
            cash -= units * open_[t] * (1.0 + fee)
            entry = open_[t]
            entry_bar = t
        elif pending == -1 and units > 0.0:
            cash += units * open_[t] * (1.0 - fee)
            pnl = units * (open_[t] - entry) - fee * units * (open_[t] + entry)
            trades[count, 0] = entry_bar
            trades[count, 1] = t
            trades[count, 2] = entry
            trades[count, 3] = open_[t]
            trades[count, 4] = pnl
            count += 1
            if pnl > 0.0:
                wins += 1
                gross_win += pnl
            elif pnl < 0.0:
                gross_loss -= pnl
            units = 0.0
        pending = 0
        sf += close[t]
        ss += close[t]
        if t >= fast:
            sf -= close[t - fast]
        if t >= slow:
            ss -= close[t - slow]
        f = sf / fast if t >= fast - 1 else np.nan
        s = ss / slow if t >= slow - 1 else np.nan
        if prev_f < prev_s and f > s:
            pending = 1
        elif prev_f > prev_s and f < s:
            pending = -1
        prev_f = f
        prev_s = s
        equity[t] = cash + units * close[t]
        exposed += units != 0.0
    mean = 0.0
    down_sq = 0.0
    peak = cash0
    worst = 0.0
    previous = cash0
    for t in range(n):
        r = equity[t] / previous - 1.0
        mean += r
        if r < 0.0:
            down_sq += r * r
        previous = equity[t]
        peak = max(peak, equity[t])
        worst = min(worst, equity[t] / peak - 1.0)
    mean /= n
    var = 0.0
    previous = cash0
    for t in range(n):
        var += (equity[t] / previous - 1.0 - mean) ** 2
        previous = equity[t]
    figures = np.full(10, np.nan)
    growth = equity[n - 1] / cash0
    figures[0] = growth - 1.0
    figures[1] = growth ** (365.0 / n) - 1.0 if growth > 0.0 else -1.0
    figures[2] = mean / np.sqrt(var / (n - 1)) * np.sqrt(365.0) if var > 0.0 else np.nan
    downside = np.sqrt(down_sq / n) * np.sqrt(365.0)
    figures[3] = mean * 365.0 / downside if downside > 0.0 else np.nan
    figures[4] = worst
    figures[5] = figures[1] / -worst if worst < 0.0 else np.nan
    figures[6] = count
    figures[7] = wins / count if count else np.nan
    figures[8] = gross_win / gross_loss if gross_loss > 0.0 else (np.inf if gross_win > 0.0 else np.nan)
    figures[9] = exposed / n
    return trades[:count], equity, figures


@njit(cache=True)
def _bare_sma(close: np.ndarray, window: int) -> np.ndarray:
    out = np.empty(close.shape[0])
    total = 0.0
    for t in range(close.shape[0]):
        total += close[t]
        if t >= window:
            total -= close[t - window]
        out[t] = total / window if t >= window - 1 else np.nan
    return out


@njit(cache=True)
def _bare_row(open_: np.ndarray, close: np.ndarray, f: np.ndarray, s: np.ndarray, cash0: float,
              fee: float) -> tuple:  # fmt: skip
    cash = cash0
    units = 0.0
    pending = 0
    count = 0
    for t in range(close.shape[0]):
        if pending == 1 and units == 0.0:
            units = np.floor(cash / (open_[t] * (1.0 + fee)))
            cash -= units * open_[t] * (1.0 + fee)
            count += 1
        elif pending == -1 and units > 0.0:
            cash += units * open_[t] * (1.0 - fee)
            units = 0.0
        pending = 0
        if t > 0:
            if f[t - 1] < s[t - 1] and f[t] > s[t]:
                pending = 1
            elif f[t - 1] > s[t - 1] and f[t] < s[t]:
                pending = -1
    return cash + units * close[close.shape[0] - 1], count


@njit(cache=True, parallel=True)
def bare_shared_grid(open_: np.ndarray, close: np.ndarray, windows: np.ndarray, fast_rows: np.ndarray,
                     slow_rows: np.ndarray, cash0: float, fee: float) -> np.ndarray:  # fmt: skip
    """[final equity, trades] per combination; ``fast_rows``/``slow_rows`` index ``windows``."""
    table = np.empty((windows.shape[0], close.shape[0]))
    for j in prange(windows.shape[0]):
        table[j] = _bare_sma(close, windows[j])
    out = np.empty((fast_rows.shape[0], 2))
    for r in prange(fast_rows.shape[0]):
        final, count = _bare_row(open_, close, table[fast_rows[r]], table[slow_rows[r]], cash0, fee)
        out[r, 0] = final
        out[r, 1] = count
    return out


def vectorbt_grid(vbt: object, close: pd.Series, open_: pd.Series, windows: np.ndarray, fast_rows: np.ndarray,
                  slow_rows: np.ndarray, cash: float,
                  fee: float) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(final value, trades counting a still-open one) per combination, on vectorbt's Rust engine:
    every distinct average once (``MA.run`` over the windows), strict crosses in NumPy (shifted a
    bar: next-open fills), one ``from_signals`` over all the combinations' columns."""
    averages = vbt.MA.run(close, list(windows), engine="rust").ma.to_numpy()  # type: ignore[attr-defined]
    f, s = averages[:, fast_rows], averages[:, slow_rows]
    entries = np.zeros(f.shape, dtype=np.bool_)
    exits = np.zeros(f.shape, dtype=np.bool_)
    entries[2:] = (f[:-2] < s[:-2]) & (f[1:-1] > s[1:-1])
    exits[2:] = (f[:-2] > s[:-2]) & (f[1:-1] < s[1:-1])
    portfolio = vbt.Portfolio  # type: ignore[attr-defined]
    pf = portfolio.from_signals(close, entries, exits, price=open_, init_cash=cash, fees=fee, size=np.inf,
                                size_granularity=1, engine="rust")  # fmt: skip
    per_column = np.bincount(pf.order_records["col"], minlength=f.shape[1])  # raw records, no table
    return np.atleast_1d(np.asarray(pf.final_value())), (per_column + 1) // 2
