"""Every change of an order, a fill or a balance, with its event in the same transaction.

All callers (submit, cancel, amend, the paper matcher, halts, housekeeping) change orders through
here, so each status change is checked by the state machine, announced once through the outbox
(``orders.evt.order_updated``), and a finished order's remaining lock always returns to free.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.order_router.domain import states
from tradeloom.order_router.domain.funds import settle_fill
from tradeloom.order_router.domain.matching import Fill
from tradeloom.order_router.exits import is_bracket_entry, open_exits
from tradeloom.order_router.metrics import OrderMetrics
from tradeloom.order_router.perp_ledger import settle_perp_fill
from tradeloom.order_router.store.accounts_store import AccountsStore
from tradeloom.order_router.store.flattens_store import FlattensStore
from tradeloom.order_router.store.orders_store import OrdersStore
from tradeloom.order_router.store.perp_positions_store import PerpPositionsStore
from tradeloom.order_router.store.rows import fill_info, order_info
from tradeloom.order_router.store.submit_reads import SubmitReads
from tradeloom.shared.contracts.orders import (
    FillRecorded,
    FlattenCompleted,
    FlattenLeft,
    FlattenOrder,
    OrderUpdated,
)
from tradeloom.shared.envelope import Event
from tradeloom.shared.ids import new_event_id
from tradeloom.shared.outbox import Outbox

# an outbox item: the event, its subject keys and its envelope attributes (``Outbox.add_many``)
Announcement = tuple[Event, tuple[str, ...], dict[str, Any]]


@dataclass(frozen=True)
class FillSource:
    """Where a fill came from: the venue's fill id (dedupe key), the market trade and its time."""

    venue_fill_id: str
    trade_id: str
    at: datetime


