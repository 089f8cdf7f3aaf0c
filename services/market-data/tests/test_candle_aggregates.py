"""Candle continuous aggregates: the generated TimescaleDB DDL (unit), and on this plain Postgres
the guard choosing the service's own roll-up with unchanged answers (integration).

TimescaleDB is not installed here, so the DDL is checked as text and its bucket arithmetic
against a model of TimescaleDB's integer ``time_bucket``; it never runs on a real TimescaleDB here.
"""

from __future__ import annotations

import random
import re
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.market_data.api_market import MarketApi
from tradeloom.market_data.domain.candles import TradePoint, candles_from_trades
from tradeloom.market_data.domain.instruments import default_sim_instruments
from tradeloom.market_data.domain.timeframes import ROLLUP_SOURCE, TIMEFRAMES, WEEK_ORIGIN_NS, bucket_start
from tradeloom.market_data.store import candle_aggregates as ca
from tradeloom.market_data.store.instruments_store import upsert_instruments
from tradeloom.market_data.store.timescale import (
    candle_views,
    ensure_candle_aggregates,
    parse_version,
    timescale_version,
)
from tradeloom.market_data.store.trades_store import rollup, store_trades
from tradeloom.market_data.trade_batch import TradeColumns
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data import CandlesRequest, TradeTick

MINUTE = 60 * 10**9
BUCKET = re.compile(r"time_bucket\(CAST\((\d+) AS bigint\), (\w+)(?:, CAST\((\d+) AS bigint\))?\)")


def timescale_time_bucket(width: int, ts: int, offset: int = 0) -> int:
    """TimescaleDB's integer time_bucket: floor((ts - offset) / width) * width + offset."""
    return (ts - offset) // width * width + offset


def test_chain_views_sources_and_bucket_widths() -> None:
    ddl = {tf: ca.create_view_sql("md", tf) for tf in ca.CAGG_TIMEFRAMES}
    assert ca.CAGG_TIMEFRAMES == ("1m", "5m", "15m", "1h", "4h", "1d", "1w")
    for tf, sql in ddl.items():
        assert sql.startswith(f'CREATE MATERIALIZED VIEW IF NOT EXISTS "md".candles_cagg_{tf} ')
        assert "timescaledb.continuous" in sql and "timescaledb.materialized_only = false" in sql
        assert sql.endswith(" WITH NO DATA")  # allowed inside the start task's transaction
        widths = {int(w) for w, _, _ in BUCKET.findall(sql)}
        assert widths == {TIMEFRAMES[tf]}, tf  # the SELECT and the GROUP BY bucket the same way
        assert len(BUCKET.findall(sql)) == 2
        source = 'FROM "md".trades' if tf == "1m" else f'FROM "md".candles_cagg_{ca.CAGG_SOURCE[tf]}'
        assert source in sql
        assert f"GROUP BY venue, symbol, time_bucket(CAST({TIMEFRAMES[tf]} AS bigint)" in sql
    assert "first(price, ts_ns) AS open" in ddl["1m"] and "last(price, ts_ns) AS close" in ddl["1m"]
    assert "count(*) AS trade_count" in ddl["1m"] and "sum(amount) AS volume" in ddl["1m"]
    for tf in ca.CAGG_SOURCE:
        assert "first(open, open_ns) AS open" in ddl[tf] and "last(close, open_ns) AS close" in ddl[tf]
        assert "max(high) AS high" in ddl[tf] and "min(low) AS low" in ddl[tf]
        assert "CAST(sum(trade_count) AS bigint) AS trade_count" in ddl[tf]


def test_only_the_week_has_an_offset_and_it_is_monday() -> None:
    offsets = {tf: BUCKET.findall(ca.create_view_sql("md", tf))[0][2] for tf in ca.CAGG_TIMEFRAMES}
    assert offsets == {tf: (str(WEEK_ORIGIN_NS) if tf == "1w" else "") for tf in ca.CAGG_TIMEFRAMES}
    monday = 1_704_067_200 * 10**9  # 2024-01-01 was a Monday
    assert timescale_time_bucket(TIMEFRAMES["1w"], monday + 5 * 86_400 * 10**9, WEEK_ORIGIN_NS) == monday


