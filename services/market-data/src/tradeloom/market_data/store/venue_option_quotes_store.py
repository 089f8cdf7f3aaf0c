"""The ``venue_option_quotes`` table: the newest quote a ccxt venue gave per option."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.market_data.domain.venue_options import VenueQuote
from tradeloom.shared.db import check_schema_name

_COLUMNS = (
    "symbol", "underlying", "bid", "ask", "last", "mark", "bid_iv", "ask_iv", "mark_iv", "delta", "gamma",
    "theta", "vega", "underlying_price",
)  # fmt: skip


async def store_venue_quotes(
    connection: AsyncConnection, schema: str, venue: str, quotes: list[VenueQuote], ts_ns: int
) -> int:
    """Replace each option's quote by this one (a rerun writes the same rows again)."""
    if not quotes:
        return 0
    s = check_schema_name(schema)
    names = ", ".join(_COLUMNS)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in (*_COLUMNS[1:], "ts_ns"))
    await connection.execute(
        text(
            f'INSERT INTO "{s}".venue_option_quotes (venue, {names}, ts_ns) '
            f"VALUES (:venue, {', '.join(f':{c}' for c in _COLUMNS)}, :ts_ns) "
            f"ON CONFLICT (venue, symbol) DO UPDATE SET {updates}"
        ),
        [{**asdict(q), "venue": venue, "ts_ns": ts_ns} for q in quotes],
    )
    return len(quotes)


async def venue_quotes(
    connection: AsyncConnection, schema: str, venue: str, underlying: str
) -> list[Row[Any]]:
    s = check_schema_name(schema)
    result = await connection.execute(
        text(
            f'SELECT {", ".join(_COLUMNS)}, ts_ns FROM "{s}".venue_option_quotes '
            "WHERE venue = :v AND underlying = :u ORDER BY symbol"
        ),
        {"v": venue, "u": underlying},
    )
    return list(result)


async def newest_quote_ns(
    connection: AsyncConnection, schema: str, venue: str, underlying: str
) -> int | None:
    s = check_schema_name(schema)
    result = await connection.execute(
        text(f'SELECT max(ts_ns) FROM "{s}".venue_option_quotes WHERE venue = :v AND underlying = :u'),
        {"v": venue, "u": underlying},
    )
    newest = result.scalar_one()
    return None if newest is None else int(newest)
