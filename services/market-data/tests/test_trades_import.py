"""Trades imports: the pure page rule, and a job run with the REAL ccxt (binance ``fetch_trades``,
aggTrades windows) against the Binance stand-in — paged, resumed from the stored cursor by another
importer, deduplicated on the venue's trade id, merged into 1m candles, gaps reported, a re-run
storing nothing new."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest
from nats.aio.client import Client
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from standin_binance import ScriptTrade, StandinBinance

from tradeloom.market_data.app import build
from tradeloom.market_data.domain.trades_import import WINDOW_NS, trades_page
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.market_data.sources.history_import import HistoryImporter
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data import TradeTick
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.polling import eventually

M = 60 * 10**9
MS = 10**6
T0 = 1_704_153_600 * 10**9  # 2024-01-02 00:00 UTC
ADMIN = CallerContext(user_id="root", roles=frozenset({"admin"}))
SCRIPT = [
    ScriptTrade(
        1000 + i, T0 // MS + i * 15_000, Decimal(300) + Decimal(i % 9) / 4, Decimal("0.5"), i % 3 == 0
    )
    for i in range(48)
    if i // 4 not in {5, 6}
]  # four trades a minute for minutes 0..11 but 5 and 6


def tick(trade_id: int, ts_ns: int) -> TradeTick:
    return TradeTick(trade_id=str(trade_id), ts_ns=ts_ns, price=Decimal(1), amount=Decimal(1), side="buy")


def test_pages_follow_the_last_trade_or_the_window_and_report_empty_minutes() -> None:
    full = trades_page(T0, T0 + 3 * WINDOW_NS, [tick(2, T0 + 90 * 10**9), tick(1, T0)], full=True)
    assert ([t.trade_id for t in full.trades], full.cursor_ns, full.done) == (
        ["1", "2"],
        T0 + 90 * 10**9,
        False,
    )
    assert full.gaps == []  # minute 1 is cut by the cursor: judged by the next page
    short = trades_page(T0 + 90 * 10**9, T0 + 3 * WINDOW_NS, [tick(2, T0 + 90 * 10**9), tick(3, T0 + 4 * M)],
                        full=False)  # fmt: skip
    assert short.cursor_ns == T0 + WINDOW_NS + 90 * 10**9 and not short.done
    assert short.gaps[:2] == [(T0 + 2 * M, T0 + 3 * M), (T0 + 3 * M, T0 + 4 * M)]
    assert (T0 + M, T0 + 2 * M) not in short.gaps and len(
        short.gaps
    ) == 58  # minutes 1..60 judged, 1 and 4 traded
    stuck = trades_page(T0, T0 + M, [tick(i, T0) for i in range(3)], full=True)
    assert stuck.cursor_ns == T0 + MS  # more than a page in one millisecond: move on
    last = trades_page(T0 + 10 * M, T0 + 12 * M, [], full=False)
    assert last.gaps == [(T0 + 10 * M, T0 + 11 * M), (T0 + 11 * M, T0 + 12 * M)]
    assert (last.cursor_ns, last.done) == (T0 + 12 * M, True)


@pytest.fixture
async def standin() -> AsyncIterator[StandinBinance]:
    server = StandinBinance("BTCUSDT", "BTC", "USDT", SCRIPT, segments=[(0, len(SCRIPT))])
    await server.start()
    yield server
    await server.stop()


async def stored(engine: AsyncEngine, schema: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    async with engine.connect() as connection:
        ids = await connection.execute(
            text(f"SELECT trade_id FROM \"{schema}\".trades WHERE venue = 'binance' ORDER BY ts_ns, trade_id")
        )
        bars = await connection.execute(
            text(
                f'SELECT open_ns, open, high, low, close, volume, trade_count FROM "{schema}".candles '
                "WHERE venue = 'binance' AND symbol = 'BTC/USDT' AND tf = '1m' ORDER BY open_ns"
            )
        )
        return [row[0] for row in ids], [tuple(row) for row in bars]


def expected_candles() -> list[tuple[Any, ...]]:
    rows = []
    for minute in sorted({t.ts_ms // 60_000 for t in SCRIPT}):
        group = [t for t in SCRIPT if t.ts_ms // 60_000 == minute]
        prices = [t.price for t in group]
        volume = sum(t.qty for t in group)
        rows.append((minute * M, prices[0], max(prices), min(prices), prices[-1], volume, len(group)))
    return rows


async def test_trades_import_pages_resumes_dedups_and_builds_candles(
    standin: StandinBinance,
    md_schema: str,
    md_settings: Callable[..., MarketDataSettings],
    nc: Client,
    nats_prefix: str,
    db_engine: AsyncEngine,
) -> None:
    subjects = Subjects(nats_prefix)
    await ensure_streams(nc.jetstream(), subjects)
    live = {
        "exchange": "binance", "symbols": ["ETH/USDT"], "transport": "rest", "urls": standin.urls(),
        "options": {"fetchMarkets": {"types": ["spot"]}}, "backoff_initial_s": 0.05,
    }  # fmt: skip  # ETH/USDT is not listed: markets load, nothing is streamed
    settings = md_settings(md_schema, live_sources=[live], import_poll_s=3600)  # its own importer idles
    runtime = build(settings)
    await runtime.start()
    client = ServiceClient(nc, subjects)

    async def call(op: str, body: dict[str, Any]) -> dict[str, Any]:
        return await client.call_raw("market-data", op, body, caller=ADMIN, timeout_s=10)

    async def job(import_id: str) -> dict[str, Any]:
        return (await call("imports_list", {"import_id": import_id}))["imports"][0]

    def importer() -> HistoryImporter:
        venues = {c.venue_name: c for c in settings.live_sources}
        return HistoryImporter(lambda: db_engine, md_schema, venues, page_limit=7, lease_s=0.5)

    stop = asyncio.Event()
    try:
        await eventually(
            lambda: call("instruments", {"venue": "binance"}), "the stand-in's markets loaded", timeout=60
        )
        span = {
            "venue": "binance",
            "symbol": "BTC/USDT",
            "kind": "trades",
            "from_ns": T0,
            "to_ns": T0 + 12 * M,
        }
        started = await call("imports_start", span)
        assert (started["kind"], started["status"], started["cursor_ns"]) == ("trades", "queued", T0)
        first = asyncio.create_task(importer().run_one(stop))

        async def two_pages() -> dict[str, Any] | None:
            row = await job(started["import_id"])
            return row if row["pages"] >= 2 else None

        await eventually(two_pages, "two pages imported", timeout=60)
        first.cancel()  # the replica dies between (or inside) page transactions
        await asyncio.gather(first, return_exceptions=True)
        crashed = await job(started["import_id"])
        asked = len(standin.agg_windows)

        second = importer()
        await eventually(lambda: second.run_one(stop), "the job taken up once its lease ran out", timeout=60)
        assert standin.agg_windows[asked][0] == crashed["cursor_ns"] // MS  # resumed from the stored cursor
        assert all(end - start < WINDOW_NS // MS for start, end in standin.agg_windows)  # ≤ 1 h windows
        done = await job(started["import_id"])
        assert (done["status"], done["progress"], done["stored"]) == ("done", 1, len(SCRIPT))
        assert done["fetched"] >= len(SCRIPT)  # a full page's last millisecond comes again
        assert done["gaps"] == [{"from_ns": T0 + 5 * M, "to_ns": T0 + 7 * M}]
        ids, bars = await stored(db_engine, md_schema)
        assert ids == [str(t.id) for t in SCRIPT]  # each once
        assert bars == expected_candles()  # the 1m candles built from the imported trades

        again = await call("imports_start", span)
        assert await importer().run_one(stop)
        rerun = await job(again["import_id"])
        assert (rerun["status"], rerun["stored"]) == ("done", 0)
        assert await stored(db_engine, md_schema) == (ids, bars)
    finally:
        stop.set()
        await runtime.stop()
