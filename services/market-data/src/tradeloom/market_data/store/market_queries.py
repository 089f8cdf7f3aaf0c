"""Read side: candles, last price, recent trades, latest book, windowed statistics."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.market_data.store.candle_aggregates import (
    CANDLE_FLOAT_COLUMNS,
    CANDLE_TEXT_COLUMNS,
    candles_from_view_sql,
)
from tradeloom.shared.db import check_schema_name

MINUTES_PER_YEAR = 525_600


async def candles(
    connection: AsyncConnection,
    schema: str,
    venue: str,
    symbol: str,
    *,
    timeframe: str,
    from_ns: int | None,
    to_ns: int | None,
    after_ns: int | None,
    limit: int,
    from_aggregate: bool = False,
    as_float: bool = False,
) -> list[Row[Any]]:
    """Up to ``limit + 1`` candles in time order (the extra one tells the caller there is more) as
    ``(open_ns, open, high, low, close, volume, trade_count)`` with the numbers as text (or with
    ``as_float`` as float8 and a bigint count), from the roll-up's ``candles`` rows, or with
    ``from_aggregate`` from the timeframe's TimescaleDB continuous aggregate
    (``store.timescale.candle_views`` says when it exists)."""
    s = check_schema_name(schema)
    columns = CANDLE_FLOAT_COLUMNS if as_float else CANDLE_TEXT_COLUMNS
    sql = (
        candles_from_view_sql(s, timeframe, columns)
        if from_aggregate
        else f'SELECT {columns} FROM "{s}".candles WHERE venue = :v AND symbol = :s AND tf = :tf '
        "AND open_ns >= :lo AND open_ns <= :hi AND open_ns > :after ORDER BY open_ns LIMIT :n"
    )
    result = await connection.execute(
        text(sql),
        {
            "v": venue,
            "s": symbol,
            "tf": timeframe,
            "lo": from_ns if from_ns is not None else 0,
            "hi": to_ns if to_ns is not None else 2**63 - 1,
            "after": after_ns if after_ns is not None else -1,
            "n": limit + 1,
        },
    )
    return list(result.all())


async def market_state(connection: AsyncConnection, schema: str, venue: str, symbol: str) -> Row[Any] | None:
    s = check_schema_name(schema)
    result = await connection.execute(
        text(
            f'SELECT last_price, last_ts_ns, last_tid, watermark_ns FROM "{s}".market_state '
            "WHERE venue = :v AND symbol = :s"
        ),
        {"v": venue, "s": symbol},
    )
    return result.first()


async def recent_trades(
    connection: AsyncConnection, schema: str, venue: str, symbol: str, limit: int
) -> list[Row[Any]]:
    s = check_schema_name(schema)
    result = await connection.execute(
        text(
            f'SELECT trade_id, ts_ns, price, amount, side FROM "{s}".trades WHERE venue = :v AND symbol = :s '
            "ORDER BY ts_ns DESC, trade_id DESC LIMIT :n"
        ),
        {"v": venue, "s": symbol, "n": limit},
    )
    return list(result.all())


async def latest_book(connection: AsyncConnection, schema: str, venue: str, symbol: str) -> Row[Any] | None:
    s = check_schema_name(schema)
    result = await connection.execute(
        text(f'SELECT ts_ns, seq, bids, asks FROM "{s}".order_books WHERE venue = :v AND symbol = :s'),
        {"v": venue, "s": symbol},
    )
    return result.first()


async def window_stats(
    connection: AsyncConnection, schema: str, venue: str, symbol: str, *, from_ns: int, to_ns: int
) -> Row[Any]:
    """Open/high/low/last/volume/count over the 1-minute candles opening in [from_ns, to_ns)."""
    s = check_schema_name(schema)
    result = await connection.execute(
        text(
            "SELECT (array_agg(open ORDER BY open_ns))[1] AS open, max(high) AS high, min(low) AS low, "
            "(array_agg(close ORDER BY open_ns DESC))[1] AS last, coalesce(sum(volume), 0) AS volume, "
            "coalesce(sum(trade_count), 0) AS trade_count, "
            "stddev_samp(r) AS sd FROM ("
            "  SELECT open_ns, open, high, low, close, volume, trade_count, "
            "  ln(close / lag(close) OVER (ORDER BY open_ns)) AS r "
            f"  FROM \"{s}\".candles WHERE venue = :v AND symbol = :s AND tf = '1m' "
            "  AND open_ns >= :lo AND open_ns < :hi) AS w"
        ),
        {"v": venue, "s": symbol, "lo": from_ns, "hi": to_ns},
    )
    return result.one()


def annualised(stdev_per_minute: float | None) -> float | None:
    if stdev_per_minute is None or not math.isfinite(stdev_per_minute):
        return None
    return stdev_per_minute * math.sqrt(MINUTES_PER_YEAR)


async def symbols_of(connection: AsyncConnection, schema: str, venue: str | None) -> list[tuple[str, str]]:
    s = check_schema_name(schema)
    result = await connection.execute(
        text(
            f'SELECT i.venue, i.symbol FROM "{s}".instruments AS i JOIN "{s}".market_state AS m '
            "ON m.venue = i.venue AND m.symbol = i.symbol WHERE i.status = 'active' "
            "AND (CAST(:v AS text) IS NULL OR i.venue = :v) ORDER BY i.venue, i.symbol"
        ),
        {"v": venue},
    )
    return [(row.venue, row.symbol) for row in result]
