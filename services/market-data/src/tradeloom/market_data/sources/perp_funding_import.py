"""A ccxt venue's linear perpetuals: registry, funding-rate history and the current mark.

Every ``interval_s`` (``TL_MARKET_DATA_PERPETUALS``, each entry a ``LIVE_SOURCES`` venue and some
of its perpetuals), per venue: ``load_markets`` with only the linear derivative markets (Binance:
``fapi`` ``exchangeInfo``) stores every swap market as a perpetual (contract size, settle asset);
then per symbol ``fetch_funding_rate_history(symbol, since, limit)`` pages forward from the newest
stored funding time (or ``history_days`` back when none is stored) until a short page, each page
inserted into ``funding_rates`` keyed by venue, symbol and funding time (a rerun, a restart or a
second replica stores nothing twice); and ``fetch_funding_rate`` (Binance: ``premiumIndex``) gives
the current mark, index, last rate and next funding time, kept in ``perp_marks``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.market_data.domain.perp_funding import funding_interval_s, funding_row, venue_mark
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.market_data.source_settings import LiveSourceSettings, PerpetualsSettings
from tradeloom.market_data.sources.ccxt_exchange import instruments_from_markets, make_exchange
from tradeloom.market_data.store.funding_store import last_funding
from tradeloom.market_data.store.instruments_store import upsert_instruments
from tradeloom.market_data.store.perp_marks_store import insert_funding, newest_funding_times, store_mark
from tradeloom.shared.aio import wait_for_stop
from tradeloom.shared.runtime import ServiceRuntime

log = logging.getLogger(__name__)
DAY_MS = 86_400_000


@dataclass
class PerpImport:
    """What one symbol's import did."""

    pages: int = 0
    fetched: int = 0
    stored: int = 0
    skipped: int = 0


class PerpFundingImporter:
    def __init__(
        self, engine: Callable[[], AsyncEngine], schema: str, venues: dict[str, LiveSourceSettings],
        perpetuals: list[PerpetualsSettings], *, interval_s: float = 300.0, page_limit: int = 1000,
    ) -> None:  # fmt: skip
        self._engine = engine
        self.schema = schema
        self.venues = venues
        self.perpetuals = perpetuals
        self.interval_s = interval_s
        self.page_limit = page_limit

    def _exchange(self, venue: str) -> Any:
        config = self.venues.get(venue)
        if config is None:
            raise ValueError(f"perpetuals of {venue!r}: not a LIVE_SOURCES venue")
        options = {**config.options, "fetchMarkets": {"types": ["linear"]}}
        exchange, _ = make_exchange(config.model_copy(update={"options": options, "transport": "rest"}))
        return exchange

    async def import_venue(self, entry: PerpetualsSettings) -> dict[str, PerpImport]:
        """One round for one venue: registry, then each symbol's history and mark."""
        exchange = self._exchange(entry.venue)
        done: dict[str, PerpImport] = {}
        try:
            markets = await exchange.load_markets()
            swaps = {k: m for k, m in markets.items() if m.get("type") == "swap" and m.get("linear")}
            instruments = instruments_from_markets(entry.venue, swaps, exchange.precisionMode)
            async with self._engine().begin() as connection:
                await upsert_instruments(connection, self.schema, instruments, "ccxt")
            for symbol in entry.symbols:
                if symbol not in swaps:
                    log.error("%s: %s is not one of its linear perpetuals; not imported", entry.venue, symbol)
                    continue
                done[symbol] = await self._history(exchange, entry, symbol)
                await self._mark(exchange, entry.venue, symbol)
        finally:
            await exchange.close()
        return done

    async def _history(self, exchange: Any, entry: PerpetualsSettings, symbol: str) -> PerpImport:
        async with self._engine().connect() as connection:
            last = await last_funding(connection, self.schema, entry.venue, symbol)
        now_ms = time.time_ns() // 1_000_000
        since = (
            now_ms - entry.history_days * DAY_MS if last is None else last.funding_time_ns // 1_000_000 + 1
        )
        result = PerpImport()
        while True:
            page = await exchange.fetch_funding_rate_history(symbol, since, self.page_limit)
            result.pages += 1
            result.fetched += len(page)
            rows = []
            for raw in page:
                try:
                    rows.append(funding_row(raw))
                except ValueError as error:
                    result.skipped += 1
                    log.warning("%s %s: funding entry skipped: %s", entry.venue, symbol, error)
            async with self._engine().begin() as connection:
                result.stored += await insert_funding(
                    connection, self.schema, entry.venue, symbol, rows=rows, source="ccxt"
                )
            times = [t for raw in page if isinstance(t := raw.get("timestamp"), int)]
            if len(page) < self.page_limit or not times or max(times) < since:
                return result
            since = max(times) + 1

    async def _mark(self, exchange: Any, venue: str, symbol: str) -> None:
        mark = venue_mark(await exchange.fetch_funding_rate(symbol), time.time_ns())
        async with self._engine().begin() as connection:
            interval = funding_interval_s(await newest_funding_times(connection, self.schema, venue, symbol))
            await store_mark(connection, self.schema, venue, symbol, mark=mark, interval_s=interval)

    async def round(self) -> int:
        """Every configured venue once; how many venues were imported without an error."""
        imported = 0
        for entry in self.perpetuals:
            try:
                done = await self.import_venue(entry)
                imported += 1
                for symbol, r in done.items():
                    log.info(
                        "%s %s funding: %d pages, %d fetched, %d new, %d skipped",
                        entry.venue, symbol, r.pages, r.fetched, r.stored, r.skipped,
                    )  # fmt: skip
            except Exception as error:  # the venue or the database may be away: next round
                log.warning("perpetuals of %s not imported: %r", entry.venue, error)
        return imported

    async def run(self, stop: asyncio.Event) -> None:
        """Import at start and every ``interval_s`` (nothing when none is configured)."""
        while self.perpetuals and not stop.is_set():
            await self.round()
            await wait_for_stop(stop, self.interval_s)


def perp_funding_importer(runtime: ServiceRuntime, md: MarketDataSettings) -> PerpFundingImporter:
    """The importer of a service: ``PERPETUALS`` of the ccxt venues of ``LIVE_SOURCES``."""
    return PerpFundingImporter(
        lambda: runtime.engine, md.db_schema, {c.venue_name: c for c in md.live_sources}, md.perpetuals,
        interval_s=md.perp_funding_interval_s, page_limit=md.perp_funding_page_limit,
    )  # fmt: skip
