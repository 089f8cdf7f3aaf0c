"""Mark-to-market of a multi-leg option position (spreads, straddles, condors) and its payoff.

Each option leg is valued at the model price with its own volatility; the underlying leg at the
price. The position's value, PnL (value − cost, cost = Σ entry × quantity) and Greeks are the sums
of the legs'. Curves give the PnL across ``prices``: at the first leg expiry (legs expiring then at
their intrinsic value, later ones at the model with their remaining time), and after each horizon
(time passed, in years; a leg expired by then at intrinsic value).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from tradeloom.quant.options import Greeks, black76, bsm
from tradeloom.quant.options.bsm import F64

FRIDAY = 4


@dataclass(frozen=True)
class Leg:
    kind: str  # call | put | underlying
    quantity: float
    entry_price: float
    strike: float = 0.0
    expiry_years: float = 0.0
    volatility: float = 0.0


@dataclass(frozen=True)
class Market:
    spot: float
    rate: float
    dividend_yield: float
    model: str  # bsm | black76


def greeks(market: Market, kind: str, s: F64 | float, k: float, t: float, sigma: float) -> Greeks:  # noqa: PLR0917
    if market.model == "black76":
        return black76(kind == "call", s, k, t, market.rate, sigma)
    return bsm(kind == "call", s, k, t, market.rate, market.dividend_yield, sigma)


def leg_greeks(market: Market, leg: Leg) -> Greeks:
    """The leg's position Greeks now (× quantity; ``price`` per unit); the underlying's delta is its
    quantity."""
    if leg.kind == "underlying":
        zero = np.array(0.0)
        return Greeks(np.array(market.spot), np.array(leg.quantity), zero, zero, zero, zero, zero)
    g = greeks(market, leg.kind, market.spot, leg.strike, leg.expiry_years, leg.volatility)
    q = leg.quantity
    return Greeks(g.price, g.delta * q, g.gamma * q, g.vega * q, g.theta * q, g.theta_day * q, g.rho * q)


def leg_value_at(market: Market, leg: Leg, prices: F64, elapsed: float) -> F64:
    """Value of the leg (× quantity) at each underlying price after ``elapsed`` years."""
    if leg.kind == "underlying":
        return np.asarray(prices * leg.quantity, dtype=np.float64)
    remaining = leg.expiry_years - elapsed
    if remaining <= 1e-12:
        moneyness = prices - leg.strike if leg.kind == "call" else leg.strike - prices
        return np.asarray(np.maximum(moneyness, 0.0) * leg.quantity, dtype=np.float64)
    value = greeks(market, leg.kind, prices, leg.strike, remaining, leg.volatility).price * leg.quantity
    return np.asarray(value, dtype=np.float64)


def first_expiry(legs: Sequence[Leg]) -> float | None:
    expiries = [leg.expiry_years for leg in legs if leg.kind != "underlying"]
    return min(expiries) if expiries else None


def pnl_curve(market: Market, legs: Sequence[Leg], prices: F64, elapsed: float) -> F64:
    cost = sum(leg.entry_price * leg.quantity for leg in legs)
    total = np.zeros_like(prices)
    for leg in legs:
        total = total + leg_value_at(market, leg, prices, elapsed)
    return np.asarray(total - cost, dtype=np.float64)


def expiry_label(day: date) -> str:
    """``quarterly`` (the last Friday of March, June, September, December), ``monthly`` (the last
    Friday of another month), else ``weekly``."""
    if day.weekday() == FRIDAY and (day + timedelta(weeks=1)).month != day.month:
        return "quarterly" if day.month % 3 == 0 else "monthly"
    return "weekly"
