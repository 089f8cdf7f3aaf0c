# ruff: noqa: PLR0917 (mirrors the kernels' signatures)
"""Reference grid and DCA simulators: lots as Python objects, same rules as simulator/lots.py."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tradeloom.quant.fills.models import CommissionModel, Costs
from tradeloom.quant.reference.simulator import ref_fee, ref_fill, ref_rate, ref_slip
from tradeloom.quant.simulator.config import ExitReason
from tradeloom.quant.types import FloatArray

Result = tuple[FloatArray, FloatArray, FloatArray, int]


@dataclass
class Lot:
    qty: float
    price: float
    bar: int
    fee: float
    low: float
    high: float


@dataclass
class Book:
    costs: Costs
    whole: bool
    cash: float
    traded: float = 0.0

    def __post_init__(self) -> None:
        self.trades: list[list[float]] = []

    def buy(self, budget: float, price: float, maker: bool, t: int) -> Lot | None:
        rate = ref_rate(self.costs, maker, self.traded)
        fixed = self.costs.fixed_fee if self.costs.commission_model == CommissionModel.FIXED else 0.0
        qty = max(min(budget, self.cash) - fixed, 0.0) / (price * (1 + rate))
        qty = math.floor(qty) if self.whole else qty
        if qty <= 0 or qty * price < 1e-9 * budget:
            return None
        fee = ref_fee(self.costs, qty * price, maker, self.traded)
        self.cash -= qty * price + fee
        self.traded += qty * price
        return Lot(qty, price, t, fee, price, price)

    def sell(self, lot: Lot, price: float, fee: float, t: int, reason: int, *, settle: bool = True) -> None:
        pnl = (price - lot.price) * lot.qty - lot.fee - fee
        low, high = min(lot.low, price), max(lot.high, price)
        self.trades.append([1.0, lot.bar, t, lot.price, price, lot.qty, pnl, pnl / (lot.price * lot.qty),
                            lot.fee + fee, low / lot.price - 1, high / lot.price - 1, reason])  # fmt: skip
        if settle:
            self.cash += lot.qty * price - fee

    def table(self) -> FloatArray:
        return np.array(self.trades, dtype=np.float64).reshape(-1, 12)


def reference_grid(
    open_: FloatArray, high: FloatArray, low: FloatArray, close: FloatArray, levels: FloatArray,
    cash_per_lot: float, initial_cash: float, whole_units: bool, costs: Costs,
) -> Result:  # fmt: skip
    book = Book(costs, whole_units, initial_cash)
    lots: list[Lot | None] = [None] * max(len(levels) - 1, 0)
    n = len(close)
    equity, position = np.empty(n), np.empty(n)
    for t in range(n):
        o, h, lo, c = (float(a[t]) for a in (open_, high, low, close))
        for k, held_lot in enumerate(lots):
            lot = held_lot
            if lot is not None and lot.bar < t:
                price = ref_fill(1, -1, float(levels[k + 1]), o, h, lo)
                if not math.isnan(price):
                    fee = ref_fee(costs, lot.qty * price, True, book.traded)
                    book.traded += lot.qty * price
                    book.sell(lot, price, fee, t, ExitReason.TAKE_PROFIT)
                    lots[k] = None
                    continue
            if lot is None and t > 0 and close[t - 1] > levels[k]:
                price = ref_fill(1, 1, float(levels[k]), o, h, lo)
                if not math.isnan(price):
                    lots[k] = lot = book.buy(cash_per_lot, price, True, t)
            if lot is not None:
                lot.low, lot.high = min(lot.low, lo), max(lot.high, h)
        held = sum(lot.qty for lot in lots if lot is not None)
        equity[t], position[t] = book.cash + held * c, held
    for lot in lots:
        if lot is not None:
            book.sell(lot, float(close[-1]), 0.0, n - 1, ExitReason.END_OF_DATA, settle=False)
    return book.table(), equity, position, -1


def reference_dca(open_: FloatArray, high: FloatArray, low: FloatArray, close: FloatArray, interval: int,
                  amount: float, take_profit: float, initial_cash: float, whole_units: bool,
                  costs: Costs) -> Result:  # fmt: skip
    book = Book(costs, whole_units, initial_cash)
    lots: list[Lot] = []
    n = len(close)
    equity, position = np.empty(n), np.empty(n)
    sell_all = False
    for t in range(n):
        o, h, lo, c = (float(a[t]) for a in (open_, high, low, close))
        if sell_all:
            for lot in lots:
                price = ref_slip(costs, -1, o, lot.qty, math.inf)
                fee = ref_fee(costs, lot.qty * price, False, book.traded)
                book.traded += lot.qty * price
                book.sell(lot, price, fee, t, ExitReason.SIGNAL)
            lots, sell_all = [], False
        if t % interval == 0:
            bought = book.buy(amount, ref_slip(costs, 1, o, amount / o, math.inf), False, t)
            if bought is not None:
                lots.append(bought)
        for lot in lots:
            lot.low, lot.high = min(lot.low, lo), max(lot.high, h)
        held = sum(lot.qty for lot in lots)
        cost = sum(lot.qty * lot.price for lot in lots)
        if held > 0 and not math.isnan(take_profit) and c >= cost / held * (1 + take_profit):
            sell_all = t + 1 < n
        equity[t], position[t] = book.cash + held * c, held
    for lot in lots:
        book.sell(lot, float(close[-1]), 0.0, n - 1, ExitReason.END_OF_DATA, settle=False)
    return book.table(), equity, position, -1
