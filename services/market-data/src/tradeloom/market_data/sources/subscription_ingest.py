"""What a subscription runs: a simulated market on the synthetic venue, the configured ccxt
venue's live source (its urls and options from settings) for one symbol otherwise."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.market_data.sources.live_wiring import run_live_source
from tradeloom.market_data.sources.publisher import MarketPublisher
from tradeloom.market_data.sources.sim_markets import synthetic_markets
from tradeloom.market_data.sources.subscriptions import Ingest
from tradeloom.market_data.sources.synthetic import MarketClock, SyntheticSource
from tradeloom.market_data.store.last_trades_store import synthetic_resume
from tradeloom.shared.runtime import ServiceRuntime


def subscription_ingest(
    runtime: ServiceRuntime, md: MarketDataSettings, publisher: Callable[[], MarketPublisher]
) -> Ingest:
    async def ingest(venue: str, symbol: str, books: bool, stop: asyncio.Event) -> None:
        if venue == md.sim_venue:
            async with runtime.engine.connect() as connection:
                resume = await synthetic_resume(connection, md.db_schema, venue, [symbol])
            one = md.model_copy(update={"sim_symbols": [symbol], "sim_start_prices": []})
            source = SyntheticSource(
                publisher(),
                venue,
                synthetic_markets(one, resume.prices),
                book_interval_s=md.sim_book_interval_s,
                book_levels=md.sim_book_levels,
                clock=MarketClock(md.sim_time_scale, md.sim_backdate_s, resume.after_ns),
            )
            await source.run(stop)
            return
        config = next(c for c in md.live_sources if c.venue_name == venue)
        config = config.model_copy(update={"symbols": [symbol], "books": books})
        await run_live_source(config, publisher(), runtime.engine, md.db_schema, stop)

    return ingest
