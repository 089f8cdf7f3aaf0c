"""Acting on risk-monitor's ``risk.evt.flatten.v1.<account>``: close every position of the account.

Runs inside the halts consumer's transaction, together with its inbox claim, so the whole effect
happens once: the account's open paper orders are cancelled, then each long position (the fold of
the account's fills per symbol, capped by the base asset it holds free, on the lot grid) gets one
reduce-only market sell, accepted at once (no risk check: the order comes from risk-monitor, and
goes through an account halt). Each close order's client id derives from the flatten event's id and
the symbol, and the ``flattens`` row is keyed by the event id, so a redelivery or a replay after a
restart finds the flatten already acted on and cannot double a close. The paper exchange fills the
orders on the next trades; when the last one ends, ``Ledger.complete_flatten`` announces
``orders.evt.flatten_completed``.

On spot a position is the base asset held, always long: a negative fold (more sold than bought,
out of a starting base balance) is not something a reduce-only order can close, and is left.
Exchange accounts: the flatten is recorded here and carried out by venue_sync
(``venue_flatten.py``): cancels at the venue, then the same close orders, sent through ccxt.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.order_router.domain import states
from tradeloom.order_router.ledger import Ledger
from tradeloom.shared.contracts.risk import RiskFlatten
from tradeloom.shared.envelope import Envelope
from tradeloom.shared.ids import new_event_id, parse_uuid

log = logging.getLogger(__name__)
ACTOR = "risk-monitor"


def close_client_id(flatten_id: str, symbol: str) -> str:
    """The close order's client id: the same flatten event and symbol always give the same id."""
    event = hashlib.sha256(flatten_id.encode()).hexdigest()[:24]
    return f"flat-{event}-{hashlib.sha256(symbol.encode()).hexdigest()[:8]}"


def close_quantity(net: Decimal, free_base: Decimal, lot: Decimal) -> Decimal:
    """What a reduce-only sell can close: the long fold, at most the free base, whole lots."""
    quantity = min(net, free_base)
    return (quantity // lot) * lot if quantity > 0 else Decimal(0)


class Flattener:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    async def on_flatten(self, conn: AsyncConnection, envelope: Envelope) -> None:
        event = envelope.unwrap(RiskFlatten)
        account = None
        if parse_uuid(event.account_id) is not None:
            account = await self.ledger.accounts.get(conn, event.account_id, event.user_id, for_update=True)
        if account is None:
            log.warning("flatten %s names no account of its user: ignored", envelope.id)
            return
        if not await self.ledger.flattens.start(conn, envelope.id, account.id, event.user_id, event.reason):
            return  # acted on already (a redelivery whose inbox row was pruned, or a replay)
        details = {"flatten_id": envelope.id, "reason": event.reason}
        await self.ledger.accounts.audit(conn, account.id, ACTOR, "flatten_started", details)
        if account.kind != "paper":
            return  # closed at the venue by venue_sync (``venue_flatten.VenueFlatten``)
        for row in await self.ledger.orders.open_orders(conn, account_id=account.id, paper_only=True):
            await self.ledger.finish(conn, row, states.CANCELED, "flatten")
        await self.place_closes(conn, account, envelope.id)

    async def place_closes(self, conn: AsyncConnection, account: Row[Any], flatten_id: str) -> list[Row[Any]]:
        """One close order per long position (the account has no open order left): accepted at
        once on a paper account, ``pending_new`` (to be sent) on an exchange account. With nothing
        to close the flatten completes (``nothing_held``)."""
        free = {row.asset: Decimal(row.free) for row in await self.ledger.accounts.balances(conn, account.id)}
        placed = []
        for held in await self.ledger.flattens.held(conn, account.id):
            quantity = close_quantity(
                Decimal(held.net), free.get(held.base_asset, Decimal(0)), Decimal(held.lot_size)
            )
            if quantity > 0:
                free[held.base_asset] -= quantity
                placed.append(await self._close(conn, account, flatten_id, held, quantity))
        if not placed:
            await self.ledger.complete_flatten(conn, flatten_id, "nothing_held", [])
        return placed

    async def _close(
        self, conn: AsyncConnection, account: Row[Any], flatten_id: str, held: Row[Any], quantity: Decimal
    ) -> Row[Any]:
        """One market sell of ``quantity``, locked; a paper one accepted (``new``) at once and
        reduce-only (a spot venue has no reduce-only orders: there it is a plain sell)."""
        row = await self.ledger.orders.insert(
            conn,
            {
                "id": uuid.UUID(new_event_id()),
                "account_id": account.id,
                "user_id": account.user_id,
                "client_order_id": close_client_id(flatten_id, held.symbol),
                "venue": held.venue,
                "symbol": held.symbol,
                "base_asset": held.base_asset,
                "quote_asset": held.quote_asset,
                "lot_size": held.lot_size,
                "side": "sell",
                "type": "market",
                "status": states.PENDING_NEW,
                "quantity": quantity,
                "time_in_force": "gtc",
                "reduce_only": account.kind == "paper",
                "reference_price": await self.ledger.orders.last_price(conn, held.venue, held.symbol),
                "lock_asset": held.base_asset,
                "locked": quantity,
                "accepted_ns": time.time_ns(),
                "flatten_id": flatten_id,
            },
        )
        assert row is not None, "a flatten's close ids are new while its flattens row is"
        locked = await self.ledger.accounts.lock(conn, account.id, held.base_asset, quantity)
        assert locked, "the quantity was taken from the free balance read in this transaction"
        await self.ledger.announce(conn, row, None, states.PENDING_NEW)
        if account.kind != "paper":
            return row
        return await self.ledger.move(conn, row, (states.NEW,), {})
