"""Historical imports: the pure page rule, and a job run with the REAL ccxt (binance, REST)
against the local Binance stand-in — validated at the API, rate-limited pages retried, a crash
mid-job resumed from the stored cursor by another importer, gaps reported, a re-run storing
nothing new."""

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
from tradeloom.market_data.domain.candles import Bar
from tradeloom.market_data.domain.history_import import import_page, merge_gaps
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.market_data.sources.history_import import HistoryImporter
from tradeloom.shared.context import CallerContext
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.polling import eventually

M = 60 * 10**9
T0 = 1_704_153_600 * 10**9  # 2024-01-02 00:00 UTC
ADMIN = CallerContext(user_id="root", roles=frozenset({"admin"}))
EMPTY = {5, 6}  # minutes the venue did not trade
SCRIPT = [
    ScriptTrade(
        1000 + i, T0 // 10**6 + i * 15_000, Decimal(300) + Decimal(i % 9) / 4, Decimal("0.5"), i % 3 == 0
    )
    for i in range(48)
    if i // 4 not in EMPTY
]  # four trades a minute for minutes 0..11 but 5 and 6


def bar(minute: int) -> Bar:
    return Bar(T0 + minute * M, Decimal(1), Decimal(1), Decimal(1), Decimal(1), Decimal(1), 0)


def test_a_page_keeps_its_range_reports_holes_and_moves_the_cursor() -> None:
    page = import_page(T0, T0 + 10 * M, [bar(2), bar(0), bar(0), bar(4)])
    assert [b.open_ns for b in page.bars] == [T0, T0 + 2 * M, T0 + 4 * M]
    assert (page.gaps, page.cursor_ns, page.done) == (
        [(T0 + M, T0 + 2 * M), (T0 + 3 * M, T0 + 4 * M)],
        T0 + 5 * M,
        False,
    )
    past = import_page(T0 + 8 * M, T0 + 10 * M, [bar(7), bar(8), bar(10), bar(11)])
    assert ([b.open_ns for b in past.bars], past.gaps, past.cursor_ns, past.done) == (
        [T0 + 8 * M], [(T0 + 9 * M, T0 + 10 * M)], T0 + 10 * M, True,
    )  # fmt: skip
    empty = import_page(T0 + 3 * M, T0 + 10 * M, [])
    assert (empty.bars, empty.gaps, empty.done) == ([], [(T0 + 3 * M, T0 + 10 * M)], True)
    assert merge_gaps([(5, 7), (1, 2), (2, 3), (6, 9)]) == [(1, 3), (5, 9)]


@pytest.fixture
async def standin() -> AsyncIterator[StandinBinance]:
    server = StandinBinance("BTCUSDT", "BTC", "USDT", SCRIPT, segments=[(0, len(SCRIPT))])
    await server.start()
    yield server
    await server.stop()


async def candles(engine: AsyncEngine, schema: str) -> list[tuple[Any, ...]]:
    async with engine.connect() as connection:
        result = await connection.execute(
            text(
                f'SELECT open_ns, open, high, low, close, volume FROM "{schema}".candles '
                "WHERE venue = 'binance' AND symbol = 'BTC/USDT' AND tf = '1m' ORDER BY open_ns"
            )
        )
        return [tuple(row) for row in result]


def expected_candles() -> list[tuple[Any, ...]]:
    rows = []
    for minute in sorted({t.ts_ms // 60_000 for t in SCRIPT}):
        group = [t for t in SCRIPT if t.ts_ms // 60_000 == minute]
        prices = [t.price for t in group]
        rows.append((minute * M, prices[0], max(prices), min(prices), prices[-1], sum(t.qty for t in group)))
    return rows


async def test_import_retries_rate_limits_resumes_after_a_crash_and_reruns_idempotently(
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

    async def call(op: str, body: dict[str, Any], caller: CallerContext = ADMIN) -> dict[str, Any]:
        return await client.call_raw("market-data", op, body, caller=caller, timeout_s=10)

    async def refused(body: dict[str, Any], caller: CallerContext = ADMIN) -> tuple[str, list[str]]:
        with pytest.raises(RemoteError) as caught:
            await call("imports_start", body, caller)
        return caught.value.code, [f["field"] for f in caught.value.details.get("fields", [])]

    async def job(import_id: str) -> dict[str, Any]:
        return (await call("imports_list", {"import_id": import_id}))["imports"][0]

    def importer() -> HistoryImporter:
        venues = {c.venue_name: c for c in settings.live_sources}
        return HistoryImporter(
            lambda: db_engine, md_schema, venues, page_limit=3, lease_s=0.5, backoff_initial_s=0.05
        )

    stop = asyncio.Event()
    try:
        await eventually(
            lambda: call("instruments", {"venue": "binance"}), "the stand-in's markets loaded", timeout=60
        )
        span = {"venue": "binance", "symbol": "btc-usdt", "from_ns": T0 + 1, "to_ns": T0 + 12 * M}
        assert (await refused(span, CallerContext(user_id="alice")))[0] == "forbidden"
        assert await refused(span | {"venue": "sim"}) == ("validation_error", ["venue"])
        assert await refused(span | {"symbol": "ETH/USDT"}) == ("validation_error", ["symbol"])
        assert await refused(span | {"to_ns": T0}) == ("validation_error", ["from_ns"])
        future = 2**62
        assert await refused(span | {"from_ns": future, "to_ns": future + M}) == (
            "validation_error",
            ["from_ns"],
        )

        standin.klines_rate_limited = 2
        started = await call("imports_start", span)
        assert (started["status"], started["cursor_ns"], started["progress"]) == ("queued", T0, 0)
        first = asyncio.create_task(importer().run_one(stop))

        async def two_pages() -> dict[str, Any] | None:
            row = await job(started["import_id"])
            return row if row["pages"] >= 2 else None

        await eventually(two_pages, "two pages imported", timeout=60)
        first.cancel()  # the replica dies between (or inside) page transactions
        await asyncio.gather(first, return_exceptions=True)
        crashed = await job(started["import_id"])
        assert crashed["status"] == "running" and 0 < crashed["progress"] < 1 and crashed["retries"] == 2
        asked = len(standin.kline_starts)

        second = importer()
        await eventually(lambda: second.run_one(stop), "the job taken up once its lease ran out", timeout=60)
        assert standin.kline_starts[asked] == crashed["cursor_ns"] // 10**6  # resumed from the stored cursor
        done = await job(started["import_id"])
        assert (done["status"], done["progress"], done["fetched"], done["stored"]) == ("done", 1, 10, 10)
        assert done["gaps"] == [{"from_ns": T0 + 5 * M, "to_ns": T0 + 7 * M}]
        assert await candles(db_engine, md_schema) == expected_candles()

        again = await call("imports_start", span)
        assert await importer().run_one(stop)
        rerun = await job(again["import_id"])
        assert (rerun["status"], rerun["fetched"], rerun["stored"]) == ("done", 10, 0)
        assert await candles(db_engine, md_schema) == expected_candles()
        listed = await call("imports_list", {"venue": "binance"}, CallerContext(user_id="alice"))
        assert [i["import_id"] for i in listed["imports"]] == [again["import_id"], started["import_id"]]
    finally:
        stop.set()
        await runtime.stop()
