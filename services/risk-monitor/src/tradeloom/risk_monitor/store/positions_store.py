"""Fills, positions, the orders seen and last prices in the ``risk_monitor`` schema."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.risk_monitor.domain.limits import Exposure
from tradeloom.risk_monitor.domain.positions import Fill, Position
from tradeloom.risk_monitor.store.check_store import OrderSeen
from tradeloom.shared.db import check_schema_name

OPEN_STATUSES = ("pending_new", "new", "partially_filled", "pending_cancel")


@dataclass(frozen=True)
class PositionKey:
    account_id: str
    user_id: str
    symbol: str
    bot_id: str = ""
    position_side: str = ""  # hedge position mode: 'long' or 'short'; '' in one-way mode


@dataclass(frozen=True)
class OrderRef:
    order_id: str
    venue: str


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
        self.s = s = check_schema_name(schema)
        # the statements of every fill, order update and mark, built once
        self._add_fill = text(
            f'INSERT INTO "{s}".fills (fill_id, account_id, user_id, symbol, bot_id, order_id, '
            "venue, side, price, quantity, fee, filled_at, position_side, realised_pnl) "
            "VALUES (:id, :account, :user, :symbol, :bot, :order, :venue, :side, :price, :quantity, "
            ":fee, :at, :ps, :realised) ON CONFLICT DO NOTHING RETURNING 1"
        )
        self._position = text(
            f'SELECT * FROM "{s}".positions WHERE account_id = :account AND symbol = :symbol '
            "AND bot_id = :bot AND position_side = :ps FOR UPDATE"
        )
        self._save_position = text(
            f'INSERT INTO "{s}".positions (account_id, symbol, bot_id, venue, user_id, quantity, '
            "average_entry, realised_pnl, fees, fill_count, last_filled_at, last_fill_id, position_side) "
            "VALUES (:account, :symbol, :bot, :venue, :user, :quantity, :entry, :realised, :fees, "
            ":count, :at, :fill, :ps) "
            "ON CONFLICT (account_id, symbol, bot_id, position_side) DO UPDATE SET quantity = :quantity, "
            "average_entry = :entry, realised_pnl = :realised, fees = :fees, fill_count = :count, "
            "last_filled_at = :at, last_fill_id = :fill, updated_at = now(), venue = :venue"
        )
        self._track_order = text(
            f'INSERT INTO "{s}".orders (order_id, account_id, user_id, symbol, side, status, open, '
            "updated_at, client_order_id, bot_id, venue, created_at) "
            "VALUES (:id, :account, :user, :symbol, :side, :status, :open, :at, :client, :bot, :venue, "
            ":created) "
            "ON CONFLICT (order_id) DO UPDATE SET status = :status, open = :open, updated_at = :at, "
            "client_order_id = :client, bot_id = :bot, venue = :venue, created_at = :created "
            f'WHERE "{s}".orders.updated_at <= :at AND "{s}".orders.open '
            "RETURNING bot_id, open, created_at"
        )
        self._order_ref = text(f'SELECT bot_id, venue FROM "{s}".orders WHERE order_id = :id')
        self._set_last_prices = text(
            f'INSERT INTO "{s}".last_prices AS lp (symbol, price, ts_ns) '
            "SELECT * FROM unnest(CAST(:symbols AS text[]), CAST(:prices AS numeric[]), "
            "CAST(:ts AS bigint[])) "
            "ON CONFLICT (symbol) DO UPDATE SET price = excluded.price, ts_ns = excluded.ts_ns "
            "WHERE lp.ts_ns < excluded.ts_ns"
        )

    async def add_fill(
        self,
        conn: AsyncConnection,
        fill: Fill,
        key: PositionKey,
        order: OrderRef,
        realised: Decimal = Decimal(0),
    ) -> bool:
        """Store a fill once, with the PnL it realised in the fold (when known); False when its id
        is already stored."""
        result = await conn.execute(
            self._add_fill,
            {
                "realised": realised,
                "bot": key.bot_id,
                "order": order.order_id,
                "venue": order.venue,
                "id": fill.fill_id,
                "account": key.account_id,
                "user": key.user_id,
                "symbol": key.symbol,
                "side": fill.side,
                "price": fill.price,
                "quantity": fill.quantity,
                "fee": fill.fee,
                "at": fill.filled_at,
                "ps": key.position_side,
            },
        )
        return result.first() is not None

    async def fills_of(self, conn: AsyncConnection, key: PositionKey) -> list[Fill]:
        rows = await conn.execute(
            text(
                f'SELECT fill_id, side, price, quantity, fee, filled_at FROM "{self.s}".fills '
                "WHERE account_id = :account AND symbol = :symbol AND bot_id = :bot AND position_side = :ps "
                'ORDER BY filled_at, fill_id COLLATE "C"'
            ),
            {"account": key.account_id, "symbol": key.symbol, "bot": key.bot_id, "ps": key.position_side},
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

    async def position(self, conn: AsyncConnection, key: PositionKey) -> Position:
        row = (
            await conn.execute(
                self._position,
                {"account": key.account_id, "symbol": key.symbol, "bot": key.bot_id, "ps": key.position_side},
            )
        ).first()
        return position_of(row)

    async def delete_position(self, conn: AsyncConnection, key: PositionKey) -> None:
        await conn.execute(
            text(
                f'DELETE FROM "{self.s}".positions WHERE account_id = :account AND symbol = :symbol '
                "AND bot_id = :bot AND position_side = :ps"
            ),
            {"account": key.account_id, "symbol": key.symbol, "bot": key.bot_id, "ps": key.position_side},
        )

    async def save_position(
        self, conn: AsyncConnection, key: PositionKey, venue: str, position: Position
    ) -> None:
        assert position.last_key is not None
        await conn.execute(
            self._save_position,
            {
                "account": key.account_id,
                "symbol": key.symbol,
                "bot": key.bot_id,
                "venue": venue,
                "user": key.user_id,
                "quantity": position.quantity,
                "entry": position.average_entry,
                "realised": position.realised_pnl,
                "fees": position.fees,
                "count": position.fill_count,
                "at": position.last_key[0],
                "fill": position.last_key[1],
                "ps": key.position_side,
            },
        )

    async def positions(self, conn: AsyncConnection, user_id: str, account_id: str | None) -> list[Row[Any]]:
        rows = await conn.execute(
            text(
                f'SELECT p.*, lp.price AS mark, ps.leverage, ps.margin_mode FROM "{self.s}".positions p '
                f'LEFT JOIN "{self.s}".last_prices lp ON lp.symbol = p.symbol '
                f'LEFT JOIN "{self.s}".perp_settings ps ON ps.account_id = p.account_id '
                "AND ps.symbol = p.symbol WHERE p.user_id = :user "
                "AND (CAST(:account AS text) IS NULL OR p.account_id = :account) "
                "ORDER BY p.account_id, p.symbol, p.position_side"
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

    async def track_order(self, conn: AsyncConnection, order: dict[str, Any]) -> OrderSeen | None:
        """The newest state of an order wins; a terminal state is never reopened by an older event.
        The order as stored, None when the event changed nothing."""
        result = await conn.execute(
            self._track_order,
            order | {"open": order["status"] in OPEN_STATUSES},
        )
        row = result.first()
        return None if row is None else OrderSeen(str(row.bot_id), bool(row.open), row.created_at)

    async def order_ref(self, conn: AsyncConnection, order_id: str) -> tuple[str, str] | None:
        """(bot, venue) of an order seen, or None."""
        row = (await conn.execute(self._order_ref, {"id": order_id})).first()
        return None if row is None else (str(row.bot_id), str(row.venue))

    async def assign_bot(self, conn: AsyncConnection, order_id: str, bot_id: str) -> list[tuple[str, str]]:
        """Fills of the order folded before its bot was known move to the bot: their (symbol,
        position side) pairs."""
        rows = await conn.execute(
            text(
                f"UPDATE \"{self.s}\".fills SET bot_id = :bot WHERE order_id = :id AND bot_id = '' "
                "RETURNING symbol, position_side"
            ),
            {"id": order_id, "bot": bot_id},
        )
        return sorted({(str(row.symbol), str(row.position_side)) for row in rows})

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

    async def set_last_prices(self, conn: AsyncConnection, prices: dict[str, tuple[Decimal, int]]) -> None:
        """Each symbol's (price, ts_ns) in one statement; an older price never overwrites a newer one."""
        await conn.execute(
            self._set_last_prices,
            {
                "symbols": list(prices),
                "prices": [price for price, _ in prices.values()],
                "ts": [ts for _, ts in prices.values()],
            },
        )

    async def day_high_water(self, conn: AsyncConnection, account_id: str, day_start: datetime) -> Decimal:
        """The highest the trading day's realised PnL minus fees has been after any of its fills (0 at
        the day's start)."""
        value = await conn.scalar(
            text(
                "SELECT max(c) FROM (SELECT sum(realised_pnl - fee) OVER (ORDER BY filled_at, "
                'fill_id COLLATE "C" ROWS UNBOUNDED PRECEDING) AS c '
                f'FROM "{self.s}".fills WHERE account_id = :account AND filled_at >= :day) t'
            ),
            {"account": account_id, "day": day_start},
        )
        return max(Decimal(0), Decimal(value or 0))

    async def prices(self, conn: AsyncConnection, symbols: list[str]) -> dict[str, Decimal]:
        rows = await conn.execute(
            text(f'SELECT symbol, price FROM "{self.s}".last_prices WHERE symbol = ANY(:symbols)'),
            {"symbols": symbols},
        )
        return {str(row.symbol): Decimal(row.price) for row in rows}

    async def exposure(
        self,
        conn: AsyncConnection,
        account_id: str,
        symbol: str,
        exclude: list[str],
        *,
        day_start: datetime,
        minute_ago: datetime,
        bot_id: str | None = None,
    ) -> Exposure:
        """Everything the pre-trade check needs of an account, in one query on indexed keys; the open
        orders and the orders of the last minute leave out ``exclude`` (the order checked, the ones
        pending in memory). With ``bot_id``: the bot's positions, orders and fills only."""
        s = self.s
        bot = "AND (CAST(:bot AS text) IS NULL OR bot_id = :bot)"
        row = (
            await conn.execute(
                text(
                    "SELECT "
                    f'(SELECT coalesce(sum(quantity), 0) FROM "{s}".positions '
                    f" WHERE account_id = :account AND symbol = :symbol {bot}) AS symbol_quantity, "
                    f'(SELECT count(*) FROM "{s}".orders '
                    f" WHERE account_id = :account AND open AND NOT (order_id = ANY(:exclude)) {bot}) "
                    " AS open_orders, "
                    f'(SELECT count(*) FROM "{s}".orders WHERE account_id = :account '
                    f" AND created_at >= :minute_ago AND NOT (order_id = ANY(:exclude)) {bot}) "
                    " AS recent_orders, "
                    "(SELECT coalesce(sum(abs(n.net)), 0) FROM "
                    " (SELECT sum(p.quantity * coalesce(lp.price, p.average_entry)) AS net "
                    f' FROM "{s}".positions p LEFT JOIN "{s}".last_prices lp '
                    " ON lp.symbol = p.symbol WHERE p.account_id = :account "
                    " AND (CAST(:bot AS text) IS NULL OR p.bot_id = :bot) "
                    " GROUP BY p.symbol, p.position_side) n) AS gross, "
                    "(SELECT coalesce(sum(p.realised_pnl - p.fees), 0) "
                    f' FROM "{s}".positions p WHERE p.account_id = :account) AS total_pnl, '
                    "(SELECT coalesce(sum(p.quantity * (lp.price - p.average_entry)), 0) "
                    f' FROM "{s}".positions p JOIN "{s}".last_prices lp ON lp.symbol = p.symbol '
                    " WHERE p.account_id = :account) AS unrealised, "
                    f'(SELECT high_water FROM "{s}".eod_balances WHERE account_id = :account '
                    " ORDER BY trading_day DESC LIMIT 1) AS high_water, "
                    f'(SELECT coalesce(sum(realised_pnl - fee), 0) FROM "{s}".fills '
                    f" WHERE account_id = :account AND filled_at >= :day {bot}) AS day_pnl"
                ),
                {
                    "account": account_id,
                    "symbol": symbol,
                    "exclude": exclude,
                    "day": day_start,
                    "minute_ago": minute_ago,
                    "bot": bot_id,
                },
            )
        ).one()
        return Exposure(
            symbol_quantity=Decimal(row.symbol_quantity),
            open_orders=int(row.open_orders),
            gross_exposure=Decimal(row.gross),
            day_pnl=Decimal(row.day_pnl),
            orders_last_minute=int(row.recent_orders),
            total_pnl=Decimal(row.total_pnl),
            unrealised=Decimal(row.unrealised),
            high_water=None if row.high_water is None else Decimal(row.high_water),
        )
