"""The exits of a bracket: once its entry is done with something filled, a stop-market (or a
trailing stop) and a take-profit-market sell of the filled quantity, one OCO pair sharing one lock.

The stop leg holds the lock of the base quantity; whichever exit fills first takes it over and
cancels the other (``Ledger.take_oco_lock``); cancelling one exit cancels the other. A trailing
stop leg (``trailing_stop_percent`` / ``_amount`` on the entry) trails the highest trade after it
opens, its peak starting at the entry's average fill price, as the backtest simulator's trailing
stop starts at the entry price (``tradeloom.quant``).
"""

from __future__ import annotations

import time
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.order_router.domain import states
from tradeloom.shared.ids import new_event_id

if TYPE_CHECKING:
    from tradeloom.order_router.ledger import Ledger


# an entry ended by these leaves what it bought free: the account is going away or must not trade
NO_EXITS = frozenset({"account_reset", "account_archived", "trading_halted"})


def is_bracket_entry(row: Row[Any]) -> bool:
    """A bracket's entry (every bracket has a take-profit; the exits have none)."""
    return row.take_profit_price is not None and row.parent_id is None


def _stop_leg(entry: Row[Any]) -> dict[str, Any]:
    """The stop leg's fields: a stop-market at the stop-loss, or a trailing stop from the entry price."""
    if entry.trailing_stop_percent is None and entry.trailing_stop_amount is None:
        return {"type": "stop_market", "stop_price": entry.stop_loss_price}
    average = Decimal(entry.filled_notional) / Decimal(entry.filled_quantity)
    return {
        "type": "trailing_stop", "trailing_percent": entry.trailing_stop_percent,
        "trailing_amount": entry.trailing_stop_amount, "trail_extreme": average,
    }  # fmt: skip


async def open_exits(
    ledger: Ledger, conn: AsyncConnection, entry: Row[Any], *, on_venue: bool = False
) -> None:
    """Store the pair; on paper both rest at once (``new``), at a venue (``on_venue``) both stay
    ``pending_new`` until ``VenueSync`` has sent them after this transaction (reconcile sends one
    the venue never received again, never a second one: the client ids derive from the entry's)."""
    if (
        entry.reject_reason in NO_EXITS
        or await ledger.orders.halt_reason(conn, entry.user_id, entry.account_id) is not None
    ):
        return
    quantity = Decimal(entry.filled_quantity)
    if not await ledger.accounts.lock(conn, entry.account_id, entry.base_asset, quantity):
        return  # the bought quantity is no longer free (spent by another order): no exits to place
    group = uuid.UUID(new_event_id())
    stop = _stop_leg(entry)
    exits = (
        ("sl" if stop["type"] == "stop_market" else "ts", stop, quantity),
        (
            "tp",
            {"type": "take_profit_market", "stop_price": entry.take_profit_price},
            Decimal(0),
        ),  # shares the lock
    )
    for suffix, leg, locked in exits:
        row = await ledger.orders.insert(
            conn,
            {
                "id": uuid.UUID(new_event_id()), "account_id": entry.account_id, "user_id": entry.user_id,
                "client_order_id": f"{entry.client_order_id[:60]}-{suffix}", "venue": entry.venue,
                "symbol": entry.symbol, "base_asset": entry.base_asset, "quote_asset": entry.quote_asset,
                "lot_size": entry.lot_size, "side": "sell", "status": states.PENDING_NEW,
                "quantity": quantity, "time_in_force": "gtc", **leg,
                "reference_price": entry.reference_price, "lock_asset": entry.base_asset, "locked": locked,
                "accepted_ns": time.time_ns(), "parent_id": entry.id, "oco_group": group,
            },
        )  # fmt: skip
        assert row is not None, "an exit's client id is derived from its entry's, which is unique"
        await ledger.announce(conn, row, None, states.PENDING_NEW)
        if not on_venue:
            await ledger.move(conn, row, (states.NEW,), {})
