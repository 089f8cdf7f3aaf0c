"""The ``subscriptions`` table: what the API asked market-data to ingest, and what the
ingesting replica reported (``status``), with the newest stored trade beside each."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.db import check_schema_name

_COLUMNS = (
    "s.venue, s.symbol, s.books, s.desired, s.status, s.error, s.created_by, "
    "(extract(epoch FROM s.created_at) * 1e9)::bigint AS created_at_ns, "
    "(extract(epoch FROM s.status_at) * 1e9)::bigint AS status_at_ns, "
    "m.last_ts_ns, m.last_price"
)


async def start_subscription(
    connection: AsyncConnection, schema: str, venue: str, symbol: str, *, books: bool, user: str
) -> None:
    """Insert, or set an existing one to run again (status ``pending`` until the supervisor acts)."""
    s = check_schema_name(schema)
    await connection.execute(
        text(
            f'INSERT INTO "{s}".subscriptions (venue, symbol, books, desired, status, created_by) '
            "VALUES (:v, :s, :b, 'running', 'pending', :u) ON CONFLICT (venue, symbol) DO UPDATE SET "
            "books = EXCLUDED.books, desired = 'running', error = NULL, status_at = now(), "
            "status = CASE WHEN subscriptions.desired = 'running' AND subscriptions.books = EXCLUDED.books "
            "THEN subscriptions.status ELSE 'pending' END"
        ),
        {"v": venue, "s": symbol, "b": books, "u": user},
    )


async def stop_subscription(connection: AsyncConnection, schema: str, venue: str, symbol: str) -> bool:
    """False when there is no such subscription."""
    s = check_schema_name(schema)
    result = await connection.execute(
        text(
            f"UPDATE \"{s}\".subscriptions SET desired = 'stopped', status_at = now() "
            "WHERE venue = :v AND symbol = :s"
        ),
        {"v": venue, "s": symbol},
    )
    return bool(result.rowcount)


async def set_status(
    connection: AsyncConnection,
    schema: str,
    venue: str,
    symbol: str,
    *,
    status: str,
    error: str | None,
    books: bool | None = None,
) -> bool:
    """Report what the supervisor did, unless the row was asked otherwise meanwhile (False then).

    ``stopped`` is written only while the row still wants to stop, ``running``/``failed`` only
    while it still wants to run with ``books``: a start (or stop) committed between the
    supervisor's read and this write keeps its ``pending`` status and is acted on at the next sync,
    instead of being overwritten (a stop followed at once by a start stayed ``stopped``, never ran).
    """
    s = check_schema_name(schema)
    desired = "stopped" if status == "stopped" else "running"
    result = await connection.execute(
        text(
            f'UPDATE "{s}".subscriptions SET status = :st, error = :e, status_at = now() '
            "WHERE venue = :v AND symbol = :s AND desired = :d "
            "AND (CAST(:b AS boolean) IS NULL OR books = :b)"
        ),
        {"v": venue, "s": symbol, "st": status, "e": error, "d": desired, "b": books},
    )
    return bool(result.rowcount)


async def list_subscriptions(
    connection: AsyncConnection, schema: str, venue: str | None = None
) -> list[Row[Any]]:
    s = check_schema_name(schema)
    result = await connection.execute(
        text(
            f'SELECT {_COLUMNS} FROM "{s}".subscriptions s LEFT JOIN "{s}".market_state m '
            "ON m.venue = s.venue AND m.symbol = s.symbol "
            "WHERE CAST(:v AS text) IS NULL OR s.venue = :v ORDER BY s.venue, s.symbol"
        ),
        {"v": venue},
    )
    return list(result)


async def last_trades(connection: AsyncConnection, schema: str) -> dict[tuple[str, str], Row[Any]]:
    """(venue, symbol) → ``last_ts_ns, last_price`` of every symbol with a stored trade."""
    s = check_schema_name(schema)
    result = await connection.execute(
        text(f'SELECT venue, symbol, last_ts_ns, last_price FROM "{s}".market_state')
    )
    return {(row.venue, row.symbol): row for row in result}
