"""Storing trades and maintaining candles in the caller's transaction.

``store_trades`` sends a batch as seven column arrays (prices and amounts as decimal strings that
Postgres parses into ``numeric``), inserts them into ``trades`` skipping duplicates (key venue,
symbol, ts_ns, trade_id), and merges only the newly inserted trades into the candles of EVERY
timeframe (1m from the trades; 3m…1M from those few 1m aggregates, bucketed as ``bucket_sql``) and
the market state, all in ONE statement (one round trip, no temp table): a redelivered or re-sent
trade never counts twice. Open/close follow (ts_ns, trade_id) order, so a late trade lands where it
belongs. Candle fields merge exactly (first/last by (ts_ns, trade_id), max, min, numeric sums), so
the merged coarse candles equal a roll-up of the 1m ones, without the 14 roll-up statements per
symbol a batch used to cost. ``rollup`` rebuilds the touched buckets of each coarser timeframe from
the next finer one: for 1m candles written otherwise (backfilled bars, or a minute replaced).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.market_data.domain.timeframes import ROLLUP_SOURCE, bucket_end, bucket_sql, bucket_start
from tradeloom.market_data.trade_batch import TradeColumns, concat
from tradeloom.shared.db import check_schema_name


@dataclass(frozen=True)
class TouchedRange:
    """The 1-minute candle range a batch changed for one symbol."""

    venue: str
    symbol: str
    first_open_ns: int
    last_open_ns: int


def _merge_1m_sql(s: str) -> str:
    return f"""
WITH ins AS (
    INSERT INTO "{s}".trades (venue, symbol, ts_ns, trade_id, price, amount, side)
    SELECT * FROM unnest(CAST(:venue AS text[]), CAST(:symbol AS text[]), CAST(:ts_ns AS bigint[]),
        CAST(:trade_id AS text[]), CAST(CAST(:price AS text[]) AS numeric[]),
        CAST(CAST(:amount AS text[]) AS numeric[]), CAST(:side AS text[]))
    ON CONFLICT DO NOTHING
    RETURNING venue, symbol, ts_ns, trade_id, price, amount
), agg AS (
    SELECT venue, symbol, ts_ns - ts_ns % 60000000000 AS open_ns,
        (array_agg(price ORDER BY ts_ns, trade_id))[1] AS open, max(price) AS high, min(price) AS low,
        (array_agg(price ORDER BY ts_ns DESC, trade_id DESC))[1] AS close,
        sum(amount) AS volume, count(*) AS trade_count,
        min(ts_ns) AS first_ts_ns, (array_agg(trade_id ORDER BY ts_ns, trade_id))[1] AS first_tid,
        max(ts_ns) AS last_ts_ns, (array_agg(trade_id ORDER BY ts_ns DESC, trade_id DESC))[1] AS last_tid
    FROM ins GROUP BY 1, 2, 3
), latest AS (  -- the newest trade of each symbol closes its newest minute: no sort of every trade
    SELECT DISTINCT ON (venue, symbol) venue, symbol, last_ts_ns, last_tid, close
    FROM agg ORDER BY venue, symbol, open_ns DESC
), state AS (
    INSERT INTO "{s}".market_state AS m (venue, symbol, watermark_ns, last_ts_ns, last_tid, last_price)
    SELECT venue, symbol, last_ts_ns, last_ts_ns, last_tid, close FROM latest
    ON CONFLICT (venue, symbol) DO UPDATE SET
        watermark_ns = greatest(m.watermark_ns, EXCLUDED.watermark_ns),
        last_price = CASE WHEN (EXCLUDED.last_ts_ns, EXCLUDED.last_tid) > (m.last_ts_ns, m.last_tid)
                     THEN EXCLUDED.last_price ELSE m.last_price END,
        last_tid = CASE WHEN (EXCLUDED.last_ts_ns, EXCLUDED.last_tid) > (m.last_ts_ns, m.last_tid)
                   THEN EXCLUDED.last_tid ELSE m.last_tid END,
        last_ts_ns = greatest(m.last_ts_ns, EXCLUDED.last_ts_ns)
), coarse AS (  -- the same new trades per coarser bucket, from their (few) 1m aggregates
    SELECT venue, symbol, tf, b AS open_ns,
        (array_agg(open ORDER BY first_ts_ns, first_tid))[1] AS open, max(high) AS high,
        min(low) AS low, (array_agg(close ORDER BY last_ts_ns DESC, last_tid DESC))[1] AS close,
        sum(volume) AS volume, sum(trade_count) AS trade_count,
        min(first_ts_ns) AS first_ts_ns,
        (array_agg(first_tid ORDER BY first_ts_ns, first_tid))[1] AS first_tid,
        max(last_ts_ns) AS last_ts_ns,
        (array_agg(last_tid ORDER BY last_ts_ns DESC, last_tid DESC))[1] AS last_tid
    FROM ({_coarse_buckets_sql()}) AS x
    GROUP BY venue, symbol, tf, b
), merged AS (
    INSERT INTO "{s}".candles AS c (venue, symbol, tf, open_ns, open, high, low, close, volume,
        trade_count, first_ts_ns, first_tid, last_ts_ns, last_tid)
    SELECT venue, symbol, '1m', open_ns, open, high, low, close, volume, trade_count,
        first_ts_ns, first_tid, last_ts_ns, last_tid FROM agg
    UNION ALL
    SELECT venue, symbol, tf, open_ns, open, high, low, close, volume, trade_count,
        first_ts_ns, first_tid, last_ts_ns, last_tid FROM coarse
    ON CONFLICT (venue, symbol, tf, open_ns) DO UPDATE SET
        open = CASE WHEN (EXCLUDED.first_ts_ns, EXCLUDED.first_tid) < (c.first_ts_ns, c.first_tid)
               THEN EXCLUDED.open ELSE c.open END,
        first_tid = CASE WHEN (EXCLUDED.first_ts_ns, EXCLUDED.first_tid) < (c.first_ts_ns, c.first_tid)
                    THEN EXCLUDED.first_tid ELSE c.first_tid END,
        first_ts_ns = least(c.first_ts_ns, EXCLUDED.first_ts_ns),
        close = CASE WHEN (EXCLUDED.last_ts_ns, EXCLUDED.last_tid) > (c.last_ts_ns, c.last_tid)
                THEN EXCLUDED.close ELSE c.close END,
        last_tid = CASE WHEN (EXCLUDED.last_ts_ns, EXCLUDED.last_tid) > (c.last_ts_ns, c.last_tid)
                   THEN EXCLUDED.last_tid ELSE c.last_tid END,
        last_ts_ns = greatest(c.last_ts_ns, EXCLUDED.last_ts_ns),
        high = greatest(c.high, EXCLUDED.high),
        low = least(c.low, EXCLUDED.low),
        volume = c.volume + EXCLUDED.volume,
        trade_count = c.trade_count + EXCLUDED.trade_count
    RETURNING venue, symbol, tf, open_ns
)
SELECT venue, symbol, min(open_ns) AS lo, max(open_ns) AS hi
FROM merged WHERE tf = '1m' GROUP BY venue, symbol ORDER BY venue, symbol"""


def _coarse_buckets_sql() -> str:
    """Every 1m aggregate of ``agg`` once per coarser timeframe, with that timeframe's bucket."""
    return "\n    UNION ALL ".join(
        f"SELECT *, '{timeframe}' AS tf, {bucket_sql(timeframe, 'open_ns')} AS b FROM agg"
        for timeframe in ROLLUP_SOURCE
    )


