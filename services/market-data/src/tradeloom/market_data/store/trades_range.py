"""Read side: stored trades of a time range, oldest first, keyset-paginated by (ts_ns, trade_id)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.db import check_schema_name

INT64_MAX = 2**63 - 1


async def trades_page(
    connection: AsyncConnection,
    schema: str,
    venue: str,
    symbol: str,
    *,
    from_ns: int | None,
    to_ns: int | None,
    after: tuple[int, str] | None,
    limit: int,
) -> list[Row[Any]]:
    """Up to ``limit`` trades in ``[from_ns, to_ns]`` strictly after ``after``; the primary key
    ``(venue, symbol, ts_ns, trade_id)`` serves the range and the order."""
    s = check_schema_name(schema)
    after_ts, after_tid = after if after is not None else (-1, "")
    result = await connection.execute(
        text(
            f'SELECT trade_id, ts_ns, price, amount, side FROM "{s}".trades '
            "WHERE venue = :v AND symbol = :s AND ts_ns >= :lo AND ts_ns <= :hi "
            "AND (ts_ns, trade_id) > (:after_ts, :after_tid) "
            "ORDER BY ts_ns, trade_id LIMIT :n"
        ),
        {
            "v": venue,
            "s": symbol,
            "lo": from_ns if from_ns is not None else 0,
            "hi": to_ns if to_ns is not None else INT64_MAX,
            "after_ts": after_ts,
            "after_tid": after_tid,
            "n": limit,
        },
    )
    return list(result.all())