class Ledger:
    def __init__(self, schema: str, outbox: Outbox, metrics: OrderMetrics | None = None) -> None:
        self.metrics = metrics or OrderMetrics(None)
        self.orders = OrdersStore(schema)
        self.accounts = AccountsStore(schema)
        self.flattens = FlattensStore(schema)
        self.perp_positions = PerpPositionsStore(schema)
        self.submit_reads = SubmitReads(schema)
        self.outbox = outbox

    async def announce(self, conn: AsyncConnection, row: Row[Any], previous: str | None, status: str) -> None:
        """One ``order_updated`` event showing the order in ``status``."""
        await self.outbox.add_many(conn, [announcement(row, previous, status)])

    async def move_live(
        self, conn: AsyncConnection, rows: Sequence[Row[Any]], status: str, fields: dict[str, Any]
    ) -> list[Row[Any]]:
        """``move`` of several orders to the same live (not terminal) ``status`` with the same
        ``fields``, in one update and one outbox insert (a batch's acceptances). A live status
        releases nothing and ends nothing, so none of ``move``'s follow-ups applies."""
        if status in states.TERMINAL:
            raise ValueError(f"move_live cannot end orders ({status}): use move")
        if not rows:
            return []
        for row in rows:
            states.transition(row.status, status)
        ids = [row.id for row in rows]
        updated = await self.submit_reads.update_many(conn, ids, {**fields, "status": status})
        await self.outbox.add_many(
            conn, [announcement(new, old.status, status) for old, new in zip(rows, updated, strict=True)]
        )
        return updated

    async def move(
        self,
        conn: AsyncConnection,
        row: Row[Any],
        statuses: tuple[str, ...],
        fields: dict[str, Any],
        *,
        cascade: bool = True,
        before: Sequence[Announcement] = (),
    ) -> Row[Any]:
        """Store ``fields`` and walk the order through ``statuses`` (each checked and announced);
        a terminal status releases what is left of the order's lock, cancels the other exit of an
        OCO pair (``cascade``) and opens the exits of a bracket entry that filled. ``before``:
        events to write ahead of the status events, in the same outbox statement (a fill's)."""
        current, fields, released = walked(row, statuses, fields)
        if released > 0:
            await self.accounts.apply(conn, row.account_id, row.lock_asset, free=released, locked=-released)
        updated = await self.orders.update(conn, row.id, fields) if fields else row
        previous, events = row.status, list(before)
        for status in statuses:
            events.append(announcement(updated, previous, status))
            previous = status
        await self.outbox.add_many(conn, events)
        if current in states.TERMINAL and row.status not in states.TERMINAL:
            if cascade and updated.oco_group is not None:
                await self._end_siblings(conn, updated, "oco_pair_done", take_locks=False)
            if is_bracket_entry(updated) and updated.filled_quantity > 0:
                await open_exits(self, conn, updated, on_venue=await self.on_venue(conn, updated))
            if updated.flatten_id is not None:
                await self.flatten_order_ended(conn, updated.flatten_id)
        return updated

    async def flatten_order_ended(self, conn: AsyncConnection, flatten_id: str) -> None:
        """A close order of a flatten ended: once all have, the flatten is completed."""
        orders = await self.flattens.orders_of(conn, flatten_id)
        if any(order.status not in states.TERMINAL for order in orders):
            return
        filled = all(order.status == states.FILLED for order in orders)
        await self.complete_flatten(conn, flatten_id, "closed" if filled else "partial", orders)

    async def complete_flatten(
        self, conn: AsyncConnection, flatten_id: str, outcome: str, orders: list[Row[Any]]
    ) -> None:
        """Mark the flatten completed, audit it and announce ``orders.evt.flatten_completed`` (once).
        What it left open (``flattens.left_open``) is reported and makes the outcome ``partial``."""
        left = [FlattenLeft.model_validate(item) for item in await self.flattens.left_of(conn, flatten_id)]
        if left and outcome != "partial":
            outcome = "partial"
        done = await self.flattens.complete(conn, flatten_id, outcome)
        if done is None:
            return
        closed = [
            FlattenOrder(
                symbol=o.symbol,
                order_id=str(o.id),
                client_order_id=o.client_order_id,
                side=o.side,
                status=o.status,
                quantity=o.quantity,
                filled_quantity=o.filled_quantity,
            )
            for o in orders
        ]
        event = FlattenCompleted(
            user_id=done.user_id,
            account_id=str(done.account_id),
            flatten_id=flatten_id,
            reason=done.reason,
            outcome=outcome,
            orders=closed,
            left=left,
        )
        await self.outbox.add(conn, event, str(done.account_id))
        details = {
            "flatten_id": flatten_id,
            "outcome": outcome,
            "orders": [str(o.id) for o in orders],
            "left": [item.model_dump(mode="json") for item in left],
        }
        await self.accounts.audit(conn, done.account_id, "order-router", "flatten_completed", details)

    async def finish(
        self, conn: AsyncConnection, row: Row[Any], status: str, reason: str | None, *, cascade: bool = True
    ) -> Row[Any]:
        """End an open (or pending) order: canceled, rejected or expired, with its reason. The row is
        read again first: a loop over open orders may hold one an OCO cascade already ended."""
        current = await self.orders.get(conn, str(row.id), None, for_update=True)
        if current is None or current.status in states.TERMINAL:
            return current if current is not None else row
        return await self.move(conn, current, (status,), {"reject_reason": reason}, cascade=cascade)

    async def on_venue(self, conn: AsyncConnection, row: Row[Any]) -> bool:
        """The order is an exchange account's (its OCO cancels go to the venue)."""
        account = await self.accounts.get(conn, str(row.account_id), None)
        return account is not None and account.kind == "exchange"

    async def _end_siblings(
        self, conn: AsyncConnection, row: Row[Any], reason: str, *, take_locks: bool
    ) -> Decimal:
        """End the other open exits of ``row``'s OCO pair, taking their locks when ``take_locks``
        (returned; else a cancel releases them): on paper they are cancelled here; at a venue they
        wait in ``pending_cancel`` until the venue confirms the cancel
        ``VenueOrders.cancel_oco_leftovers`` sends."""
        venue = await self.on_venue(conn, row)
        moved = Decimal(0)
        for sibling in await self.orders.open_siblings(conn, row):
            emptied = sibling
            if take_locks:
                moved += Decimal(sibling.locked)
                emptied = await self.orders.update(conn, sibling.id, {"locked": Decimal(0)})
            if not venue:
                await self.move(conn, emptied, (states.CANCELED,), {"reject_reason": reason}, cascade=False)
            elif emptied.status != states.PENDING_CANCEL:
                await self.move(conn, emptied, (states.PENDING_CANCEL,), {}, cascade=False)
        return moved

    async def take_oco_lock(self, conn: AsyncConnection, row: Row[Any]) -> Row[Any]:
        """Before the first fill of an OCO exit: the pair's shared lock moves to it and the other
        exit is cancelled (one lock for the two, since both sell the same quantity)."""
        moved = await self._end_siblings(conn, row, "oco_other_filled", take_locks=True)
        if moved == 0:
            return row
        return await self.orders.update(conn, row.id, {"locked": Decimal(row.locked) + moved})

    async def record_fill(
        self,
        conn: AsyncConnection,
        row: Row[Any],
        fill: Fill,
        source: FillSource,
        deferred: list[Announcement] | None = None,
    ) -> bool:
        """Store the fill once (``(venue, venue_fill_id)``), settle balances, announce it (or
        append its event to ``deferred``, for the caller's ``move(before=...)``); False when this
        venue fill was already recorded (nothing changes)."""
        stored = await self.orders.insert_fill(conn, fill_values(row, fill, source))
        if stored is None:
            return False
        if row.contract_size is not None:
            at_ns = int(source.at.timestamp() * 1_000_000) * 1_000
            await settle_perp_fill(conn, self.accounts, self.perp_positions, row, fill, opened_ns=at_ns)
            info = fill_info(stored).model_copy(
                update={"contract_size": Decimal(row.contract_size), "position_side": row.position_side}
            )
            await self._fill_recorded(conn, row, FillRecorded(user_id=row.user_id, fill=info), deferred)
            return True
        await self.accounts.apply_many(conn, row.account_id, spot_fill_changes(row, fill))  # one statement
        await self._fill_recorded(
            conn, row, FillRecorded(user_id=row.user_id, fill=fill_info(stored)), deferred
        )
        self.metrics.fills.labels(row.venue, row.side).inc()
        return True

    async def _fill_recorded(
        self, conn: AsyncConnection, row: Row[Any], event: FillRecorded, deferred: list[Announcement] | None
    ) -> None:
        item: Announcement = (event, (str(row.account_id),), {"subject": str(row.id)})
        if deferred is None:
            await self.outbox.add_many(conn, [item])
        else:
            deferred.append(item)


