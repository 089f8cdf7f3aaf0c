"""A ccxt venue's option chain: which of its markets belong to an underlying and expiry, and one
option's quote from ccxt's unified ticker and Greeks structures (``fetch_tickers`` with
``type=option``, ``fetch_all_greeks``).

Venues mark a missing side with 0 or leave it out (Binance's ``"askPrice": "0"``): both become
``None``, as does anything not a finite number ≥ 0; a price is never invented here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any


@dataclass(frozen=True)
class VenueQuote:
    symbol: str
    underlying: str  # our spot symbol, e.g. BTC/USDT
    bid: Decimal | None
    ask: Decimal | None
    last: Decimal | None
    mark: Decimal | None
    bid_iv: float | None
    ask_iv: float | None
    mark_iv: float | None
    delta: float | None
    gamma: float | None
    theta: float | None
    vega: float | None
    underlying_price: Decimal | None


def market_expiry(market: dict[str, Any]) -> datetime | None:
    expiry_ms = market.get("expiry")
    return datetime.fromtimestamp(expiry_ms / 1000, UTC) if isinstance(expiry_ms, int | float) else None


def chain_markets(markets: dict[str, Any], underlying: str, expiry: date | None) -> list[dict[str, Any]]:
    """The option markets of ``underlying`` (``BASE/QUOTE``), of one UTC expiry day if given."""
    base, _, quote = underlying.partition("/")
    return [
        m for m in markets.values()
        if m.get("type") == "option" and m.get("base") == base and m.get("quote") == quote
        and (exp := market_expiry(m)) is not None and (expiry is None or exp.date() == expiry)
    ]  # fmt: skip


def _price(value: Any, *, zero_is_none: bool = True) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or number < 0 or (zero_is_none and number == 0):
        return None
    # ccxt's floats come as "4885.0": the venue sent "4885"
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else number.normalize()


def _float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def venue_quote(
    symbol: str, underlying: str, ticker: dict[str, Any] | None, greeks: dict[str, Any] | None
) -> VenueQuote | None:
    """One option's quote; ``None`` when the venue gave neither a ticker nor Greeks for it."""
    if not ticker and not greeks:
        return None
    t, g = ticker or {}, greeks or {}
    raw = t.get("info")
    info: dict[str, Any] = raw if isinstance(raw, dict) else {}
    spot = next(
        (p for p in (_price(v) for v in (t.get("indexPrice"), g.get("underlyingPrice"),
                                         info.get("exercisePrice"))) if p is not None),
        None,
    )  # fmt: skip
    return VenueQuote(
        symbol=symbol, underlying=underlying, bid=_price(t.get("bid")), ask=_price(t.get("ask")),
        last=_price(t.get("last")), mark=_price(g.get("markPrice") or t.get("markPrice")),
        bid_iv=_float(g.get("bidImpliedVolatility")), ask_iv=_float(g.get("askImpliedVolatility")),
        mark_iv=_float(g.get("markImpliedVolatility")), delta=_float(g.get("delta")),
        gamma=_float(g.get("gamma")), theta=_float(g.get("theta")), vega=_float(g.get("vega")),
        underlying_price=spot,
    )  # fmt: skip
