"""Queue position of a paper limit order: the volume resting ahead of it at its price when it is
accepted, from market-data's book (``svc.market-data.order_book``).

Only the level at exactly the order's price is ahead of it: better levels trade before any trade
can reach its price, and a price better than the best level on its side has nothing ahead. When
market-data does not answer, nothing is counted ahead (logged): the order is not refused for it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal

from tradeloom.shared.contracts.market_data import OrderBookReply, OrderBookRequest
from tradeloom.shared.errors import ServiceError
from tradeloom.shared.rpc import ServiceClient

log = logging.getLogger(__name__)
BOOK_DEPTH = 500


class QueuePosition:
    def __init__(self, client: Callable[[], ServiceClient], *, timeout_s: float) -> None:
        self.client = client
        self.timeout_s = timeout_s

    async def volume_ahead(self, venue: str, symbol: str, side: str, price: Decimal) -> Decimal:
        try:
            book = await self.client().call(
                "market-data",
                "order_book",
                OrderBookRequest(symbol=symbol, venue=venue, depth=BOOK_DEPTH),
                OrderBookReply,
                timeout_s=self.timeout_s,
            )
        except (ServiceError, ValueError) as error:  # no answer, an error, or a reply we cannot read
            log.warning("no book for the queue position of %s %s: %r", venue, symbol, error)
            return Decimal(0)
        levels = book.bids if side == "buy" else book.asks
        return sum((level.amount for level in levels if level.price == price), Decimal(0))
