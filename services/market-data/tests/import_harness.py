"""What the import tests (candles and trades through the REAL ccxt against the Binance stand-in)
share: the venue's trade script with two silent minutes, the expected 1m candles, market-data
started on the stand-in, and a replica killed after two pages so another one resumes the job."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from nats.aio.client import Client
from sqlalchemy.ext.asyncio import AsyncEngine
from standin_binance import ScriptTrade, StandinBinance

from tradeloom.market_data.app import build
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.market_data.sources.history_import import HistoryImporter
from tradeloom.shared.context import CallerContext
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.polling import eventually

M = 60 * 10**9
MS = 10**6
T0 = 1_704_153_600 * 10**9  # 2024-01-02 00:00 UTC
ADMIN = CallerContext(user_id="root", roles=frozenset({"admin"}))
EMPTY = {5, 6}  # minutes the venue did not trade
SCRIPT = [
    ScriptTrade(
        1000 + i, T0 // MS + i * 15_000, Decimal(300) + Decimal(i % 9) / 4, Decimal("0.5"), i % 3 == 0
    )
    for i in range(48)
    if i // 4 not in EMPTY
]  # four trades a minute for minutes 0..11 but 5 and 6


@pytest.fixture
async def standin() -> AsyncIterator[StandinBinance]:
    server = StandinBinance("BTCUSDT", "BTC", "USDT", SCRIPT, segments=[(0, len(SCRIPT))])
    await server.start()
    yield server
    await server.stop()


def minute_candles(*, with_count: bool) -> list[tuple[Any, ...]]:
    """SCRIPT's 1m candles: (open_ns, open, high, low, close, volume[, trade count])."""
    rows = []
    for minute in sorted({t.ts_ms // 60_000 for t in SCRIPT}):
        group = [t for t in SCRIPT if t.ts_ms // 60_000 == minute]
        prices = [t.price for t in group]
        row = (minute * M, prices[0], max(prices), min(prices), prices[-1], sum(t.qty for t in group))
        rows.append((*row, len(group)) if with_count else row)
    return rows


@dataclass
class ImportService:
    """market-data running on the stand-in (its own importer idle), called as ``ADMIN``."""

    settings: MarketDataSettings
    client: ServiceClient
    engine: AsyncEngine
    schema: str

    async def call(self, op: str, body: dict[str, Any], caller: CallerContext = ADMIN) -> dict[str, Any]:
        return await self.client.call_raw("market-data", op, body, caller=caller, timeout_s=10)

    async def job(self, import_id: str) -> dict[str, Any]:
        return (await self.call("imports_list", {"import_id": import_id}))["imports"][0]

    def importer(self, page_limit: int, **options: float) -> HistoryImporter:
        venues = {c.venue_name: c for c in self.settings.live_sources}
        return HistoryImporter(
            lambda: self.engine, self.schema, venues, page_limit=page_limit, lease_s=0.5, **options
        )

    async def crash_after_two_pages(self, import_id: str, importer: HistoryImporter) -> dict[str, Any]:
        """Run the job until two pages are in, kill that replica, and return the job's row."""
        first = asyncio.create_task(importer.run_one(asyncio.Event()))

        async def two_pages() -> dict[str, Any] | None:
            row = await self.job(import_id)
            return row if row["pages"] >= 2 else None

        await eventually(two_pages, "two pages imported", timeout=60)
        first.cancel()  # the replica dies between (or inside) page transactions
        await asyncio.gather(first, return_exceptions=True)
        return await self.job(import_id)


@asynccontextmanager
async def import_service(
    standin: StandinBinance,
    schema: str,
    settings_of: Callable[..., MarketDataSettings],
    nc: Client,
    prefix: str,
    engine: AsyncEngine,
) -> AsyncIterator[ImportService]:
    subjects = Subjects(prefix)
    await ensure_streams(nc.jetstream(), subjects)
    live = {
        "exchange": "binance", "symbols": ["ETH/USDT"], "transport": "rest", "urls": standin.urls(),
        "options": {"fetchMarkets": {"types": ["spot"]}}, "backoff_initial_s": 0.05,
    }  # fmt: skip  # ETH/USDT is not listed: markets load, nothing is streamed
    settings = settings_of(schema, live_sources=[live], import_poll_s=3600)  # its own importer idles
    runtime = build(settings)
    await runtime.start()
    service = ImportService(settings, ServiceClient(nc, subjects), engine, schema)
    try:

        async def listed() -> bool:  # the reply is a dict, truthy even with no instrument in it yet
            reply = await service.call("instruments", {"venue": "binance"})
            return any(item["symbol"] == "BTC/USDT" for item in reply["instruments"])

        await eventually(listed, "the stand-in's markets loaded", timeout=60)
        yield service
    finally:
        await runtime.stop()
