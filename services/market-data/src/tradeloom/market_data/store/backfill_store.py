"""Backfilled 1-minute candles (from the venue's OHLCV after a feed gap or an import) and imported
trades.

Written only where no candle exists (a stored trade always wins), then the coarser timeframes of
the range are rebuilt. A backfilled candle has ``trade_count`` 0 (ccxt's OHLCV has no count) and
``first_tid = last_tid = 'backfill'``; it closes like any other candle when the watermark passes.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.market_data.domain.candles import Bar
from tradeloom.market_data.domain.timeframes import MINUTE_NS
from tradeloom.market_data.store.trades_store import TouchedRange, rollup, store_trades
from tradeloom.market_data.trade_batch import TradeColumns
from tradeloom.shared.contracts.market_data import TradeTick
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


async def store_imported_trades(
    connection: AsyncConnection, schema: str, venue: str, symbol: str, trades: list[TradeTick]
) -> int:
    """Imported trades stored like live ones (``store_trades``: new ones only, keyed by the venue's
    trade id, merged into the 1m candles; coarser candles rolled up); returns how many were new.
    A backfilled candle (from OHLCV, no trades) of a minute these trades fall in is dropped first, so
    the minute is built from its trades alone: a stored trade always wins."""
    if not trades:
        return 0
    s = check_schema_name(schema)
    ids = [t.trade_id for t in trades]
    already = await connection.scalar(
        text(
            f'SELECT count(*) FROM "{s}".trades WHERE venue = :venue AND symbol = :symbol '
            "AND ts_ns BETWEEN :lo AND :hi AND trade_id = ANY(CAST(:ids AS text[]))"
        ),
        {"venue": venue, "symbol": symbol, "lo": trades[0].ts_ns, "hi": trades[-1].ts_ns, "ids": ids},
    )
    minutes = sorted({t.ts_ns - t.ts_ns % MINUTE_NS for t in trades})
    await connection.execute(
        text(
            f"DELETE FROM \"{s}\".candles WHERE venue = :venue AND symbol = :symbol AND tf = '1m' "
            "AND first_tid = :tid AND open_ns = ANY(CAST(:minutes AS bigint[]))"
        ),
        {"venue": venue, "symbol": symbol, "tid": BACKFILL_TID, "minutes": minutes},
    )
    touched = await store_trades(connection, s, [TradeColumns.from_trades(venue, symbol, trades)])
    for touched_range in touched:
        await rollup(connection, s, touched_range)
    return len(trades) - int(already or 0)
