"""Valuation of a saved option strategy at a price of its underlying seen at a time.

A saved leg has an absolute expiry; at ``as_of`` its time to expiry is ``(expiry − as_of)`` in years
of 365.25 days, and it is valued as ``options_strategy`` values it (``domain.options``: model price ×
quantity; the underlying at the price). A leg already expired at ``as_of`` is worth its intrinsic
value, with no Greeks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from tradeloom.analytics.domain import options

YEAR_S = 365.25 * 86_400
NAMES = ("price", "delta", "gamma", "vega", "theta", "theta_day", "rho")


@dataclass(frozen=True)
class SavedLeg:
    kind: str  # call | put | underlying
    quantity: float
    entry_price: float
    strike: float | None = None
    expiry: datetime | None = None
    volatility: float | None = None


@dataclass(frozen=True)
class LegMark:
    value: float
    pnl: float
    greeks: dict[str, float]  # price per unit, the rest × quantity


@dataclass(frozen=True)
class Mark:
    value: float
    cost: float
    pnl: float
    greeks: dict[str, float]  # price = the position's value
    legs: list[LegMark]


def years_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / YEAR_S


def legs_at(saved: Sequence[SavedLeg], as_of: datetime) -> list[options.Leg]:
    """The legs with their time to expiry at ``as_of`` (``options_strategy``'s ``expiry_years``)."""
    return [
        options.Leg(
            leg.kind, leg.quantity, leg.entry_price, leg.strike or 0.0,
            years_between(as_of, leg.expiry) if leg.expiry is not None else 0.0, leg.volatility or 0.0,
        )
        for leg in saved
    ]  # fmt: skip


def _leg_mark(market: options.Market, leg: options.Leg) -> LegMark:
    cost = leg.entry_price * leg.quantity
    if leg.kind != "underlying" and leg.expiry_years <= 0:
        intrinsic = max(market.spot - leg.strike if leg.kind == "call" else leg.strike - market.spot, 0.0)
        greeks = dict.fromkeys(NAMES, 0.0) | {"price": intrinsic}
        return LegMark(intrinsic * leg.quantity, intrinsic * leg.quantity - cost, greeks)
    g = options.leg_greeks(market, leg)
    greeks = {name: float(np.ravel(getattr(g, name))[0]) for name in NAMES}
    value = greeks["price"] * leg.quantity
    return LegMark(value, value - cost, greeks)


def mark(market: options.Market, saved: Sequence[SavedLeg], as_of: datetime) -> Mark:
    """Value, cost, PnL and Greeks of the position at ``market.spot`` seen at ``as_of``; ``ValueError``
    when the model has no finite value there."""
    legs = [_leg_mark(market, leg) for leg in legs_at(saved, as_of)]
    value = sum(leg.value for leg in legs)
    cost = sum(leg.entry_price * leg.quantity for leg in saved)
    total = {name: sum(leg.greeks[name] for leg in legs) for name in NAMES[1:]}
    result = Mark(value, cost, value - cost, {"price": value, **total}, legs)
    numbers = [value, *total.values(), *(v for leg in legs for v in leg.greeks.values())]
    if not np.isfinite(numbers).all():
        raise ValueError("the model has no finite value at these inputs")
    return result
