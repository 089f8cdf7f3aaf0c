"""Synthetic quotes of the synthetic venue's options (pure; NOT a real market).

Model volatility of a strike ``K`` (the smile), with ``x = ln(K / S)`` and ``σ₀`` the underlying's
realised volatility clipped to [``VOL_FLOOR``, ``VOL_CAP``]::

    σ(K) = max(VOL_FLOOR, σ₀ · (1 + SKEW · x + CURVATURE · x²))

so out-of-the-money puts are dearer than calls (``SKEW`` < 0) and both wings rise (``CURVATURE``).
The model price is Black-Scholes-Merton at ``σ(K)``, rate and yield 0. Each option gets a half
spread of ``spread_fraction × model price`` (at least one tick), ``spread_fraction`` drawn once per
(seed, symbol) uniformly in [``SPREAD_MIN``, ``SPREAD_MAX``]: the same seed gives the same quotes for
the same spot, realised volatility and time. The bid is rounded down and the ask up to the tick; a
bid below one tick is no bid (null).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

import numpy as np

from tradeloom.quant.options import bsm
from tradeloom.quant.options.bsm import F64

Int64s = np.ndarray[Any, np.dtype[np.int64]]
Bools = np.ndarray[Any, np.dtype[np.bool_]]

SKEW = -0.5
CURVATURE = 2.0
VOL_FLOOR = 0.05
VOL_CAP = 5.0
SPREAD_MIN = 0.01
SPREAD_MAX = 0.03
SECONDS_PER_YEAR = 365.0 * 86_400
EXACT_WITHIN = 1e-6  # tick counts this close to a whole number are computed in Decimal
MAX_FLOAT_TICKS = 1e9


@dataclass(frozen=True)
class OptionSpec:
    symbol: str
    option_type: str  # call | put
    strike: Decimal
    expiry: datetime
    tick: Decimal


@dataclass(frozen=True)
class Quote:
    spec: OptionSpec
    bid: Decimal | None
    ask: Decimal
    model_price: float
    model_volatility: float


def smile(spot: float, strike: float, realised: float) -> float:
    base = min(max(realised, VOL_FLOOR), VOL_CAP)
    x = np.log(strike / spot)
    return float(max(VOL_FLOOR, base * (1.0 + SKEW * x + CURVATURE * x * x)))


def spread_fraction(seed: int, symbol: str) -> float:
    rng = np.random.default_rng([seed, zlib.crc32(symbol.encode())])
    return float(rng.uniform(SPREAD_MIN, SPREAD_MAX))


def quote(spec: OptionSpec, spot: float, realised: float, now: datetime, seed: int) -> Quote | None:
    """The option's bid/ask now; None once expired."""
    return quotes([spec], spot, realised, now, seed)[0]


def quotes(
    specs: list[OptionSpec], spot: float, realised: float, now: datetime, seed: int
) -> list[Quote | None]:
    """Every option's ``quote`` with one vectorised pricing pass (a chain of thousands of options:
    the kernel called once per option cost ~2 ms each)."""
    if not specs:
        return []
    years = np.array([(spec.expiry - now).total_seconds() / SECONDS_PER_YEAR for spec in specs])
    live = (years > 0) & (spot > 0)
    strikes = np.array([float(spec.strike) for spec in specs])
    sigmas = [smile(spot, k, realised) if spot > 0 else VOL_FLOOR for k in strikes]
    is_call = np.array([spec.option_type == "call" for spec in specs])
    priced = bsm(is_call, spot, strikes, np.where(live, years, 1.0), 0.0, 0.0, np.array(sigmas))
    prices = np.asarray(priced.price)
    return [
        _priced(spec, float(price), sigma, seed) if ok else None
        for spec, price, sigma, ok in zip(specs, prices, sigmas, live, strict=True)
    ]


def _priced(spec: OptionSpec, price: float, sigma: float, seed: int) -> Quote:
    bid, ask = bid_ask(price, spread_fraction(seed, spec.symbol), spec.tick)
    return Quote(spec, bid, ask, price, sigma)


def bid_ask(price: float, fraction: float, tick: Decimal) -> tuple[Decimal | None, Decimal]:
    """The bid (None: below one tick) and the ask of a model ``price`` at a half spread of
    ``fraction × price``, rounded outwards to the ``tick``."""
    half = Decimal(repr(price * fraction))
    mid = Decimal(repr(price))
    ticks_bid = ((mid - half) / tick).to_integral_value(ROUND_FLOOR)
    ticks_ask = ((mid + half) / tick).to_integral_value(ROUND_CEILING)
    ask = max(ticks_ask, Decimal(1)) * tick
    bid = ticks_bid * tick if ticks_bid >= 1 else None
    if bid is not None and bid >= ask:  # a spread narrower than a tick
        bid = ask - tick if ask > tick else None
    return bid, ask


@dataclass(frozen=True)
class QuoteColumns:
    """``quotes`` of a chain as columns (None where an option has expired)."""

    bid: list[Decimal | None]
    ask: list[Decimal | None]
    model_price: list[float | None]
    model_volatility: list[float | None]


