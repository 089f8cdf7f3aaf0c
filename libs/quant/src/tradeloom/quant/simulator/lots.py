# ruff: noqa: PLR0917 (compiled kernels take positional arguments: Numba has no keyword-only ones)
"""Multi-lot simulators for strategies that hold several entries at once: grid trading and DCA.

Each lot is its own trade record (same columns as the single-position simulator). Cash is shared;
a lot that cannot be paid for (commission included) is skipped. Lots still held at the last bar are
reported with exit reason END_OF_DATA, marked at the last close without an exit fee.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tradeloom.quant.fills.costs import commission, commission_rate, slipped_price
from tradeloom.quant.fills.models import CommissionModel, Costs
from tradeloom.quant.fills.prices import limit_fill_price
from tradeloom.quant.simulator.config import END_OF_DATA_EXIT, SIGNAL_EXIT, TAKE_PROFIT_EXIT, TRADE_COLUMNS
from tradeloom.quant.types import FloatArray

# per-lot columns
QTY, PRICE, BAR, FEE, LOWEST, HIGHEST = range(6)


@njit(cache=True)
def _valid(o: float, h: float, lo: float, c: float) -> bool:
    return o > 0.0 and h > 0.0 and lo > 0.0 and c > 0.0 and np.isfinite(o + h + lo + c)


@njit(cache=True)
def _room(table: FloatArray, rows: int) -> FloatArray:
    """``table`` with room for one more row (capacity doubles when full)."""
    if rows < table.shape[0]:
        return table
    bigger = np.empty((2 * table.shape[0] + 1, table.shape[1]))
    bigger[:rows] = table[:rows]
    return bigger


@njit(cache=True)
def _buy(lot: FloatArray, cash: float, cash_per_lot: float, price: float, is_maker: bool, t: int,
         traded: float, costs: Costs, whole_units: bool) -> tuple[float, float]:  # fmt: skip
    """Fill one lot of ``cash_per_lot`` at ``price``; returns (cash, traded) after it (unchanged when
    nothing is affordable, lot[QTY] stays 0)."""
    rate = commission_rate(costs, is_maker, traded)
    fixed = costs.fixed_fee if costs.commission_model == CommissionModel.FIXED else 0.0
    budget = min(cash_per_lot, cash)
    qty = max(budget - fixed, 0.0) / (price * (1.0 + rate))
    if whole_units:
        qty = np.floor(qty)
    if qty <= 0.0 or qty * price < 1e-9 * cash_per_lot:  # nothing, or dust left by rounding
        return cash, traded
    fee = commission(costs, qty * price, is_maker, traded)
    lot[QTY], lot[PRICE], lot[BAR], lot[FEE], lot[LOWEST], lot[HIGHEST] = qty, price, t, fee, price, price
    return cash - (qty * price + fee), traded + qty * price


@njit(cache=True)
def _sell(
    lot: FloatArray, trades: FloatArray, row: int, price: float, fee: float, t: int, reason: int
) -> float:
    """Record the lot's round trip; returns the cash it brings back."""
    qty, entry = lot[QTY], lot[PRICE]
    low, high = min(lot[LOWEST], price), max(lot[HIGHEST], price)
    pnl = (price - entry) * qty - lot[FEE] - fee
    trades[row, 0], trades[row, 1], trades[row, 2], trades[row, 3] = 1.0, lot[BAR], t, entry
    trades[row, 4], trades[row, 5], trades[row, 6], trades[row, 7] = price, qty, pnl, pnl / (entry * qty)
    trades[row, 8], trades[row, 9], trades[row, 10], trades[row, 11] = lot[FEE] + fee, low / entry - 1.0, \
        high / entry - 1.0, reason  # fmt: skip
    lot[QTY] = 0.0
    return float(qty * price - fee)


