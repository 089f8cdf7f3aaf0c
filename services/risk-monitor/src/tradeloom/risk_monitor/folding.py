"""The ``orders.evt.>`` consumer: fills fold into positions, order updates keep the open-order count.

Runs in the durable consumer's transaction with the message's inbox claim. A fill id already
stored is skipped; a fill after every folded one extends the position; an older one (out-of-order
delivery) makes the position be folded again from its stored fills (``domain.positions``).

Positions are per (account, symbol, bot, position side): a fill belongs to its order's bot (the
client order id of a bot's order names it). A fill seen before its order's event is folded under no
bot; when the order's event then names a bot, its fills move there and both positions are folded
again. The position side is '' in one-way mode; in hedge mode a fill names the ``long`` or
``short`` position it belongs to (``FillInfo.position_side``) and each side folds on its own.

Every change is announced as ``risk.evt.position_changed.v1.<account>`` through the outbox, in the
same transaction (the ``positions`` WebSocket channel carries it to the owner).

The check's memory (``check_state.py``) follows at each commit: an order as stored, and the account
forgotten (read again) after a fill, funding payment, liquidation or bot assignment. Each event
takes the account's advisory lock first, so a read of the account for the check waits for it.

A perpetual's fill counts contracts: it is stored and folded in base units, ``contracts × contract
size`` (``PerpConfig``), so the fold, PnL and exposure are the same as spot's.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from weakref import WeakKeyDictionary

from sqlalchemy.engine import RootTransaction
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.risk_monitor.alerts import Alerter
from tradeloom.risk_monitor.check_state import CheckState, on_commit
from tradeloom.risk_monitor.domain.exposure import bot_of_client_order_id
from tradeloom.risk_monitor.domain.perps import PerpConfig
from tradeloom.risk_monitor.domain.positions import Fill, Position, apply, fold, needs_refold
from tradeloom.risk_monitor.pending import PendingOrders
from tradeloom.risk_monitor.store.check_store import CheckStore
from tradeloom.risk_monitor.store.funding_store import FundingStore
from tradeloom.risk_monitor.store.positions_store import OrderRef, PositionKey, PositionsStore
from tradeloom.shared.contracts.orders import FillInfo, FillRecorded, OrderUpdated
from tradeloom.shared.contracts.orders_perps import FundingPaid, PerpLiquidated
from tradeloom.shared.contracts.risk_monitor import PositionInfo, RiskPositionChanged
from tradeloom.shared.envelope import Envelope
from tradeloom.shared.errors import PermanentError
from tradeloom.shared.outbox import Outbox


def position_changed(
    key: PositionKey, venue: str, position: Position, price: Decimal | None
) -> RiskPositionChanged:
    """The announcement of ``position`` (valued at ``price`` when there is one)."""
    return RiskPositionChanged(
        user_id=key.user_id,
        position=PositionInfo(
            account_id=key.account_id,
            symbol=key.symbol,
            bot_id=key.bot_id or None,
            position_side=key.position_side or None,
            quantity=position.quantity,
            average_entry=position.average_entry,
            realised_pnl=position.realised_pnl,
            fees=position.fees,
            mark_price=price,
            unrealised_pnl=None if price is None else (price - position.average_entry) * position.quantity,
            updated_at=datetime.now(UTC),
            venue=venue or None,
        ),
    )


def liquidation_fill(event: PerpLiquidated) -> FillRecorded:
    """order-router's liquidation of a paper perp position as the fill that closes the account's
    position at the liquidation price with the liquidation fee (folded once: its id is the
    router's idempotency key). Bots' shares of the position are not closed by it."""
    side = f":{event.position_side}" if event.position_side else ""
    key = f"liq:{event.position_opened_ns}:{event.account_id}:{event.symbol}{side}"
    info = FillInfo(
        fill_id=key,
        order_id=key[:64],
        account_id=event.account_id,
        venue=event.venue,
        venue_fill_id=key,
        symbol=event.symbol,
        side="sell" if event.quantity > 0 else "buy",
        price=event.liquidation_price,
        quantity=abs(event.quantity),
        fee=event.fee,
        fee_asset=event.settle_asset,
        liquidity="taker",
        trade_id="liquidation",
        filled_at=event.liquidated_at,
        contract_size=event.contract_size,
        position_side=event.position_side,
    )
    return FillRecorded(user_id=event.user_id, fill=info)


class OrderEvents:
    def __init__(
        self,
        positions: PositionsStore,
        alerter: Alerter,
        pending: PendingOrders,
        perps: PerpConfig,
        outbox: Outbox,
        *,
        state: CheckState | None = None,
    ) -> None:
        self.positions = positions
        self.state = state
        self.check_store = CheckStore(positions.s)
        self.alerter = alerter
        self.pending = pending
        self.perps = perps
        self.outbox = outbox
        self.funding = FundingStore(positions.s)
        # accounts whose advisory lock each open transaction holds (forgotten with the transaction)
        self._locked: WeakKeyDictionary[RootTransaction, set[str]] = WeakKeyDictionary()

    async def _save(
        self, conn: AsyncConnection, key: PositionKey, venue: str, position: Position, price: Decimal | None
    ) -> None:
        await self.positions.save_position(conn, key, venue, position)
        await self.outbox.add(conn, position_changed(key, venue, position, price), key.account_id)

    async def on_event(self, conn: AsyncConnection, envelope: Envelope) -> None:
        try:
            if envelope.type == FillRecorded.event_type():
                fill = envelope.unwrap(FillRecorded)
                await self._changing(conn, fill.fill.account_id)
                await self._fill(conn, fill)
            elif envelope.type == OrderUpdated.event_type():
                await self._order(conn, envelope.unwrap(OrderUpdated))
            elif envelope.type == FundingPaid.event_type():
                funding = envelope.unwrap(FundingPaid)
                await self._changing(conn, funding.account_id)
                await self._funding(conn, funding)
            elif envelope.type == PerpLiquidated.event_type():
                liquidation = liquidation_fill(envelope.unwrap(PerpLiquidated))
                await self._changing(conn, liquidation.fill.account_id)
                await self._fill(conn, liquidation)
        except ValueError as error:
            raise PermanentError(str(error)) from error

    async def _lock(self, conn: AsyncConnection, account_id: str) -> None:
        """Reads of the account for the check wait for this transaction; one running is not kept.
        The lock is held to the transaction's end: taken once per account in a batch's transaction."""
        if self.state is not None:
            self.state.touch(account_id)
            transaction = conn.sync_connection.get_transaction() if conn.sync_connection else None
            locked = None if transaction is None else self._locked.setdefault(transaction, set())
            if locked is not None and account_id in locked:
                return
            await self.check_store.lock_account(conn, account_id)
            if locked is not None:
                locked.add(account_id)

    async def _changing(self, conn: AsyncConnection, account_id: str) -> None:
        """The account's positions or PnL change: the check reads it again after the commit."""
        await self._lock(conn, account_id)
        state = self.state
        if state is not None:
            on_commit(conn, lambda: state.forget(account_id))

    async def _order(self, conn: AsyncConnection, event: OrderUpdated) -> None:
        order = event.order
        bot = bot_of_client_order_id(order.client_order_id)
        await self._lock(conn, order.account_id)
        stored = await self.positions.track_order(
            conn,
            {
                "id": order.order_id,
                "account": order.account_id,
                "user": event.user_id,
                "symbol": order.symbol,
                "side": order.side,
                "status": order.status,
                "at": order.updated_at,
                "client": order.client_order_id,
                "bot": bot,
                "venue": order.venue,
                "created": order.created_at,
            },
        )

        def counted() -> None:  # stored: counted in memory from now on, no longer as pending
            if stored is not None and self.state is not None:
                self.state.order_stored(order.account_id, order.order_id, stored)
            self.pending.release(order.account_id, order.order_id)

        on_commit(conn, counted)
        if bot:
            moved = await self.positions.assign_bot(conn, order.order_id, bot)
            if moved:
                await self._changing(conn, order.account_id)
            for symbol, side in moved:
                for bot_id in ("", bot):
                    key = PositionKey(order.account_id, event.user_id, symbol, bot_id, side)
                    await self.positions.position(conn, key)  # lock the row before folding it again
                    await self._refold(conn, key, order.venue)

    async def _refold(
        self, conn: AsyncConnection, key: PositionKey, venue: str, price: Decimal | None = None
    ) -> None:
        fills = await self.positions.fills_of(conn, key)
        if not fills:
            await self.positions.delete_position(conn, key)
            await self.outbox.add(conn, position_changed(key, venue, Position(), None), key.account_id)
            return
        folded = fold(fills)
        await self.positions.set_realised(conn, folded.realised_by_fill)
        position = folded.position
        if key.bot_id == "":  # funding is paid on the account's position, not a bot's share
            funding = await self.funding.total(conn, key.account_id, key.symbol, key.position_side)
            position = replace(position, realised_pnl=position.realised_pnl + funding)
        await self._save(conn, key, venue, position, price)

    async def _funding(self, conn: AsyncConnection, event: FundingPaid) -> None:
        """A funding payment counts once in the account position's realised PnL (the refold adds
        the stored payments again, so a refold keeps it)."""
        if not await self.funding.add(conn, event):
            return
        key = PositionKey(event.account_id, event.user_id, event.symbol, "", event.position_side or "")
        position = await self.positions.position(conn, key)
        if position.last_key is None:
            return  # no fill folded yet: the payment is kept and counted at the next refold
        position = replace(position, realised_pnl=position.realised_pnl + event.amount)
        await self._save(conn, key, event.venue, position, None)

    async def _fill(self, conn: AsyncConnection, event: FillRecorded) -> None:
        info = event.fill
        quantity = info.quantity * (
            info.contract_size or self.perps.size(info.symbol)
        )  # registry, else setting
        fill = Fill(info.fill_id, info.side, info.price, quantity, info.fee, info.filled_at)
        seen = await self.positions.order_ref(conn, info.order_id)
        bot = "" if seen is None else seen[0]
        key = PositionKey(info.account_id, event.user_id, info.symbol, bot, info.position_side or "")
        ref = OrderRef(info.order_id, info.venue)
        position = await self.positions.position(conn, key)  # locked: the fold below is the last
        if needs_refold(position, fill):
            if not await self.positions.add_fill(conn, fill, key, ref):
                return
            await self._refold(conn, key, info.venue, info.price)
        else:  # the usual case: the fill extends the position, stored with what it realised
            position, realised = apply(position, fill)
            if not await self.positions.add_fill(conn, fill, key, ref, realised):
                return
            await self._save(conn, key, info.venue, position, info.price)
        await self.alerter.evaluate(conn, event.user_id, info.account_id, info.symbol, info.price)
