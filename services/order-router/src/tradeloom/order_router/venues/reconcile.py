"""Reconciliation: what to change in our books after the venue tells its side (pure function).

Run on start-up and after any lost connection, before the account takes new orders. The service
gathers the venue's view (``venue_view.gather_venue_view``), calls ``reconcile`` and applies the
actions in order, each in its own transaction with its outbox event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from decimal import Decimal

from tradeloom.order_router.venues.models import VenueFill, VenueOrder


@dataclass(frozen=True)
class LocalOrder:
    """One of our orders that is not final: ``pending_new`` (sent or being sent, no answer yet),
    ``new``, ``partially_filled`` or ``pending_cancel``."""

    client_order_id: str
    symbol: str
    status: str
    venue_order_id: str | None = None
    filled: Decimal = Decimal(0)


@dataclass(frozen=True)
class VenueView:
    """The venue's answers: each of our client ids → its order there (``None``: the venue has
    none), and the account's fills since the last fill we hold."""

    orders: Mapping[str, VenueOrder | None]
    fills: Sequence[VenueFill]


@dataclass(frozen=True)
class MarkAccepted:
    """The venue holds this order (accepted while we were down or while the answer was lost, or
    re-placed under a new venue id by a cancel-replace amend): record its venue id. Never send it
    again."""

    client_order_id: str
    venue_order: VenueOrder


@dataclass(frozen=True)
class ApplyFill:
    """A fill we do not hold yet; apply it once (fills are unique on (venue, venue_fill_id))."""

    client_order_id: str
    fill: VenueFill


@dataclass(frozen=True)
class UpdateStatus:
    """The venue's state of the order moved on (filled, canceled, expired, partially filled…)."""

    client_order_id: str
    status: str
    venue_order: VenueOrder


@dataclass(frozen=True)
class MarkVanished:
    """The venue has no order with this client id. ``never_reached``: it was still pending_new, so
    the venue never got it (reject it locally); otherwise the venue lost or purged it."""

    client_order_id: str
    never_reached: bool


Action = MarkAccepted | ApplyFill | UpdateStatus | MarkVanished


def reconcile(ours: Sequence[LocalOrder], view: VenueView, known_fill_ids: Set[str]) -> list[Action]:
    """The actions, in the order to apply them: acceptances, fills (oldest first), status
    changes, vanished orders. Orders the view did not ask about are left alone.

    The actions respect the order state machine: an order the venue rejected while ours was
    pending_new is only marked rejected (never accepted first), and a status the applied fills
    already reach (partially_filled, filled) is not repeated as a status change."""
    accepted: list[Action] = []
    vanished: list[Action] = []
    found_by_client: dict[str, VenueOrder] = {}
    client_by_venue_id: dict[str, str] = {}
    for order in ours:
        if order.client_order_id not in view.orders:
            continue
        found = view.orders[order.client_order_id]
        if found is None:
            vanished.append(MarkVanished(order.client_order_id, never_reached=order.status == "pending_new"))
            continue
        found_by_client[order.client_order_id] = found
        client_by_venue_id[found.venue_order_id] = order.client_order_id
        rejected_unseen = order.status == "pending_new" and found.status == "rejected"
        relink = order.status == "pending_new" or order.venue_order_id != found.venue_order_id
        if relink and not rejected_unseen:
            accepted.append(MarkAccepted(order.client_order_id, found))
    for order in ours:
        if order.venue_order_id is not None:
            client_by_venue_id.setdefault(order.venue_order_id, order.client_order_id)
    fills: list[Action] = []
    seen = set(known_fill_ids)
    filled = {order.client_order_id: order.filled for order in ours}
    for fill in sorted(view.fills, key=lambda f: (f.timestamp_ms, f.venue_fill_id)):
        client_id = client_by_venue_id.get(fill.venue_order_id)
        if client_id is None or fill.venue_fill_id in seen:
            continue
        seen.add(fill.venue_fill_id)
        filled[client_id] += fill.quantity
        fills.append(ApplyFill(client_id, fill))
    statuses: list[Action] = []
    for order in ours:
        found = found_by_client.get(order.client_order_id)
        if found is None:
            continue
        status = _status_after(order, found, filled[order.client_order_id])
        cancel_still_pending = order.status == "pending_cancel" and found.is_open
        if found.status != status and not cancel_still_pending:
            statuses.append(UpdateStatus(order.client_order_id, found.status, found))
    return accepted + fills + statuses + vanished


def _status_after(order: LocalOrder, found: VenueOrder, filled: Decimal) -> str:
    """Our status once the acceptance and the fills of this pass are applied."""
    status = order.status
    if status == "pending_new" and found.status != "rejected":
        status = "new"
    if filled > order.filled:
        status = "filled" if filled >= found.quantity else "partially_filled"
    return status
