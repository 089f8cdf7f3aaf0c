"""A price round's statements over many scopes at once (schema ``analytics``): their locks, their
carries, which of them have fills after their carry, their rows from a day on, their intraday lows.
Each takes the scopes as parallel arrays, so a chunk of scopes costs a statement, not one each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.analytics.domain.equity import DayEquity
from tradeloom.analytics.store.carry_store import StoredCarry, carry_of
from tradeloom.shared.db import check_schema_name

Scope = tuple[str, str]  # ("account" | "bot", id)


@dataclass(frozen=True)
class ScopeRows:
    """A scope's rows from ``start`` on (those stored from that day are replaced)."""

    scope: Scope
    user: str
    account: str
    start: date
    rows: Sequence[DayEquity]


class RollStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def lock(self, conn: AsyncConnection, scopes: Sequence[Scope]) -> None:
        """``EquityStore.lock_scope`` for each of ``scopes``, in the given (sorted) order."""
        await conn.execute(
            text(
                "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) "
                "FROM unnest(CAST(:keys AS text[])) AS k"  # taken in the array's order
            ),
            {"keys": [f"{self.s}:{scope}:{scope_id}" for scope, scope_id in scopes]},
        )

    async def carries(self, conn: AsyncConnection, scopes: Sequence[Scope]) -> dict[Scope, StoredCarry]:
        """The carries of those of ``scopes`` that have one, with their newest row's day."""
        result = await conn.execute(
            text(
                "SELECT c.scope, c.scope_id, c.user_id, c.account_id, c.last_at, c.last_fill_id, c.state, "
                f'(SELECT max(day) FROM "{self.s}".daily_equity d WHERE d.scope = c.scope '
                f'AND d.scope_id = c.scope_id) AS newest_day FROM "{self.s}".equity_carry c '
                "JOIN unnest(CAST(:scopes AS text[]), CAST(:ids AS text[])) AS w(scope, id) "
                "ON c.scope = w.scope AND c.scope_id = w.id"
            ),
            {"scopes": [s for s, _ in scopes], "ids": [i for _, i in scopes]},
        )
        out: dict[Scope, StoredCarry] = {}
        for row in result:
            carry = carry_of(row.last_at, row.last_fill_id, row.state)
            out[(row.scope, row.scope_id)] = StoredCarry(carry, row.user_id, row.account_id, row.newest_day)
        return out

    async def with_fills_after(self, conn: AsyncConnection, carries: dict[Scope, StoredCarry]) -> set[Scope]:
        """Those scopes with a fill after their carry's last (byte order of ids, as Python sorts)."""
        if not carries:
            return set()
        params = {
            "scopes": [s for s, _ in carries],
            "ids": [i for _, i in carries],
            "ats": [c.carry.last[0] for c in carries.values()],
            "fills": [c.carry.last[1] for c in carries.values()],
        }
        after = '(f.filled_at, f.fill_id COLLATE "C") > (w.at, w.fill)'
        result = await conn.execute(
            text(
                "WITH w AS (SELECT * FROM unnest(CAST(:scopes AS text[]), CAST(:ids AS text[]), "
                "CAST(:ats AS timestamptz[]), CAST(:fills AS text[])) AS w(scope, id, at, fill)) "
                f"SELECT w.scope, w.id FROM w WHERE w.scope = 'account' AND EXISTS (SELECT 1 FROM "
                f'"{self.s}".fills f WHERE f.account_id = w.id AND {after}) '
                f"UNION SELECT w.scope, w.id FROM w WHERE w.scope = 'bot' AND EXISTS (SELECT 1 FROM "
                f'"{self.s}".order_bots b JOIN "{self.s}".fills f ON f.order_id = b.order_id '
                f"WHERE b.bot_id = w.id AND {after})"
            ),
            params,
        )
        return {(row.scope, row.id) for row in result}

    async def replace_rows(self, conn: AsyncConnection, items: Sequence[ScopeRows]) -> None:
        """Each scope's rows from its start on replaced by its new ones (the caller holds the locks)."""
        if not items:
            return
        await conn.execute(
            text(
                f'DELETE FROM "{self.s}".daily_equity d USING unnest(CAST(:scopes AS text[]), '
                "CAST(:ids AS text[]), CAST(:starts AS date[])) AS w(scope, id, start) "
                "WHERE d.scope = w.scope AND d.scope_id = w.id AND d.day >= w.start"
            ),
            {
                "scopes": [item.scope[0] for item in items],
                "ids": [item.scope[1] for item in items],
                "starts": [item.start for item in items],
            },
        )
        rows = [(item, row) for item in items for row in item.rows]
        if not rows:
            return
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".daily_equity (scope, scope_id, day, user_id, account_id, equity, '
                "pnl, exposure, trades) SELECT * FROM unnest(CAST(:scopes AS text[]), CAST(:ids AS text[]), "
                "CAST(:days AS date[]), CAST(:users AS text[]), CAST(:accounts AS text[]), "
                "CAST(:equity AS numeric[]), CAST(:pnl AS numeric[]), CAST(:exposure AS numeric[]), "
                "CAST(:trades AS integer[]))"
            ),
            {
                "scopes": [item.scope[0] for item, _ in rows],
                "ids": [item.scope[1] for item, _ in rows],
                "days": [row.day for _, row in rows],
                "users": [item.user for item, _ in rows],
                "accounts": [item.account for item, _ in rows],
                "equity": [row.equity for _, row in rows],
                "pnl": [row.pnl for _, row in rows],
                "exposure": [row.exposure for _, row in rows],
                "trades": [row.trades for _, row in rows],
            },
        )

    async def observe(
        self, conn: AsyncConnection, lows: Sequence[tuple[Scope, date, Decimal, datetime]]
    ) -> None:
        """``IntradayStore.observe`` for each (scope, day, change since the close, when); one per scope."""
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
