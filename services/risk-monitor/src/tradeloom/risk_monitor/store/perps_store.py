"""Leverage and margin mode per account and perpetual (``perp_settings``)."""

from __future__ import annotations

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

    async def put(self, conn: AsyncConnection, user_id: str, body: PerpSettingsPut) -> Row[Any]:
        row = await conn.execute(
            text(
                f'INSERT INTO "{self.s}".perp_settings (account_id, symbol, user_id, leverage, margin_mode) '
                "VALUES (:account, :symbol, :user, :leverage, :mode) ON CONFLICT (account_id, symbol) "
                "DO UPDATE SET leverage = :leverage, margin_mode = :mode, updated_at = now() RETURNING *"
            ),
            {
                "account": body.account_id,
                "symbol": body.symbol,
                "user": user_id,
                "leverage": body.leverage,
                "mode": body.margin_mode,
            },
        )
        return row.one()
