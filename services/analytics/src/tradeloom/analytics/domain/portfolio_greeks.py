"""Portfolio Greeks of an account (pure): each held option valued by Black-Scholes-Merton (rate and
yield 0, as the synthetic venue quotes) at the implied volatility of its quote's mid (the bid or the
ask alone when only one is quoted; the quote's model volatility when no volatility gives that price),
its Greeks × the quantity held; each unit of the underlying held adds a delta of 1. Summed per
underlying; ``delta_value`` = delta × spot (in the quote asset) so that underlyings can be added up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from tradeloom.quant.options import bsm, implied_vols


@dataclass(frozen=True)
class HeldOption:
    symbol: str
    underlying: str  # spot symbol, BTC/USDT
    is_call: bool
    strike: float
    years: float
    quantity: float
    spot: float
    bid: float | None
    ask: float | None
    model_volatility: float


@dataclass(frozen=True)
class LegGreeks:
    symbol: str
    quantity: float
    mid: float | None
    volatility: float
    delta: float  # position (× quantity), as the other Greeks
    gamma: float
    vega: float  # per volatility point
    theta_day: float


@dataclass
class UnderlyingGreeks:
    underlying: str
    spot: float
    underlying_quantity: float = 0.0
    delta: float = 0.0
    gamma: float = 0.0
    vega: float = 0.0
    theta_day: float = 0.0
    legs: list[LegGreeks] = field(default_factory=list)

    @property
    def delta_value(self) -> float:
        return self.delta * self.spot


def mid_of(bid: float | None, ask: float | None) -> float | None:
    if bid is not None and ask is not None:
        return (bid + ask) / 2
    return bid if bid is not None else ask


def leg_greeks(option: HeldOption) -> LegGreeks:
    mid = mid_of(option.bid, option.ask)
    sigma = option.model_volatility
    if mid is not None:
        vols, ok = implied_vols(mid, option.is_call, option.spot, option.strike, option.years, 0.0, 0.0)
        if bool(np.ravel(ok)[0]):
            sigma = float(np.ravel(vols)[0])
    g = bsm(option.is_call, option.spot, option.strike, option.years, 0.0, 0.0, sigma)
    q = option.quantity
    return LegGreeks(
        option.symbol, q, mid, sigma, float(g.delta) * q, float(g.gamma) * q, float(g.vega) * q,
        float(g.theta_day) * q,
    )  # fmt: skip


def portfolio_greeks(
    options: Iterable[HeldOption], underlying_held: dict[str, float], spots: dict[str, float]
) -> list[UnderlyingGreeks]:
    """Per underlying (sorted): the options' Greeks summed, plus the underlying held as delta."""
    out: dict[str, UnderlyingGreeks] = {}
    for option in options:
        row = out.setdefault(option.underlying, UnderlyingGreeks(option.underlying, option.spot))
        leg = leg_greeks(option)
        row.legs.append(leg)
        row.delta += leg.delta
        row.gamma += leg.gamma
        row.vega += leg.vega
        row.theta_day += leg.theta_day
    for underlying, quantity in underlying_held.items():
        if underlying in out or underlying in spots:
            row = out.setdefault(underlying, UnderlyingGreeks(underlying, spots.get(underlying, 0.0)))
            row.underlying_quantity = quantity
            row.delta += quantity
    return [out[key] for key in sorted(out)]
