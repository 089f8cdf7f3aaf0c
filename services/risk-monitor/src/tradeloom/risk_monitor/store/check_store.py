"""What the pre-trade check keeps in memory of an account, read from Postgres in one go.

An account's snapshot is read under a shared transaction-level advisory lock on the account that
every ``orders.evt.>`` handler touching the account takes exclusively (``lock_account``): a read
never sees the database halfway through an event, nor before an event that memory already holds
has committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.db import check_schema_name

LOCK_CLASS = 52_114  # the advisory lock space of risk-monitor's account snapshots
LOCK_ACCOUNT = text("SELECT pg_advisory_xact_lock(:cls, hashtext(:account))")  # built once


@dataclass(frozen=True)
class PositionRow:
    symbol: str
    bot_id: str
    quantity: Decimal
    average_entry: Decimal
    realised_pnl: Decimal
    fees: Decimal
    position_side: str = ""  # hedge mode: 'long' or 'short', a position of its own


@dataclass(frozen=True)
class OrderSeen:
    bot_id: str
    open: bool
    created_at: datetime | None


@dataclass
class AccountSnapshot:
    """Positions, the open and recent orders, the trading day's PnL per bot and the last high-water
    mark of one account, as of ``day_start`` (a new trading day needs a new snapshot)."""

    day_start: datetime
    positions: dict[tuple[str, str, str], PositionRow] = field(default_factory=dict)  # symbol, bot, side
    orders: dict[str, OrderSeen] = field(default_factory=dict)  # open, or created after ``since``
    day_pnl: dict[str, Decimal] = field(default_factory=dict)  # bot ('' none) → realised − fees
    high_water: Decimal | None = None


class CheckStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def lock_account(self, conn: AsyncConnection, account_id: str) -> None:
        """Held until the caller's transaction ends: snapshot reads of the account wait for it."""
        await conn.execute(LOCK_ACCOUNT, {"cls": LOCK_CLASS, "account": account_id})

    async def snapshot(
        self, conn: AsyncConnection, account_id: str, day_start: datetime, since: datetime
    ) -> AccountSnapshot:
        """Call in a transaction (the shared lock is held until it ends)."""
        s, params = self.s, {"cls": LOCK_CLASS, "account": account_id, "day": day_start, "since": since}
        await conn.execute(text("SELECT pg_advisory_xact_lock_shared(:cls, hashtext(:account))"), params)
        snap = AccountSnapshot(day_start=day_start)
        rows = await conn.execute(
            text(
                "SELECT symbol, bot_id, quantity, average_entry, realised_pnl, fees, position_side "
                f'FROM "{s}".positions WHERE account_id = :account'
            ),
            params,
        )
        for r in rows:
            snap.positions[(r.symbol, r.bot_id, r.position_side)] = PositionRow(
                r.symbol, r.bot_id, Decimal(r.quantity), Decimal(r.average_entry),
                Decimal(r.realised_pnl), Decimal(r.fees), r.position_side,
            )  # fmt: skip
        rows = await conn.execute(
            text(
                f'SELECT order_id, bot_id, open, created_at FROM "{s}".orders WHERE account_id = :account '
                "AND open UNION SELECT order_id, bot_id, open, created_at "
                f'FROM "{s}".orders WHERE account_id = :account AND created_at >= :since'
            ),
            params,
        )
        snap.orders = {r.order_id: OrderSeen(r.bot_id, bool(r.open), r.created_at) for r in rows}
        rows = await conn.execute(
            text(
                f'SELECT bot_id, sum(realised_pnl - fee) AS pnl FROM "{s}".fills '
                "WHERE account_id = :account AND filled_at >= :day GROUP BY bot_id"
            ),
            params,
        )
        snap.day_pnl = {r.bot_id: Decimal(r.pnl) for r in rows}
        high_water = await conn.scalar(
            text(
                f'SELECT high_water FROM "{s}".eod_balances WHERE account_id = :account '
                "ORDER BY trading_day DESC LIMIT 1"
            ),
            params,
        )
        snap.high_water = None if high_water is None else Decimal(high_water)
        return snap

    async def prices(self, conn: AsyncConnection) -> dict[str, tuple[Decimal, int]]:
        rows = await conn.execute(text(f'SELECT symbol, price, ts_ns FROM "{self.s}".last_prices'))
        return {str(r.symbol): (Decimal(r.price), int(r.ts_ns)) for r in rows}
