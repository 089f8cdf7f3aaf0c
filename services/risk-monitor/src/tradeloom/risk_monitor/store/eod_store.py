"""End-of-day balances in the ``risk_monitor`` schema: derived from the fills, one row per day."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.risk_monitor.domain.drawdown import EodRow
from tradeloom.risk_monitor.domain.eod_marks import SymbolDay
from tradeloom.shared.db import check_schema_name


class EodStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def accounts(self, conn: AsyncConnection) -> list[tuple[str, str, datetime]]:
        """(user, account, first fill) of every account with fills."""
        rows = await conn.execute(
            text(f'SELECT user_id, account_id, min(filled_at) AS first FROM "{self.s}".fills GROUP BY 1, 2')
        )
        return [(str(row.user_id), str(row.account_id), row.first) for row in rows]

    async def daily_pnl(
        self, conn: AsyncConnection, account_id: str, tz: str, boundary: time
    ) -> dict[date, Decimal]:
        """Realised PnL minus fees per trading day (named by the local date it starts on)."""
        rows = await conn.execute(
            text(
                "SELECT CAST((filled_at AT TIME ZONE :tz) - make_interval(hours => :h, mins => :m) AS date) "
                f'AS day, sum(realised_pnl - fee) AS pnl FROM "{self.s}".fills WHERE account_id = :account '
                "GROUP BY 1"
            ),
            {"tz": tz, "h": boundary.hour, "m": boundary.minute, "account": account_id},
        )
        return {row.day: Decimal(row.pnl) for row in rows}

    async def daily_flows(
        self, conn: AsyncConnection, account_id: str, tz: str, boundary: time
    ) -> dict[date, dict[str, SymbolDay]]:
        """Per trading day and symbol: signed quantity, signed cost, realised PnL, last fill price."""
        rows = await conn.execute(
            text(
                "SELECT CAST((filled_at AT TIME ZONE :tz) - make_interval(hours => :h, mins => :m) AS date) "
                "AS day, symbol, sum(CASE side WHEN 'buy' THEN quantity ELSE -quantity END) AS quantity, "
                "sum(CASE side WHEN 'buy' THEN quantity ELSE -quantity END * price) AS cost, "
                "sum(realised_pnl) AS realised, "
                "(array_agg(price ORDER BY filled_at DESC, fill_id DESC))[1] AS last_price "
                f'FROM "{self.s}".fills WHERE account_id = :account GROUP BY 1, 2'
            ),
            {"tz": tz, "h": boundary.hour, "m": boundary.minute, "account": account_id},
        )
        flows: dict[date, dict[str, SymbolDay]] = {}
        for row in rows:
            flows.setdefault(row.day, {})[row.symbol] = SymbolDay(
                Decimal(row.quantity), Decimal(row.cost), Decimal(row.realised), Decimal(row.last_price)
            )
        return flows

    async def keep_marks(self, conn: AsyncConnection, account_id: str, day: date) -> None:
        """The last trade price of each symbol the account holds, as ``day``'s close marks (the
        first ones kept win: taken by the first roll after the boundary)."""
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".eod_marks (account_id, trading_day, symbol, price) '
                "SELECT DISTINCT p.account_id, CAST(:day AS date), p.symbol, lp.price "
                f'FROM "{self.s}".positions p JOIN "{self.s}".last_prices lp ON lp.symbol = p.symbol '
                "WHERE p.account_id = :account AND p.quantity <> 0 ON CONFLICT DO NOTHING"
            ),
            {"account": account_id, "day": day},
        )

    async def marks(self, conn: AsyncConnection, account_id: str) -> dict[date, dict[str, Decimal]]:
        rows = await conn.execute(
            text(f'SELECT trading_day, symbol, price FROM "{self.s}".eod_marks WHERE account_id = :account'),
            {"account": account_id},
        )
        marks: dict[date, dict[str, Decimal]] = {}
        for row in rows:
            marks.setdefault(row.trading_day, {})[row.symbol] = Decimal(row.price)
        return marks

    async def save(self, conn: AsyncConnection, user_id: str, account_id: str, rows: list[EodRow]) -> None:
        """Insert new days, rewrite the ones a late fill (or a new boundary) changed, drop the rest."""
        if not rows:
            return
        await conn.execute(
            text(
                f'DELETE FROM "{self.s}".eod_balances WHERE account_id = :account '
                "AND (trading_day < :first OR trading_day > :last)"
            ),
            {"account": account_id, "first": rows[0].trading_day, "last": rows[-1].trading_day},
        )
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".eod_balances AS e (account_id, trading_day, user_id, day_pnl, '
                "balance, high_water, floor, breached) "
                "VALUES (:account, :day, :user, :pnl, :balance, :high, :floor, :breached) "
                "ON CONFLICT (account_id, trading_day) DO UPDATE SET day_pnl = :pnl, balance = :balance, "
                "high_water = :high, floor = :floor, breached = :breached, updated_at = now() "
                "WHERE (e.day_pnl, e.balance, e.high_water, e.floor, e.breached) "
                "IS DISTINCT FROM (:pnl, :balance, :high, :floor, :breached)"
            ),
            [
                {
                    "account": account_id,
                    "day": row.trading_day,
                    "user": user_id,
                    "pnl": row.day_pnl,
                    "balance": row.balance,
                    "high": row.high_water,
                    "floor": row.floor,
                    "breached": row.breached,
                }
                for row in rows
            ],
        )

    async def history(
        self, conn: AsyncConnection, user_id: str, account_id: str, limit: int
    ) -> list[Row[Any]]:
        rows = await conn.execute(
            text(
                f'SELECT * FROM "{self.s}".eod_balances WHERE user_id = :user AND account_id = :account '
                "ORDER BY trading_day DESC LIMIT :limit"
            ),
            {"user": user_id, "account": account_id, "limit": limit},
        )
        return list(rows)
