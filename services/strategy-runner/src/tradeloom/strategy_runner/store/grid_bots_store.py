"""A grid bot's row of ``bots`` (``kind = 'grid'``), its lots and its limit orders in ``bot_orders``."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.db import check_schema_name
from tradeloom.strategy_runner.domain.grid_bot import GridConfig, GridOrder, Lot, grid_order_key


def lots_of(row: Row[Any]) -> list[Lot]:
    return [Lot(k, bool(lot["holding"]), int(lot["cycle"])) for k, lot in enumerate(row.grid_lots)]


def config_of(row: Row[Any]) -> GridConfig:
    grid = row.grid
    return GridConfig(
        Decimal(grid["lower"]),
        Decimal(grid["upper"]),
        int(grid["levels"]),
        Decimal(grid["quantity_per_level"]),
    )


def prices_of(row: Row[Any]) -> list[Decimal]:
    return [Decimal(price) for price in row.grid["prices"]]


def grid_json(config: GridConfig, prices: Sequence[Decimal]) -> dict[str, Any]:
    return {
        "lower": str(config.lower), "upper": str(config.upper), "levels": config.levels,
        "quantity_per_level": str(config.quantity_per_level), "prices": [str(p) for p in prices],
    }  # fmt: skip


def _lots_json(lots: Sequence[Lot]) -> str:
    return json.dumps([{"holding": lot.holding, "cycle": lot.cycle} for lot in lots])


class GridBotsStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def create(
        self, conn: AsyncConnection, bot_id: str, *, user_id: str, name: str, account_id: str, venue: str,
        symbol: str, config: GridConfig, prices: Sequence[Decimal], lots: Sequence[Lot],
    ) -> None:  # fmt: skip
        grid = grid_json(config, prices)
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".bots (id, user_id, name, account_id, venue, symbol, kind, grid, '
                "grid_lots) VALUES (:id, :user, :name, :account, :venue, :symbol, 'grid', "
                "CAST(:grid AS jsonb), CAST(:lots AS jsonb))"
            ),
            {
                "id": uuid.UUID(bot_id), "user": user_id, "name": name, "account": account_id,
                "venue": venue, "symbol": symbol, "grid": json.dumps(grid), "lots": _lots_json(lots),
            },
        )  # fmt: skip

    async def set_ladder(
        self, conn: AsyncConnection, bot_id: uuid.UUID, config: GridConfig, prices: Sequence[Decimal],
        lots: Sequence[Lot],
    ) -> None:  # fmt: skip
        """A new ladder (``grid_bots_update`` of a stopped bot) with its new lots."""
        await conn.execute(
            text(
                f'UPDATE "{self.s}".bots SET grid = CAST(:grid AS jsonb), grid_lots = CAST(:lots AS jsonb), '
                "updated_at = now() WHERE id = :id"
            ),
            {"id": bot_id, "grid": json.dumps(grid_json(config, prices)), "lots": _lots_json(lots)},
        )

    async def set_lots(self, conn: AsyncConnection, bot_id: uuid.UUID, lots: Sequence[Lot]) -> None:
        await conn.execute(
            text(
                f'UPDATE "{self.s}".bots SET grid_lots = CAST(:lots AS jsonb), updated_at = now() '
                "WHERE id = :id"
            ),
            {"id": bot_id, "lots": _lots_json(lots)},
        )

    async def add_order(
        self, conn: AsyncConnection, bot_id: uuid.UUID, symbol: str, order: GridOrder, cycle: int
    ) -> bool:
        """Record a limit order for the resend loop to send (status ``sending``); False when this
        (lot, side, cycle) already has one."""
        result = await conn.execute(
            text(
                f'INSERT INTO "{self.s}".bot_orders (bot_id, symbol, bar_ns, client_order_id, side, '
                "quantity, order_type, price) VALUES (:bot, :symbol, :key, :cid, :side, :qty, 'limit', "
                ":price) ON CONFLICT DO NOTHING RETURNING bar_ns"
            ),
            {
                "bot": bot_id, "symbol": symbol, "key": grid_order_key(order.lot, order.side, cycle),
                "cid": order.client_order_id, "side": order.side, "qty": order.quantity, "price": order.price,
            },
        )  # fmt: skip
        return result.first() is not None

    async def withdraw_unsent(self, conn: AsyncConnection, bot_id: uuid.UUID) -> list[str]:
        """Open orders of the bot: those never sent become ``canceled`` (the resend loop skips
        them); the order ids of those order-router holds, to cancel there."""
        await conn.execute(
            text(
                f"UPDATE \"{self.s}\".bot_orders SET status = 'canceled' WHERE bot_id = :bot "
                "AND status = 'sending' AND order_id IS NULL"
            ),
            {"bot": bot_id},
        )
        result = await conn.execute(
            text(
                f'SELECT order_id FROM "{self.s}".bot_orders WHERE bot_id = :bot AND order_id IS NOT NULL '
                "AND status NOT IN ('filled', 'canceled', 'rejected', 'expired') ORDER BY bar_ns"
            ),
            {"bot": bot_id},
        )
        return [row.order_id for row in result]

    async def has_orders(self, conn: AsyncConnection, bot_id: uuid.UUID) -> bool:
        result = await conn.execute(
            text(f'SELECT 1 FROM "{self.s}".bot_orders WHERE bot_id = :bot LIMIT 1'), {"bot": bot_id}
        )
        return result.first() is not None
