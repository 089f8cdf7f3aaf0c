# ruff: noqa: PLR0917, PLR0915 (a compiled kernel takes positional arguments and is one loop)
"""The portfolio simulator: several symbols, one cash balance, long only (Numba).

Conventions (vectorbt's ``Portfolio.from_signals(..., group_by=True, cash_sharing=True)`` with
``size_type='value'``, ``direction='longonly'``, ``call_seq='default'``): every bar, the symbols are
visited in their order; a symbol flat with an entry signal (and no exit signal on the same bar)
buys ``allocation[j]`` of value at the bar's close, or as much as the shared cash pays for
(fees on top: ``cost × (1 + fee)``); a symbol holding with an exit signal (and no entry) sells it
all at the close, fees taken from the proceeds. Cash freed by a symbol later in the order is spent
only from the next bar on by symbols earlier in it. A NaN close skips the symbol for that bar.
The plain-Python twin is ``tradeloom.quant.reference.portfolio``; a test checks both agree.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tradeloom.quant.types import BoolArray, FloatArray

# trade record columns
SYMBOL, ENTRY_BAR, EXIT_BAR, SIZE, ENTRY_PRICE, EXIT_PRICE, ENTRY_FEES, EXIT_FEES, PNL, RETURN = range(10)
TRADE_FIELDS = 10


@njit(cache=True)
def simulate_portfolio(
    close: FloatArray,  # (bars, symbols)
    entries: BoolArray,
    exits: BoolArray,
    allocation: FloatArray,  # value bought per entry, per symbol
    cash0: float,
    fee: float,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """(portfolio equity per bar, cash per bar, units held (bars, symbols), trades (n, 10)); an open
    trade at the end has exit bar -1, the last close as exit price and no exit fees."""
    n, k = close.shape
    equity = np.empty(n)
    cash_series = np.empty(n)
    held = np.zeros((n, k))
    trades = np.empty((n * k // 2 + k + 1, TRADE_FIELDS))
    shares = np.zeros(k)
    entry_bar = np.zeros(k, dtype=np.int64)
    entry_price = np.zeros(k)
    entry_fees = np.zeros(k)
    last = np.full(k, np.nan)
    cash = cash0
    count = 0
    for t in range(n):
        for j in range(k):
            price = close[t, j]
            if np.isnan(price):
                continue
            last[j] = price
            enter, leave = entries[t, j], exits[t, j]
            if enter and leave:
                continue
            if shares[j] == 0.0 and enter and price > 0.0:
                size = allocation[j] / price
                cost = size * price
                if cost * (1.0 + fee) > cash:
                    cost = cash / (1.0 + fee)
                    size = cost / price
                if size > 0.0:
                    fees = cost * fee
                    cash -= cost + fees
                    shares[j] = size
                    entry_bar[j] = t
                    entry_price[j] = price
                    entry_fees[j] = fees
            elif shares[j] > 0.0 and leave:
                size = shares[j]
                proceeds = size * price
                fees = proceeds * fee
                cash += proceeds - fees
                pnl = proceeds - size * entry_price[j] - entry_fees[j] - fees
                trades[count, SYMBOL] = j
                trades[count, ENTRY_BAR] = entry_bar[j]
                trades[count, EXIT_BAR] = t
                trades[count, SIZE] = size
                trades[count, ENTRY_PRICE] = entry_price[j]
                trades[count, EXIT_PRICE] = price
                trades[count, ENTRY_FEES] = entry_fees[j]
                trades[count, EXIT_FEES] = fees
                trades[count, PNL] = pnl
                trades[count, RETURN] = pnl / (size * entry_price[j])
                count += 1
                shares[j] = 0.0
        value = cash
        for j in range(k):
            held[t, j] = shares[j]
            if shares[j] > 0.0:
                value += shares[j] * last[j]
        equity[t] = value
        cash_series[t] = cash
    for j in range(k):  # open at the end: valued at the last close
        if shares[j] > 0.0:
            size = shares[j]
            pnl = size * last[j] - size * entry_price[j] - entry_fees[j]
            trades[count, SYMBOL] = j
            trades[count, ENTRY_BAR] = entry_bar[j]
            trades[count, EXIT_BAR] = -1
            trades[count, SIZE] = size
            trades[count, ENTRY_PRICE] = entry_price[j]
            trades[count, EXIT_PRICE] = last[j]
            trades[count, ENTRY_FEES] = entry_fees[j]
            trades[count, EXIT_FEES] = 0.0
            trades[count, PNL] = pnl
            trades[count, RETURN] = pnl / (size * entry_price[j])
            count += 1
    return equity, cash_series, held, trades[:count].copy()
