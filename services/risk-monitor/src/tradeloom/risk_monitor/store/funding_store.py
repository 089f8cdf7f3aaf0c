"""``perp_funding``: funding payments of perp positions, keyed by account, symbol, funding
time and position side (hedge mode funds the long and the short each)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.contracts.orders_perps import FundingPaid
from tradeloom.shared.db import check_schema_name


class FundingStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def add(self, conn: AsyncConnection, event: FundingPaid) -> bool:
        """Store one payment; False when this (account, symbol, funding time, side) was seen before."""
        result = await conn.execute(
            text(
                f'INSERT INTO "{self.s}".perp_funding (account_id, symbol, funding_time_ns, amount, '
                "position_side) VALUES (:a, :s, :t, :amount, :ps) ON CONFLICT DO NOTHING RETURNING 1"
            ),
            {
                "a": event.account_id,
                "s": event.symbol,
                "t": event.funding_time_ns,
                "amount": event.amount,
                "ps": event.position_side or "",
            },
        )
        return result.first() is not None

    async def total(
        self, conn: AsyncConnection, account_id: str, symbol: str, position_side: str = ""
    ) -> Decimal:
        """All funding received (> 0) or paid (< 0) on the account's position in ``symbol`` (its
        ``position_side`` in hedge mode)."""
        result = await conn.execute(
            text(
                f'SELECT COALESCE(SUM(amount), 0) FROM "{self.s}".perp_funding '
                "WHERE account_id = :a AND symbol = :s AND position_side = :ps"
            ),
            {"a": account_id, "s": symbol, "ps": position_side},
        )
        return Decimal(result.scalar_one())
