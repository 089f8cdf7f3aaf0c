"""Read side of a bot's sub-ledger: its orders page by page and its executions (``bot_orders``),
plus the consumer's write of each order's fills (average price, fees). Callers check ownership."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.db import check_schema_name

ORDER_COLUMNS = (
    "client_order_id, order_id, symbol, bar_ns, side, quantity, filled_quantity, average_price, fees, "
    "status, created_at, executed_at"
)


class BotViewsStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def record_fills(
        self, conn: AsyncConnection, client_id: str, filled: Decimal, average_price: Decimal | None,
        fees: Decimal,
    ) -> None:  # fmt: skip
        """An order event's cumulative fills; an older event (less filled) never overwrites a newer."""
        if filled <= 0 or average_price is None:
            return
        await conn.execute(
            text(
                f'UPDATE "{self.s}".bot_orders SET average_price = :avg, fees = GREATEST(fees, :fees), '
                "executed_at = now() WHERE client_order_id = :cid AND :filled >= filled_quantity"
            ),
            {"cid": client_id, "avg": average_price, "fees": fees, "filled": filled},
        )

    async def orders_page(
        self, conn: AsyncConnection, bot_id: uuid.UUID, limit: int, before: tuple[int, str] | None,
        *, filled_only: bool,
    ) -> list[Row[Any]]:  # fmt: skip
        """Newest bar first; ``before`` = (bar_ns, symbol) of the previous page's last row."""
        bar, symbol = before if before is not None else (None, None)
        result = await conn.execute(
            text(
                f'SELECT {ORDER_COLUMNS} FROM "{self.s}".bot_orders WHERE bot_id = :bot '
                "AND (NOT :filled_only OR filled_quantity > 0) AND (CAST(:bar AS bigint) IS NULL "
                "OR (bar_ns, symbol) < (CAST(:bar AS bigint), CAST(:symbol AS text))) "
                "ORDER BY bar_ns DESC, symbol DESC LIMIT :n"
            ),
            {"bot": bot_id, "filled_only": filled_only, "bar": bar, "symbol": symbol, "n": limit},
        )
        return list(result)

    async def executions(self, conn: AsyncConnection, bot_id: uuid.UUID) -> list[Row[Any]]:
        """Every order with fills, in the order they happened (a bot has one order open at a time)."""
        result = await conn.execute(
            text(
                "SELECT symbol, side, filled_quantity, average_price, fees FROM "
                f'"{self.s}".bot_orders WHERE bot_id = :bot AND filled_quantity > 0 '
                "AND average_price IS NOT NULL ORDER BY bar_ns, symbol"
            ),
            {"bot": bot_id},
        )
        return list(result)
