"""The ``flattens`` table (one row per ``risk.evt.flatten`` acted on) and the paper position fold."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.order_router.store.orders_store import ORDER_COLUMNS
from tradeloom.shared.db import check_schema_name


class FlattensStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def start(
        self, conn: AsyncConnection, flatten_id: str, account_id: uuid.UUID, user_id: str, reason: str
    ) -> bool:
        """Record the flatten as closing; False when this flatten event was acted on before."""
        result = await conn.execute(
            text(
                f'INSERT INTO "{self.s}".flattens (id, account_id, user_id, reason, status) '
                "VALUES (:id, :account, :user, :reason, 'closing') ON CONFLICT DO NOTHING RETURNING 1"
            ),
            {"id": flatten_id, "account": account_id, "user": user_id, "reason": reason},
        )
        return result.first() is not None

    async def held(self, conn: AsyncConnection, account_id: uuid.UUID) -> list[Row[Any]]:
        """Per spot symbol the account traded (a perpetual is not held as base): the net filled
        quantity (buys − sells), its assets and lot."""
        result = await conn.execute(
            text(
                "SELECT o.symbol, o.venue, o.base_asset, o.quote_asset, MAX(o.lot_size) AS lot_size, "
                "SUM(CASE WHEN f.side = 'buy' THEN f.quantity ELSE -f.quantity END) AS net "
                f'FROM "{self.s}".fills f JOIN "{self.s}".orders o ON o.id = f.order_id '
                "WHERE f.account_id = :account AND o.contract_size IS NULL "
                "GROUP BY o.symbol, o.venue, o.base_asset, o.quote_asset "
                "ORDER BY o.symbol"
            ),
            {"account": account_id},
        )
        return list(result.all())

    async def perps_held(self, conn: AsyncConnection, account_id: uuid.UUID) -> list[Row[Any]]:
        """The account's open perp positions (both sides in hedge mode), with the venue, assets, lot
        and leverage of the last order on each symbol."""
        result = await conn.execute(
            text(
                "SELECT p.symbol, p.position_side, p.quantity AS net, p.contract_size, p.settle_asset, "
                "o.venue, o.base_asset, o.quote_asset, o.lot_size, o.leverage "
                f'FROM "{self.s}".perp_positions p JOIN LATERAL (SELECT venue, base_asset, quote_asset, '
                f'lot_size, leverage FROM "{self.s}".orders WHERE account_id = p.account_id '
                "AND symbol = p.symbol ORDER BY created_at DESC LIMIT 1) o ON true "
                "WHERE p.account_id = :account AND p.quantity <> 0 ORDER BY p.symbol, p.position_side"
            ),
            {"account": account_id},
        )
        return list(result.all())

    async def set_left(self, conn: AsyncConnection, flatten_id: str, left: list[dict[str, str]]) -> None:
        """What the flatten leaves open (``FlattenLeft`` as plain JSON), reported on completion."""
        await conn.execute(
            text(f'UPDATE "{self.s}".flattens SET left_open = CAST(:left AS jsonb) WHERE id = :id'),
            {"id": flatten_id, "left": json.dumps(left)},
        )

    async def left_of(self, conn: AsyncConnection, flatten_id: str) -> list[dict[str, str]]:
        result = await conn.execute(
            text(f'SELECT left_open FROM "{self.s}".flattens WHERE id = :id'), {"id": flatten_id}
        )
        value = result.scalar_one_or_none()
        return list(value) if value else []

    async def orders_of(self, conn: AsyncConnection, flatten_id: str) -> list[Row[Any]]:
        result = await conn.execute(
            text(f'SELECT {ORDER_COLUMNS} FROM "{self.s}".orders WHERE flatten_id = :id ORDER BY symbol'),
            {"id": flatten_id},
        )
        return list(result.all())

    async def complete(self, conn: AsyncConnection, flatten_id: str, outcome: str) -> Row[Any] | None:
        """Mark the flatten completed (once): its row, or ``None`` when it already was."""
        result = await conn.execute(
            text(
                f"UPDATE \"{self.s}\".flattens SET status = 'completed', outcome = :outcome, "
                "completed_at = now() WHERE id = :id AND status = 'closing' "
                "RETURNING id, account_id, user_id, reason"
            ),
            {"id": flatten_id, "outcome": outcome},
        )
        return result.first()

    async def closing(self, conn: AsyncConnection, account_id: uuid.UUID) -> list[str]:
        """The account's flattens not completed yet, oldest first."""
        result = await conn.execute(
            text(
                f'SELECT id FROM "{self.s}".flattens WHERE account_id = :account '
                "AND status = 'closing' ORDER BY created_at, id"
            ),
            {"account": account_id},
        )
        return [row.id for row in result.all()]