def quote_columns(  # noqa: PLR0917
    symbols: list[str],
    is_call: list[bool],
    strikes: list[Decimal],
    expiries: list[datetime],
    ticks: list[Decimal],
    spot: float,
    realised: float,
    now: datetime,
    fraction: Callable[[str], float],
) -> QuoteColumns:
    """The same quotes as ``quotes`` without an object per option: the smile and the prices in one
    numpy pass; ``fraction`` gives a symbol's spread fraction (``spread_fraction``, which the
    caller may cache: drawing it costs ~30 µs an option)."""
    if not symbols:
        return QuoteColumns([], [], [], [])
    years = np.array([(e - now).total_seconds() for e in expiries]) / SECONDS_PER_YEAR
    k = np.array([float(s) for s in strikes])
    priced, sigmas, live = model_prices(np.array(is_call), k, years, spot, realised)
    prices: list[float] = priced.tolist()
    sigma_list: list[float] = sigmas.tolist()
    fractions = [fraction(symbol) for symbol in symbols]
    bids, asks = _bid_ask_columns(prices, fractions, ticks, live)
    alive = live.tolist()
    return QuoteColumns(
        bids, asks, [p if ok else None for p, ok in zip(prices, alive, strict=True)],
        [v if ok else None for v, ok in zip(sigma_list, alive, strict=True)],
    )  # fmt: skip


def model_prices(
    is_call: Bools, strikes: F64, years: F64, spot: float, realised: float
) -> tuple[F64, F64, Bools]:
    """The model price and the smile's volatility of each option (``years`` to expiry), and which
    are live (not expired, a positive spot): the one pricing pass of both quote paths."""
    live = (years > 0) & (spot > 0)
    if spot > 0:
        base = min(max(realised, VOL_FLOOR), VOL_CAP)
        x = np.log(strikes / spot)
        sigmas = np.maximum(VOL_FLOOR, base * (1.0 + SKEW * x + CURVATURE * x * x))
    else:
        sigmas = np.full(len(strikes), VOL_FLOOR)
    priced = bsm(is_call, spot, strikes, np.where(live, years, 1.0), 0.0, 0.0, sigmas)
    return np.asarray(priced.price, dtype=np.float64), sigmas, live


def tick_counts(price: F64, fraction: F64, tick: F64) -> tuple[Int64s, Int64s, Bools]:
    """Each option's bid and ask as whole ticks, found in float64 (``bid_ask``'s rule: the bid
    rounded down, the ask up, at least one tick; a spread narrower than a tick puts the bid one
    tick under the ask; a bid under one tick is none, ``< 1`` here), and which counts must be found
    in Decimal by ``bid_ask`` instead (``exact``): a quotient within 1e-6 of a whole tick, where
    float's error (~1e-9 at most) could round it the other way, or a huge or non-finite one."""
    half = price * fraction
    x_bid, x_ask = (price - half) / tick, (price + half) / tick
    exact = (
        (np.abs(x_bid - np.round(x_bid)) < EXACT_WITHIN) | (np.abs(x_ask - np.round(x_ask)) < EXACT_WITHIN)
        | ~np.isfinite(x_bid) | ~np.isfinite(x_ask) | (np.abs(x_ask) > MAX_FLOAT_TICKS)
    )  # fmt: skip
    with np.errstate(invalid="ignore"):
        ask_n = np.where(exact, 1, np.maximum(np.ceil(x_ask), 1)).astype(np.int64)
        bid_n = np.where(exact, 0, np.floor(x_bid)).astype(np.int64)
    bid_n = np.where(bid_n >= ask_n, ask_n - 1, bid_n)
    return bid_n, ask_n, exact


def _bid_ask_columns(
    prices: list[float],
    fractions: list[float],
    ticks: list[Decimal],
    live: Bools,
) -> tuple[list[Decimal | None], list[Decimal | None]]:
    """``bid_ask`` of every live option from ``tick_counts``: the same as the Decimal arithmetic,
    whose own ``bid_ask`` finds the few counts ``tick_counts`` leaves to it."""
    tick_of: dict[Decimal, float] = {}
    tick_f = np.array([tick_of.setdefault(t, float(t)) for t in ticks])
    bid_n, ask_n, exact = tick_counts(np.array(prices), np.array(fractions), tick_f)
    bids: list[Decimal | None] = []
    asks: list[Decimal | None] = []
    rows = zip(
        prices, fractions, ticks, live.tolist(), exact.tolist(), bid_n.tolist(), ask_n.tolist(), strict=True
    )
    for price_i, fraction_i, tick, ok, slow, b, a in rows:
        if not ok:
            bids.append(None)
            asks.append(None)
        elif slow:
            bid, ask = bid_ask(price_i, fraction_i, tick)
            bids.append(bid)
            asks.append(ask)
        else:
            bids.append(Decimal(b) * tick if b >= 1 else None)
            asks.append(Decimal(a) * tick)
    return bids, asks
