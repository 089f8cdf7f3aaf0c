"""The flattens of an exchange account, carried out by each venue_sync pass (after reconcile).

``flatten.Flattener`` records the flatten in the event's transaction; here, with the venue at
hand: first every open order of the account is cancelled at the venue; once the venue has
confirmed each (``pending_cancel`` waits for a later pass), the close orders are stored (client
ids derived from the flatten event, so storing twice is impossible) and sent through ccxt. A close
order whose send got no definite answer is found by its client id by the next reconcile; one the
venue never received (a crash between storing and sending) is sent again (``VenueSync.apply``),
never rejected. The fills come through reconcile, and the last close order to end completes the
flatten (``Ledger.flatten_order_ended``).

Prices come from the venue (``venue_price``): a perpetual's mark prices its close's fee lock (a
reduce-only market order); an option is sold with a reduce-only immediate-or-cancel **limit** order
at the best bid of the venue's option book (Binance options take limit orders only). The bid rather
than the mark: a sell at the bid meets a buyer resting there, so it fills at once like a market
close, while the mark is a model price (Binance's options mark comes from implied volatility) that
may sit above every bid, leaving the close resting. No bid: the option stays open
(``no_option_quote``). A venue that does not answer fails the pass before anything is stored; the
next pass tries again. A venue that cannot answer (ccxt has no such call for it, or no such market)
gives no price: a perp then falls back to our last trade, an option is left open.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.order_router.domain import states
from tradeloom.order_router.flatten import Flattener
from tradeloom.order_router.ledger import Ledger
from tradeloom.order_router.venue_orders import VenueOrders
from tradeloom.order_router.venues.errors import InvalidOrder, NotSupported

log = logging.getLogger(__name__)


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
            placed = await self.flattener.place_closes(conn, account, flatten_id, self._prices(account))
        for row in placed:
            await self.venue_orders.send(row, account)

    def _prices(self, account: Row[Any]) -> Callable[[str, str], Awaitable[Decimal | None]]:
        """The account's venue prices (``flatten_holdings.VenuePrice``): a perp's mark, an option's bid."""

        async def price(kind: str, symbol: str) -> Decimal | None:
            adapter = await self.venue_orders.adapter(account)
            try:
                if kind == "perp":
                    return await adapter.fetch_mark_price(symbol)
                return await adapter.fetch_best_bid(symbol)
            except (NotSupported, InvalidOrder) as error:  # never answerable: no venue price
                log.warning("flatten: no %s price for %s at the venue: %s", kind, symbol, error)
                return None

        return price
