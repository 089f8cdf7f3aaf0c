"""``option_chain_quotes``: one expiry's listed options with their synthetic quotes as columns, from
one read of the registry (the listing of ``instruments`` and the quotes of ``option_quotes``
together; the quoting model is ``domain/option_quotes.py``).

Two things are remembered between requests, because a chain asks for thousands of options several
times a second: the underlying's realised volatility (a 24 h aggregate over up to 1,440 candles)
for ``option_volatility_cache_s`` per (venue, underlying), and each symbol's spread fraction (a
pure function of the seed and the symbol, ~30 µs to draw).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import numpy as np
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.market_data.domain.option_quotes import quote_columns, spread_fraction
from tradeloom.market_data.domain.symbols import SymbolError, normalise_symbol
from tradeloom.market_data.store import market_queries as q
from tradeloom.market_data.store.instruments_store import Strikes, option_listing
from tradeloom.market_data.store.venue_option_quotes_store import newest_quote_ns
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data_chain_quotes import (
    OptionChainQuotesF64Reply,
    OptionChainQuotesReply,
    OptionChainQuotesRequest,
)
from tradeloom.shared.errors import NotFound, field_invalid

DAY_NS = 86_400 * 1_000_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NAN = float("nan")
MAX_FRACTIONS = 200_000  # symbols whose spread fraction is remembered (then forgotten at once)


class VolatilityCache:
    """Realised volatility per key, kept ``ttl_s`` seconds of ``clock`` (monotonic by default)."""

    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self._values: dict[tuple[str, str], tuple[float, float]] = {}

    def get(self, key: tuple[str, str]) -> float | None:
        found = self._values.get(key)
        if found is None or self.clock() >= found[0]:
            return None
        return found[1]

    def put(self, key: tuple[str, str], value: float) -> None:
        if self.ttl_s > 0:
            self._values[key] = (self.clock() + self.ttl_s, value)


@dataclass
class Chain:
    """What both replies carry, as lists (index ``i``: the option ``symbols[i]``)."""

    venue: str
    underlying: str
    spot: Decimal | None
    spot_ts_ns: int | None
    realised: float | None
    venue_quotes: bool
    symbols: list[str]
    types: list[Literal["call", "put"]]
    strikes: list[Decimal]
    expiries: list[datetime]
    bid: list[Decimal | None]
    ask: list[Decimal | None]
    price: list[float | None]
    vol: list[float | None]


def _f64(values: Sequence[Decimal | float | None]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The nearest float64 of each value (as ``float()`` of its decimal string), NaN for None."""
    return np.array([NAN if v is None else float(v) for v in values], dtype="<f8")


def _ns(moment: datetime) -> int:
    """UTC nanoseconds, exactly (no float seconds in between)."""
    return (moment - EPOCH) // timedelta(microseconds=1) * 1_000


def _b64(array: np.ndarray[Any, Any]) -> str:
    return base64.b64encode(array.tobytes()).decode("ascii")


def decimal_reply(chain: Chain) -> OptionChainQuotesReply:
    """``option_chain_quotes``' reply: the decimals as decimal strings."""
    return OptionChainQuotesReply.model_construct(
        venue=chain.venue, underlying=chain.underlying, spot=chain.spot, spot_ts_ns=chain.spot_ts_ns,
        realised_volatility=chain.realised, venue_quotes=chain.venue_quotes, symbol=chain.symbols,
        option_type=chain.types, strike=chain.strikes, expiry=chain.expiries, bid=chain.bid,
        ask=chain.ask, model_price=chain.price, model_volatility=chain.vol,
    )  # fmt: skip


def f64_reply(chain: Chain) -> OptionChainQuotesF64Reply:
    """``option_chain_quotes_f64``'s reply: the same figures as base64 binary columns (NaN for
    null), each the nearest float64 of its decimal: what a reader parses from the JSON op."""
    ns = {e: _ns(e) for e in set(chain.expiries)}  # a chain has one expiry, a strike two options:
    strike = {k: float(k) for k in set(chain.strikes)}  # each converted once
    return OptionChainQuotesF64Reply.model_construct(
        venue=chain.venue, underlying=chain.underlying, spot=chain.spot, spot_ts_ns=chain.spot_ts_ns,
        realised_volatility=chain.realised, venue_quotes=chain.venue_quotes, count=len(chain.symbols),
        symbol=chain.symbols,
        is_call=_b64(np.array([t == "call" for t in chain.types], dtype="<u1")),
        strike=_b64(np.array([strike[k] for k in chain.strikes], dtype="<f8")),
        expiry_ns=_b64(np.array([ns[e] for e in chain.expiries], dtype="<i8")),
        bid=_b64(_f64(chain.bid)), ask=_b64(_f64(chain.ask)),
        model_price=_b64(_f64(chain.price)), model_volatility=_b64(_f64(chain.vol)),
    )  # fmt: skip


