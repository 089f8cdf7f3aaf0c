"""The fifteen candle intervals: bucket boundaries (month ends, leap day, week start on Monday,
3-day epoch buckets) against pandas resample with the same labels, the SQL bucket against the
Python one, stored candles of every interval against pandas, and calendar-month ``candle_closed``
events closing at the month's real end, once."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.market_data.domain.timeframes import (
    ALL_TIMEFRAMES,
    MONTH,
    TIMEFRAMES,
    WEEK_ORIGIN_NS,
    bucket_end,
    bucket_sql,
    bucket_start,
)
from tradeloom.market_data.store.candle_close import close_candles
from tradeloom.market_data.store.trades_store import rollup, store_trades
from tradeloom.market_data.trade_batch import TradeColumns
from tradeloom.shared.outbox import Outbox
from tradeloom.shared.subjects import Subjects

SECOND = 10**9
# pandas rules with the platform's labels: left-closed, left-labelled, epoch origin (weeks: Monday).
PANDAS_RULES = {
    "1m": "1min", "3m": "3min", "5m": "5min", "15m": "15min", "30m": "30min", "1h": "1h", "2h": "2h",
    "4h": "4h", "6h": "6h", "8h": "8h", "12h": "12h", "1d": "1D", "3d": "3D", "1w": "7D", MONTH: "MS",
}  # fmt: skip


def ns(text_time: str) -> int:
    return int(datetime.fromisoformat(text_time).replace(tzinfo=UTC).timestamp()) * SECOND


# Around the boundaries that go wrong: leap day, month ends of 28/29/30/31 days, year end, Monday.
EDGES = [
    "2024-02-28T23:59:59", "2024-02-29T00:00:00", "2024-02-29T23:59:59", "2024-03-01T00:00:00",
    "2023-02-28T23:59:59", "2023-03-01T00:00:00", "2024-04-30T23:59:59", "2024-05-01T00:00:00",
    "2023-12-31T23:59:59", "2024-01-01T00:00:00", "2024-01-07T23:59:59", "2024-01-08T00:00:00",
    "2000-02-29T12:00:00", "1900-03-01T00:00:00", "1970-01-01T00:00:00", "1969-12-31T23:59:59",
]  # fmt: skip


def origin_of(timeframe: str) -> pd.Timestamp | str:
    """Epoch origin, Monday for weeks; months are calendar bins (pandas ignores an origin there)."""
    if timeframe == "1w":
        return pd.Timestamp(WEEK_ORIGIN_NS, unit="ns")
    return "start_day" if timeframe == MONTH else "epoch"


def pandas_label(ts_ns: int, timeframe: str) -> int:
    """The left label pandas' resample gives the one timestamp ``ts_ns`` under ``timeframe``."""
    origin = origin_of(timeframe)
    series = pd.Series([1], index=pd.to_datetime([ts_ns], unit="ns"))
    grouped = series.resample(PANDAS_RULES[timeframe], origin=origin, label="left", closed="left").sum()
    return int(grouped.index[0].value)


def test_fifteen_intervals_and_their_boundaries_equal_pandas() -> None:
    assert tuple(PANDAS_RULES) == ALL_TIMEFRAMES
    for timeframe in ALL_TIMEFRAMES:
        for edge in EDGES:
            ts = ns(edge)
            start = bucket_start(ts, timeframe)
            assert start == pandas_label(ts, timeframe), (timeframe, edge)
            end = bucket_end(start, timeframe)
            assert start <= ts < end, (timeframe, edge)
            assert bucket_start(end, timeframe) == end and bucket_start(end - 1, timeframe) == start
    assert bucket_start(ns("2024-02-29T23:59:59"), MONTH) == ns("2024-02-01T00:00:00")
    assert bucket_end(ns("2024-02-01T00:00:00"), MONTH) == ns("2024-03-01T00:00:00")  # 29 days
    assert bucket_end(ns("2023-02-01T00:00:00"), MONTH) == ns("2023-03-01T00:00:00")  # 28 days
    assert bucket_end(ns("2023-12-01T00:00:00"), MONTH) == ns("2024-01-01T00:00:00")
    assert bucket_start(ns("2024-01-07T23:59:59"), "1w") == ns("2024-01-01T00:00:00")  # a Monday
    assert bucket_start(ns("2024-01-08T00:00:00"), "1w") == ns("2024-01-08T00:00:00")
    assert bucket_start(ns("2024-01-02T00:00:00"), "3d") == ns("2023-12-31T00:00:00")  # 19722 = 3·6574


