"""The ``orders.evt.>`` consumer: fills fold into positions, order updates keep the open-order count.

Runs in the durable consumer's transaction with the message's inbox claim. A fill id already
stored is skipped; a fill after every folded one extends the position; an older one (out-of-order
delivery) makes the position be folded again from its stored fills (``domain.positions``).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.risk_monitor.alerts import Alerter
from tradeloom.risk_monitor.domain.positions import Fill, apply, fold, needs_refold
from tradeloom.risk_monitor.pending import PendingOrders
from tradeloom.risk_monitor.store.positions_store import PositionsStore
from tradeloom.shared.contracts.orders import FillRecorded, OrderUpdated
from tradeloom.shared.envelope import Envelope
from tradeloom.shared.errors import PermanentError


class OrderEvents:
    def __init__(self, positions: PositionsStore, alerter: Alerter, pending: PendingOrders) -> None:
        self.positions = positions
        self.alerter = alerter
        self.pending = pending

    async def on_event(self, conn: AsyncConnection, envelope: Envelope) -> None:
        try:
            if envelope.type == FillRecorded.event_type():
                await self._fill(conn, envelope.unwrap(FillRecorded))
            elif envelope.type == OrderUpdated.event_type():
                await self._order(conn, envelope.unwrap(OrderUpdated))
        except ValueError as error:
            raise PermanentError(str(error)) from error

    async def _order(self, conn: AsyncConnection, event: OrderUpdated) -> None:
        order = event.order
        self.pending.release(order.account_id, order.order_id)  # stored below: counted from now on
        await self.positions.track_order(
            conn,
            {
                "id": order.order_id,
                "account": order.account_id,
                "user": event.user_id,
                "symbol": order.symbol,
                "side": order.side,
                "status": order.status,
                "at": order.updated_at,
            },
        )

    async def _fill(self, conn: AsyncConnection, event: FillRecorded) -> None:
        info = event.fill
        fill = Fill(info.fill_id, info.side, info.price, info.quantity, info.fee, info.filled_at)
        account, symbol = info.account_id, info.symbol
        if not await self.positions.add_fill(conn, fill, account, event.user_id, symbol):
            return
        position = await self.positions.position(conn, account, symbol)
        if needs_refold(position, fill):
            folded = fold(await self.positions.fills_of(conn, account, symbol))
            position = folded.position
            await self.positions.set_realised(conn, folded.realised_by_fill)
        else:
            position, realised = apply(position, fill)
            await self.positions.set_realised(conn, {fill.fill_id: realised})
        await self.positions.save_position(conn, account, event.user_id, symbol, position)
        await self.alerter.evaluate(conn, event.user_id, account, symbol, info.price)
