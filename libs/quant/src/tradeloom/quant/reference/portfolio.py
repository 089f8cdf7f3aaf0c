# ruff: noqa: PLR0917 (the same positional signature as the compiled kernel)
"""Plain-Python twin of ``tradeloom.quant.portfolio.kernel.simulate_portfolio`` (same conventions,
written as directly as possible: lists, a dict per open position), for the test that compares them."""

from __future__ import annotations

import math

import numpy as np

from tradeloom.quant.types import BoolArray, FloatArray


def simulate_portfolio(
    close: FloatArray, entries: BoolArray, exits: BoolArray, allocation: FloatArray, cash0: float, fee: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    bars, symbols = close.shape
    cash = cash0
    open_: dict[int, dict[str, float]] = {}
    last = [math.nan] * symbols
    equity, cash_series, held, trades = [], [], [], []
    for t in range(bars):
        for j in range(symbols):
            price = float(close[t, j])
            if math.isnan(price):
                continue
            last[j] = price
            if entries[t, j] and exits[t, j]:
                continue
            if j not in open_ and entries[t, j] and price > 0:
                size = float(allocation[j]) / price
                cost = size * price
                if cost * (1 + fee) > cash:  # not enough cash: as much as it pays for
                    cost = cash / (1 + fee)
                    size = cost / price
                if size > 0:
                    cash -= cost + cost * fee
                    open_[j] = {"bar": t, "size": size, "price": price, "fees": cost * fee}
            elif j in open_ and exits[t, j]:
                pos = open_.pop(j)
                proceeds = pos["size"] * price
                fees = proceeds * fee
                cash += proceeds - fees
                pnl = proceeds - pos["size"] * pos["price"] - pos["fees"] - fees
                trades.append([j, pos["bar"], t, pos["size"], pos["price"], price, pos["fees"], fees, pnl,
                               pnl / (pos["size"] * pos["price"])])  # fmt: skip
        held.append([open_[j]["size"] if j in open_ else 0.0 for j in range(symbols)])
        equity.append(cash + sum(pos["size"] * last[j] for j, pos in sorted(open_.items())))
        cash_series.append(cash)
    for j, pos in sorted(open_.items()):
        pnl = pos["size"] * last[j] - pos["size"] * pos["price"] - pos["fees"]
        trades.append([j, pos["bar"], -1, pos["size"], pos["price"], last[j], pos["fees"], 0.0, pnl,
                       pnl / (pos["size"] * pos["price"])])  # fmt: skip
    table = np.array(trades, dtype=np.float64).reshape(len(trades), 10)
    return np.array(equity), np.array(cash_series), np.array(held).reshape(bars, symbols), table