def walked(
    row: Row[Any], statuses: tuple[str, ...], fields: dict[str, Any]
) -> tuple[str, dict[str, Any], Decimal]:
    """``move``'s arithmetic: the status the order ends in (each step checked by the state
    machine), the fields to store (with that status; no lock left once the order ends) and what
    is left of its lock to return to free (0 unless this move ends it)."""
    current = row.status
    for status in statuses:
        current = states.transition(current, status)
    if statuses:
        fields = {**fields, "status": current}
    if current in states.TERMINAL and row.status not in states.TERMINAL:
        released = Decimal(fields.get("locked", row.locked))
        return current, {**fields, "locked": Decimal(0)}, released
    return current, fields, Decimal(0)


def fill_values(row: Row[Any], fill: Fill, source: FillSource) -> dict[str, Any]:
    """The ``fills`` row of ``fill`` of order ``row`` (a new id)."""
    return {
        "id": uuid.UUID(new_event_id()),
        "order_id": row.id,
        "account_id": row.account_id,
        "user_id": row.user_id,
        "venue": row.venue,
        "venue_fill_id": source.venue_fill_id,
        "symbol": row.symbol,
        "side": row.side,
        "price": fill.price,
        "quantity": fill.quantity,
        "fee": fill.fee,
        "fee_asset": row.quote_asset,
        "liquidity": fill.liquidity,
        "trade_id": source.trade_id,
        "filled_at": source.at,
    }


def spot_fill_changes(row: Row[Any], fill: Fill) -> dict[str, tuple[Decimal, Decimal]]:
    """What a spot fill adds to the account's balances: asset → (free, locked), the lock spent."""
    settlement = settle_fill(row.side, fill.price, fill.quantity, fill.fee)
    changes = {row.lock_asset: (Decimal(0), -settlement.lock_spent)}
    for asset, free in ((row.base_asset, settlement.base_free), (row.quote_asset, settlement.quote_free)):
        if free:
            before_free, before_locked = changes.get(asset, (Decimal(0), Decimal(0)))
            changes[asset] = (before_free + free, before_locked)
    return changes


def announcement(row: Row[Any], previous: str | None, status: str) -> Announcement:
    """The ``order_updated`` event showing the order in ``status``, as an outbox item."""
    info = order_info(row)
    if info.status != status:
        info = info.model_copy(update={"status": status})
    event = OrderUpdated(user_id=row.user_id, previous_status=previous, order=info)
    return event, (str(row.account_id),), {"subject": info.order_id}
