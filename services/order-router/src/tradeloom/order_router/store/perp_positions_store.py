"""The ``perp_positions`` table: one row per paper account, perpetual it has traded and position
side (``''`` in one-way mode; ``long`` and ``short`` side by side in hedge mode)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.order_router.domain.perps import PerpPosition
from tradeloom.shared.db import check_schema_name


class PerpPositionsStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def get(
        self,
        conn: AsyncConnection,
        account_id: uuid.UUID,
        symbol: str,
        *,
        for_update: bool = False,
        position_side: str = "",
    ) -> PerpPosition:
        """The position (flat when the account never traded ``symbol``); ``for_update`` locks it."""
        lock = " FOR UPDATE" if for_update else ""
        result = await conn.execute(
            text(
                f'SELECT quantity, entry_price, margin FROM "{self.s}".perp_positions '
                f"WHERE account_id = :account AND symbol = :symbol AND position_side = :ps{lock}"
            ),
            {"account": account_id, "symbol": symbol, "ps": position_side},
        )
        row = result.first()
        if row is None:
            return PerpPosition()
        return PerpPosition(row.quantity, row.entry_price, row.margin)

    async def put(
        self,
        conn: AsyncConnection,
        account_id: uuid.UUID,
        symbol: str,
        settle_asset: str,
        position: PerpPosition,
        *,
        realised: Decimal,
        contract_size: Decimal,
        opened_ns: int | None,
        margin_mode: str | None = None,
        position_side: str = "",
    ) -> None:
        """Store ``position`` and add ``realised`` to the symbol's realised PnL; ``opened_ns``: the
        position opened from flat then (funding is owed for funding times after it; it is also the
        position's id, the liquidation's idempotency key)."""
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".perp_positions AS p (account_id, symbol, settle_asset, '
                "contract_size, quantity, entry_price, margin, realised_pnl, funded_through_ns, opened_ns, "
                "margin_mode, position_side) VALUES (:account, :symbol, :settle, :size, :qty, :entry, "
                ":margin, :realised, "
                "COALESCE(CAST(:opened AS bigint), 0), COALESCE(CAST(:opened AS bigint), 0), "
                "COALESCE(CAST(:mode AS text), 'isolated'), :ps) "
                "ON CONFLICT (account_id, symbol, position_side) DO UPDATE SET "
                "quantity = :qty, entry_price = :entry, margin = :margin, "
                "realised_pnl = p.realised_pnl + :realised, "
                "funded_through_ns = COALESCE(CAST(:opened AS bigint), p.funded_through_ns), "
                "opened_ns = COALESCE(CAST(:opened AS bigint), p.opened_ns), "
                "margin_mode = CASE WHEN CAST(:opened AS bigint) IS NULL THEN p.margin_mode "
                "ELSE COALESCE(CAST(:mode AS text), p.margin_mode) END, "
                "updated_at = now()"
            ),
            {
                "account": account_id,
                "symbol": symbol,
                "settle": settle_asset,
                "qty": position.quantity,
                "entry": position.entry_price,
                "margin": position.margin,
                "realised": realised,
                "size": contract_size,
                "opened": opened_ns,
                "mode": margin_mode,
                "ps": position_side,
            },
        )
