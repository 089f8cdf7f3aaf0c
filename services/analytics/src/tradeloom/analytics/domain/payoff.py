"""Payoff curves of a saved option strategy over a range of underlying prices, and the volatility
each leg is valued with: the one given, else implied from the leg's latest mid quote.

* **At expiry** (the first leg expiry): legs expiring then at their intrinsic value, later ones at the
  model with their remaining time and volatility; the underlying at the price.
* **Today** (``as_of``): every leg at the model with its time to expiry and volatility.

A curve that needs a leg's volatility where there is none is left out (``needs_volatility``). A leg's
implied volatility is solved by the compiled solver (``implied_vols``) on the mid ``(bid + ask) / 2``
at the quote's underlying price: Black-Scholes-Merton, or Black-76 (the price is the future's: BSM
with the carry yield equal to the rate).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np

from tradeloom.analytics.domain import options
from tradeloom.analytics.domain.option_marks import SavedLeg, legs_at, years_between
from tradeloom.quant.options import implied_vols
from tradeloom.quant.options.bsm import F64


@dataclass(frozen=True)
class LegQuote:
    """A leg's latest quote: the raw record (``bid``/``ask``), the underlying price it was made at."""

    quote: dict[str, Any]
    spot: float
    source: str  # venue | synthetic


@dataclass(frozen=True)
class LegVol:
    volatility: float | None
    source: str  # given | implied_from_quote | none | underlying
    quote_mid: float | None = None
    quote_symbol: str | None = None
    quotes: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Line:
    label: str  # expiry | today
    at: datetime
    value: F64


def leg_vols(
    market: options.Market, saved: Sequence[SavedLeg], quotes: Sequence[LegQuote | None], as_of: datetime
) -> list[LegVol]:
    """Each leg's volatility: given; else implied from its quote's mid in one solver pass; else none
    with the reason (no quote, a one-sided quote, expired, or a mid outside the no-arbitrage bounds)."""
    result: list[LegVol | None] = [None] * len(saved)
    asked: list[tuple[int, float, LegQuote]] = []
    for n, (leg, quoted) in enumerate(zip(saved, quotes, strict=True)):
        if leg.kind == "underlying":
            result[n] = LegVol(None, "underlying")
        elif leg.volatility is not None:
            result[n] = LegVol(leg.volatility, "given")
        elif leg.expiry is None or leg.expiry <= as_of:
            result[n] = LegVol(None, "none", reason="expired: valued at its intrinsic value")
        elif quoted is None:
            result[n] = LegVol(None, "none", reason="no quote of this option (strike, expiry, type) known")
        elif quoted.quote.get("bid") is None or quoted.quote.get("ask") is None:
            result[n] = LegVol(None, "none", quote_symbol=quoted.quote.get("symbol"), quotes=quoted.source,
                               reason="one-sided quote: no mid")  # fmt: skip
        else:
            asked.append((n, (float(quoted.quote["bid"]) + float(quoted.quote["ask"])) / 2, quoted))
    if asked:
        legs = [saved[n] for n, _, _ in asked]
        carry = market.rate if market.model == "black76" else market.dividend_yield
        sigma, ok = implied_vols(
            np.array([mid for _, mid, _ in asked]), np.array([leg.kind == "call" for leg in legs]),
            np.array([q.spot for _, _, q in asked]), np.array([leg.strike for leg in legs], dtype=np.float64),
            np.array([years_between(as_of, leg.expiry) for leg in legs if leg.expiry is not None]),
            market.rate, carry,
        )  # fmt: skip
        for (n, mid, quoted), vol, solved in zip(asked, np.asarray(sigma), np.asarray(ok), strict=True):
            symbol = quoted.quote.get("symbol")
            if solved:
                result[n] = LegVol(float(vol), "implied_from_quote", mid, symbol, quoted.source)
            else:
                reason = (
                    f"no volatility gives the mid {mid:g} at {quoted.spot:g}: outside the no-arbitrage bounds"
                )
                result[n] = LegVol(None, "none", mid, symbol, quoted.source, reason)
    return [v for v in result if v is not None]


def payoff(
    market: options.Market, saved: Sequence[SavedLeg], vols: Sequence[LegVol], prices: F64, as_of: datetime
) -> list[Line]:
    """The value of the whole position at each price at the first expiry and today (``as_of``)."""
    legs = legs_at([replace(leg, volatility=v.volatility) for leg, v in zip(saved, vols, strict=True)], as_of)
    first = options.first_expiry(legs)
    lines = []
    if first is not None and first > 0:
        at = min(leg.expiry for leg in saved if leg.expiry is not None)
        lines.append(("expiry", at, first))
    lines.append(("today", as_of, 0.0))
    result = []
    for label, at, elapsed in lines:
        if any(_needs(leg, elapsed) and v.volatility is None for leg, v in zip(legs, vols, strict=True)):
            continue
        total = np.zeros_like(prices)
        for leg in legs:
            total = total + options.leg_value_at(market, leg, prices, elapsed)
        result.append(Line(label, at, np.asarray(total, dtype=np.float64)))
    return result


def _needs(leg: options.Leg, elapsed: float) -> bool:
    """Whether valuing ``leg`` after ``elapsed`` years needs its volatility (not expired by then)."""
    return leg.kind != "underlying" and leg.expiry_years - elapsed > 1e-12
