"""A ccxt venue's funding rows (counted inserts) and its newest mark per perpetual (``perp_marks``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.market_data.domain.perp_funding import FundingRow, VenueMark
from tradeloom.shared.db import check_schema_name


async def insert_funding(
    connection: AsyncConnection, schema: str, venue: str, symbol: str, *, rows: list[FundingRow], source: str
) -> int:
    """Insert the rows not stored yet (key venue, symbol, funding time); how many were new."""
    if not rows:
        return 0
    s = check_schema_name(schema)
    result = await connection.execute(
        text(
            f'INSERT INTO "{s}".funding_rates (venue, symbol, funding_time_ns, rate, mark_price, source) '
            "SELECT :v, :s, t, r, m, :src FROM unnest(CAST(:t AS bigint[]), CAST(:r AS numeric[]), "
            "CAST(:m AS numeric[])) AS u(t, r, m) "
            "ON CONFLICT (venue, symbol, funding_time_ns) DO NOTHING"
        ),
        {
            "v": venue, "s": symbol, "src": source,
            "t": [r.funding_time_ns for r in rows],
            "r": [str(r.rate) for r in rows],
            "m": [str(r.mark_price) for r in rows],
        },
    )  # fmt: skip
    return int(result.rowcount or 0)


async def newest_funding_times(
    connection: AsyncConnection, schema: str, venue: str, symbol: str, count: int = 2
) -> list[int]:
    """The newest ``count`` stored funding times, oldest first."""
    s = check_schema_name(schema)
    result = await connection.execute(
        text(
            f'SELECT funding_time_ns FROM "{s}".funding_rates WHERE venue = :v AND symbol = :s '
            "ORDER BY funding_time_ns DESC LIMIT :n"
        ),
        {"v": venue, "s": symbol, "n": count},
    )
    return sorted(int(r[0]) for r in result.all())


async def store_mark(
    connection: AsyncConnection, schema: str, venue: str, symbol: str, *, mark: VenueMark, interval_s: int
) -> None:
    s = check_schema_name(schema)
    await connection.execute(
        text(
            f'INSERT INTO "{s}".perp_marks (venue, symbol, mark_price, index_price, last_funding_rate, '
            "next_funding_time_ns, funding_interval_s, ts_ns) VALUES (:v, :s, :mark, :index, :rate, "
            ":next, :interval, :ts) ON CONFLICT (venue, symbol) DO UPDATE SET "
            "mark_price = EXCLUDED.mark_price, index_price = EXCLUDED.index_price, "
            "last_funding_rate = EXCLUDED.last_funding_rate, "
            "next_funding_time_ns = EXCLUDED.next_funding_time_ns, "
            "funding_interval_s = EXCLUDED.funding_interval_s, ts_ns = EXCLUDED.ts_ns"
        ),
        {
            "v": venue, "s": symbol, "mark": mark.mark_price, "index": mark.index_price,
            "rate": mark.last_funding_rate, "next": mark.next_funding_time_ns, "interval": interval_s,
            "ts": mark.ts_ns,
        },
    )  # fmt: skip


async def venue_mark_row(
    connection: AsyncConnection, schema: str, venue: str, symbol: str
) -> Row[Any] | None:
    """The stored venue mark of a perpetual (``None``: not a ccxt venue's, or not fetched yet)."""
    s = check_schema_name(schema)
    result = await connection.execute(
        text(
            f"SELECT mark_price, last_funding_rate, next_funding_time_ns, funding_interval_s, ts_ns "
            f'FROM "{s}".perp_marks WHERE venue = :v AND symbol = :s'
        ),
        {"v": venue, "s": symbol},
    )
    return result.first()
