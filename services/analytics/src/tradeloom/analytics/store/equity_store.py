"""Fills, bot tags, daily marks and daily equity rows (schema ``analytics``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.analytics.domain.equity import DayEquity, Fill
from tradeloom.shared.db import check_schema_name

SCOPES = ("account", "bot")
BYTE_ORDER = 'COLLATE "C"'  # fill ids compared in byte order, as Python sorts them (a locale may not)
Scope = tuple[str, str]  # ("account" | "bot", id)


@dataclass(frozen=True)
class ScopeRows:
    """A scope's rows from ``start`` on (those stored from that day are replaced)."""

    scope: Scope
    user: str
    account: str
    start: date
    rows: Sequence[DayEquity]


class EquityStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def add_fill(self, conn: AsyncConnection, row: dict[str, Any]) -> datetime | None:
        """Store a fill once (by ``fill_id``): its time as stored (UTC), None when it already was."""
        result = await conn.execute(
            text(
                f'INSERT INTO "{self.s}".fills (fill_id, order_id, account_id, user_id, symbol, side, '
                "price, quantity, fee, filled_at) VALUES (:fill_id, :order_id, :account_id, :user_id, "
                ":symbol, :side, :price, :quantity, :fee, :filled_at) "
                "ON CONFLICT DO NOTHING RETURNING filled_at"
            ),
            row,
        )
        stored = result.scalar_one_or_none()
        return None if stored is None else stored.astimezone(UTC)

    async def tag_order(
        self, conn: AsyncConnection, order_id: str, account: str, user: str, bot: str
    ) -> bool:
        result = await conn.execute(
            text(
                f'INSERT INTO "{self.s}".order_bots (order_id, account_id, user_id, bot_id) '
                "VALUES (:order, :account, :user, :bot) ON CONFLICT DO NOTHING RETURNING 1"
            ),
            {"order": order_id, "account": account, "user": user, "bot": bot},
        )
        return result.first() is not None

    async def bot_of_order(self, conn: AsyncConnection, order_id: str) -> str | None:
        result = await conn.execute(
            text(f'SELECT bot_id FROM "{self.s}".order_bots WHERE order_id = :order'), {"order": order_id}
        )
        return result.scalar_one_or_none()

    async def has_fills_of_order(self, conn: AsyncConnection, order_id: str) -> bool:
        result = await conn.execute(
            text(f'SELECT 1 FROM "{self.s}".fills WHERE order_id = :order LIMIT 1'), {"order": order_id}
        )
        return result.first() is not None

    async def fills(
        self, conn: AsyncConnection, scope: str, scope_id: str, after: tuple[datetime, str] | None = None
    ) -> tuple[list[Fill], str, str]:
        """The scope's fills (only those after ``after``, a ``(filled_at, fill_id)``, when given)
        and its (user, account); ('', '') when there are none."""
        if scope == "account":
            where = "f.account_id = :id"
        else:
            where = f'f.order_id IN (SELECT order_id FROM "{self.s}".order_bots WHERE bot_id = :id)'
        params: dict[str, Any] = {"id": scope_id}
        if after is not None:
            where += f" AND (f.filled_at, f.fill_id {BYTE_ORDER}) > (:after_at, :after_id)"
            params |= {"after_at": after[0], "after_id": after[1]}
        result = await conn.execute(
            text(
                "SELECT f.fill_id, f.symbol, f.side, f.price, f.quantity, f.fee, f.filled_at, f.user_id, "
                f'f.account_id FROM "{self.s}".fills f WHERE {where}'
            ),
            params,
        )
        rows = result.all()
        fills = [
            Fill(r.fill_id, r.symbol, r.side, Decimal(r.price), Decimal(r.quantity), Decimal(r.fee),
                 r.filled_at.astimezone(UTC))
            for r in rows
        ]  # fmt: skip
        return fills, (rows[0].user_id if rows else ""), (rows[0].account_id if rows else "")

    async def set_mark(
        self, conn: AsyncConnection, symbol: str, day: date, price: Decimal, ts_ns: int
    ) -> None:
        """The newest price of the day wins (an older message never overwrites a newer price)."""
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".marks AS m (symbol, day, price, ts_ns) VALUES (:symbol, :day, '
                ":price, :ts) ON CONFLICT (symbol, day) DO UPDATE SET price = EXCLUDED.price, "
                "ts_ns = EXCLUDED.ts_ns WHERE EXCLUDED.ts_ns > m.ts_ns"
            ),
            {"symbol": symbol, "day": day, "price": price, "ts": ts_ns},
        )

    async def marks(
        self, conn: AsyncConnection, symbols: Sequence[str]
    ) -> dict[str, list[tuple[date, int, Decimal]]]:
        result = await conn.execute(
            text(f'SELECT symbol, day, ts_ns, price FROM "{self.s}".marks WHERE symbol = ANY(:symbols)'),
            {"symbols": list(symbols)},
        )
        out: dict[str, list[tuple[date, int, Decimal]]] = {}
        for row in result:
            out.setdefault(row.symbol, []).append((row.day, row.ts_ns, Decimal(row.price)))
        return out

    async def write_rows(
        self,
        conn: AsyncConnection,
        scope: str,
        scope_id: str,
        *,
        user: str,
        account: str,
        rows: Sequence[DayEquity],
        start: date | None = None,
    ) -> None:
        """Replace the scope's rows (from ``start`` on when given; the caller holds the scope's lock)."""
        await self.replace_rows(conn, [ScopeRows((scope, scope_id), user, account, start or date.min, rows)])

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

    async def lock_orders(self, conn: AsyncConnection, order_ids: Sequence[str]) -> None:
        """Serialise, until the transaction ends, the fills and bot tags of ``order_ids`` (in the
        given order: callers sort them, so two transactions never wait for each other in a ring)."""
        if order_ids:
            await conn.execute(
                text(
                    "SELECT pg_advisory_xact_lock(hashtextextended(:prefix || o, 0)) "
                    "FROM unnest(CAST(:orders AS text[])) AS o"  # taken in the array's order
                ),
                {"prefix": f"{self.s}:order:", "orders": list(order_ids)},
            )

    async def lock_scope(self, conn: AsyncConnection, scope: str, scope_id: str) -> None:
        """Serialise rewrites of one scope until the transaction ends."""
        await self.lock_scopes(conn, [(scope, scope_id)])

    async def lock_scopes(self, conn: AsyncConnection, scopes: Sequence[Scope]) -> None:
        """``lock_scope`` for each of ``scopes``, in the given order (callers sort them)."""
        await conn.execute(
            text(
                "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) "
                "FROM unnest(CAST(:keys AS text[])) AS k"  # taken in the array's order
            ),
            {"keys": [f"{self.s}:{scope}:{scope_id}" for scope, scope_id in scopes]},
        )

    async def with_fills_after(
        self, conn: AsyncConnection, lasts: Mapping[Scope, tuple[datetime, str]]
    ) -> set[Scope]:
        """Those scopes with a fill after their ``(filled_at, fill_id)`` (as ``fills(after=…)``)."""
        if not lasts:
            return set()
        after = f"(f.filled_at, f.fill_id {BYTE_ORDER}) > (w.at, w.fill)"
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
            {
                "scopes": [scope for scope, _ in lasts],
                "ids": [scope_id for _, scope_id in lasts],
                "ats": [at for at, _ in lasts.values()],
                "fills": [fill for _, fill in lasts.values()],
            },
        )
        return {(row.scope, row.id) for row in result}

    async def every_scope(self, conn: AsyncConnection) -> list[tuple[str, str]]:
        result = await conn.execute(
            text(
                f"SELECT DISTINCT 'account' AS scope, account_id AS id FROM \"{self.s}\".fills "
                f"UNION SELECT DISTINCT 'bot', bot_id FROM \"{self.s}\".order_bots"
            )
        )
        return [(row.scope, row.id) for row in result]

    async def rows(
        self, conn: AsyncConnection, scope: str, ids: Sequence[str], start: date | None, end: date | None
    ) -> list[Row[Any]]:
        """Rows of the scopes ``ids`` between ``start`` and ``end`` (inclusive), by day."""
        result = await conn.execute(
            text(
                "SELECT scope_id, day, user_id, account_id, equity, pnl, exposure, trades "
                f'FROM "{self.s}".daily_equity WHERE scope = :scope AND scope_id = ANY(:ids) '
                "AND (CAST(:start AS date) IS NULL OR day >= :start) "
                "AND (CAST(:end AS date) IS NULL OR day <= :end) ORDER BY day, scope_id"
            ),
            {"scope": scope, "ids": list(ids), "start": start, "end": end},
        )
        return list(result.all())

    async def account_owner(self, conn: AsyncConnection, account_id: str) -> str | None:
        result = await conn.execute(
            text(f'SELECT user_id FROM "{self.s}".fills WHERE account_id = :id LIMIT 1'), {"id": account_id}
        )
        return result.scalar_one_or_none()

    async def bot_owner(self, conn: AsyncConnection, bot_id: str) -> str | None:
        result = await conn.execute(
            text(f'SELECT user_id FROM "{self.s}".order_bots WHERE bot_id = :id LIMIT 1'), {"id": bot_id}
        )
        return result.scalar_one_or_none()

    async def accounts_of(self, conn: AsyncConnection, user_id: str) -> list[str]:
        result = await conn.execute(
            text(f'SELECT DISTINCT account_id FROM "{self.s}".fills WHERE user_id = :user ORDER BY 1'),
            {"user": user_id},
        )
        return list(result.scalars())

    async def latest(self, conn: AsyncConnection, scope: str, scope_id: str) -> Row[Any] | None:
        """The scope's newest row."""
        result = await conn.execute(
            text(
                f'SELECT day, equity, pnl, exposure, trades FROM "{self.s}".daily_equity '
                "WHERE scope = :scope AND scope_id = :id ORDER BY day DESC LIMIT 1"
            ),
            {"scope": scope, "id": scope_id},
        )
        return result.first()

    async def latest_marks(self, conn: AsyncConnection, symbols: Sequence[str]) -> dict[str, Decimal]:
        result = await conn.execute(
            text(
                f'SELECT DISTINCT ON (symbol) symbol, price FROM "{self.s}".marks '
                "WHERE symbol = ANY(:symbols) ORDER BY symbol, day DESC"
            ),
            {"symbols": list(symbols)},
        )
        return {row.symbol: Decimal(row.price) for row in result}

    async def summaries(self, conn: AsyncConnection, user_id: str) -> list[Row[Any]]:
        """The newest row of each of the user's accounts, with its total number of fills."""
        result = await conn.execute(
            text(
                "SELECT DISTINCT ON (scope_id) scope_id, day, equity, pnl, exposure, "
                f'(SELECT sum(trades) FROM "{self.s}".daily_equity t WHERE t.scope = d.scope '
                "AND t.scope_id = d.scope_id) AS trades "
                f"FROM \"{self.s}\".daily_equity d WHERE user_id = :user AND scope = 'account' "
                "ORDER BY scope_id, day DESC"
            ),
            {"user": user_id},
        )
        return list(result.all())