def _rollup_sql(s: str, timeframe: str) -> str:
    return f"""
INSERT INTO "{s}".candles AS c (venue, symbol, tf, open_ns, open, high, low, close, volume, trade_count,
    first_ts_ns, first_tid, last_ts_ns, last_tid)
SELECT venue, symbol, :tf, b, (array_agg(open ORDER BY open_ns))[1], max(high), min(low),
    (array_agg(close ORDER BY open_ns DESC))[1], sum(volume), sum(trade_count),
    min(first_ts_ns), (array_agg(first_tid ORDER BY first_ts_ns, first_tid))[1],
    max(last_ts_ns), (array_agg(last_tid ORDER BY last_ts_ns DESC, last_tid DESC))[1]
FROM (SELECT *, {bucket_sql(timeframe, "open_ns")} AS b FROM "{s}".candles
      WHERE venue = :venue AND symbol = :symbol AND tf = :source AND open_ns >= :lo AND open_ns < :hi) AS x
GROUP BY venue, symbol, b
ON CONFLICT (venue, symbol, tf, open_ns) DO UPDATE SET
    open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close,
    volume = EXCLUDED.volume, trade_count = EXCLUDED.trade_count,
    first_ts_ns = EXCLUDED.first_ts_ns, first_tid = EXCLUDED.first_tid,
    last_ts_ns = EXCLUDED.last_ts_ns, last_tid = EXCLUDED.last_tid"""


async def store_trades(
    connection: AsyncConnection, schema: str, batches: Sequence[TradeColumns]
) -> list[TouchedRange]:
    """Insert new trades and merge them into every timeframe's candles and the market state; returns
    the touched 1m ranges.

    ``batches`` must already be validated (``trade_batch.columns_from_payload`` or
    ``TradeColumns.from_trades``): decimal strings here are finite by contract."""
    if not any(len(batch) for batch in batches):
        return []
    venue, symbol, ts_ns, trade_id, price, amount, side = concat(batches)
    # Sorting tens of thousands of rows (candle aggregates) spills to disk with the default 4 MB.
    await connection.execute(text("SET LOCAL work_mem = '64MB'"))
    rows = await connection.execute(
        text(_merge_1m_sql(check_schema_name(schema))),
        {
            "venue": venue,
            "symbol": symbol,
            "ts_ns": ts_ns,
            "trade_id": trade_id,
            "price": price,
            "amount": amount,
            "side": side,
        },
    )
    return [TouchedRange(r.venue, r.symbol, r.lo, r.hi) for r in rows]


async def rollup(connection: AsyncConnection, schema: str, touched: TouchedRange) -> None:
    """Rebuild every coarser candle overlapping ``touched`` from the next finer timeframe."""
    s = check_schema_name(schema)
    for timeframe, source in ROLLUP_SOURCE.items():
        await connection.execute(
            text(_rollup_sql(s, timeframe)),
            {
                "tf": timeframe,
                "source": source,
                "venue": touched.venue,
                "symbol": touched.symbol,
                "lo": bucket_start(touched.first_open_ns, timeframe),
                "hi": bucket_end(bucket_start(touched.last_open_ns, timeframe), timeframe),
            },
        )
