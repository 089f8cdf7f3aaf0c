"""Runs historical imports: claims a job (``store/imports_store.py``), pages through the venue's
1-minute OHLCV (``fetch_ohlcv``) or trades (``fetch_trades`` with ``since``/``until`` windows) from
the job's stored cursor, and stores each page's missing candles or new trades together with the
advanced cursor in one transaction. So a killed replica loses
at most the page in flight: once its lease runs out, the job is claimed again (by any replica)
and resumes from the cursor; candles already there are left alone (stored trades win).

Rate limits: ccxt throttles requests itself (``enableRateLimit``, the venue's ``rateLimit``); a
429/418 (``RateLimitExceeded``, ``DDoSProtection``) or a network error retries the same page after
a backoff doubling from ``backoff_initial_s`` to ``backoff_max_s``, counted in ``retries``; after
``max_retries`` in a row, or on any other error from the venue, the job fails with the error.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from typing import Any

import ccxt.async_support as ccxt
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.market_data.domain.history_import import import_page
from tradeloom.market_data.domain.trades_import import trades_page, window_end
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.market_data.source_settings import LiveSourceSettings
from tradeloom.market_data.sources.ccxt_exchange import make_exchange, ohlcv_bar, trade_tick
from tradeloom.market_data.store.backfill_store import store_backfill_candles, store_imported_trades
from tradeloom.market_data.store.imports_store import (
    claim_import,
    fail_import,
    record_page,
    record_retry,
)
from tradeloom.shared.runtime import ServiceRuntime

log = logging.getLogger(__name__)

RETRYABLE = (ccxt.RateLimitExceeded, ccxt.DDoSProtection, ccxt.NetworkError)


class HistoryImporter:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        schema: str,
        venues: dict[str, LiveSourceSettings],
        *,
        page_limit: int = 500,
        lease_s: float = 30.0,
        poll_s: float = 1.0,
        backoff_initial_s: float = 1.0,
        backoff_max_s: float = 60.0,
        max_retries: int = 8,
    ) -> None:
        self._engine = engine
        self.schema = schema
        self.venues = venues
        self.page_limit = page_limit
        self.lease_s = lease_s
        self.poll_s = poll_s
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.max_retries = max_retries

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                worked = await self.run_one(stop)
            except Exception:  # the database away: the job's lease runs out, it is taken up again
                log.exception("imports: a round failed")
                worked = False
            if not worked:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.poll_s)

    async def run_one(self, stop: asyncio.Event) -> bool:
        """Claim one job and work on it until it is done, failed or ``stop`` is set."""
        async with self._engine().begin() as connection:
            job = await claim_import(connection, self.schema, self.lease_s)
        if job is None:
            return False
        config = self.venues.get(job.venue)
        if config is None:
            await self._fail(job.import_id, f"venue {job.venue} is not configured on this replica")
            return True
        exchange, _ = make_exchange(config.model_copy(update={"transport": "rest"}))
        try:
            await self._import(exchange, job, stop)
        except ccxt.BaseError as error:
            await self._fail(job.import_id, f"{type(error).__name__}: {error}")
        finally:
            await exchange.close()
        return True

    async def _import(self, exchange: Any, job: Any, stop: asyncio.Event) -> None:
        log.info("import %s: %s %s %s from cursor %d", job.import_id, job.kind, job.venue, job.symbol,
                 job.cursor_ns)  # fmt: skip
        await self._retrying(exchange.load_markets, job.import_id, stop)
        if job.kind == "trades":
            await self._import_trades(exchange, job, stop)
            return
        cursor = job.cursor_ns
        while not stop.is_set():
            rows = await self._retrying(
                functools.partial(
                    exchange.fetch_ohlcv, job.symbol, "1m", cursor // 1_000_000, self.page_limit
                ),
                job.import_id,
                stop,
            )
            if rows is None:  # stopped while backing off
                return
            page = import_page(cursor, job.to_ns, [ohlcv_bar(row) for row in rows])
            async with self._engine().begin() as connection:
                stored = await store_backfill_candles(
                    connection, self.schema, job.venue, job.symbol, page.bars
                )
                await record_page(
                    connection, self.schema, job.import_id, cursor_ns=page.cursor_ns, fetched=len(page.bars),
                    stored=stored, gaps=page.gaps, done=page.done, lease_s=self.lease_s,
                )  # fmt: skip
            cursor = page.cursor_ns
            if page.done:
                log.info("import %s: done", job.import_id)
                return

    async def _import_trades(self, exchange: Any, job: Any, stop: asyncio.Event) -> None:
        """Trades page by page (``domain/trades_import.py``), each page stored like live trades
        (``store_trades``: new ones only, merged into the 1m candles, coarser ones rolled up) with
        the advanced cursor in one transaction."""
        cursor = job.cursor_ns
        while not stop.is_set():
            until_ms = window_end(cursor, job.to_ns) // 1_000_000
            rows = await self._retrying(
                functools.partial(exchange.fetch_trades, job.symbol, cursor // 1_000_000, self.page_limit,
                                  {"until": until_ms}),
                job.import_id,
                stop,
            )  # fmt: skip
            if rows is None:  # stopped while backing off
                return
            page = trades_page(
                cursor, job.to_ns, [trade_tick(row) for row in rows], full=len(rows) >= self.page_limit
            )
            async with self._engine().begin() as connection:
                stored = await store_imported_trades(
                    connection, self.schema, job.venue, job.symbol, page.trades
                )
                await record_page(
                    connection, self.schema, job.import_id, cursor_ns=page.cursor_ns, fetched=len(rows),
                    stored=stored, gaps=page.gaps, done=page.done, lease_s=self.lease_s,
                )  # fmt: skip
            cursor = page.cursor_ns
            if page.done:
                log.info("import %s: done", job.import_id)
                return

    async def _retrying(self, call: Callable[[], Any], import_id: str, stop: asyncio.Event) -> Any:
        delay = self.backoff_initial_s
        for attempt in range(self.max_retries + 1):
            try:
                return await call()
            except RETRYABLE as error:
                if attempt == self.max_retries:
                    raise
                log.warning("import %s: %s, retry in %.2f s", import_id, type(error).__name__, delay)
                async with self._engine().begin() as connection:
                    await record_retry(connection, self.schema, import_id, self.lease_s + delay)
                try:
                    await asyncio.wait_for(stop.wait(), timeout=delay)
                    return None
                except TimeoutError:
                    delay = min(delay * 2, self.backoff_max_s)
        return None  # not reached

    async def _fail(self, import_id: str, error: str) -> None:
        log.error("import %s failed: %s", import_id, error)
        async with self._engine().begin() as connection:
            await fail_import(connection, self.schema, import_id, error)


def history_importer(runtime: ServiceRuntime, md: MarketDataSettings) -> HistoryImporter:
    """The importer of a service: the ccxt venues of ``LIVE_SOURCES``, timings from settings."""
    return HistoryImporter(
        lambda: runtime.engine,
        md.db_schema,
        {live.venue_name: live for live in md.live_sources},
        page_limit=md.import_page_limit,
        lease_s=md.import_lease_s,
        poll_s=md.import_poll_s,
        backoff_initial_s=md.import_backoff_initial_s,
        backoff_max_s=md.import_backoff_max_s,
        max_retries=md.import_max_retries,
    )