@njit(cache=True)
def grid_simulate(
    open_: FloatArray, high: FloatArray, low: FloatArray, close: FloatArray, levels: FloatArray,
    cash_per_lot: float, initial_cash: float, whole_units: bool, costs: Costs,
) -> tuple[FloatArray, FloatArray, FloatArray, int]:  # fmt: skip
    """Long grid over ascending price ``levels``: lot k rests a buy limit at levels[k] while the
    previous close is above it, and once bought a sell limit at levels[k + 1] from the next bar.
    Limit fills are maker fills at the level or a better open. Returns (trades, equity, position,
    invalid bar or −1)."""
    n, slots = close.shape[0], levels.shape[0] - 1
    lots = np.zeros((max(slots, 0), 6))
    trades = np.empty((64, TRADE_COLUMNS))
    equity, position = np.empty(n), np.empty(n)
    cash, traded, rows = initial_cash, 0.0, 0
    for t in range(n):
        o, h, lo, c = open_[t], high[t], low[t], close[t]
        if not _valid(o, h, lo, c):
            return trades[:0], equity[:0], position[:0], t
        for k in range(slots):
            lot = lots[k]
            if lot[QTY] > 0.0 and lot[BAR] < t:
                price = limit_fill_price(-1, levels[k + 1], o, h, lo)
                if not np.isnan(price):
                    fee = commission(costs, lot[QTY] * price, True, traded)
                    traded += lot[QTY] * price
                    trades = _room(trades, rows)
                    cash += _sell(lot, trades, rows, price, fee, t, TAKE_PROFIT_EXIT)
                    rows += 1
                    continue
            if lot[QTY] == 0.0 and t > 0 and close[t - 1] > levels[k]:
                price = limit_fill_price(1, levels[k], o, h, lo)
                if not np.isnan(price):
                    cash, traded = _buy(lot, cash, cash_per_lot, price, True, t, traded, costs, whole_units)
            if lot[QTY] > 0.0:
                lot[LOWEST], lot[HIGHEST] = min(lot[LOWEST], lo), max(lot[HIGHEST], h)
        held = 0.0
        for k in range(slots):
            held += lots[k, QTY]
        equity[t], position[t] = cash + held * c, held
    for k in range(slots):
        if lots[k, QTY] > 0.0 and n > 0:
            trades = _room(trades, rows)
            _sell(lots[k], trades, rows, close[n - 1], 0.0, n - 1, END_OF_DATA_EXIT)
            rows += 1
    return trades[:rows], equity, position, -1


@njit(cache=True)
def dca_simulate(
    open_: FloatArray, high: FloatArray, low: FloatArray, close: FloatArray, interval: int, amount: float,
    take_profit: float, initial_cash: float, whole_units: bool, costs: Costs,
) -> tuple[FloatArray, FloatArray, FloatArray, int]:  # fmt: skip
    """Dollar-cost averaging: buy ``amount`` of cash at the open of every ``interval``-th bar (market,
    taker, slippage). With ``take_profit`` (NaN: off), when a close is at least that fraction above
    the average cost, every lot is sold at the next open and buying goes on."""
    n = close.shape[0]
    lots = np.zeros((64, 6))
    trades = np.empty((64, TRADE_COLUMNS))
    equity, position = np.empty(n), np.empty(n)
    cash, traded, rows, first, count = initial_cash, 0.0, 0, 0, 0
    sell_all = False
    for t in range(n):
        o, h, lo, c = open_[t], high[t], low[t], close[t]
        if not _valid(o, h, lo, c):
            return trades[:0], equity[:0], position[:0], t
        if sell_all:
            for k in range(first, count):
                if lots[k, QTY] > 0.0:
                    price = slipped_price(costs, -1, o, lots[k, QTY], np.inf)
                    fee = commission(costs, lots[k, QTY] * price, False, traded)
                    traded += lots[k, QTY] * price
                    trades = _room(trades, rows)
                    cash += _sell(lots[k], trades, rows, price, fee, t, SIGNAL_EXIT)
                    rows += 1
            first, sell_all = count, False
        if t % interval == 0:
            lots = _room(lots, count)
            lots[count] = 0.0
            price = slipped_price(costs, 1, o, amount / o, np.inf)
            cash, traded = _buy(lots[count], cash, amount, price, False, t, traded, costs, whole_units)
            count += lots[count, QTY] > 0.0
        held, cost = 0.0, 0.0
        for k in range(first, count):
            lots[k, LOWEST], lots[k, HIGHEST] = min(lots[k, LOWEST], lo), max(lots[k, HIGHEST], h)
            held += lots[k, QTY]
            cost += lots[k, QTY] * lots[k, PRICE]
        if held > 0.0 and not np.isnan(take_profit) and c >= cost / held * (1.0 + take_profit):
            sell_all = t + 1 < n
        equity[t], position[t] = cash + held * c, held
    for k in range(first, count):
        if lots[k, QTY] > 0.0 and n > 0:
            trades = _room(trades, rows)
            _sell(lots[k], trades, rows, close[n - 1], 0.0, n - 1, END_OF_DATA_EXIT)
            rows += 1
    return trades[:rows], equity, position, -1
