"""The instrument registry table."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.contracts.market_data import Instrument
from tradeloom.shared.db import check_schema_name

_COLUMNS = (
    "venue", "symbol", "kind", "base", "quote", "settle", "tick_size", "lot_size", "min_notional", "status",
    "expiry", "underlying", "strike", "option_type", "multiplier", "price_band_pct",
)  # fmt: skip


async def upsert_instruments(
    connection: AsyncConnection, schema: str, instruments: list[Instrument], source: str
) -> int:
    s = check_schema_name(schema)
    if not instruments:
        return 0
    columns = ", ".join(_COLUMNS)
    values = ", ".join(f":{c}" for c in _COLUMNS)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _COLUMNS[2:])
    await connection.execute(
        text(
            f'INSERT INTO "{s}".instruments ({columns}, source) VALUES ({values}, :source) '
            f"ON CONFLICT (venue, symbol) DO UPDATE SET {updates}, "
            "source = EXCLUDED.source, updated_at = now()"
        ),
        [{**i.model_dump(include=set(_COLUMNS)), "source": source} for i in instruments],
    )
    return len(instruments)


async def list_instruments(
    connection: AsyncConnection, schema: str, venue: str | None, kind: str | None, status: str | None
) -> list[Instrument]:
    s = check_schema_name(schema)
    rows = await connection.execute(
        text(
            f'SELECT {", ".join(_COLUMNS)} FROM "{s}".instruments '
            "WHERE (CAST(:venue AS text) IS NULL OR venue = :venue) "
            "AND (CAST(:kind AS text) IS NULL OR kind = :kind) "
            "AND (CAST(:status AS text) IS NULL OR status = :status) ORDER BY venue, symbol"
        ),
        {"venue": venue, "kind": kind, "status": status},
    )
    return [Instrument.model_validate(dict(row._mapping)) for row in rows]


async def instrument_exists(connection: AsyncConnection, schema: str, venue: str, symbol: str) -> bool:
    s = check_schema_name(schema)
    row = await connection.execute(
        text(f'SELECT 1 FROM "{s}".instruments WHERE venue = :v AND symbol = :s'), {"v": venue, "s": symbol}
    )
    return row.first() is not None
