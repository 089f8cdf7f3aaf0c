"""Leverage, margin mode and position mode per account and perpetual (``perp_settings``)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.contracts.risk_perps import PerpSettingsPut
from tradeloom.shared.db import check_schema_name


class PerpsStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def settings(self, conn: AsyncConnection, account_id: str) -> list[Row[Any]]:
        rows = await conn.execute(
            text(f'SELECT * FROM "{self.s}".perp_settings WHERE account_id = :account ORDER BY symbol'),
            {"account": account_id},
        )
        return list(rows)

    async def setting(self, conn: AsyncConnection, account_id: str, symbol: str) -> Row[Any] | None:
        """The symbol's setting, locked until the transaction ends (None: never set)."""
        rows = await conn.execute(
            text(
                f'SELECT * FROM "{self.s}".perp_settings WHERE account_id = :account AND symbol = :symbol '
                "FOR UPDATE"
            ),
            {"account": account_id, "symbol": symbol},
        )
        return rows.first()

    async def busy(self, conn: AsyncConnection, account_id: str, symbol: str) -> bool:
        """The account has an open position (any bot's share) or an open order on ``symbol``, as
        far as the fills and order events folded so far tell."""
        rows = await conn.execute(
            text(
                f'SELECT EXISTS (SELECT 1 FROM "{self.s}".positions WHERE account_id = :account '
                "AND symbol = :symbol AND quantity <> 0) OR EXISTS (SELECT 1 FROM "
                f'"{self.s}".orders WHERE account_id = :account AND symbol = :symbol AND open)'
            ),
            {"account": account_id, "symbol": symbol},
        )
        return bool(rows.scalar())

    async def put(self, conn: AsyncConnection, user_id: str, body: PerpSettingsPut) -> Row[Any]:
        """Store the setting; a ``position_mode`` of None keeps the stored one (one_way if new)."""
        row = await conn.execute(
            text(
                f'INSERT INTO "{self.s}".perp_settings AS p (account_id, symbol, user_id, leverage, '
                "margin_mode, position_mode) VALUES (:account, :symbol, :user, :leverage, :mode, "
                "COALESCE(CAST(:position_mode AS text), 'one_way')) ON CONFLICT (account_id, symbol) "
                "DO UPDATE SET leverage = :leverage, margin_mode = :mode, "
                "position_mode = COALESCE(CAST(:position_mode AS text), p.position_mode), updated_at = now() "
                "RETURNING *"
            ),
            {
                "account": body.account_id,
                "symbol": body.symbol,
                "user": user_id,
                "leverage": body.leverage,
                "mode": body.margin_mode,
                "position_mode": body.position_mode,
            },
        )
        return row.one()

    async def audit(
        self, conn: AsyncConnection, user_id: str, account_id: str, old: Row[Any] | None, new: Row[Any]
    ) -> None:
        """One ``perp_settings_changes`` row with the values before and after."""
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".perp_settings_changes (user_id, account_id, symbol, changed_by, '
                "old_values, new_values) VALUES (:user, :account, :symbol, :user, CAST(:old AS jsonb), "
                "CAST(:new AS jsonb))"
            ),
            {
                "user": user_id,
                "account": account_id,
                "symbol": new.symbol,
                "old": None if old is None else json.dumps(_values(old)),
                "new": json.dumps(_values(new)),
            },
        )


def _values(row: Row[Any]) -> dict[str, str]:
    return {
        "symbol": row.symbol,
        "leverage": str(row.leverage.normalize()),
        "margin_mode": row.margin_mode,
        "position_mode": row.position_mode,
    }
