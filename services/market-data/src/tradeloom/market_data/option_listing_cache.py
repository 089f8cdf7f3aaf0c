"""An expiry's option listing as ``option_chain_quotes`` uses it, kept between requests.

A chain asks for the same thousands of options several times a second while the registry changes
them a few times a day, and reading and unpacking 4,000 rows cost more than pricing them. A kept
listing is used only while the registry's fingerprint of the expiry (``ChainState.listing``, read
in the request's one statement) is the one it was read under. The fingerprint is read before the
listing, so a change committed between the two reads makes the next request read it again, never
keeps a stale listing.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import numpy as np

from tradeloom.market_data.domain.b64_columns import b64
from tradeloom.market_data.domain.option_quote_floats import TickGrid, tick_grid
from tradeloom.market_data.domain.option_quotes import Bools, Int64s
from tradeloom.quant.options.bsm import F64

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_LISTINGS = 16  # (venue, underlying, expiry, strike window, limit) kept, the oldest dropped first
# (a 4,000-option listing holds ~2 MB of Python objects: 16 are ~32 MB at most)


def epoch_us(moment: datetime) -> int:
    """UTC microseconds, exactly (no float seconds in between)."""
    return (moment - EPOCH) // timedelta(microseconds=1)


@dataclass(frozen=True)
class Packed:
    """The float reply's columns that do not move, base64 once."""

    is_call: str
    strike: str
    expiry_ns: str


@dataclass(frozen=True)
class Listing:
    """The options (index ``i``: ``symbols[i]``, by strike then symbol) as lists for the decimal
    reply and as arrays for the float one."""

    symbols: list[str]
    types: list[Literal["call", "put"]]
    strikes: list[Decimal]
    expiries: list[datetime]
    ticks: list[Decimal]
    is_call: Bools
    strike: F64
    expiry_us: Int64s
    fractions: F64
    grid: TickGrid
    packed: Packed


def listing_of(rows: Sequence[Sequence[Any]], fraction: Callable[[str], float]) -> Listing:
    """``option_listing``'s rows (``symbol, option_type, strike, expiry, tick_size``) as a
    ``Listing``; ``fraction``: a symbol's spread fraction."""
    if not rows:
        return Listing([], [], [], [], [], np.empty(0, bool), np.empty(0), np.empty(0, np.int64), np.empty(0),
                       tick_grid([]), Packed("", "", ""))  # fmt: skip
    symbols, types, strikes, expiries, ticks = (list(column) for column in zip(*rows, strict=True))
    us = {e: epoch_us(e) for e in set(expiries)}  # a chain has one expiry, a strike two options:
    as_float = {k: float(k) for k in set(strikes)}  # each converted once
    is_call = np.array([t == "call" for t in types], dtype=bool)
    strike = np.array([as_float[k] for k in strikes], dtype=np.float64)
    expiry_us = np.array([us[e] for e in expiries], dtype=np.int64)
    expiry_ns = (expiry_us * 1_000).astype("<i8")
    packed = Packed(b64(is_call.astype("<u1")), b64(strike.astype("<f8")), b64(expiry_ns))
    return Listing(
        symbols, types, strikes, expiries, ticks, is_call, strike, expiry_us,
        np.array([fraction(s) for s in symbols], dtype=np.float64), tick_grid(ticks), packed,
    )  # fmt: skip


class ListingCache:
    """Listings by request key, each with the fingerprint it was read under."""

    def __init__(self, max_entries: int = MAX_LISTINGS) -> None:
        self.max_entries = max_entries
        self._kept: dict[Hashable, tuple[Hashable, Listing]] = {}

    def get(self, key: Hashable, fingerprint: Hashable) -> Listing | None:
        """The listing kept for ``key`` if it was read under this ``fingerprint``."""
        found = self._kept.get(key)
        return found[1] if found is not None and found[0] == fingerprint else None

    def put(self, key: Hashable, fingerprint: Hashable, listing: Listing) -> None:
        self._kept.pop(key, None)
        if len(self._kept) >= self.max_entries:
            self._kept.pop(next(iter(self._kept)))
        self._kept[key] = (fingerprint, listing)
