"""Historical imports: the pure page rule, and a job run with the REAL ccxt (binance, REST)
against the local Binance stand-in — validated at the API, rate-limited pages retried, a crash
mid-job resumed from the stored cursor by another importer, gaps reported, a re-run storing
nothing new."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from import_harness import ADMIN, T0, ImportService, M, import_service, minute_candles, standin
from nats.aio.client import Client
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from standin_binance import StandinBinance

from tradeloom.market_data.domain.candles import Bar
from tradeloom.market_data.domain.history_import import import_page, merge_gaps
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.market_data.sources.history_import import HistoryImporter
from tradeloom.shared.context import CallerContext
from tradeloom.shared.rpc import RemoteError
from tradeloom.shared.testing.polling import eventually

__all__ = ["standin"]  # the stand-in fixture, used by name


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


async def candles(engine: AsyncEngine, schema: str) -> list[tuple[Any, ...]]:
    async with engine.connect() as connection:
        result = await connection.execute(
            text(
                f'SELECT open_ns, open, high, low, close, volume FROM "{schema}".candles '
                "WHERE venue = 'binance' AND symbol = 'BTC/USDT' AND tf = '1m' ORDER BY open_ns"
            )
        )
        return [tuple(row) for row in result]


async def test_import_retries_rate_limits_resumes_after_a_crash_and_reruns_idempotently(
    standin: StandinBinance,
    md_schema: str,
    md_settings: Callable[..., MarketDataSettings],
    nc: Client,
    nats_prefix: str,
    db_engine: AsyncEngine,
) -> None:
    async with import_service(standin, md_schema, md_settings, nc, nats_prefix, db_engine) as service:
        call = service.call

        async def refused(body: dict[str, Any], caller: CallerContext = ADMIN) -> tuple[str, list[str]]:
            with pytest.raises(RemoteError) as caught:
                await call("imports_start", body, caller)
            return caught.value.code, [f["field"] for f in caught.value.details.get("fields", [])]

        stop = asyncio.Event()
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
        crashed = await service.crash_after_two_pages(started["import_id"], importer(service))
        assert crashed["status"] == "running" and 0 < crashed["progress"] < 1 and crashed["retries"] == 2
        asked = len(standin.kline_starts)

        second = importer(service)
        await eventually(lambda: second.run_one(stop), "the job taken up once its lease ran out", timeout=60)
        assert standin.kline_starts[asked] == crashed["cursor_ns"] // 10**6  # resumed from the stored cursor
        done = await service.job(started["import_id"])
        assert (done["status"], done["progress"], done["fetched"], done["stored"]) == ("done", 1, 10, 10)
        assert done["gaps"] == [{"from_ns": T0 + 5 * M, "to_ns": T0 + 7 * M}]
        assert await candles(db_engine, md_schema) == minute_candles(with_count=False)

        again = await call("imports_start", span)
        assert await importer(service).run_one(stop)
        rerun = await service.job(again["import_id"])
        assert (rerun["status"], rerun["fetched"], rerun["stored"]) == ("done", 10, 0)
        assert await candles(db_engine, md_schema) == minute_candles(with_count=False)
        listed = await call("imports_list", {"venue": "binance"}, CallerContext(user_id="alice"))
        assert [i["import_id"] for i in listed["imports"]] == [again["import_id"], started["import_id"]]


def importer(service: ImportService) -> HistoryImporter:
    """Three candles a page, quick retries of the stand-in's rate limits."""
    return service.importer(3, backoff_initial_s=0.05)
