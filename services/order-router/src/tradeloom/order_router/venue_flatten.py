"""The flattens of an exchange account, carried out by each venue_sync pass (after reconcile).

``flatten.Flattener`` records the flatten in the event's transaction; here, with the venue at
hand: first every open order of the account is cancelled at the venue; once the venue has
confirmed each (``pending_cancel`` waits for a later pass), the close orders are stored (client
ids derived from the flatten event, so storing twice is impossible) and sent through ccxt. A close
order whose send got no definite answer is found by its client id by the next reconcile; one the
venue never received (a crash between storing and sending) is sent again (``VenueSync.apply``),
never rejected. The fills come through reconcile, and the last close order to end completes the
flatten (``Ledger.flatten_order_ended``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.order_router.domain import states
from tradeloom.order_router.flatten import Flattener
from tradeloom.order_router.ledger import Ledger
from tradeloom.order_router.venue_orders import VenueOrders


class VenueFlatten:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        ledger: Ledger,
        venue_orders: VenueOrders,
        flattener: Flattener,
    ) -> None:
        self._engine = engine
        self.ledger = ledger
        self.venue_orders = venue_orders
        self.flattener = flattener

    async def run(self, account: Row[Any]) -> None:
        async with self._engine().connect() as conn:
            closing = await self.ledger.flattens.closing(conn, account.id)
        for flatten_id in closing:
            await self._carry_out(account, flatten_id)

    async def _carry_out(self, account: Row[Any], flatten_id: str) -> None:
        async with self._engine().begin() as conn:
            if await self.ledger.flattens.orders_of(conn, flatten_id):
                return  # placed already: reconcile follows them to their end
            waiting = False
            for row in await self.ledger.orders.open_orders(conn, account_id=account.id):
                if row.status != states.PENDING_CANCEL and await self.venue_orders.cancel(account, row):
                    await self.ledger.finish(conn, row, states.CANCELED, "flatten")
                    continue
                if row.status != states.PENDING_CANCEL:
                    await self.ledger.move(conn, row, (states.PENDING_CANCEL,), {})
                waiting = True
            if waiting:
                return  # the venue confirms the cancels first (a later pass)
            placed = await self.flattener.place_closes(conn, account, flatten_id)
        for row in placed:
            await self.venue_orders.send(row, account)
