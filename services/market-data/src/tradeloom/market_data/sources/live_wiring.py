"""One configured live source from settings to running: exchange, instruments, backfill writer,
and the last stored trade per symbol (gap checks resume across a restart)."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.market_data.domain.candles import Bar
from tradeloom.market_data.domain.gaps import Gap, is_newer
from tradeloom.market_data.source_settings import LiveSourceSettings
from tradeloom.market_data.sources.ccxt_exchange import LiveSourceError, make_exchange
from tradeloom.market_data.sources.live_ccxt import LiveCcxtSource
from tradeloom.market_data.sources.live_metrics import LiveSourceMetrics
from tradeloom.market_data.sources.publisher import MarketPublisher
from tradeloom.market_data.store.backfill_store import store_backfill_candles
from tradeloom.market_data.store.gaps_store import record_gap
from tradeloom.market_data.store.instruments_store import upsert_instruments
from tradeloom.market_data.store.last_trades_store import last_stored_trades

log = logging.getLogger(__name__)


def backfill_writer(engine: AsyncEngine, schema: str):  # type: ignore[no-untyped-def]
    async def write(venue: str, symbol: str, bars: list[Bar]) -> int:
        async with engine.begin() as connection:
            return await store_backfill_candles(connection, schema, venue, symbol, bars)

    return write


def gap_recorder(engine: AsyncEngine, schema: str):  # type: ignore[no-untyped-def]
    async def record(venue: str, gap: Gap) -> None:
        async with engine.begin() as connection:
            await record_gap(connection, schema, venue, gap)

    return record


async def start_live_source(
    config: LiveSourceSettings,
    publisher: MarketPublisher,
    engine: AsyncEngine,
    schema: str,
    metrics: LiveSourceMetrics | None = None,
) -> LiveCcxtSource:
    """Exchange built, markets loaded (retried until the venue answers), instruments stored, each
    symbol resumed from its last stored trade."""
    exchange, websocket = make_exchange(config)
    source = LiveCcxtSource(
        exchange,
        config,
        publisher,
        websocket=websocket,
        backfill=backfill_writer(engine, schema),
        metrics=metrics,
        gap_sink=gap_recorder(engine, schema),
    )
    try:
        instruments = await source.load()
        async with engine.begin() as connection:
            await upsert_instruments(connection, schema, instruments, "ccxt")
            last = await last_stored_trades(connection, schema, source.venue, source.symbols)
        for symbol in source.symbols:  # published but not yet stored is not a gap
            in_stream = await publisher.last_published_trade(source.venue, symbol)
            if in_stream is not None and is_newer(in_stream, last.get(symbol)):
                last[symbol] = in_stream
        source.resume_from(last)
    except BaseException:
        await exchange.close()
        raise
    log.info(
        "live %s (%s, %s): %d instruments, watching %s",
        config.venue_name, config.exchange, "websocket" if websocket else "REST polling",
        len(instruments), source.symbols,
    )  # fmt: skip
    for symbol, (trade_id, ts_ns) in last.items():
        log.info(
            "live %s %s: resuming after stored trade %s (ts_ns %d)", source.venue, symbol, trade_id, ts_ns
        )
    return source


async def run_live_source(
    config: LiveSourceSettings,
    publisher: MarketPublisher,
    engine: AsyncEngine,
    schema: str,
    stop: asyncio.Event,
    *,
    metrics: LiveSourceMetrics | None = None,
) -> None:
    starting = asyncio.create_task(start_live_source(config, publisher, engine, schema, metrics))
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not starting.done():  # stopped while the venue was still unreachable
        starting.cancel()
        await asyncio.gather(starting, return_exceptions=True)
        return
    try:
        source = starting.result()
    except LiveSourceError as error:
        log.error("live source %s: %s", config.venue_name, error)
        return
    await source.run(stop)