async def test_sql_bucket_equals_python_bucket(db_engine: AsyncEngine) -> None:
    day_aligned = [bucket_start(ns(edge), "1d") for edge in EDGES]  # the month rolls up day candles
    async with db_engine.connect() as connection:
        for timeframe in ALL_TIMEFRAMES:
            values = day_aligned if timeframe == MONTH else [ns(edge) + 123 for edge in EDGES]
            got = (
                await connection.execute(
                    text(f"SELECT {bucket_sql(timeframe, 'x')} FROM unnest(CAST(:xs AS bigint[])) AS x"),
                    {"xs": values},
                )
            ).scalars()
            assert list(got) == [bucket_start(v, timeframe) for v in values], timeframe


def pandas_candles(trades: list[tuple[str, int, Decimal, Decimal]], timeframe: str) -> list[tuple]:
    frame = pd.DataFrame(trades, columns=["tid", "ts", "price", "amount"]).sort_values(["ts", "tid"])
    frame.index = pd.to_datetime(frame["ts"], unit="ns")
    resampled = frame.resample(
        PANDAS_RULES[timeframe], origin=origin_of(timeframe), label="left", closed="left"
    )
    out = []
    for start, positions in sorted(resampled.indices.items()):  # the non-empty bins only
        group = frame.iloc[positions]
        prices = list(group["price"])
        volume = sum(group["amount"], Decimal(0))
        out.append((int(start.value), prices[0], max(prices), min(prices), prices[-1], volume, len(group)))
    return out


async def test_stored_candles_of_every_interval_and_month_close_events(
    md_schema: str, db_engine: AsyncEngine
) -> None:
    venue = f"v{uuid.uuid4().hex[:10]}"
    # trades every 23 h 13 min from mid-January to the start of April 2024 (leap February), plus the edges
    times = list(range(ns("2024-01-15T00:00:00"), ns("2024-04-02T00:00:00"), (23 * 3600 + 13 * 60) * SECOND))
    times += [ns(edge) for edge in EDGES[:4]] + [ns("2024-03-31T23:59:59")]
    trades = [
        (f"t{i:05d}", ts, Decimal(100 + (i * 37) % 51) / 4, Decimal(1 + i % 7) / 8)
        for i, ts in enumerate(times)
    ]
    late = trades[-5:]  # arrive after the rest: land in buckets already built
    outbox = Outbox(md_schema, Subjects("t"), "market-data")
    for part in (trades[:-5], late):
        columns = TradeColumns(
            venue, "BTC/USDT", [t[0] for t in part], [t[1] for t in part],
            [str(t[2]) for t in part], [str(t[3]) for t in part], ["buy"] * len(part),
        )  # fmt: skip
        async with db_engine.begin() as connection:
            for touched in await store_trades(connection, md_schema, [columns]):
                await rollup(connection, md_schema, touched)
    async with db_engine.begin() as connection:
        for timeframe in ALL_TIMEFRAMES:
            rows = await connection.execute(
                text(
                    f'SELECT open_ns, open, high, low, close, volume, trade_count FROM "{md_schema}".candles '
                    "WHERE venue = :v AND tf = :tf ORDER BY open_ns"
                ),
                {"v": venue, "tf": timeframe},
            )
            assert [tuple(r) for r in rows] == pandas_candles(trades, timeframe), timeframe
        # the watermark is 2024-04-01 21:xx: January, February (29 days) and March have closed
        closed = await close_candles(
            connection, md_schema, outbox, venue=venue, symbol="BTC/USDT", tolerance_ns=0
        )
        again = await close_candles(
            connection, md_schema, outbox, venue=venue, symbol="BTC/USDT", tolerance_ns=0
        )
        payloads = (
            await connection.execute(
                text(f'SELECT payload FROM "{md_schema}".outbox WHERE subject LIKE :s ORDER BY seq'),
                {"s": f"%{venue}%"},
            )
        ).scalars()
        events = [json.loads(bytes(p))["data"] for p in payloads]
    assert again == 0 and closed == len(events)
    months = [(e["open_ns"], e["close_ns"], e["trade_count"]) for e in events if e["timeframe"] == MONTH]
    expected = pandas_candles(trades, MONTH)
    assert months == [
        (ns("2024-01-01T00:00:00"), ns("2024-02-01T00:00:00"), expected[0][6]),
        (ns("2024-02-01T00:00:00"), ns("2024-03-01T00:00:00"), expected[1][6]),
        (ns("2024-03-01T00:00:00"), ns("2024-04-01T00:00:00"), expected[2][6]),
    ]
    assert {e["timeframe"] for e in events} == set(ALL_TIMEFRAMES)
    for timeframe in TIMEFRAMES:  # every fixed interval closes whole buckets, in order
        opens = [e["open_ns"] for e in events if e["timeframe"] == timeframe]
        assert opens == sorted(opens) and all(
            e["close_ns"] == e["open_ns"] + TIMEFRAMES[timeframe]
            for e in events
            if e["timeframe"] == timeframe
        )
