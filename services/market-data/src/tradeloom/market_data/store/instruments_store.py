"""The instrument registry table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.contracts.market_data import Instrument
from tradeloom.shared.db import check_schema_name

_COLUMNS = (
    "venue", "symbol", "kind", "base", "quote", "settle", "tick_size", "lot_size", "min_notional", "status",
    "expiry", "underlying", "strike", "option_type", "multiplier", "price_band_pct",
)  # fmt: skip
_OPTION_COLUMNS = ("symbol", "option_type", "strike", "expiry", "tick_size")


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
    connection: AsyncConnection, schema: str, venue: str | None, kind: str | None, status: str | None,
    *, underlying: str | None = None, expiry: date | None = None, strikes: Strikes | None = None,
) -> list[Instrument]:  # fmt: skip
    """``underlying`` is a normalised spot symbol (``BTC/USDT``): its base is the instrument's
    ``underlying`` and the instrument's symbol starts with ``BTC/USDT:``; ``expiry`` a UTC day;
    ``strikes`` a strike range and a limit (then ordered by strike, then symbol)."""
    rows = await _select(
        connection, schema, _COLUMNS, venue=venue, kind=kind, status=status, underlying=underlying,
        expiry=expiry, strikes=strikes,
    )  # fmt: skip
    return [Instrument.model_validate(dict(row._mapping)) for row in rows]


async def option_listing(
    connection: AsyncConnection, schema: str, venue: str, *, underlying: str, expiry: date, strikes: Strikes
) -> list[Row[Any]]:
    """The active options of ``list_instruments(…, "option", "active", …)`` as plain rows of
    ``symbol, option_type, strike, expiry, tick_size`` (no model per option: a chain has thousands),
    ordered by strike then symbol; rows missing a strike, type or expiry are left out."""
    rows = await _select(
        connection, schema, _OPTION_COLUMNS, venue=venue, kind="option", status="active",
        underlying=underlying, expiry=expiry,
        strikes=Strikes(strikes.low, strikes.high, strikes.limit, complete=True),
    )  # fmt: skip
    return list(rows)


async def _select(
    connection: AsyncConnection, schema: str, columns: tuple[str, ...], *, venue: str | None,
    kind: str | None, status: str | None, underlying: str | None, expiry: date | None,
    strikes: Strikes | None,
) -> Any:  # fmt: skip
    strikes = strikes or Strikes()
    s = check_schema_name(schema)
    base = None if underlying is None else underlying.partition("/")[0]
    prefix = None if underlying is None else f"{like_escaped(underlying)}:%"
    day_from = None if expiry is None else datetime.combine(expiry, time(0), tzinfo=UTC)
    complete = (
        "AND strike IS NOT NULL AND option_type IS NOT NULL AND expiry IS NOT NULL "
        if strikes.complete
        else ""
    )
    return await connection.execute(
        text(
            f'SELECT {", ".join(columns)} FROM "{s}".instruments '
            "WHERE (CAST(:venue AS text) IS NULL OR venue = :venue) "
            "AND (CAST(:kind AS text) IS NULL OR kind = :kind) "
            "AND (CAST(:status AS text) IS NULL OR status = :status) "
            "AND (CAST(:base AS text) IS NULL OR (underlying = :base AND symbol LIKE :prefix)) "
            "AND (CAST(:day_from AS timestamptz) IS NULL "
            "     OR (expiry >= :day_from AND expiry < :day_to)) "
            "AND (CAST(:lo AS numeric) IS NULL OR strike >= :lo) "
            f"AND (CAST(:hi AS numeric) IS NULL OR strike <= :hi) {complete}"
            f"ORDER BY venue, {'strike, ' if strikes.ordered else ''}symbol LIMIT :limit"
        ),
        {
            "lo": strikes.low, "hi": strikes.high, "limit": strikes.limit,
            "venue": venue, "kind": kind, "status": status, "base": base, "prefix": prefix,
            "day_from": day_from, "day_to": None if day_from is None else day_from + timedelta(days=1),
        },
    )  # fmt: skip


async def option_expiries(
    connection: AsyncConnection, schema: str, venue: str, underlying: str, status: str | None
) -> list[tuple[datetime, int]]:
    """Each expiry of ``underlying``'s options (see ``list_instruments``) with its count, ascending."""
    s = check_schema_name(schema)
    rows = await connection.execute(
        text(
            f'SELECT expiry, count(*) AS n FROM "{s}".instruments '
            "WHERE venue = :venue AND kind = 'option' AND expiry IS NOT NULL "
            "AND (CAST(:status AS text) IS NULL OR status = :status) "
            "AND underlying = :base AND symbol LIKE :prefix GROUP BY expiry ORDER BY expiry"
        ),
        {
            "venue": venue, "status": status, "base": underlying.partition("/")[0],
            "prefix": f"{like_escaped(underlying)}:%",
        },
    )  # fmt: skip
    return [(row.expiry, int(row.n)) for row in rows]


@dataclass(frozen=True)
class Strikes:
    low: Decimal | None = None
    high: Decimal | None = None
    limit: int | None = None
    complete: bool = False  # options with a strike, a type and an expiry only

    @property
    def ordered(self) -> bool:
        return self.low is not None or self.high is not None or self.limit is not None


def like_escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def instrument_exists(connection: AsyncConnection, schema: str, venue: str, symbol: str) -> bool:
    s = check_schema_name(schema)
    row = await connection.execute(
        text(f'SELECT 1 FROM "{s}".instruments WHERE venue = :v AND symbol = :s'), {"v": venue, "s": symbol}
    )
    return row.first() is not None
