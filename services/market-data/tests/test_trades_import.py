"""Trades imports: the pure page rule, and a job run with the REAL ccxt (binance ``fetch_trades``,
aggTrades windows) against the Binance stand-in — paged, resumed from the stored cursor by another
importer, deduplicated on the venue's trade id, merged into 1m candles, gaps reported, a re-run
storing nothing new."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from import_harness import MS, SCRIPT, T0, M, import_service, minute_candles, standin
from nats.aio.client import Client
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from standin_binance import StandinBinance

from tradeloom.market_data.domain.trades_import import WINDOW_NS, trades_page
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.shared.contracts.market_data import TradeTick
from tradeloom.shared.testing.polling import eventually

__all__ = ["standin"]  # the stand-in fixture, used by name


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


async def test_trades_import_pages_resumes_dedups_and_builds_candles(
    standin: StandinBinance,
    md_schema: str,
    md_settings: Callable[..., MarketDataSettings],
    nc: Client,
    nats_prefix: str,
    db_engine: AsyncEngine,
) -> None:
    async with import_service(standin, md_schema, md_settings, nc, nats_prefix, db_engine) as service:
        stop = asyncio.Event()
        span = {
            "venue": "binance",
            "symbol": "BTC/USDT",
            "kind": "trades",
            "from_ns": T0,
            "to_ns": T0 + 12 * M,
        }
        started = await service.call("imports_start", span)
        assert (started["kind"], started["status"], started["cursor_ns"]) == ("trades", "queued", T0)
        crashed = await service.crash_after_two_pages(started["import_id"], service.importer(7))
        asked = len(standin.agg_windows)

        second = service.importer(7)
        await eventually(lambda: second.run_one(stop), "the job taken up once its lease ran out", timeout=60)
        assert standin.agg_windows[asked][0] == crashed["cursor_ns"] // MS  # resumed from the stored cursor
        assert all(end - start < WINDOW_NS // MS for start, end in standin.agg_windows)  # ≤ 1 h windows
        done = await service.job(started["import_id"])
        assert (done["status"], done["progress"], done["stored"]) == ("done", 1, len(SCRIPT))
        assert done["fetched"] >= len(SCRIPT)  # a full page's last millisecond comes again
        assert done["gaps"] == [{"from_ns": T0 + 5 * M, "to_ns": T0 + 7 * M}]
        ids, bars = await stored(db_engine, md_schema)
        assert ids == [str(t.id) for t in SCRIPT]  # each once
        assert bars == minute_candles(with_count=True)  # the 1m candles built from the imported trades

        again = await service.call("imports_start", span)
        assert await service.importer(7).run_one(stop)
        rerun = await service.job(again["import_id"])
        assert (rerun["status"], rerun["stored"]) == ("done", 0)
        assert await stored(db_engine, md_schema) == (ids, bars)
