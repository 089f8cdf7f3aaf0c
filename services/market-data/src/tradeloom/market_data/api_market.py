"""Market request handlers (thin): validate, resolve the symbol, read the store, shape the reply."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.market_data.candle_columns import columns_reply, packed_reply
from tradeloom.market_data.candles_encoding import EncodedCandlesReply
from tradeloom.market_data.domain.book import analyse
from tradeloom.market_data.domain.symbols import SymbolError, normalise_symbol
from tradeloom.market_data.domain.timeframes import TimeframeError, check_timeframe
from tradeloom.market_data.store import market_queries as q
from tradeloom.market_data.store.instruments_store import (
    Strikes,
    instrument_exists,
    list_instruments,
    option_expiries,
)
from tradeloom.market_data.store.timescale import candle_views
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data import (
    BookAnalytics,
    BookLevel,
    CandlesReply,
    CandlesRequest,
    InstrumentsReply,
    InstrumentsRequest,
    LatestPriceReply,
    OrderBookReply,
    OrderBookRequest,
    OverviewItem,
    OverviewReply,
    OverviewRequest,
    Stats24hReply,
    SymbolRequest,
    TradesReply,
    TradesRequest,
    TradeTick,
)
from tradeloom.shared.contracts.market_data_columns import CandleColumnsReply, CandleColumnsRequest
from tradeloom.shared.contracts.market_data_instruments import (
    OptionExpiries,
    OptionExpiriesReply,
    OptionExpiriesRequest,
)
from tradeloom.shared.errors import NotFound, field_invalid
from tradeloom.shared.rpc import RawReply

DAY_NS = 86_400 * 1_000_000_000
# How often the candles query re-checks whether TimescaleDB continuous aggregates exist (they are
# created by a start task, possibly after the first request).
CANDLE_VIEWS_RECHECK_S = 60.0


class MarketApi:
    def __init__(self, engine: Callable[[], AsyncEngine], schema: str, default_venue: str) -> None:
        self._engine = engine  # the runtime's engine exists only once it has started
        self.schema = schema
        self.default_venue = default_venue
        self._candle_views: dict[str, str] = {}
        self._candle_views_checked = -CANDLE_VIEWS_RECHECK_S

    async def candle_source(self, connection: AsyncConnection, timeframe: str) -> bool:
        """True when ``timeframe`` is read from a continuous aggregate instead of the roll-up."""
        now = time.monotonic()
        if now - self._candle_views_checked >= CANDLE_VIEWS_RECHECK_S:
            self._candle_views = await candle_views(connection, self.schema)
            self._candle_views_checked = now
        return timeframe in self._candle_views

    @property
    def engine(self) -> AsyncEngine:
        return self._engine()

    async def resolve(self, symbol: str, venue: str | None) -> tuple[str, str]:
        try:
            normalised = normalise_symbol(symbol)
        except SymbolError as error:
            raise field_invalid("symbol", str(error)) from None
        venue = venue or self.default_venue
        async with self.engine.connect() as connection:
            if not await instrument_exists(connection, self.schema, venue, normalised):
                raise NotFound(
                    f"unknown symbol {normalised} on venue {venue}", details={"symbol": normalised}
                )
        return venue, normalised

    async def _candle_rows(
        self, body: CandlesRequest | CandleColumnsRequest, *, as_float: bool
    ) -> tuple[str, str, list[Any]]:
        """Validation, symbol and one page of rows shared by ``candles`` and ``candles_columns``
        (their requests differ only in the limit): up to
        ``limit + 1`` rows, the extra one meaning there is a next page."""
        try:
            check_timeframe(body.timeframe)
        except TimeframeError as error:
            raise field_invalid("timeframe", str(error)) from None
        if body.from_ns is not None and body.to_ns is not None and body.from_ns > body.to_ns:
            raise field_invalid("from_ns", "must not be after to_ns")
        after = None
        if body.cursor is not None:
            if not body.cursor.isdigit():
                raise field_invalid("cursor", "not a cursor this service returned")
            after = int(body.cursor)
        venue, symbol = await self.resolve(body.symbol, body.venue)
        async with self.engine.connect() as connection:
            rows = await q.candles(
                connection,
                self.schema,
                venue,
                symbol,
                timeframe=body.timeframe,
                from_ns=body.from_ns,
                to_ns=body.to_ns,
                after_ns=after,
                limit=body.limit,
                from_aggregate=await self.candle_source(connection, body.timeframe),
                as_float=as_float,
            )
        return venue, symbol, rows

    @staticmethod
    def _next_cursor(rows: list[Any], limit: int) -> str | None:
        return str(rows[limit - 1][0]) if len(rows) > limit else None

    async def candles(self, _: CallerContext, body: CandlesRequest) -> CandlesReply:
        venue, symbol, rows = await self._candle_rows(body, as_float=False)
        # Encoded straight from the database's text: no Decimal or model per candle (candles_encoding).
        return EncodedCandlesReply.of(
            venue=venue,
            symbol=symbol,
            timeframe=body.timeframe,
            rows=rows[: body.limit],
            next_cursor=self._next_cursor(rows, body.limit),
        )

    async def candles_columns(self, _: CallerContext, body: CandleColumnsRequest) -> CandleColumnsReply:
        """The same page as ``candles`` (same cursor), as base64 int64/float64 columns."""
        venue, symbol, rows = await self._candle_rows(body, as_float=True)
        return columns_reply(
            venue=venue,
            symbol=symbol,
            timeframe=body.timeframe,
            rows=rows[: body.limit],
            next_cursor=self._next_cursor(rows, body.limit),
        )

    async def candles_packed(self, _: CallerContext, body: CandleColumnsRequest) -> RawReply:
        """The same page as ``candles_columns`` as one binary frame (``contracts.market_data_packed``)."""
        venue, symbol, rows = await self._candle_rows(body, as_float=True)
        return packed_reply(
            venue=venue,
            symbol=symbol,
            timeframe=body.timeframe,
            rows=rows[: body.limit],
            next_cursor=self._next_cursor(rows, body.limit),
        )

    async def latest_price(self, _: CallerContext, body: SymbolRequest) -> LatestPriceReply:
        venue, symbol = await self.resolve(body.symbol, body.venue)
        async with self.engine.connect() as connection:
            state = await q.market_state(connection, self.schema, venue, symbol)
        if state is None:
            raise NotFound(f"no trades yet for {symbol} on {venue}", details={"symbol": symbol})
        return LatestPriceReply(
            venue=venue,
            symbol=symbol,
            price=state.last_price,
            ts_ns=state.last_ts_ns,
            trade_id=state.last_tid,
        )

    async def trades(self, _: CallerContext, body: TradesRequest) -> TradesReply:
        venue, symbol = await self.resolve(body.symbol, body.venue)
        async with self.engine.connect() as connection:
            rows = await q.recent_trades(connection, self.schema, venue, symbol, body.limit)
        return TradesReply(
            venue=venue, symbol=symbol, trades=[TradeTick.model_validate(dict(r._mapping)) for r in rows]
        )

    async def order_book(self, _: CallerContext, body: OrderBookRequest) -> OrderBookReply:
        venue, symbol = await self.resolve(body.symbol, body.venue)
        async with self.engine.connect() as connection:
            row = await q.latest_book(connection, self.schema, venue, symbol)
        if row is None:
            raise NotFound(f"no order book yet for {symbol} on {venue}", details={"symbol": symbol})
        bids = [(Decimal(p), Decimal(a)) for p, a in row.bids[: body.depth]]
        asks = [(Decimal(p), Decimal(a)) for p, a in row.asks[: body.depth]]
        analytics = analyse(bids, asks, body.band_bps)
        return OrderBookReply(
            venue=venue,
            symbol=symbol,
            ts_ns=row.ts_ns,
            seq=row.seq,
            bids=[BookLevel(price=p, amount=a) for p, a in bids],
            asks=[BookLevel(price=p, amount=a) for p, a in asks],
            analytics=BookAnalytics.model_validate(analytics.__dict__),
        )

    async def _stats(self, venue: str, symbol: str, now_ns: int) -> OverviewItem:
        async with self.engine.connect() as connection:
            row = await q.window_stats(
                connection, self.schema, venue, symbol, from_ns=now_ns - DAY_NS, to_ns=now_ns
            )
        change = change_pct = None
        if row.open is not None and row.last is not None:
            change = row.last - row.open
            change_pct = (change / row.open * 100).quantize(Decimal("0.0001")) if row.open else None
        return OverviewItem(
            venue=venue,
            symbol=symbol,
            from_ns=now_ns - DAY_NS,
            to_ns=now_ns,
            open=row.open,
            high=row.high,
            low=row.low,
            last=row.last,
            change=change,
            change_pct=change_pct,
            volume=row.volume,
            trade_count=row.trade_count,
            volatility=q.annualised(float(row.sd) if row.sd is not None else None),
        )

    async def stats_24h(self, _: CallerContext, body: SymbolRequest) -> Stats24hReply:
        venue, symbol = await self.resolve(body.symbol, body.venue)
        item = await self._stats(venue, symbol, time.time_ns())
        return Stats24hReply.model_validate(item.model_dump(exclude={"volatility"}))

    async def overview(self, _: CallerContext, body: OverviewRequest) -> OverviewReply:
        async with self.engine.connect() as connection:
            symbols = await q.symbols_of(connection, self.schema, body.venue)
        now_ns = time.time_ns()
        return OverviewReply(items=[await self._stats(venue, symbol, now_ns) for venue, symbol in symbols])

    async def instruments(self, _: CallerContext, body: InstrumentsRequest) -> InstrumentsReply:
        underlying = None if body.underlying is None else _underlying(body.underlying)
        if body.strike_from is not None and body.strike_to is not None and body.strike_from > body.strike_to:
            raise field_invalid("strike_to", "must not be below strike_from")
        strikes = Strikes(body.strike_from, body.strike_to, body.limit)
        async with self.engine.connect() as connection:
            found = await list_instruments(
                connection, self.schema, body.venue, body.kind, body.status,
                underlying=underlying, expiry=body.expiry, strikes=strikes,
            )  # fmt: skip
        return InstrumentsReply(instruments=found)

    async def option_expiries(self, _: CallerContext, body: OptionExpiriesRequest) -> OptionExpiriesReply:
        """The expiries of an underlying's listed options, without their records (a chain's
        expiry picker: a venue may list thousands of options)."""
        underlying, venue = _underlying(body.underlying), body.venue or self.default_venue
        async with self.engine.connect() as connection:
            found = await option_expiries(connection, self.schema, venue, underlying, body.status)
        return OptionExpiriesReply(
            venue=venue, underlying=underlying,
            expiries=[OptionExpiries(expiry=expiry, options=n) for expiry, n in found],
        )  # fmt: skip


def _underlying(symbol: str) -> str:
    try:
        return normalise_symbol(symbol)
    except SymbolError as error:
        raise field_invalid("underlying", str(error)) from None
