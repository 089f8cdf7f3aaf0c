"""``funding_rates`` and ``mark_price`` of perpetual instruments (handlers)."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.market_data.domain.funding import FUNDING_INTERVAL_S, next_funding_time
from tradeloom.market_data.domain.symbols import SymbolError, normalise_symbol
from tradeloom.market_data.store.funding_store import funding_history, last_funding, price_at
from tradeloom.market_data.store.instruments_store import list_instruments
from tradeloom.market_data.store.perp_marks_store import venue_mark_row
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data_funding import (
    FundingRate,
    FundingRatesReply,
    FundingRatesRequest,
    MarkPriceReply,
    MarkPriceRequest,
)
from tradeloom.shared.errors import NotFound, field_invalid


class FundingApi:
    def __init__(self, engine: Callable[[], AsyncEngine], schema: str, default_venue: str) -> None:
        self._engine = engine
        self.schema = schema
        self.default_venue = default_venue

    async def _perpetual(self, symbol: str, venue: str | None) -> tuple[str, str]:
        """(venue, symbol) of a listed perpetual; 404 for anything else, 422 for a bad spelling."""
        try:
            normalised = normalise_symbol(symbol)
        except SymbolError as error:
            raise field_invalid("symbol", str(error)) from None
        venue = venue or self.default_venue
        async with self._engine().connect() as conn:
            perps = await list_instruments(conn, self.schema, venue, "perpetual", None)
        if normalised not in {i.symbol for i in perps}:
            raise NotFound(f"no perpetual {normalised} on venue {venue}", details={"symbol": normalised})
        return venue, normalised

    async def funding_rates(self, _: CallerContext, body: FundingRatesRequest) -> FundingRatesReply:
        lo, hi = body.from_ns or 0, body.to_ns if body.to_ns is not None else time.time_ns() + 1
        if lo >= hi:
            raise field_invalid("from_ns", "from_ns must be before to_ns")
        venue, symbol = await self._perpetual(body.symbol, body.venue)
        async with self._engine().connect() as conn:
            rows = await funding_history(
                conn, self.schema, venue, symbol, from_ns=lo, to_ns=hi, limit=body.limit
            )
            venue_mark = await venue_mark_row(conn, self.schema, venue, symbol)
        items = [
            FundingRate(funding_time_ns=r.funding_time_ns, rate=r.rate, mark_price=r.mark_price) for r in rows
        ]
        interval = FUNDING_INTERVAL_S if venue_mark is None else venue_mark.funding_interval_s
        return FundingRatesReply(venue=venue, symbol=symbol, funding_interval_s=interval, items=items)

    async def mark_price(self, _: CallerContext, body: MarkPriceRequest) -> MarkPriceReply:
        venue, symbol = await self._perpetual(body.symbol, body.venue)
        now = time.time_ns()
        async with self._engine().connect() as conn:
            venue_mark = await venue_mark_row(conn, self.schema, venue, symbol)
            mark = await price_at(conn, self.schema, venue, symbol, now)
            last = await last_funding(conn, self.schema, venue, symbol)
        if venue_mark is not None:  # a ccxt venue's perpetual: the venue's own mark and schedule
            return MarkPriceReply(
                venue=venue, symbol=symbol, mark_price=venue_mark.mark_price, ts_ns=venue_mark.ts_ns,
                last_funding_rate=venue_mark.last_funding_rate,
                next_funding_time_ns=venue_mark.next_funding_time_ns,
                funding_interval_s=venue_mark.funding_interval_s,
            )  # fmt: skip
        if mark is None:
            raise NotFound(f"no trade of {symbol} on {venue} yet: no mark price", details={"symbol": symbol})
        return MarkPriceReply(
            venue=venue,
            symbol=symbol,
            mark_price=mark.price,
            ts_ns=mark.ts_ns,
            last_funding_rate=None if last is None else last.rate,
            next_funding_time_ns=next_funding_time(now),
            funding_interval_s=FUNDING_INTERVAL_S,
        )
