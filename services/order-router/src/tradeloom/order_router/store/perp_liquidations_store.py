"""The ``perp_liquidations`` table (one row per liquidated position) and the positions to watch."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.db import check_schema_name

COLUMNS = (
    "p.account_id, p.symbol, p.settle_asset, p.contract_size, p.quantity, p.entry_price, p.margin, "
    "p.opened_ns, p.margin_mode, p.position_side, a.venue, a.user_id"
)


class PerpLiquidationsStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def open_positions(self, conn: AsyncConnection, venue: str, symbol: str) -> list[Row[Any]]:
        """The non-flat positions in ``symbol`` of the accounts on ``venue``."""
        result = await conn.execute(
            text(
                f'SELECT {COLUMNS} FROM "{self.s}".perp_positions p JOIN "{self.s}".accounts a '
                "ON a.id = p.account_id WHERE p.symbol = :symbol AND a.venue = :venue AND p.quantity <> 0 "
                "ORDER BY p.account_id, p.position_side"
            ),
            {"symbol": symbol, "venue": venue},
        )
        return list(result.all())

    async def lock(
        self, conn: AsyncConnection, account_id: uuid.UUID, symbol: str, position_side: str
    ) -> Row[Any] | None:
        """The position, read again under its row lock."""
        result = await conn.execute(
            text(
                f'SELECT {COLUMNS} FROM "{self.s}".perp_positions p JOIN "{self.s}".accounts a '
                "ON a.id = p.account_id WHERE p.account_id = :account AND p.symbol = :symbol "
                "AND p.position_side = :ps FOR UPDATE OF p"
            ),
            {"account": account_id, "symbol": symbol, "ps": position_side},
        )
        return result.first()

    async def account_positions(self, conn: AsyncConnection, account_id: uuid.UUID) -> list[Row[Any]]:
        """Every non-flat perp position of the account, locked (in symbol order: no deadlock)."""
        result = await conn.execute(
            text(
                f'SELECT {COLUMNS} FROM "{self.s}".perp_positions p JOIN "{self.s}".accounts a '
                "ON a.id = p.account_id WHERE p.account_id = :account AND p.quantity <> 0 "
                "ORDER BY p.symbol, p.position_side FOR UPDATE OF p"
            ),
            {"account": account_id},
        )
        return list(result.all())

    async def last_prices(self, conn: AsyncConnection, venue: str, symbols: list[str]) -> dict[str, Decimal]:
        result = await conn.execute(
            text(f'SELECT symbol, price FROM "{self.s}".last_prices WHERE venue = :v AND symbol = ANY(:s)'),
            {"v": venue, "s": symbols},
        )
        return {row.symbol: Decimal(row.price) for row in result}

    async def record(self, conn: AsyncConnection, values: dict[str, Any]) -> bool:
        """Store the liquidation; False when this position (account, symbol, opened_ns, side) already was."""
        result = await conn.execute(
            text(
                f'INSERT INTO "{self.s}".perp_liquidations (account_id, symbol, opened_ns, quantity, '
                "entry_price, margin, price, mark_price, realised_pnl, fee, position_side) VALUES ("
                ":account_id, :symbol, :opened_ns, :quantity, :entry_price, :margin, :price, :mark_price, "
                ":realised_pnl, :fee, :position_side) "
                "ON CONFLICT DO NOTHING RETURNING account_id"
            ),
            values,
        )
        return result.first() is not None
