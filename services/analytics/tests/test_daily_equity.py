"""Fills and closed candles over real NATS and Postgres → daily equity per account and per bot,
equal to an independent recomputation (and the hand-computed numbers); a replay of the streams
after emptying everything gives identical rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from an_harness import Market
from an_scenario import BOT, CANDLES, FILLS, publish_scenario, settled
from nats.aio.client import Client
from sqlalchemy import text

from tradeloom.analytics import app
from tradeloom.analytics.replay import reset
from tradeloom.analytics.settings import AnalyticsSettings
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.polling import eventually


@dataclass(frozen=True)
class Priced:
    at: datetime
    price: Decimal


def recompute(
    fills: list[tuple[Any, ...]], candles: list[tuple[str, datetime]], last: date
) -> dict[date, Decimal]:
    """Independently: for each day, fold every fill up to its end from scratch and value the position
    at the newest price seen by then (candle closes and the scope's own fills)."""
    prices = [Priced(end, Decimal(close)) for close, end in candles] + [
        Priced(f[7], Decimal(f[4])) for f in fills
    ]
    prices.sort(key=lambda p: p.at)
    first = min(f[7] for f in fills).date()
    out: dict[date, Decimal] = {}
    day = first
    while day <= last:
        end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
        done = [f for f in fills if f[7] < end]
        cash = sum(
            (-Decimal(f[4]) * Decimal(f[5]) * (1 if f[3] == "buy" else -1) - Decimal(f[6]) for f in done),
            Decimal(0),
        )
        held = sum((Decimal(f[5]) * (1 if f[3] == "buy" else -1) for f in done), Decimal(0))
        seen = [p for p in prices if p.at < end]
        out[day] = cash + held * seen[-1].price
        day += timedelta(days=1)
    return out


async def equity_rows(runtime: ServiceRuntime, schema: str, scope: str, scope_id: str) -> dict[date, Decimal]:
    async with runtime.engine.connect() as conn:
        result = await conn.execute(
            text(f'SELECT day, equity FROM "{schema}".daily_equity WHERE scope = :s AND scope_id = :i'),
            {"s": scope, "i": scope_id},
        )
        return {row.day: Decimal(row.equity) for row in result}


async def all_rows(runtime: ServiceRuntime, schema: str) -> list[tuple[Any, ...]]:
    async with runtime.engine.connect() as conn:
        result = await conn.execute(
            text(f'SELECT * FROM "{schema}".daily_equity ORDER BY scope, scope_id, day')
        )
        return [tuple(row) for row in result]


async def test_daily_equity_equals_independent_recomputation_and_replays_identically(
    analytics: ServiceRuntime, market: Market, nc: Client, streams: Subjects, an_settings: AnalyticsSettings
) -> None:
    schema = an_settings.db_schema
    await publish_scenario(market)
    today = datetime.now(UTC).date()
    expected_account = recompute(FILLS, CANDLES, today)
    bot_fills = [f for f in FILLS if f[2] in ("ob1", "ob3")]
    expected_bot = recompute(bot_fills, CANDLES, today)

    await eventually(lambda: settled(nc, streams), "analytics consumed every event")
    await eventually(
        lambda: _equal(analytics, schema, "account", "acc-1", expected_account),
        "account rows = recomputation",
    )
    await eventually(lambda: _equal(analytics, schema, "bot", BOT, expected_bot), "bot rows = recomputation")
    by_hand = await equity_rows(analytics, schema, "account", "acc-1")
    # 5th: −200.2 + 2×110; 6th: 2×105; 7th: sold 1 @120 (fee .12), marked by the fill; 8th: bought 1 @95
    # (fee .095), cash −175.415, 2 held at 90
    assert [by_hand[date(2026, 1, d)] for d in (5, 6, 7, 8, 9)] == [
        Decimal("19.8"), Decimal("9.8"), Decimal("39.68"), Decimal("4.585"), Decimal("4.585")
    ]  # fmt: skip
    assert len(by_hand) == (today - date(2026, 1, 5)).days + 1  # days without trades included
    before = await all_rows(analytics, schema)

    await analytics.stop()
    await reset(analytics.engine, schema, nc.jetstream(), streams)
    assert await all_rows(analytics, schema) == []
    replayed = app.build(an_settings)
    await replayed.start()
    try:
        await eventually(lambda: _same(replayed, schema, before), "replayed rows identical", timeout=60)
    finally:
        await replayed.stop()


async def _equal(
    runtime: ServiceRuntime, schema: str, scope: str, scope_id: str, expected: dict[date, Decimal]
) -> bool:
    return await equity_rows(runtime, schema, scope, scope_id) == expected


async def _same(runtime: ServiceRuntime, schema: str, before: list[tuple[Any, ...]]) -> bool:
    return await all_rows(runtime, schema) == before
