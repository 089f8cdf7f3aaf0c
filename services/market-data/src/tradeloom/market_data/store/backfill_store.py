"""Backfilled 1-minute candles (from the venue's OHLCV after a feed gap).

Written only where no candle exists (a stored trade always wins), then the coarser timeframes of
the range are rebuilt. A backfilled candle has ``trade_count`` 0 (ccxt's OHLCV has no count) and
``first_tid = last_tid = 'backfill'``; it closes like any other candle when the watermark passes.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.market_data.domain.candles import Bar
from tradeloom.market_data.domain.timeframes import MINUTE_NS
from tradeloom.market_data.store.trades_store import TouchedRange, rollup
from tradeloom.shared.db import check_schema_name

BACKFILL_TID = "backfill"


async def store_backfill_candles(
    connection: AsyncConnection, schema: str, venue: str, symbol: str, bars: list[Bar]
) -> int:
    """Insert missing 1m candles; returns how many were new."""
    s = check_schema_name(schema)
    if not bars:
        return 0
    result = await connection.execute(
        text(
            f'INSERT INTO "{s}".candles (venue, symbol, tf, open_ns, open, high, low, close, volume, '
            "trade_count, first_ts_ns, first_tid, last_ts_ns, last_tid) "
            "SELECT :venue, :symbol, '1m', o, op, hi, lo, cl, vo, 0, o, :tid, o + :last, :tid "
            "FROM unnest(CAST(:opens AS bigint[]), CAST(:op AS numeric[]), CAST(:hi AS numeric[]), "
            "CAST(:lo AS numeric[]), CAST(:cl AS numeric[]), CAST(:vo AS numeric[])) "
            "AS u(o, op, hi, lo, cl, vo) "
            "ON CONFLICT DO NOTHING RETURNING open_ns"
        ),
        {
            "venue": venue,
            "symbol": symbol,
            "tid": BACKFILL_TID,
            "last": MINUTE_NS - 1,
            "opens": [bar.open_ns for bar in bars],
            "op": [bar.open for bar in bars],
            "hi": [bar.high for bar in bars],
            "lo": [bar.low for bar in bars],
            "cl": [bar.close for bar in bars],
            "vo": [bar.volume for bar in bars],
        },
    )
    inserted = len(result.all())
    await rollup(connection, s, TouchedRange(venue, symbol, bars[0].open_ns, bars[-1].open_ns))
    return inserted
