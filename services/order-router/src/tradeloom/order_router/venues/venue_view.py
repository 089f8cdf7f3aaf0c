"""Ask a venue about our non-final orders and recent fills, for ``reconcile``."""

from __future__ import annotations

from collections.abc import Sequence

from tradeloom.order_router.venues.models import VenueFill, VenueOrder
from tradeloom.order_router.venues.protocol import VenueAdapter
from tradeloom.order_router.venues.reconcile import LocalOrder, VenueView


async def gather_venue_view(
    venue: VenueAdapter, ours: Sequence[LocalOrder], fills_since_ms: int | None
) -> VenueView:
    """Open orders per symbol first; each of ours not among them is looked up by client id (it
    may have filled, been canceled, or never arrived). Fills per symbol from ``fills_since_ms``."""
    symbols = sorted({order.symbol for order in ours})
    answers: dict[str, VenueOrder | None] = {}
    for symbol in symbols:
        for found in await venue.fetch_open_orders(symbol):
            if found.client_order_id is not None:
                answers[found.client_order_id] = found
    for order in ours:
        if order.client_order_id not in answers:
            answers[order.client_order_id] = await venue.fetch_order_by_client_id(
                order.symbol, order.client_order_id
            )
    fills: list[VenueFill] = []
    for symbol in symbols:
        fills.extend(await venue.fetch_fills_since(symbol, fills_since_ms))
    return VenueView(orders={o.client_order_id: answers[o.client_order_id] for o in ours}, fills=fills)
