"""The paper exchange's plain fills of one batch of trades, worked out in memory and written together.

A *plain* order is a spot paper order nothing else hangs on: not one exit of an OCO pair, not a
bracket's entry (whose end opens its exits), not a flatten's close order. What a trade does to it
is a fill row, additions to its account's balances, the order's new fields and status, and their
events: ``Ledger.record_fill`` then ``Ledger.move``, whose follow-ups never apply to such an order,
so the per-order path spends six or seven statements on it. Here the batch's trades meet its
plain orders in the same order and with the same rules (``walked``, ``fill_values``,
``spot_fill_changes``: the ledger's own arithmetic), and ``flush`` writes everything in five
statements whatever the number of fills: the fills, the balances, the orders, and their events
(one outbox insert, in the order the per-order path writes them, each with its order's trace).

Equal to the per-order path, row for row: the orders a trade will change are locked together first
(``lock``: in id order, as every writer of several orders locks), a fill a trade already made (a
trade seen again) is skipped as ``record_fill``'s ``ON CONFLICT`` would skip it (``recorded``), and
between two fills of one order its numbers are rounded as its ``numeric(38, 18)`` columns store them,
so the next fill computes from what the per-order path would have read back. Balances get the
sum of the batch's changes per asset in one addition (rounded once where the per-order path rounds
each addition: the two differ only on a tie in the 19th decimal). ``flush`` runs before anything
else writes in the batch's transaction (a non-plain order's change, the liquidator), so every
other writer reads what the per-order path would have written by then.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Context, Decimal
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.order_router.domain.matching import Outcome
from tradeloom.order_router.exits import is_bracket_entry
from tradeloom.order_router.ledger import (
    Announcement,
    FillSource,
    Ledger,
    announcement,
    fill_values,
    spot_fill_changes,
    walked,
)
from tradeloom.order_router.store.paper_fill_writes import FILLED_COLUMNS, PaperFillWrites
from tradeloom.order_router.store.rows import fill_info
from tradeloom.shared.context import correlation_id_var
from tradeloom.shared.contracts.orders import FillRecorded
from tradeloom.shared.telemetry import inject_trace

STORED = Decimal("1e-18")  # the scale of the orders' and balances' numeric(38, 18) columns
COLUMN = Context(prec=38)  # their precision: quantize would refuse a result over the default 28 digits


def is_plain(row: Any) -> bool:
    """A spot paper order whose fills have no follow-up: no OCO pair, bracket entry or flatten."""
    return (
        row.contract_size is None
        and row.oco_group is None
        and row.flatten_id is None
        and not is_bracket_entry(row)
    )


def outcome_fields(row: Any, outcome: Outcome) -> dict[str, Any]:
    """The order's fields after a trade's ``outcome`` (its status walk aside)."""
    order = outcome.order
    fields: dict[str, Any] = {
        "filled_quantity": order.filled_quantity,
        "locked": order.locked,
        "triggered": order.triggered,
        "trail_extreme": order.trail_extreme,
        "queue_ahead": order.queue_ahead,
    }
    if outcome.fill is not None:
        fields["filled_notional"] = Decimal(row.filled_notional) + outcome.fill.price * outcome.fill.quantity
        fields["fees"] = Decimal(row.fees) + outcome.fill.fee
    if outcome.reason is not None:
        fields["reject_reason"] = outcome.reason
    return fields


def fill_source(row: Any, trade_id: str, ts_ns: int) -> FillSource:
    return FillSource(
        venue_fill_id=f"paper:{row.id}:{trade_id}",
        trade_id=trade_id,
        at=datetime.fromtimestamp(ts_ns / 1e9, UTC),
    )


def as_stored(value: Any) -> Any:
    """A number as its numeric(38, 18) column keeps it (Postgres rounds half away from zero)."""
    return (
        value.quantize(STORED, rounding=ROUND_HALF_UP, context=COLUMN)
        if isinstance(value, Decimal)
        else value
    )


def _fields_of(row: Any) -> dict[str, Any]:
    return row._asdict() if hasattr(row, "_asdict") else dict(vars(row))


class PlainFills:
    """One batch's plain fills: ``take`` them in trade order, then ``flush`` (before any other
    write of the transaction, and at its end)."""

    def __init__(self, ledger: Ledger, schema: str) -> None:
        self.ledger = ledger
        self.writes = PaperFillWrites(schema)
        self.recorded: set[str] = set()  # venue fill ids stored already or taken in this batch
        self._fills: list[dict[str, Any]] = []
        self._balances: dict[tuple[uuid.UUID, str], tuple[Decimal, Decimal]] = {}
        self._orders: dict[uuid.UUID, Any] = {}  # each changed order as it is now
        # in write order: ("fill", venue fill id, order row, trace) or
        # ("status", the order then, previous status, status, trace)
        self._events: list[tuple[Any, ...]] = []

    async def lock(
        self, conn: AsyncConnection, order_ids: Sequence[uuid.UUID], trade_ids: Sequence[str]
    ) -> dict[uuid.UUID, Row[Any]]:
        """Lock the orders the batch's trades will change (read again: a cancel may have won) and
        learn which of their fills by these trades are stored already."""
        rows = await self.writes.lock(conn, order_ids)
        if rows:
            self.recorded |= await self.writes.recorded(conn, list(rows), trade_ids)
        return rows

    def take(self, row: Any, outcome: Outcome, trade_id: str, ts_ns: int) -> Any:
        """The order after ``outcome`` (``PaperMatcher._apply``'s effect, kept for ``flush``), or
        ``row`` itself when this trade already filled it."""
        trace = (inject_trace({}).get("traceparent"), correlation_id_var.get())
        if outcome.fill is not None:
            source = fill_source(row, trade_id, ts_ns)
            if source.venue_fill_id in self.recorded:
                return row
            self.recorded.add(source.venue_fill_id)
            self._fills.append(fill_values(row, outcome.fill, source))
            for asset, change in spot_fill_changes(row, outcome.fill).items():
                self._add(row.account_id, asset, change)
            self._events.append(("fill", source.venue_fill_id, row, trace))
        _, fields, released = walked(row, outcome.statuses, outcome_fields(row, outcome))
        if released > 0:
            self._add(row.account_id, row.lock_asset, (released, -released))
        after = SimpleNamespace(**{**_fields_of(row), **{k: as_stored(v) for k, v in fields.items()}})
        self._orders[row.id] = after
        previous = row.status
        for status in outcome.statuses:
            self._events.append(("status", after, previous, status, trace))
            previous = status
        return after

    def _add(self, account_id: uuid.UUID, asset: str, change: tuple[Decimal, Decimal]) -> None:
        free, locked = self._balances.get((account_id, asset), (Decimal(0), Decimal(0)))
        self._balances[(account_id, asset)] = (free + change[0], locked + change[1])

    async def flush(self, conn: AsyncConnection) -> None:
        """Write what ``take`` kept: fills, balances, orders, then their events in one insert."""
        if not self._orders:
            return
        fills, balances, orders, events = self._fills, self._balances, self._orders, self._events
        self._fills, self._balances, self._orders, self._events = [], {}, {}, []
        stored = await self.writes.insert_fills(conn, fills) if fills else {}
        if len(stored) != len(fills):  # cannot happen under the orders' locks: roll the batch back
            raise RuntimeError("a paper fill of this batch was recorded meanwhile")
        existing = await self.writes.add_to_balances(conn, balances) if balances else set()
        for (account_id, asset), (free, locked) in balances.items():
            if (account_id, asset) not in existing:
                await self.ledger.accounts.apply(conn, account_id, asset, free=free, locked=locked)
        changes = {
            order_id: {name: getattr(row, name) for name in FILLED_COLUMNS}
            for order_id, row in orders.items()
        }
        updated = await self.writes.update_orders(conn, changes)
        await self.ledger.outbox.add_many(conn, list(self._announcements(events, stored, orders, updated)))
        for fill in fills:
            self.ledger.metrics.fills.labels(fill["venue"], fill["side"]).inc()

    @staticmethod
    def _announcements(
        events: Iterable[tuple[Any, ...]],
        stored: dict[str, Row[Any]],
        latest: dict[uuid.UUID, Any],
        updated: dict[uuid.UUID, Row[Any]],
    ) -> Iterable[Announcement]:
        for kind, *rest in events:
            traceparent, correlation = rest[-1]  # the order's, taken with the change (not this flush's)
            attributes = {"traceparent": traceparent, "correlation_id": correlation}
            if kind == "fill":
                venue_fill_id, row = rest[0], rest[1]
                recorded = FillRecorded(user_id=row.user_id, fill=fill_info(stored[venue_fill_id]))
                yield recorded, (str(row.account_id),), {"subject": str(row.id), **attributes}
            else:
                then, previous, status = rest[0], rest[1], rest[2]
                # the order's last state is the row the update returned; an earlier one (a fill before
                # another in the batch) is that row with the fields it had then, as the per-order
                # path's update returned it (one transaction: the same now())
                final = updated[then.id]
                shown: Any = (
                    final
                    if then is latest[then.id]
                    else SimpleNamespace(**{**_fields_of(then), "updated_at": final.updated_at})
                )
                event, keys, base = announcement(shown, previous, status)
                yield event, keys, {**base, **attributes}