class OptionChainQuotesApi:
    def __init__(  # noqa: PLR0917
        self, engine: Callable[[], AsyncEngine], schema: str, default_venue: str, seed: int,
        fallback_vol: float, volatility: VolatilityCache,
    ) -> None:  # fmt: skip
        self._engine = engine
        self.schema = schema
        self.default_venue = default_venue
        self.seed = seed
        self.fallback_vol = fallback_vol
        self.volatility = volatility
        self._fractions: dict[str, float] = {}

    async def option_chain_quotes(
        self, _: CallerContext, body: OptionChainQuotesRequest
    ) -> OptionChainQuotesReply:
        return decimal_reply(await self._chain(body))

    async def option_chain_quotes_f64(
        self, _: CallerContext, body: OptionChainQuotesRequest
    ) -> OptionChainQuotesF64Reply:
        return f64_reply(await self._chain(body))

    async def _chain(self, body: OptionChainQuotesRequest) -> Chain:
        """The listing in the request's strike range and its quotes (the figures of both ops)."""
        try:
            underlying = normalise_symbol(body.underlying)
        except SymbolError as error:
            raise field_invalid("underlying", str(error)) from None
        if body.strike_from is not None and body.strike_to is not None and body.strike_from > body.strike_to:
            raise field_invalid("strike_to", "must not be below strike_from")
        venue = body.venue or self.default_venue
        window = Strikes(body.strike_from, body.strike_to, body.limit)
        async with self._engine().connect() as conn:
            rows = await option_listing(
                conn, self.schema, venue, underlying=underlying, expiry=body.expiry, strikes=window
            )
            if not rows:
                raise NotFound(
                    f"no listed options on {underlying} at {venue} expiring {body.expiry}",
                    details={"underlying": underlying},
                )
            state = await q.market_state(conn, self.schema, venue, underlying)
            imported = await newest_quote_ns(conn, self.schema, venue, underlying)
            realised = None if state is None else await self._realised(conn, venue, underlying)
        # the listing's columns (in option_listing's column order), without an attribute lookup per row
        symbols, types, strikes, expiries, ticks = (list(column) for column in zip(*rows, strict=True))
        n = len(rows)
        chain = Chain(
            venue, underlying, None if state is None else state.last_price,
            None if state is None else state.last_ts_ns, realised, imported is not None, symbols, types,
            strikes, expiries, [None] * n, [None] * n, [None] * n, [None] * n,
        )  # fmt: skip
        if state is not None and realised is not None:
            made = quote_columns(
                symbols, [t == "call" for t in types], strikes, expiries, ticks, float(state.last_price),
                realised, datetime.now(UTC), self._fraction,
            )  # fmt: skip
            chain.bid, chain.ask, chain.price, chain.vol = (
                made.bid,
                made.ask,
                made.model_price,
                made.model_volatility,
            )
        return chain

    async def _realised(self, conn: AsyncConnection, venue: str, underlying: str) -> float:
        """As ``option_quotes`` computes it, from the cache while it is fresh."""
        cached = self.volatility.get((venue, underlying))
        if cached is not None:
            return cached
        now_ns = time.time_ns()
        stats = await q.window_stats(
            conn, self.schema, venue, underlying, from_ns=now_ns - DAY_NS, to_ns=now_ns
        )
        realised = q.annualised(float(stats.sd) if stats.sd is not None else None) or self.fallback_vol
        self.volatility.put((venue, underlying), realised)
        return realised

    def _fraction(self, symbol: str) -> float:
        found = self._fractions.get(symbol)
        if found is None:
            if len(self._fractions) >= MAX_FRACTIONS:
                self._fractions.clear()
            found = self._fractions[symbol] = spread_fraction(self.seed, symbol)
        return found
