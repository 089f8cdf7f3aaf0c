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
    # Every timeframe's candidates in ONE statement (the SQL keeps what may have closed: a month is
    # at least 28 days; bucket_end decides), in timeframe order then open time.
    candidates = (
        await connection.execute(
            text(
                "SELECT w.tf, c.open_ns, c.open, c.high, c.low, c.close, c.volume, c.trade_count "
                "FROM unnest(CAST(:tfs AS text[]), CAST(:afters AS bigint[]), CAST(:widths AS bigint[])) "
                "WITH ORDINALITY AS w(tf, after, width, n) "
                f'JOIN "{s}".candles AS c ON c.venue = :v AND c.symbol = :s AND c.tf = w.tf '
                "AND c.open_ns > w.after AND c.open_ns + w.width + :tol <= :wm ORDER BY w.n, c.open_ns"
            ),
            {
                "tfs": list(ALL_TIMEFRAMES),
                "afters": [states.get(timeframe, -1) for timeframe in ALL_TIMEFRAMES],
                "widths": [TIMEFRAMES.get(timeframe, SHORTEST_MONTH_NS) for timeframe in ALL_TIMEFRAMES],
                "v": venue,
                "s": symbol,
                "tol": tolerance_ns,
                "wm": watermark,
            },
        )
    ).all()
    closed_through: dict[str, int] = {}
    token = symbol_token(token_form(symbol))
    for row in candidates:
        timeframe = row.tf
        close_ns = bucket_end(row.open_ns, timeframe)
        if close_ns + tolerance_ns > watermark:
            continue
        event = CandleClosed(
            venue=venue,
            symbol=symbol,
            timeframe=timeframe,
            open_ns=row.open_ns,
            close_ns=close_ns,
            open=row.open,
            high=row.high,
            low=row.low,
            close=row.close,
            volume=row.volume,
            trade_count=row.trade_count,
        )
        event_id = market_data_id(venue, symbol, f"candle:{timeframe}:{row.open_ns}")
        await outbox.add(connection, event, venue, token, timeframe, event_id=event_id)
        closed_through[timeframe] = row.open_ns
        emitted += 1
    if closed_through:
        await connection.execute(
            text(
                f'INSERT INTO "{s}".candle_close_state (venue, symbol, tf, closed_through_ns) '
                "SELECT :v, :s, tf, t FROM unnest(CAST(:tfs AS text[]), CAST(:ts AS bigint[])) AS u(tf, t) "
                "ON CONFLICT (venue, symbol, tf) DO UPDATE SET closed_through_ns = EXCLUDED.closed_through_ns"
            ),
            {"v": venue, "s": symbol, "tfs": list(closed_through), "ts": list(closed_through.values())},
        )
    return emitted
