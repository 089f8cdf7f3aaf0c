"""kill -9 of analytics (a real subprocess) in the middle of a stream of fills and candles, then a
restart: the daily equity equals an independent recomputation of everything published (no fill
lost or doubled by redeliveries)."""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from an_harness import Market, at
from nats.aio.client import Client
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from test_daily_equity import recompute

from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.polling import consumer_settled, eventually
from tradeloom.shared.testing.processes import ServiceProcess

DAYS = 12


def script() -> tuple[list[tuple[Any, ...]], list[tuple[str, datetime]]]:
    """Three fills a day (buys and sells around a drifting price) and a close per day."""
    fills: list[tuple[Any, ...]] = []
    candles: list[tuple[str, datetime]] = []
    for day in range(DAYS):
        base = 100 + 3 * day - (day % 4) * 5
        date = (datetime(2026, 2, 1, tzinfo=UTC) + timedelta(days=day)).date().isoformat()
        for k, side in enumerate(("buy", "buy", "sell")):
            price = str(base + k)
            fills.append(
                ("acc-k", f"k{day}-{k}", f"ok{day}-{k}", side, price, "0.5", "0.01", at(date, 9 + k))
            )
        candles.append((str(base + 2), at(date, 23)))
    return fills, candles


async def rows(engine: AsyncEngine, schema: str) -> dict[Any, Decimal]:
    async with engine.connect() as conn:
        where = "scope = 'account' AND scope_id = 'acc-k'"
        result = await conn.execute(text(f'SELECT day, equity FROM "{schema}".daily_equity WHERE {where}'))
        return {row.day: Decimal(row.equity) for row in result}


async def test_kill_9_mid_stream_then_restart_equals_recomputation(
    an_schema: str, database_url: str, nats_url: str, nats_prefix: str, nc: Client, streams: Subjects,
    market: Market, db_engine: AsyncEngine, tmp_path: Path,
) -> None:  # fmt: skip
    fills, candles = script()
    settings: dict[str, object] = {
        "database_url": database_url, "nats_url": nats_url, "nats_prefix": nats_prefix,
        "db_schema": an_schema, "environment": "test", "roll_interval_s": 0.5,
    }  # fmt: skip
    half = len(fills) // 2

    async def publish(part: list[tuple[Any, ...]]) -> None:
        for account, fill_id, order_id, side, price, qty, fee, when in part:
            await market.fill("alice", account, fill_id, side, price, qty, when, fee=fee, order_id=order_id)

    with ServiceProcess("analytics", settings, tmp_path) as service:
        await asyncio.to_thread(service.start)
        for close, end in candles:
            await market.candle(close, end)
        await publish(fills[:half])
        await eventually(lambda: rows(db_engine, an_schema), "the first rows written", timeout=60)
        await publish(fills[half:])  # the service is busy with these when it is killed
        assert await asyncio.to_thread(service.kill) == -signal.SIGKILL
        await asyncio.to_thread(service.start)
        expected = recompute(fills, candles, datetime.now(UTC).date())

        async def done() -> bool:
            js = nc.jetstream()
            settled = await consumer_settled(js, streams.stream("ORDERS"), "analytics_orders")
            return settled and await rows(db_engine, an_schema) == expected

        await eventually(done, "rows equal the recomputation after the restart", timeout=90)
    async with db_engine.connect() as conn:
        stored = await conn.scalar(text(f'SELECT count(*) FROM "{an_schema}".fills'))
    assert stored == len(fills)
