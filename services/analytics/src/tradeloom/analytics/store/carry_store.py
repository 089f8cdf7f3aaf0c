"""Equity carries (schema ``analytics``): per scope, ``domain.equity.Carry`` and the scope's owner.

The state is JSON text (not jsonb, which reorders keys) with decimals as strings, times as ISO texts
and the positions as a list in the fold's order, so a carry read back is the one written, digit
for digit and in the same order (the rows continued from it must equal a whole fold's)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.analytics.domain.equity import Carry
from tradeloom.shared.db import check_schema_name


def carry_state(carry: Carry) -> str:
    return json.dumps(
        {
            "cash": str(carry.cash),
            "quantity": [[symbol, str(held)] for symbol, held in carry.quantity.items()],
            "fill_price": [
                [symbol, at.isoformat(), str(price)] for symbol, (at, price) in carry.fill_price.items()
            ],
            "day_trades": carry.day_trades,
            "previous": str(carry.previous),
        }
    )


def carry_of(last_at: datetime, last_fill_id: str, state: str) -> Carry:
    loaded: dict[str, Any] = json.loads(state)
    return Carry(
        last=(last_at.astimezone(UTC), last_fill_id),
        cash=Decimal(loaded["cash"]),
        quantity={symbol: Decimal(held) for symbol, held in loaded["quantity"]},
        fill_price={
            symbol: (datetime.fromisoformat(at), Decimal(price)) for symbol, at, price in loaded["fill_price"]
        },
        day_trades=int(loaded["day_trades"]),
        previous=Decimal(loaded["previous"]),
    )


@dataclass(frozen=True)
class StoredCarry:
    carry: Carry
    user: str
    account: str
    newest_day: date | None  # the scope's newest stored daily-equity row


class CarryStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def get(self, conn: AsyncConnection, scope: str, scope_id: str) -> StoredCarry | None:
        """The scope's carry with its owner and newest row's day; None when it has none."""
        return (await self.get_many(conn, [(scope, scope_id)])).get((scope, scope_id))

    async def get_many(
        self, conn: AsyncConnection, scopes: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], StoredCarry]:
        """``get`` of several scopes in one statement: those that have a carry."""
        result = await conn.execute(
            text(
                "SELECT c.scope, c.scope_id, c.user_id, c.account_id, c.last_at, c.last_fill_id, c.state, "
                f'(SELECT max(day) FROM "{self.s}".daily_equity d WHERE d.scope = c.scope '
                f'AND d.scope_id = c.scope_id) AS newest_day FROM "{self.s}".equity_carry c '
                "JOIN unnest(CAST(:scopes AS text[]), CAST(:ids AS text[])) AS w(scope, id) "
                "ON c.scope = w.scope AND c.scope_id = w.id"
            ),
            {"scopes": [scope for scope, _ in scopes], "ids": [scope_id for _, scope_id in scopes]},
        )
        out: dict[tuple[str, str], StoredCarry] = {}
        for row in result:
            carry = carry_of(row.last_at, row.last_fill_id, row.state)
            out[(row.scope, row.scope_id)] = StoredCarry(carry, row.user_id, row.account_id, row.newest_day)
        return out

    async def put(  # noqa: PLR0917 (one row's columns)
        self, conn: AsyncConnection, scope: str, scope_id: str, carry: Carry, user: str, account: str
    ) -> None:
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".equity_carry (scope, scope_id, user_id, account_id, last_at, '
                "last_fill_id, state, symbols, open_symbols) VALUES (:scope, :id, :user, :account, :at, "
                ":fill, :state, :symbols, :open) ON CONFLICT (scope, scope_id) DO UPDATE SET "
                "user_id = EXCLUDED.user_id, account_id = EXCLUDED.account_id, last_at = EXCLUDED.last_at, "
                "last_fill_id = EXCLUDED.last_fill_id, state = EXCLUDED.state, symbols = EXCLUDED.symbols, "
                "open_symbols = EXCLUDED.open_symbols"
            ),
            {
                "scope": scope, "id": scope_id, "user": user, "account": account,
                "at": carry.last[0], "fill": carry.last[1], "state": carry_state(carry),
                "symbols": sorted(carry.quantity),
                "open": sorted(symbol for symbol, held in carry.quantity.items() if held != 0),
            },
        )  # fmt: skip

    async def scopes_to_mark(
        self, conn: AsyncConnection, symbols: Sequence[str], marks_from: date, today: date
    ) -> list[tuple[str, str]]:
        """The scopes whose rows prices of ``symbols`` from ``marks_from`` on can change: those
        holding one now when only today's prices moved (a flat scope's equity is its cash), those
        that ever filled one when an earlier day's did (they may have held it then)."""
        column = "open_symbols" if marks_from >= today else "symbols"
        result = await conn.execute(
            text(
                f'SELECT scope, scope_id FROM "{self.s}".equity_carry '
                f"WHERE {column} && CAST(:symbols AS text[])"
            ),
            {"symbols": list(symbols)},
        )
        return [(row.scope, row.scope_id) for row in result]

    async def stale_scopes(self, conn: AsyncConnection, today: date) -> list[tuple[str, str]]:
        """Scopes with no row for ``today`` yet (the daily roll)."""
        result = await conn.execute(
            text(
                f'SELECT scope, scope_id FROM "{self.s}".equity_carry c WHERE NOT EXISTS (SELECT 1 '
                f'FROM "{self.s}".daily_equity d WHERE d.scope = c.scope AND d.scope_id = c.scope_id '
                "AND d.day >= :today)"
            ),
            {"today": today},
        )
        return [(row.scope, row.scope_id) for row in result]

    async def drop(self, conn: AsyncConnection, scope: str, scope_id: str) -> None:
        await conn.execute(
            text(f'DELETE FROM "{self.s}".equity_carry WHERE scope = :scope AND scope_id = :id'),
            {"scope": scope, "id": scope_id},
        )
