"""Candles built by the store equal an independent pandas computation from the same trades,
whatever the arrival order (late trades), batching and duplicates; roll-ups equal direct
aggregation of the trades and the domain's reference roll-up of 1-minute candles."""

from __future__ import annotations

import random
import uuid
from decimal import Decimal

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.market_data.domain.candles import Bar, TradePoint, candles_from_trades, rollup
from tradeloom.market_data.domain.timeframes import ALL_TIMEFRAMES, WEEK_ORIGIN_NS
from tradeloom.market_data.store.trades_store import TouchedRange, store_trades
from tradeloom.market_data.store.trades_store import rollup as store_rollup
from tradeloom.market_data.trade_batch import TradeColumns

BASE_NS = 1_704_067_200_000_000_000 + 3 * 86_400 * 10**9  # 2024-01-04 00:00 UTC, a Thursday
MINUTE = 60 * 10**9
RULES = (
    ("3m", "3min"), ("5m", "5min"), ("15m", "15min"), ("30m", "30min"), ("1h", "1h"), ("2h", "2h"),
    ("4h", "4h"), ("6h", "6h"), ("8h", "8h"), ("12h", "12h"), ("1d", "1D"), ("3d", "3D"), ("1w", "W"),
    ("1M", "MS"),
)  # fmt: skip

trade_strategy = st.tuples(
    st.integers(0, 3 * 86_400 * 10**9 // 50),  # offsets, scaled below to span ~3 days sparsely
    st.integers(1, 10**6),  # price in cents
    st.integers(1, 10**5),  # amount in 1e-5
)


def pandas_candles(
    trades: list[TradePoint], rule: str
) -> list[tuple[int, Decimal, Decimal, Decimal, Decimal, Decimal, int]]:
    """Independent: pandas resample of distinct trades sorted by (time, id)."""
    frame = pd.DataFrame(
        [(t.ts_ns, t.trade_id, t.price, t.amount) for t in {t.trade_id: t for t in trades}.values()],
        columns=["ts", "tid", "price", "amount"],
    ).sort_values(["ts", "tid"])
    frame.index = pd.to_datetime(frame["ts"], unit="ns")  # naive UTC: pandas honours origin only then
    origin = (
        pd.Timestamp(WEEK_ORIGIN_NS, unit="ns") if rule == "W" else "start_day" if rule == "MS" else "epoch"
    )
    freq = "7D" if rule == "W" else rule
    grouped = frame.resample(freq, origin=origin, label="left", closed="left")
    out = []
    for start, positions in sorted(grouped.indices.items()):  # non-empty bins only: no empty-bin walk
        group = frame.iloc[positions]
        prices = list(group["price"])
        out.append(
            (
                int(start.value),
                prices[0],
                max(prices),
                min(prices),
                prices[-1],
                sum(group["amount"], Decimal(0)),
                len(group),
            )
        )
    return out


async def stored(engine: AsyncEngine, schema: str, venue: str, tf: str) -> list[tuple]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                f'SELECT open_ns, open, high, low, close, volume, trade_count FROM "{schema}".candles '
                "WHERE venue = :v AND symbol = 'BTC/USDT' AND tf = :tf ORDER BY open_ns"
            ),
            {"v": venue, "tf": tf},
        )
        return [tuple(r) for r in rows]


def as_tuples(bars: list[Bar]) -> list[tuple]:
    return [(b.open_ns, b.open, b.high, b.low, b.close, b.volume, b.trade_count) for b in bars]


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    raw=st.lists(trade_strategy, min_size=1, max_size=60),
    duplicates=st.integers(0, 10),
    batches=st.integers(1, 6),
    seed=st.integers(0, 2**32),
    spread=st.sampled_from([1, 50, 5000]),
)
async def test_store_candles_equal_independent_computation(
    md_schema: str, db_engine: AsyncEngine, raw: list, duplicates: int, batches: int, seed: int, spread: int
) -> None:
    venue = f"v{uuid.uuid4().hex[:10]}"
    trades = [
        TradePoint(f"t{i:04d}", BASE_NS + off * spread, Decimal(p) / 100, Decimal(a) / 100_000)
        for i, (off, p, a) in enumerate(raw)
    ]
    rng = random.Random(seed)
    arrivals = trades + [rng.choice(trades) for _ in range(duplicates)]
    rng.shuffle(arrivals)  # late trades: any order inside and across batches
    cut = (
        sorted(rng.sample(range(1, len(arrivals)), min(batches - 1, len(arrivals) - 1)))
        if len(arrivals) > 1
        else []
    )
    chunks = [arrivals[a:b] for a, b in zip([0, *cut], [*cut, len(arrivals)], strict=True)]
    for chunk in chunks:
        half = len(chunk) // 2  # two messages' columns in one statement, as the consumer sends them
        columns = [
            TradeColumns(
                venue,
                "BTC/USDT",
                [t.trade_id for t in part],
                [t.ts_ns for t in part],
                [str(t.price) for t in part],
                [str(t.amount) for t in part],
                ["buy"] * len(part),
            )
            for part in (chunk[:half], chunk[half:])
        ]
        async with db_engine.begin() as connection:
            await store_trades(connection, md_schema, columns)  # every timeframe, no roll-up

    assert await stored(db_engine, md_schema, venue, "1m") == pandas_candles(trades, "1min")
    assert await stored(db_engine, md_schema, venue, "1m") == as_tuples(candles_from_trades(trades, "1m"))
    minutes = candles_from_trades(trades, "1m")
    for tf, rule in RULES:
        direct = pandas_candles(trades, rule)
        assert await stored(db_engine, md_schema, venue, tf) == direct, tf
        assert as_tuples(rollup(minutes, tf)) == direct, tf
    async with db_engine.connect() as connection:
        count = (
            await connection.execute(
                text(f'SELECT count(*) FROM "{md_schema}".trades WHERE venue = :v'), {"v": venue}
            )
        ).scalar_one()
    assert count == len(trades)
    assert {tf for tf, _ in RULES} | {"1m"} == set(ALL_TIMEFRAMES)
    # the merged coarse candles are what a roll-up from the 1m ones rebuilds
    merged = {tf: await stored(db_engine, md_schema, venue, tf) for tf in ALL_TIMEFRAMES}
    opens = [t.ts_ns - t.ts_ns % MINUTE for t in trades]
    async with db_engine.begin() as connection:
        await store_rollup(connection, md_schema, TouchedRange(venue, "BTC/USDT", min(opens), max(opens)))
    assert {tf: await stored(db_engine, md_schema, venue, tf) for tf in ALL_TIMEFRAMES} == merged
