"""Importing a ccxt venue's option chain: its option markets of one underlying go into the
instrument registry, and its current quotes of them (``fetch_tickers`` with ``type=option``: bid,
ask, last; ``fetch_all_greeks`` where the venue has it: mark, implied volatilities, Greeks) into
``venue_option_quotes``. Both are upserts, so a rerun, a second replica or a periodic round
writes each row again rather than twice. The periodic rounds (``TL_MARKET_DATA_OPTION_CHAINS``)
skip a chain whose newest stored quote is younger than the interval, so replicas share them; a
replica that dies mid-import leaves the previous snapshot, and the next round imports again.

The venue's exchange is built from its ``LIVE_SOURCES`` entry (urls, options) with only its
option markets loaded.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.market_data.domain.instruments import InstrumentError, instrument_from_ccxt
from tradeloom.market_data.domain.symbols import SymbolError, normalise_symbol
from tradeloom.market_data.domain.venue_options import chain_markets, market_expiry, venue_quote
from tradeloom.market_data.source_settings import LiveSourceSettings
from tradeloom.market_data.sources.ccxt_exchange import make_exchange
from tradeloom.market_data.store.instruments_store import upsert_instruments
from tradeloom.market_data.store.venue_option_quotes_store import newest_quote_ns, store_venue_quotes
from tradeloom.shared.aio import wait_for_stop
from tradeloom.shared.contracts.market_data_option_chain import OptionChainImported

log = logging.getLogger(__name__)


class ChainImportError(ValueError):
    """A request naming something the venue does not list (``field``: which part of it)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class OptionChainImporter:
    def __init__(
        self, engine: Callable[[], AsyncEngine], schema: str, venues: dict[str, LiveSourceSettings],
        *, chains: list[tuple[str, str]] | None = None, interval_s: float = 60.0,
    ) -> None:  # fmt: skip
        self._engine = engine
        self.schema = schema
        self.venues = venues
        self.chains = chains or []
        self.interval_s = interval_s

    def _exchange(self, venue: str) -> Any:
        config = self.venues.get(venue)
        if config is None:
            known = ", ".join(sorted(self.venues)) or "none configured"
            raise ChainImportError("venue", f"unknown ccxt venue {venue!r}: known venues are {known}")
        options = {**config.options, "fetchMarkets": {"types": ["option"]}}
        exchange, _ = make_exchange(config.model_copy(update={"options": options, "transport": "rest"}))
        return exchange

    async def import_chain(self, venue: str, underlying: str, expiry: date | None) -> OptionChainImported:
        try:
            spot = normalise_symbol(underlying)
        except SymbolError as error:
            raise ChainImportError("underlying", str(error)) from None
        exchange = self._exchange(venue)
        try:
            markets = await exchange.load_markets()
            chosen = chain_markets(markets, spot, None)
            if not chosen:
                raise ChainImportError("underlying", f"venue {venue} lists no options on {spot}")
            if expiry is not None:
                chosen = chain_markets(markets, spot, expiry)
                if not chosen:
                    raise ChainImportError(
                        "expiry", f"venue {venue} lists no {spot} options expiring {expiry}"
                    )
            symbols = {m["symbol"] for m in chosen}
            tickers = await exchange.fetch_tickers(None, {"type": "option"})
            greeks: dict[str, Any] = {}
            if exchange.has.get("fetchAllGreeks"):
                fetched = await exchange.fetch_all_greeks()  # a list, or by symbol in some versions
                rows = fetched.values() if isinstance(fetched, dict) else fetched
                greeks = {g["symbol"]: g for g in rows if isinstance(g, dict) and g.get("symbol") in symbols}
        finally:
            await exchange.close()
        instruments = []
        for market in chosen:
            try:
                instruments.append(instrument_from_ccxt(venue, market, exchange.precisionMode))
            except (InstrumentError, SymbolError) as error:
                log.warning("%s: option market %s not imported: %s", venue, market.get("symbol"), error)
        listed = {i.symbol for i in instruments}
        quotes = [
            q for s in sorted(listed)
            if (q := venue_quote(s, spot, tickers.get(s), greeks.get(s))) is not None
        ]  # fmt: skip
        now = time.time_ns()
        async with self._engine().begin() as connection:
            await upsert_instruments(connection, self.schema, instruments, "ccxt")
            stored = await store_venue_quotes(connection, self.schema, venue, quotes, now)
        expiries = sorted(
            {e for m in chosen if m["symbol"] in listed and (e := market_expiry(m)) is not None}
        )
        return OptionChainImported(
            venue=venue, underlying=spot, instruments=len(instruments), quotes=stored, expiries=expiries,
            imported_at_ns=now,
        )  # fmt: skip

    async def round(self) -> int:
        """Import each configured chain whose newest stored quote is older than ``interval_s`` (so
        replicas share the rounds instead of each calling the venue); how many were imported."""
        imported = 0
        for venue, underlying in self.chains:
            try:
                async with self._engine().connect() as connection:
                    newest = await newest_quote_ns(connection, self.schema, venue, underlying)
                if newest is not None and time.time_ns() - newest < self.interval_s * 1e9:
                    continue
                await self.import_chain(venue, underlying, None)
                imported += 1
            except Exception as error:  # the venue or the database may be away: next round
                log.warning("option chain %s %s not imported: %r", venue, underlying, error)
        return imported

    async def run(self, stop: asyncio.Event) -> None:
        """Re-import the configured chains every ``interval_s`` (nothing when none is configured)."""
        while self.chains and not stop.is_set():
            await self.round()
            await wait_for_stop(stop, self.interval_s)
