"""The synthetic quotes of ``option_quotes.quote_columns`` as float64 columns, for
``option_chain_quotes_f64``: the same figures without a Decimal per option.

``option_chain_quotes_f64`` promises each figure as the float64 nearest ``option_chain_quotes``'
decimal. A bid or an ask is ``n`` ticks, and a tick is ``m · 10^e`` with ``m`` a whole number, so
the decimal is ``n·m · 10^e``: ``n·m`` is exact in float64 while it is under 2^53, and ``10^|e|``
is exact up to 10^22, so one IEEE division (``e < 0``) or multiplication (``e ≥ 0``) of exact
operands gives the correctly rounded, i.e. nearest, float64 of the decimal, which is what
``float(Decimal(n) * tick)`` gives. Ticks outside those bounds, and the tick counts that
``tick_counts`` leaves to Decimal, are converted from ``bid_ask``'s own decimals.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from tradeloom.market_data.domain.option_quotes import (
    SECONDS_PER_YEAR,
    Bools,
    Int64s,
    bid_ask,
    model_prices,
    tick_counts,
)
from tradeloom.quant.options.bsm import F64

NAN = float("nan")
MAX_EXACT_UNITS = 2**23  # with tick counts under MAX_FLOAT_TICKS (1e9 < 2^30), n·m stays under 2^53
MAX_EXACT_EXPONENT = 22  # 10^22 is the largest power of ten exact in float64


@dataclass(frozen=True)
class TickGrid:
    """Each option's tick (``ticks[i]``) as ``units · 10^exponent`` for ``nearest_floats``."""

    ticks: list[Decimal]
    tick: F64  # float(tick)
    units: F64  # m, exact in float64
    divisor: F64  # 10^-e where e < 0, else 1
    factor: F64  # 10^e where e >= 0, else 1
    exact: Bools  # False: a tick outside the float route's bounds (its figures come from Decimal)


def tick_grid(ticks: list[Decimal]) -> TickGrid:
    """The grid of ``ticks`` (each distinct tick decomposed once: a chain has one or a few)."""
    parts: dict[Decimal, tuple[float, float, float, float, bool]] = {}
    for tick in set(ticks):
        sign, digits, exponent = tick.as_tuple()
        units = int("".join(map(str, digits)) or "0")
        e = int(exponent)
        ok = sign == 0 and 0 < units <= MAX_EXACT_UNITS and abs(e) <= MAX_EXACT_EXPONENT
        down = 10.0**-e if ok and e < 0 else 1.0
        up = 10.0**e if ok and e >= 0 else 1.0
        parts[tick] = (float(tick), float(units), down, up, ok)
    rows = [parts[t] for t in ticks]
    tick_f, units_f, divisor, factor = (
        np.array([row[i] for row in rows], dtype=np.float64) for i in range(4)
    )
    return TickGrid(
        list(ticks), tick_f, units_f, divisor, factor, np.array([row[4] for row in rows], dtype=bool)
    )


def nearest_floats(counts: Int64s, grid: TickGrid) -> F64:
    """``float(Decimal(counts[i]) * ticks[i])`` for every option whose tick is ``exact`` and whose
    count is under 1e9 (the caller's ``tick_counts`` keeps them there), one array operation."""
    return np.asarray((counts.astype(np.float64) * grid.units) / grid.divisor * grid.factor, dtype=np.float64)


@dataclass(frozen=True)
class QuoteFloats:
    """``quote_columns``' figures as float64 (NaN where it has None)."""

    bid: F64
    ask: F64
    model_price: F64
    model_volatility: F64


def quote_floats(  # noqa: PLR0917
    is_call: Bools,
    strikes: F64,
    expiry_us: Int64s,
    fractions: F64,
    grid: TickGrid,
    spot: float,
    realised: float,
    now_us: int,
) -> QuoteFloats:
    """The quotes of ``quote_columns`` (the same model pass, ``model_prices``) with the bids and
    asks as the nearest float64 of its decimals. ``expiry_us`` and ``now_us``: UTC microseconds
    (so the years to expiry are ``timedelta.total_seconds()``'s, to the bit)."""
    n = len(strikes)
    if n == 0:
        empty = np.empty(0, dtype=np.float64)
        return QuoteFloats(empty, empty, empty, empty)
    years = (expiry_us - now_us).astype(np.float64) / 1e6 / SECONDS_PER_YEAR
    prices, sigmas, live = model_prices(is_call, strikes, years, spot, realised)
    bid_n, ask_n, slow = tick_counts(prices, fractions, grid.tick)
    bid = np.where(bid_n >= 1, nearest_floats(bid_n, grid), NAN)
    ask = nearest_floats(ask_n, grid)
    decimal = live & (slow | ~grid.exact)
    for i in np.flatnonzero(decimal).tolist():
        low, high = bid_ask(float(prices[i]), float(fractions[i]), grid.ticks[i])
        bid[i] = NAN if low is None else float(low)
        ask[i] = float(high)
    dead = ~live
    return QuoteFloats(
        np.where(dead, NAN, bid), np.where(dead, NAN, ask), np.where(dead, NAN, prices),
        np.where(dead, NAN, sigmas),
    )  # fmt: skip
