"""Funding paid on paper perp positions: ``perp_fundings`` (one row per account, symbol, funding
time and position side, the primary key that makes a payment happen once) and the positions it is
owed on."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.db import check_schema_name


class PerpFundingsStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def open_positions(self, conn: AsyncConnection) -> list[Row[Any]]:
        """Every non-flat position with its account's venue and the last funding time settled."""
        result = await conn.execute(
            text(
                "SELECT p.account_id, p.symbol, p.position_side, a.venue, a.user_id, p.funded_through_ns "
                f'FROM "{self.s}".perp_positions p JOIN "{self.s}".accounts a ON a.id = p.account_id '
                "WHERE p.quantity <> 0 ORDER BY p.account_id, p.symbol, p.position_side"
            )
        )
        return list(result.all())

    async def position(
        self, conn: AsyncConnection, account_id: uuid.UUID, symbol: str, position_side: str
    ) -> Row[Any] | None:
        """The position row, locked for the payment."""
        result = await conn.execute(
            text(
                "SELECT quantity, entry_price, margin, settle_asset, contract_size, funded_through_ns "
                f'FROM "{self.s}".perp_positions WHERE account_id = :a AND symbol = :s '
                "AND position_side = :ps FOR UPDATE"
            ),
            {"a": account_id, "s": symbol, "ps": position_side},
        )
        return result.first()

    async def record(self, conn: AsyncConnection, values: dict[str, Any]) -> bool:
        """Insert one payment; False when this (account, symbol, funding time, position side) was
        paid before."""
        result = await conn.execute(
            text(
                f'INSERT INTO "{self.s}".perp_fundings (account_id, symbol, funding_time_ns, quantity, rate, '
                "mark_price, amount, position_side) VALUES (:account_id, :symbol, :funding_time_ns, "
                ":quantity, :rate, :mark_price, :amount, :position_side) ON CONFLICT DO NOTHING RETURNING 1"
            ),
            values,
        )
        return result.first() is not None

    async def settled(
        self,
        conn: AsyncConnection,
        account_id: uuid.UUID,
        symbol: str,
        *,
        position_side: str,
        funding_time_ns: int,
        amount: Decimal,
        margin_taken: Decimal,
    ) -> None:
        """The position is funded through ``funding_time_ns``; ``margin_taken``: the part of a
        payment its free balance could not cover, taken from the position's margin."""
        await conn.execute(
            text(
                f'UPDATE "{self.s}".perp_positions SET funded_through_ns = :t, funding = funding + :amount, '
                "margin = margin - :taken, updated_at = now() WHERE account_id = :a AND symbol = :s "
                "AND position_side = :ps"
            ),
            {
                "a": account_id,
                "s": symbol,
                "ps": position_side,
                "t": funding_time_ns,
                "amount": amount,
                "taken": margin_taken,
            },
        )
