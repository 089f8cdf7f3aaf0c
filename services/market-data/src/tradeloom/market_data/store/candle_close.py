"""Closing candles: one ``CandleClosed`` per candle and timeframe, in order, exactly once.

A candle closes when the symbol's event-time watermark (its newest trade) passes the candle's end
plus the lateness tolerance. The events go to the outbox and ``candle_close_state`` advances in
the same transaction as the trades that moved the watermark, so a crash either keeps both or
neither, and a restart never re-emits or skips a candle. Empty buckets produce no candle.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.market_data.domain.symbols import token_form
from tradeloom.market_data.domain.timeframes import ALL_TIMEFRAMES, SHORTEST_MONTH_NS, TIMEFRAMES, bucket_end
from tradeloom.shared.contracts.market_data import CandleClosed
from tradeloom.shared.db import check_schema_name
from tradeloom.shared.ids import market_data_id
from tradeloom.shared.outbox import Outbox
from tradeloom.shared.subjects import symbol_token


async def close_candles(
    connection: AsyncConnection, schema: str, outbox: Outbox, *, venue: str, symbol: str, tolerance_ns: int
) -> int:
    """Emit every newly closed candle of one symbol for every timeframe; returns how many."""
    s = check_schema_name(schema)
    watermark = (
        await connection.execute(
            text(f'SELECT watermark_ns FROM "{s}".market_state WHERE venue = :v AND symbol = :s FOR UPDATE'),
            {"v": venue, "s": symbol},
        )
    ).scalar_one_or_none()
    if watermark is None:
        return 0
    emitted = 0
    states: dict[str, int] = dict(
        (
            await connection.execute(
                text(
                    f'SELECT tf, closed_through_ns FROM "{s}".candle_close_state '
                    "WHERE venue = :v AND symbol = :s FOR UPDATE"
                ),
                {"v": venue, "s": symbol},
            )
        ).all()
    )
    for timeframe in ALL_TIMEFRAMES:
        # The SQL keeps what may have closed (a month is at least 28 days); bucket_end decides.
        width = TIMEFRAMES.get(timeframe, SHORTEST_MONTH_NS)
        after = states.get(timeframe, -1)
        rows = (
            await connection.execute(
                text(
                    "SELECT open_ns, open, high, low, close, volume, trade_count "
                    f'FROM "{s}".candles WHERE venue = :v AND symbol = :s AND tf = :tf '
                    "AND open_ns > :after AND open_ns + :width + :tol <= :wm ORDER BY open_ns"
                ),
                {
                    "v": venue,
                    "s": symbol,
                    "tf": timeframe,
                    "after": after,
                    "width": width,
                    "tol": tolerance_ns,
                    "wm": watermark,
                },
            )
        ).all()
        rows = [row for row in rows if bucket_end(row.open_ns, timeframe) + tolerance_ns <= watermark]
        if not rows:
            continue
        for row in rows:
            event = CandleClosed(
                venue=venue,
                symbol=symbol,
                timeframe=timeframe,
                open_ns=row.open_ns,
                close_ns=bucket_end(row.open_ns, timeframe),
                open=row.open,
                high=row.high,
                low=row.low,
                close=row.close,
                volume=row.volume,
                trade_count=row.trade_count,
            )
            event_id = market_data_id(venue, symbol, f"candle:{timeframe}:{row.open_ns}")
            token = symbol_token(token_form(symbol))
            await outbox.add(connection, event, venue, token, timeframe, event_id=event_id)
        await connection.execute(
            text(
                f'INSERT INTO "{s}".candle_close_state (venue, symbol, tf, closed_through_ns) '
                "VALUES (:v, :s, :tf, :t) ON CONFLICT (venue, symbol, tf) "
                "DO UPDATE SET closed_through_ns = EXCLUDED.closed_through_ns"
            ),
            {"v": venue, "s": symbol, "tf": timeframe, "t": rows[-1].open_ns},
        )
        emitted += len(rows)
    return emitted
