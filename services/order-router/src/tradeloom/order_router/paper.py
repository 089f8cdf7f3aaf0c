"""The paper exchange: market-data trades fill open paper orders; halts cancel them.

Each consumed message is applied in the consumer's transaction together with its inbox claim
(``DurableConsumer``), so fills, balances, order states and their events happen exactly once even
when JetStream redelivers. A fill's venue id is ``paper:<order>:<trade>``, unique per trade.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.order_router.domain import states
from tradeloom.order_router.domain.funds import AccountCosts
from tradeloom.order_router.domain.matching import Outcome, Trade, match
from tradeloom.order_router.ledger import FillSource, Ledger
from tradeloom.order_router.orders_submit import account_costs
from tradeloom.order_router.store.rows import paper_order
from tradeloom.shared.aio import wait_for_stop
from tradeloom.shared.contracts.market_data import TradesIngested
from tradeloom.shared.contracts.risk import RiskHalt, RiskResume
from tradeloom.shared.envelope import Envelope
from tradeloom.shared.errors import PermanentError

log = logging.getLogger(__name__)
GLOBAL_KEY = "*"


class PaperMatcher:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    async def on_trades(self, conn: AsyncConnection, envelope: Envelope) -> None:
        try:
            event = envelope.unwrap(TradesIngested)
        except ValueError as error:
            raise PermanentError(str(error)) from error
        latest = max(event.trades, key=lambda t: t.ts_ns)
        await self.ledger.orders.set_last_price(conn, event.venue, event.symbol, latest.price, latest.ts_ns)
        rows = await self.ledger.orders.open_orders(
            conn, venue=event.venue, symbol=event.symbol, paper_only=True
        )
        costs: dict[Any, AccountCosts] = {}
        for listed in rows:
            if listed.accepted_ns > latest.ts_ns:
                continue  # accepted after every trade of this batch: none of them may fill it
            row: Row[Any] | None = listed
            if listed.oco_group is not None:
                # read again: an OCO exit earlier in this batch may have ended its pair
                row = await self.ledger.orders.get(conn, str(listed.id), None)
            if row is None or row.status not in (states.NEW, states.PARTIALLY_FILLED):
                continue
            if row.account_id not in costs:
                account = await self.ledger.accounts.get(conn, str(row.account_id), None)
                assert account is not None
                costs[row.account_id] = account_costs(account)
            await self._match_order(conn, row, event, costs[row.account_id])

    async def _match_order(
        self, conn: AsyncConnection, row: Row[Any], event: TradesIngested, costs: AccountCosts
    ) -> None:
        order = paper_order(row)
        lot = Decimal(row.lot_size)
        for tick in event.trades:
            trade = Trade(tick.price, tick.amount, tick.ts_ns)
            outcome = match(order, trade, costs, lot)
            if outcome is None:
                continue
            if outcome.fill is not None and row.oco_group is not None:  # first fill of an OCO exit
                row = await self.ledger.take_oco_lock(conn, row)
                order = replace(order, locked=Decimal(row.locked))
                outcome = match(order, trade, costs, lot)
                assert outcome is not None
            row = await self._apply(conn, row, outcome, tick.trade_id, tick.ts_ns)
            order = outcome.order
            if order.status in states.TERMINAL:
                return

    async def _apply(
        self, conn: AsyncConnection, row: Row[Any], outcome: Outcome, trade_id: str, ts_ns: int
    ) -> Row[Any]:
        if outcome.fill is not None:
            source = FillSource(
                venue_fill_id=f"paper:{row.id}:{trade_id}",
                trade_id=trade_id,
                at=datetime.fromtimestamp(ts_ns / 1e9, UTC),
            )
            if not await self.ledger.record_fill(conn, row, outcome.fill, source):
                return row  # this trade already filled this order (a replayed batch)
        order = outcome.order
        fields: dict[str, Any] = {
            "filled_quantity": order.filled_quantity,
            "locked": order.locked,
            "triggered": order.triggered,
            "trail_extreme": order.trail_extreme,
        }
        if outcome.fill is not None:
            fields["filled_notional"] = (
                Decimal(row.filled_notional) + outcome.fill.price * outcome.fill.quantity
            )
            fields["fees"] = Decimal(row.fees) + outcome.fill.fee
        if outcome.reason is not None:
            fields["reject_reason"] = outcome.reason
        return await self.ledger.move(conn, row, outcome.statuses, fields)


class HaltKeeper:
    """Applies ``risk.evt.halt`` / ``risk.evt.resume``: stored halts survive restarts."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    async def on_event(self, conn: AsyncConnection, envelope: Envelope) -> None:
        if envelope.type == RiskHalt.event_type():
            halt = envelope.unwrap(RiskHalt)
            key = halt.user_id or GLOBAL_KEY
            await self.ledger.orders.set_halt(conn, halt.scope, key, halt.reason, envelope.id)
            # exchange accounts' orders are cancelled at their venue by venue_sync
            for row in await self.ledger.orders.open_orders(conn, user_id=halt.user_id, paper_only=True):
                await self.ledger.finish(conn, row, states.CANCELED, "trading_halted")
        elif envelope.type == RiskResume.event_type():
            resume = envelope.unwrap(RiskResume)
            await self.ledger.orders.clear_halt(conn, resume.scope, resume.user_id or GLOBAL_KEY)
        # other risk events (alerts, limits) are not the router's business


class Housekeeping:
    """Expires GTD orders when no trade comes, and rejects submissions interrupted before the
    risk check answered (the client never saw them accepted)."""

    def __init__(self, engine: Any, ledger: Ledger, *, interval_s: float, pending_timeout_s: float) -> None:
        self._engine = engine
        self.ledger = ledger
        self.interval_s = interval_s
        self.pending_timeout_s = pending_timeout_s

    async def sweep(self) -> None:
        engine: AsyncEngine = self._engine()
        now = datetime.now(UTC)
        async with engine.begin() as conn:
            for row in await self.ledger.orders.stale_pending(
                conn, now - timedelta(seconds=self.pending_timeout_s)
            ):
                await self.ledger.finish(conn, row, states.REJECTED, "submit_interrupted")
            for row in await self.ledger.orders.expired_open(conn, now):
                await self.ledger.finish(conn, row, states.EXPIRED, "gtd_expired")

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.sweep()
            except Exception as error:  # the database may be restarting: try again next round
                log.warning("housekeeping failed: %r", error)
            await wait_for_stop(stop, self.interval_s)
