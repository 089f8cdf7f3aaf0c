"""Fills, positions, the orders seen and last prices in the ``risk_monitor`` schema."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.risk_monitor.domain.limits import Exposure
from tradeloom.risk_monitor.domain.positions import Fill, Position
from tradeloom.shared.db import check_schema_name

OPEN_STATUSES = ("pending_new", "new", "partially_filled", "pending_cancel")


def position_of(row: Row[Any] | None) -> Position:
    if row is None:
        return Position()
    return Position(
        quantity=Decimal(row.quantity),
        average_entry=Decimal(row.average_entry),
        realised_pnl=Decimal(row.realised_pnl),
        fees=Decimal(row.fees),
        fill_count=row.fill_count,
        last_key=(row.last_filled_at, row.last_fill_id),
    )


class PositionsStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def add_fill(
        self, conn: AsyncConnection, fill: Fill, account_id: str, user_id: str, symbol: str
    ) -> bool:
        """Store a fill once; False when its id is already stored."""
        result = await conn.execute(
            text(
                f'INSERT INTO "{self.s}".fills (fill_id, account_id, user_id, symbol, side, price, quantity, '
                "fee, filled_at) VALUES (:id, :account, :user, :symbol, :side, :price, :quantity, :fee, :at) "
                "ON CONFLICT DO NOTHING RETURNING 1"
            ),
            {
                "id": fill.fill_id,
                "account": account_id,
                "user": user_id,
                "symbol": symbol,
                "side": fill.side,
                "price": fill.price,
                "quantity": fill.quantity,
                "fee": fill.fee,
                "at": fill.filled_at,
            },
        )
        return result.first() is not None

    async def fills_of(self, conn: AsyncConnection, account_id: str, symbol: str) -> list[Fill]:
        rows = await conn.execute(
            text(
                f'SELECT fill_id, side, price, quantity, fee, filled_at FROM "{self.s}".fills '
                "WHERE account_id = :account AND symbol = :symbol AND bot_id = '' ORDER BY filled_at, fill_id"
            ),
            {"account": account_id, "symbol": symbol},
        )
        return [
            Fill(r.fill_id, r.side, Decimal(r.price), Decimal(r.quantity), Decimal(r.fee), r.filled_at)
            for r in rows
        ]

    async def set_realised(self, conn: AsyncConnection, realised: dict[str, Decimal]) -> None:
        for fill_id, value in realised.items():
            await conn.execute(
                text(f'UPDATE "{self.s}".fills SET realised_pnl = :value WHERE fill_id = :id'),
                {"value": value, "id": fill_id},
            )

    async def position(self, conn: AsyncConnection, account_id: str, symbol: str) -> Position:
        row = (
            await conn.execute(
                text(
                    f'SELECT * FROM "{self.s}".positions WHERE account_id = :account AND symbol = :symbol '
                    "AND bot_id = '' FOR UPDATE"
                ),
                {"account": account_id, "symbol": symbol},
            )
        ).first()
        return position_of(row)

    async def save_position(
        self, conn: AsyncConnection, account_id: str, user_id: str, symbol: str, position: Position
    ) -> None:
        assert position.last_key is not None
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".positions (account_id, symbol, user_id, quantity, average_entry, '
                "realised_pnl, fees, fill_count, last_filled_at, last_fill_id) VALUES (:account, :symbol, "
                ":user, :quantity, :entry, :realised, :fees, :count, :at, :fill) "
                "ON CONFLICT (account_id, symbol, bot_id) DO UPDATE SET quantity = :quantity, "
                "average_entry = :entry, realised_pnl = :realised, fees = :fees, fill_count = :count, "
                "last_filled_at = :at, last_fill_id = :fill, updated_at = now()"
            ),
            {
                "account": account_id,
                "symbol": symbol,
                "user": user_id,
                "quantity": position.quantity,
                "entry": position.average_entry,
                "realised": position.realised_pnl,
                "fees": position.fees,
                "count": position.fill_count,
                "at": position.last_key[0],
                "fill": position.last_key[1],
            },
        )

    async def positions(self, conn: AsyncConnection, user_id: str, account_id: str | None) -> list[Row[Any]]:
        rows = await conn.execute(
            text(
                f'SELECT p.*, lp.price AS mark FROM "{self.s}".positions p '
                f'LEFT JOIN "{self.s}".last_prices lp ON lp.symbol = p.symbol WHERE p.user_id = :user '
                "AND (CAST(:account AS text) IS NULL OR p.account_id = :account) "
                "ORDER BY p.account_id, p.symbol"
            ),
            {"user": user_id, "account": account_id},
        )
        return list(rows)

    async def holders(self, conn: AsyncConnection, symbols: list[str]) -> list[tuple[str, str, str]]:
        """(user, account, symbol) of each account holding one of ``symbols``: once per account, the
        symbol it holds most notional of."""
        rows = await conn.execute(
            text(
                "SELECT DISTINCT ON (account_id) user_id, account_id, symbol "
                f'FROM "{self.s}".positions WHERE symbol = ANY(:symbols) AND quantity <> 0 '
                "ORDER BY account_id, abs(quantity * average_entry) DESC"
            ),
            {"symbols": symbols},
        )
        return [(row.user_id, row.account_id, row.symbol) for row in rows]

    async def track_order(self, conn: AsyncConnection, order: dict[str, Any]) -> None:
        """The newest state of an order wins; a terminal state is never reopened by an older event."""
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".orders (order_id, account_id, user_id, symbol, side, status, open, '
                "updated_at) VALUES (:id, :account, :user, :symbol, :side, :status, :open, :at) "
                "ON CONFLICT (order_id) DO UPDATE SET status = :status, open = :open, updated_at = :at "
                f'WHERE "{self.s}".orders.updated_at <= :at AND "{self.s}".orders.open'
            ),
            order | {"open": order["status"] in OPEN_STATUSES},
        )

    async def account_owner(self, conn: AsyncConnection, account_id: str) -> str | None:
        row = (
            await conn.execute(
                text(
                    f'SELECT user_id FROM "{self.s}".orders WHERE account_id = :a UNION ALL '
                    f'SELECT user_id FROM "{self.s}".positions WHERE account_id = :a LIMIT 1'
                ),
                {"a": account_id},
            )
        ).first()
        return None if row is None else str(row.user_id)

    async def set_last_price(self, conn: AsyncConnection, symbol: str, price: Decimal, ts_ns: int) -> None:
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".last_prices (symbol, price, ts_ns) VALUES (:symbol, :price, :ts) '
                "ON CONFLICT (symbol) DO UPDATE SET price = :price, ts_ns = :ts "
                f'WHERE "{self.s}".last_prices.ts_ns < :ts'
            ),
            {"symbol": symbol, "price": price, "ts": ts_ns},
        )

    async def exposure(
        self, conn: AsyncConnection, account_id: str, symbol: str, exclude: list[str], day_start: datetime
    ) -> Exposure:
        """Everything the pre-trade check needs of an account, in one query on indexed keys; the open
        orders leave out ``exclude`` (the order checked, the ones pending in memory)."""
        row = (
            await conn.execute(
                text(
                    "SELECT "
                    f'(SELECT coalesce(sum(quantity), 0) FROM "{self.s}".positions '
                    " WHERE account_id = :account AND symbol = :symbol) AS symbol_quantity, "
                    f'(SELECT count(*) FROM "{self.s}".orders '
                    " WHERE account_id = :account AND open AND NOT (order_id = ANY(:exclude))) "
                    " AS open_orders, "
                    "(SELECT coalesce(sum(abs(p.quantity) * coalesce(lp.price, p.average_entry)), 0) "
                    f' FROM "{self.s}".positions p LEFT JOIN "{self.s}".last_prices lp '
                    " ON lp.symbol = p.symbol "
                    " WHERE p.account_id = :account) AS gross, "
                    f'(SELECT coalesce(sum(realised_pnl - fee), 0) FROM "{self.s}".fills '
                    " WHERE account_id = :account AND filled_at >= :day) AS day_pnl"
                ),
                {"account": account_id, "symbol": symbol, "exclude": exclude, "day": day_start},
            )
        ).one()
        return Exposure(
            symbol_quantity=Decimal(row.symbol_quantity),
            open_orders=int(row.open_orders),
            gross_exposure=Decimal(row.gross),
            day_pnl=Decimal(row.day_pnl),
        )
