"""Intraday lows of daily equity (schema ``analytics``): per (scope, id, UTC day) the lowest change
since the previous close observed during the day, and when. Observations, not derived rows: a
replay of the streams keeps them (market trades older than a day are not on the streams)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.db import check_schema_name


class IntradayStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def observe(  # noqa: PLR0917 (one row's columns)
        self, conn: AsyncConnection, scope: str, scope_id: str, day: date, pnl: Decimal, at: datetime
    ) -> None:
        """Keep ``pnl`` as the day's low if it is lower than the one stored (ties keep the earlier)."""
        await self.observe_many(conn, [((scope, scope_id), day, pnl, at)])

    async def observe_many(
        self, conn: AsyncConnection, lows: Sequence[tuple[tuple[str, str], date, Decimal, datetime]]
    ) -> None:
        """``observe`` of (scope, day, change since the close, when) for several scopes, one each."""
        if not lows:
            return
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".intraday_lows AS l (scope, scope_id, day, low_pnl, low_at) '
                "SELECT * FROM unnest(CAST(:scopes AS text[]), CAST(:ids AS text[]), CAST(:days AS date[]), "
                "CAST(:pnl AS numeric[]), CAST(:ats AS timestamptz[])) "
                "ON CONFLICT (scope, scope_id, day) DO UPDATE "
                "SET low_pnl = EXCLUDED.low_pnl, low_at = EXCLUDED.low_at WHERE EXCLUDED.low_pnl < l.low_pnl"
            ),
            {
                "scopes": [scope for (scope, _), _, _, _ in lows],
                "ids": [scope_id for (_, scope_id), _, _, _ in lows],
                "days": [day for _, day, _, _ in lows],
                "pnl": [pnl for _, _, pnl, _ in lows],
                "ats": [at for _, _, _, at in lows],
            },
        )

    async def lows(
        self, conn: AsyncConnection, scope: str, ids: Sequence[str], start: date | None, end: date | None
    ) -> dict[tuple[str, date], tuple[Decimal, datetime]]:
        """(scope id, day) → (lowest change since the previous close, when) in range."""
        result = await conn.execute(
            text(
                f'SELECT scope_id, day, low_pnl, low_at FROM "{self.s}".intraday_lows '
                "WHERE scope = :scope AND scope_id = ANY(:ids) "
                "AND (CAST(:start AS date) IS NULL OR day >= :start) "
                "AND (CAST(:end AS date) IS NULL OR day <= :end)"
            ),
            {"scope": scope, "ids": list(ids), "start": start, "end": end},
        )
        return {(row.scope_id, row.day): (Decimal(row.low_pnl), row.low_at) for row in result}