def test_timescale_buckets_equal_the_rollup_buckets() -> None:
    rng = random.Random(7)
    stamps = [rng.randrange(-(10**18), 4 * 10**18) for _ in range(2000)] + [0, WEEK_ORIGIN_NS, -1]
    for tf in ca.CAGG_TIMEFRAMES:
        width, _, offset = BUCKET.findall(ca.create_view_sql("md", tf))[0]
        for ts in stamps:
            assert timescale_time_bucket(int(width), ts, int(offset or 0)) == bucket_start(ts, tf), (tf, ts)


def test_refresh_policies_from_settings() -> None:
    ddl = ca.candle_aggregates_ddl("md", lookback_s=3600, every_s=30)
    policies = [s for s in ddl if "add_continuous_aggregate_policy" in s]
    creates = [s for s in ddl if s.startswith("CREATE MATERIALIZED VIEW")]
    assert ddl == creates + policies and len(policies) == 7  # views parents first, then policies
    hour = 3600 * 10**9
    assert ca.refresh_window_ns("1m", 3600) == (hour, MINUTE)
    assert ca.refresh_window_ns("1h", 3600) == (3 * hour, hour)  # at least three buckets
    assert ca.refresh_window_ns("1w", 3600) == (3 * TIMEFRAMES["1w"], TIMEFRAMES["1w"])
    assert policies[0] == (
        "SELECT add_continuous_aggregate_policy('\"md\".candles_cagg_1m', "
        f"start_offset => CAST({hour} AS bigint), end_offset => CAST({MINUTE} AS bigint), "
        "schedule_interval => make_interval(secs => 30), if_not_exists => true)"
    )
    assert 'FROM "md".candles_cagg_1h WHERE venue = :v' in ca.candles_from_view_sql("md", "1h")
    assert parse_version("2.15.1") == (2, 15) and parse_version("garbage") == (0, 0)
    assert parse_version("2.9.3") < ca.MIN_TIMESCALE_VERSION <= parse_version("2.17.0")


async def test_plain_postgres_selects_the_rollup_with_unchanged_answers(
    md_schema: str, db_engine: AsyncEngine
) -> None:
    rng = random.Random(11)
    start = 1_704_067_200 * 10**9 + 13 * MINUTE  # not aligned to any coarse bucket
    ticks = [
        TradeTick(
            trade_id=f"t{i:05d}",
            ts_ns=start + rng.randrange(0, 3 * 86_400) * 10**9,
            price=Decimal(rng.randrange(9000, 11000)) / 100,
            amount=Decimal(rng.randrange(1, 500)) / 100,
            side="buy",
        )
        for i in range(3000)
    ]
    async with db_engine.begin() as connection:
        await upsert_instruments(connection, md_schema, default_sim_instruments("sim", ["BTC/USDT"]), "file")
        touched = await store_trades(
            connection, md_schema, [TradeColumns.from_trades("sim", "BTC/USDT", ticks)]
        )
        for item in touched:
            await rollup(connection, md_schema, item)
        assert await timescale_version(connection) is None
        assert await ensure_candle_aggregates(connection, md_schema, lookback_s=3600, every_s=60) is False
        assert await candle_views(connection, md_schema) == {}
        views = await connection.execute(
            text("SELECT count(*) FROM pg_matviews WHERE schemaname = :s"), {"s": md_schema}
        )
        assert views.scalar_one() == 0  # the guard built nothing

    api = MarketApi(lambda: db_engine, md_schema, "sim")
    points = [TradePoint(t.trade_id, t.ts_ns, t.price, t.amount) for t in ticks]
    for tf in ("1m", *ROLLUP_SOURCE):
        async with db_engine.connect() as connection:
            assert await api.candle_source(connection, tf) is False
        reply = await api.candles(
            CallerContext(), CandlesRequest(symbol="BTC/USDT", timeframe=tf, limit=5000)
        )
        expected = candles_from_trades(points, tf)
        decoded = reply.decoded().candles  # the reply's JSON validated by the published model
        got = [(c.open_ns, c.open, c.high, c.low, c.close, c.volume, c.trade_count) for c in decoded]
        assert got == [
            (b.open_ns, b.open, b.high, b.low, b.close, b.volume, b.trade_count) for b in expected
        ], tf
