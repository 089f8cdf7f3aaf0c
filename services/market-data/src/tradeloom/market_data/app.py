"""Wiring: the one place market-data builds its concrete objects."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from tradeloom.market_data import SERVICE, __version__, api
from tradeloom.market_data.domain.instruments import default_sim_instruments, instruments_from_file_text
from tradeloom.market_data.domain.sim_options import synthetic_options
from tradeloom.market_data.funding import SyntheticFunding
from tradeloom.market_data.persistence import TradePersistence
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.market_data.sources.history_import import history_importer
from tradeloom.market_data.sources.live_metrics import LiveSourceMetrics
from tradeloom.market_data.sources.live_wiring import run_live_source
from tradeloom.market_data.sources.perp_funding_import import perp_funding_importer
from tradeloom.market_data.sources.publisher import MarketPublisher
from tradeloom.market_data.sources.replay import run_replay
from tradeloom.market_data.sources.sim_markets import synthetic_markets
from tradeloom.market_data.sources.subscription_ingest import subscription_ingest
from tradeloom.market_data.sources.subscriptions import SubscriptionSupervisor
from tradeloom.market_data.sources.synthetic import MarketClock, SyntheticSource
from tradeloom.market_data.store.books_store import save_book
from tradeloom.market_data.store.instruments_store import upsert_instruments
from tradeloom.market_data.store.last_trades_store import synthetic_resume
from tradeloom.market_data.store.timescale import apply_timescale_policies, ensure_candle_aggregates
from tradeloom.market_data.upload_prune import UploadPruner
from tradeloom.shared.cli import service_main
from tradeloom.shared.contracts.market_data import BookSnapshot
from tradeloom.shared.migrations import find_migrations
from tradeloom.shared.publish import EventPublisher
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.shared.settings import ServiceSettings
from tradeloom.shared.streams import consumer_spec

log = logging.getLogger(__name__)

BOOKS_CONSUMER = consumer_spec("market_data_books_store")


def build(settings: ServiceSettings) -> ServiceRuntime:
    """A runtime with market-data's operations, consumers and sources registered, not yet started."""
    md = cast(MarketDataSettings, settings)  # service_main builds it from MarketDataSettings
    runtime = ServiceRuntime(md, service=SERVICE, version=__version__, description=__doc__ or "")
    wake_subscriptions = asyncio.Event()
    chains = api.register(runtime, md, wake_subscriptions)

    async def store_book(connection, envelope):  # type: ignore[no-untyped-def]
        await save_book(connection, md.db_schema, envelope.unwrap(BookSnapshot))

    runtime.add_consumer(BOOKS_CONSUMER, store_book)

    async def load_instruments(stop: asyncio.Event) -> None:
        instruments = default_sim_instruments(md.sim_venue, md.sim_symbols) + synthetic_options(
            md.sim_venue, md.sim_symbols, md.sim_start_prices, datetime.now(UTC).date()
        )
        for replay in md.replay_sources:
            instruments += default_sim_instruments(replay.venue, [replay.symbol])
        if md.instruments_file:
            text = await asyncio.to_thread(Path(md.instruments_file).read_text)
            instruments += instruments_from_file_text(text)
        unique = list({(i.venue, i.symbol): i for i in instruments}.values())  # the file's entry wins
        async with runtime.engine.begin() as connection:
            await upsert_instruments(connection, md.db_schema, unique, "file")
            await apply_timescale_policies(
                connection, md.db_schema, md.timescale_compress_after_days, md.timescale_retention_days
            )
            if md.timescale_candle_aggregates:
                await ensure_candle_aggregates(
                    connection,
                    md.db_schema,
                    lookback_s=md.timescale_cagg_lookback_s,
                    every_s=md.timescale_cagg_refresh_s,
                )
        log.info("instruments loaded: %d", len(instruments))

    funding = SyntheticFunding(
        lambda: runtime.engine, md.db_schema, md.sim_venue, interval_s=md.funding_check_interval_s
    )

    async def persist_trades(stop: asyncio.Event) -> None:
        persistence = TradePersistence(
            js=runtime.js,
            engine=runtime.engine,
            schema=md.db_schema,
            subjects=runtime.subjects,
            outbox=runtime.outbox,
            tolerance_ns=int(md.candle_tolerance_s * 1e9),
            registry=runtime.registry,
            batch_size=md.persist_batch_messages,
        )
        await persistence.run(stop)

    async def synthetic(stop: asyncio.Event) -> None:
        if not md.sim_symbols:
            return
        async with runtime.engine.connect() as connection:
            resume = await synthetic_resume(connection, md.db_schema, md.sim_venue, md.sim_symbols)
        if resume.prices:
            log.info("synthetic market resumes from the last stored prices: %s", resume.prices)
        markets = synthetic_markets(md, resume.prices)
        publisher = MarketPublisher(
            EventPublisher(runtime.js, runtime.subjects, f"tradeloom/{SERVICE}"), md.publish_batch_max
        )
        source = SyntheticSource(
            publisher,
            md.sim_venue,
            markets,
            book_interval_s=md.sim_book_interval_s,
            book_levels=md.sim_book_levels,
            clock=MarketClock(md.sim_time_scale, md.sim_backdate_s, resume.after_ns),
        )
        await source.run(stop)

    def market_publisher() -> MarketPublisher:
        return MarketPublisher(
            EventPublisher(runtime.js, runtime.subjects, f"tradeloom/{SERVICE}"), md.publish_batch_max
        )

    async def replays(stop: asyncio.Event) -> None:
        if md.replay_sources:
            publisher = market_publisher()
            await asyncio.gather(*(run_replay(publisher, config, stop) for config in md.replay_sources))

    async def live(stop: asyncio.Event) -> None:
        if md.live_sources:
            publisher = market_publisher()
            metrics = LiveSourceMetrics(runtime.registry)  # one set for every exchange (label venue)
            await asyncio.gather(
                *(
                    run_live_source(config, publisher, runtime.engine, md.db_schema, stop, metrics=metrics)
                    for config in md.live_sources
                )
            )

    supervisor = SubscriptionSupervisor(
        lambda: runtime.engine,
        md.db_schema,
        subscription_ingest(runtime, md, market_publisher),
        interval_s=md.subscriptions_sync_s,
        wake=wake_subscriptions,
    )
    for task in (
        load_instruments,
        persist_trades,
        synthetic,
        replays,
        live,
        funding.run,
        supervisor.run,
        chains.run,
        perp_funding_importer(runtime, md).run,
    ):
        runtime.add_task(task)
    pruner = UploadPruner(
        lambda: runtime.engine,
        md.db_schema,
        ttl_s=md.dataset_upload_ttl_s,
        interval_s=md.dataset_prune_interval_s,
        registry=runtime.registry,
    )
    runtime.add_task(pruner.run)
    runtime.add_task(history_importer(runtime, md).run)
    return runtime


def main(argv: list[str] | None = None) -> int:
    return service_main(
        service=SERVICE,
        settings_cls=MarketDataSettings,
        build=build,
        migrations_dir=find_migrations(__file__),
        argv=argv,
    )
