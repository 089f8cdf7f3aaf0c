"""Option Greeks limits (pure): ``max_net_delta`` and ``max_net_vega`` on the order's underlying.

An option symbol is ccxt's ``BTC/USDT:USDT-270129-65000-C``; its underlying the spot ``BTC/USDT``.
Each held option is valued by Black-Scholes-Merton (rate and yield 0, as the synthetic venue quotes)
at the implied volatility of its quote's mid (the quote's model volatility when none fits); its
delta and vega (per volatility point) × the quantity held; each unit of the underlying held adds a
delta of 1. An entry is refused when, with the order, |net delta| (or |net vega|) would be above the
limit and larger than without it: an order that brings a Greek closer to zero always passes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from tradeloom.quant.options import bsm, implied_vols

OPTION_SYMBOL = re.compile(r"^(?P<underlying>[^/:]+/[^/:]+):[^-]+-\d{6}-[0-9.]+-[CP]$")


def underlying_of(symbol: str) -> str | None:
    """The spot underlying of an option symbol, None for anything else."""
    match = OPTION_SYMBOL.match(symbol)
    return None if match is None else match["underlying"]


@dataclass(frozen=True)
class OptionLeg:
    """One option (held, or the order) at its quote: ``quantity`` signed (short < 0)."""

    is_call: bool
    strike: float
    years: float
    quantity: float
    bid: float | None
    ask: float | None
    model_volatility: float


@dataclass(frozen=True)
class NetGreeks:
    delta: float
    vega: float


def leg_delta_vega(leg: OptionLeg, spot: float) -> NetGreeks:
    """The leg's position delta and vega at the implied volatility of its mid."""
    mid = (leg.bid + leg.ask) / 2 if leg.bid is not None and leg.ask is not None else leg.bid or leg.ask
    sigma = leg.model_volatility
    if mid is not None:
        vols, ok = implied_vols(mid, leg.is_call, spot, leg.strike, leg.years, 0.0, 0.0)
        if bool(np.ravel(ok)[0]):
            sigma = float(np.ravel(vols)[0])
    g = bsm(leg.is_call, spot, leg.strike, leg.years, 0.0, 0.0, sigma)
    return NetGreeks(float(g.delta) * leg.quantity, float(g.vega) * leg.quantity)


def net_greeks(legs: Iterable[OptionLeg], underlying_quantity: float, spot: float) -> NetGreeks:
    """Options' delta and vega summed, plus the underlying held as delta."""
    delta, vega = underlying_quantity, 0.0
    for leg in legs:
        greeks = leg_delta_vega(leg, spot)
        delta += greeks.delta
        vega += greeks.vega
    return NetGreeks(delta, vega)


def greek_refusals(
    before: NetGreeks, after: NetGreeks, max_net_delta: Decimal | None, max_net_vega: Decimal | None
) -> list[str]:
    """The Greeks limits the order would cross (reducing a Greek's magnitude always passes)."""
    reasons: list[str] = []
    for name, limit, old, new in (
        ("max_net_delta", max_net_delta, before.delta, after.delta),
        ("max_net_vega", max_net_vega, before.vega, after.vega),
    ):
        if limit is not None and abs(new) > float(limit) and abs(new) > abs(old):
            reasons.append(f"{name}_exceeded: net {abs(new):.4f} > {format(limit.normalize(), 'f')}")
    return reasons
