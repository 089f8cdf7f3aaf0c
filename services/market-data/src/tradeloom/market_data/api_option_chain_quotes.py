"""``option_chain_quotes``: one expiry's listed options with their synthetic quotes as columns, from
one read of the registry (the listing of ``instruments`` and the quotes of ``option_quotes``
together; the quoting model is ``domain/option_quotes.py``).

Three things are remembered between requests, because a chain asks for thousands of options
several times a second: the expiry's listing while the registry's fingerprint of it is unchanged
(``option_listing_cache.py``; the fingerprint, the underlying's last trade and the newest imported
quote are one statement a request), the underlying's realised volatility (a 24 h aggregate over up
to 1,440 candles) for ``option_volatility_cache_s`` per (venue, underlying), and each symbol's
spread fraction (a pure function of the seed and the symbol, ~30 µs to draw).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.market_data.domain.b64_columns import b64
from tradeloom.market_data.domain.option_quote_floats import quote_floats
from tradeloom.market_data.domain.option_quotes import quote_columns, spread_fraction
from tradeloom.market_data.domain.symbols import SymbolError, normalise_symbol
from tradeloom.market_data.option_listing_cache import Listing, ListingCache, epoch_us, listing_of
from tradeloom.market_data.store import market_queries as q
from tradeloom.market_data.store.chain_state_store import chain_state
from tradeloom.market_data.store.instruments_store import Strikes, option_listing
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data_chain_quotes import (
    OptionChainQuotesF64Reply,
    OptionChainQuotesReply,
    OptionChainQuotesRequest,
)
from tradeloom.shared.errors import NotFound, field_invalid
from tradeloom.shared.ttl_cache import TtlCache

DAY_NS = 86_400 * 1_000_000_000
NAN = float("nan")
MAX_FRACTIONS = 200_000  # symbols whose spread fraction is remembered (then forgotten at once)


def volatility_cache(
    ttl_s: float, clock: Callable[[], float] = time.monotonic
) -> TtlCache[tuple[str, str], float]:
    """Realised volatility per (venue, symbol), kept ``ttl_s`` seconds of ``clock``."""
    return TtlCache(ttl_s, clock=clock)


@dataclass(frozen=True)
class Chain:
    """What both replies carry: the listing, and what is known of the underlying now."""

    venue: str
    underlying: str
    spot: Decimal | None
    spot_ts_ns: int | None
    realised: float | None  # None: no trade of the underlying yet, so no quotes
    venue_quotes: bool
    listing: Listing
    now: datetime

    def header(self) -> dict[str, Any]:
        return {
            "venue": self.venue, "underlying": self.underlying, "spot": self.spot,
            "spot_ts_ns": self.spot_ts_ns, "realised_volatility": self.realised,
            "venue_quotes": self.venue_quotes,
        }  # fmt: skip


def decimal_reply(chain: Chain, fraction: Callable[[str], float]) -> OptionChainQuotesReply:
    """``option_chain_quotes``' reply: the decimals as decimal strings."""
    listing, n = chain.listing, len(chain.listing.symbols)
    bid: list[Decimal | None] = [None] * n
    ask: list[Decimal | None] = [None] * n
    price: list[float | None] = [None] * n
    vol: list[float | None] = [None] * n
    if chain.spot is not None and chain.realised is not None:
        made = quote_columns(
            listing.symbols, listing.is_call.tolist(), listing.strikes, listing.expiries, listing.ticks,
            float(chain.spot), chain.realised, chain.now, fraction,
        )  # fmt: skip
        bid, ask, price, vol = made.bid, made.ask, made.model_price, made.model_volatility
    return OptionChainQuotesReply.model_construct(
        **chain.header(), symbol=listing.symbols, option_type=listing.types, strike=listing.strikes,
        expiry=listing.expiries, bid=bid, ask=ask, model_price=price, model_volatility=vol,
    )  # fmt: skip


def f64_reply(chain: Chain) -> OptionChainQuotesF64Reply:
    """``option_chain_quotes_f64``'s reply: the same figures as base64 binary columns (NaN for
    null), each the nearest float64 of its decimal: what a reader parses from the JSON op."""
    listing, n = chain.listing, len(chain.listing.symbols)
    if chain.spot is not None and chain.realised is not None:
        made = quote_floats(
            listing.is_call, listing.strike, listing.expiry_us, listing.fractions, listing.grid,
            float(chain.spot), chain.realised, epoch_us(chain.now),
        )  # fmt: skip
        bid, ask, price, vol = made.bid, made.ask, made.model_price, made.model_volatility
    else:
        bid = ask = price = vol = np.full(n, NAN)
    return OptionChainQuotesF64Reply.model_construct(
        **chain.header(), count=n, symbol=listing.symbols, is_call=listing.packed.is_call,
        strike=listing.packed.strike, expiry_ns=listing.packed.expiry_ns, bid=b64(bid.astype("<f8")),
        ask=b64(ask.astype("<f8")), model_price=b64(price.astype("<f8")),
        model_volatility=b64(vol.astype("<f8")),
    )  # fmt: skip


class OptionChainQuotesApi:
    def __init__(  # noqa: PLR0917
        self, engine: Callable[[], AsyncEngine], schema: str, default_venue: str, seed: int,
        fallback_vol: float, volatility: TtlCache[tuple[str, str], float],
    ) -> None:  # fmt: skip
        self._engine = engine
        self.schema = schema
        self.default_venue = default_venue
        self.seed = seed
        self.fallback_vol = fallback_vol
        self.volatility = volatility
        self.listings = ListingCache()
        self._fractions: dict[str, float] = {}

    async def option_chain_quotes(
        self, _: CallerContext, body: OptionChainQuotesRequest
    ) -> OptionChainQuotesReply:
        return decimal_reply(await self._chain(body), self._fraction)

    async def option_chain_quotes_f64(
        self, _: CallerContext, body: OptionChainQuotesRequest
    ) -> OptionChainQuotesF64Reply:
        return f64_reply(await self._chain(body))

    async def _chain(self, body: OptionChainQuotesRequest) -> Chain:
        """The listing in the request's strike range (kept while the registry's fingerprint of the
        expiry holds) and what is known of the underlying now."""
        try:
            underlying = normalise_symbol(body.underlying)
        except SymbolError as error:
            raise field_invalid("underlying", str(error)) from None
        if body.strike_from is not None and body.strike_to is not None and body.strike_from > body.strike_to:
            raise field_invalid("strike_to", "must not be below strike_from")
        venue = body.venue or self.default_venue
        key = (venue, underlying, body.expiry, body.strike_from, body.strike_to, body.limit)
        async with self._engine().connect() as conn:
            state = await chain_state(conn, self.schema, venue, underlying, body.expiry)
            listing = self.listings.get(key, state.listing)
            if listing is None:  # read after the fingerprint (option_listing_cache.py says why)
                window = Strikes(body.strike_from, body.strike_to, body.limit)
                rows = await option_listing(
                    conn, self.schema, venue, underlying=underlying, expiry=body.expiry, strikes=window
                )
                listing = listing_of(rows, self._fraction)
                self.listings.put(key, state.listing, listing)
            if not listing.symbols:
                raise NotFound(
                    f"no listed options on {underlying} at {venue} expiring {body.expiry}",
                    details={"underlying": underlying},
                )
            traded = state.last_price is not None
            realised = await self._realised(conn, venue, underlying) if traded else None
        return Chain(
            venue, underlying, state.last_price, state.last_ts_ns, realised,
            state.newest_quote_ns is not None, listing, datetime.now(UTC),
        )  # fmt: skip

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
