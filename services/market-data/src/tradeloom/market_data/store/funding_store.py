"""The ``funding_rates`` table, and the trade price a mark is taken from."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.db import check_schema_name


async def store_funding(
    connection: AsyncConnection, schema: str, rows: list[dict[str, Any]], source: str
) -> None:
    """Upsert ``{venue, symbol, funding_time_ns, rate, mark_price}`` rows (a rerun is harmless)."""
    if not rows:
        return
    s = check_schema_name(schema)
    await connection.execute(
        text(
            f'INSERT INTO "{s}".funding_rates (venue, symbol, funding_time_ns, rate, mark_price, source) '
            "VALUES (:venue, :symbol, :funding_time_ns, :rate, :mark_price, :source) "
            "ON CONFLICT (venue, symbol, funding_time_ns) DO NOTHING"
        ),
        [{**row, "source": source} for row in rows],
    )


async def last_funding(connection: AsyncConnection, schema: str, venue: str, symbol: str) -> Row[Any] | None:
    s = check_schema_name(schema)
    result = await connection.execute(
        text(
            f'SELECT funding_time_ns, rate, mark_price FROM "{s}".funding_rates '
            "WHERE venue = :v AND symbol = :s ORDER BY funding_time_ns DESC LIMIT 1"
        ),
        {"v": venue, "s": symbol},
    )
    return result.first()


async def funding_history(
    connection: AsyncConnection, schema: str, venue: str, symbol: str, *, from_ns: int, to_ns: int, limit: int
) -> list[Row[Any]]:
    """The newest ``limit`` funding rows in ``[from_ns, to_ns)``, oldest first."""
    s = check_schema_name(schema)
    result = await connection.execute(
        text(
            f'SELECT funding_time_ns, rate, mark_price FROM "{s}".funding_rates '
            "WHERE venue = :v AND symbol = :s AND funding_time_ns >= :lo AND funding_time_ns < :hi "
            "ORDER BY funding_time_ns DESC LIMIT :limit"
        ),
        {"v": venue, "s": symbol, "lo": from_ns, "hi": to_ns, "limit": limit},
    )
    return list(reversed(result.all()))


async def price_at(
    connection: AsyncConnection, schema: str, venue: str, symbol: str, ts_ns: int
) -> Row[Any] | None:
    """The last trade at or before ``ts_ns`` (its ``price`` and ``ts_ns``), or ``None``."""
    s = check_schema_name(schema)
    result = await connection.execute(
        text(
            f'SELECT price, ts_ns FROM "{s}".trades WHERE venue = :v AND symbol = :s AND ts_ns <= :t '
            "ORDER BY ts_ns DESC LIMIT 1"
        ),
        {"v": venue, "s": symbol, "t": ts_ns},
    )
    return result.first()


async def first_trade_ns(connection: AsyncConnection, schema: str, venue: str, symbol: str) -> int | None:
    s = check_schema_name(schema)
    result = await connection.execute(
        text(f'SELECT min(ts_ns) FROM "{s}".trades WHERE venue = :v AND symbol = :s'),
        {"v": venue, "s": symbol},
    )
    value = result.scalar_one_or_none()
    return None if value is None else int(value)
