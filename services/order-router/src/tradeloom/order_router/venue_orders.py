"""Exchange accounts: their orders go to the venue through the connection's ``CcxtVenue``.

An order is sent only after the risk check approved it, and stays ``pending_new`` until the venue
answers: accepted → ``new`` with its venue order id; refused → ``rejected``. No definite answer
(``outcome_unknown``, ``duplicate_client_order_id``, the venue unreachable) leaves it
``pending_new`` and takes the account out of service until ``venue_sync`` has reconciled it: the
order is then found by its client id, never sent twice.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.order_router.domain import states
from tradeloom.order_router.ledger import Ledger
from tradeloom.order_router.store.connections_store import ConnectionsStore
from tradeloom.order_router.venue_access import VenueAccess
from tradeloom.order_router.venues import CcxtVenue, PlaceOrder
from tradeloom.order_router.venues.algo_orders import CONDITIONAL_KINDS
from tradeloom.order_router.venues.errors import (
    InsufficientFunds,
    InvalidOrder,
    NotSupported,
    OrderNotFound,
    VenueAuthFailed,
    VenueError,
)
from tradeloom.shared.contracts.orders import OrderSubmit
from tradeloom.shared.errors import Conflict, Unavailable, ValidationFailed, field_invalid

log = logging.getLogger(__name__)

VENUE_KINDS = frozenset(
    {
        "market",
        "limit",
        "stop_market",
        "stop_limit",
        "take_profit_market",
        "take_profit_limit",
        "trailing_stop",
    }
)
# answers that prove the venue did not take the order: safe to reject it here
DEFINITE_REFUSALS = (InvalidOrder, InsufficientFunds, NotSupported, VenueAuthFailed, ValidationFailed)


def check_venue_order(body: OrderSubmit, *, perpetual: bool = False, option: bool = False) -> None:
    """What no exchange account can send: 422 naming the field. Reduce-only is for perpetuals and
    options (the venue checks it against its position too). Options on a venue are limit orders
    only (Binance's eapi has no other kind; ccxt refuses a market one too). Which conditional
    orders a venue market takes is the adapter's answer (``CcxtVenue.conditional_problem``)."""
    if option and body.type != "limit":
        raise field_invalid("type", f"{body.type} orders are not taken on venue options; use limit")
    if option and body.post_only:  # ccxt would send Binance's futures GTX, which eapi does not take
        raise field_invalid("post_only", "post-only is not supported on venue options")
    if body.type not in VENUE_KINDS:
        raise field_invalid("type", f"{body.type} orders are paper-only; venues take {sorted(VENUE_KINDS)}")
    if body.type == "trailing_stop" and body.trailing_amount is not None:
        # the venues' native trailing orders trail by a percentage (Binance: callbackRate,
        # trailingDelta); a price distance is no fixed percentage of a moving price
        raise field_invalid("trailing_amount", "venues trail by percent only; use trailing_percent")
    if body.time_in_force == "gtd":
        raise field_invalid("time_in_force", "gtd is paper-only; use gtc, ioc or fok")
    if body.trailing_stop_percent is not None or body.trailing_stop_amount is not None:
        field = "trailing_stop_percent" if body.trailing_stop_percent is not None else "trailing_stop_amount"
        # ccxt has no unified trailing stop to rest a trailing leg at the venue
        raise field_invalid(field, "a bracket's trailing stop leg is paper-only; use stop_loss_price")
    if (body.stop_loss_price is not None or body.take_profit_price is not None) and (perpetual or option):
        raise field_invalid("stop_loss_price", "brackets on a venue are spot only")
    if body.reduce_only and not (perpetual or option):
        raise field_invalid("reduce_only", "spot venues have no reduce-only orders")


def check_venue_bracket(body: OrderSubmit, venue: str, supported: bool) -> None:
    """A bracket entry at a venue whose stop-loss and take-profit orders ccxt cannot place: 422
    naming the field (nothing is stored or sent)."""
    if supported or (body.stop_loss_price is None and body.take_profit_price is None):
        return
    field = "stop_loss_price" if body.stop_loss_price is not None else "take_profit_price"
    raise field_invalid(field, f"{venue} takes no stop-loss and take-profit orders through ccxt: no brackets")


def place_order(row: Row[Any]) -> PlaceOrder:
    tif = row.time_in_force.upper() if row.time_in_force in ("ioc", "fok") else None
    return PlaceOrder(
        client_order_id=row.client_order_id,
        symbol=row.symbol,
        side=row.side,
        kind=row.type,
        quantity=Decimal(row.quantity),
        price=None if row.price is None else Decimal(row.price),
        time_in_force=tif,
        post_only=row.post_only,
        trigger_price=None if row.stop_price is None else Decimal(row.stop_price),
        reduce_only=row.reduce_only,
        # a perpetual: risk-monitor's leverage stored on the order, set on the venue before it
        leverage=None if row.leverage is None else int(Decimal(row.leverage)),
        # and its margin mode (risk-monitor's, stored on the order; not set: cross, as on paper)
        margin_mode="isolated" if row.margin_mode == "isolated" else "cross",
        position_side=row.position_side or None,  # '' on one-way orders
        trailing_percent=None if row.trailing_percent is None else Decimal(row.trailing_percent),
    )


class VenueOrders:
    """One adapter per exchange account (rebuilt when its connection changes), the accounts
    reconciled and ready for new orders, sending and cancelling."""

    def __init__(
        self, engine: Callable[[], AsyncEngine], ledger: Ledger, schema: str, access: VenueAccess
    ) -> None:
        self._engine = engine
        self.ledger = ledger
        self.connections = ConnectionsStore(schema)
        self.access = access
        self._adapters: dict[uuid.UUID, tuple[datetime, CcxtVenue]] = {}
        self.ready: set[uuid.UUID] = set()
        # set by VenueSync: an order refused for an account not reconciled yet asks for a pass now
        self.want_reconcile: Callable[[], None] = lambda: None

    async def adapter(self, account: Row[Any]) -> CcxtVenue:
        async with self._engine().connect() as conn:
            connection = await self.connections.get(conn, str(account.connection_id), None)
        if connection is None:
            raise Conflict(f"the exchange connection of account {account.id} was deleted")
        cached = self._adapters.get(account.id)
        if cached is not None and cached[0] == connection.updated_at:
            return cached[1]
        if cached is not None:
            await cached[1].close()
        adapter = self.access.open_stored(connection)
        self._adapters[account.id] = (connection.updated_at, adapter)
        return adapter

    def admit(
        self, account: Row[Any], body: OrderSubmit, *, perpetual: bool = False, option: bool = False
    ) -> None:
        """Before anything is stored: the order is one a venue takes, and the account is reconciled."""
        check_venue_order(body, perpetual=perpetual, option=option)
        if account.connection_id is None:
            raise Conflict(f"the exchange connection of account {account.id} was deleted")
        if account.id not in self.ready:
            self.want_reconcile()
            raise Unavailable(f"account {account.id} is being reconciled with its venue; retry shortly")

    async def admit_bracket(self, account: Row[Any], body: OrderSubmit) -> None:
        """A bracket entry needs a venue whose stop-loss and take-profit orders ccxt can place
        (the emulated OCO pair, ``exits.py``); a conditional order (stop, take-profit, trailing
        stop), one the venue rests natively on that market through order-router, a trailing stop
        by a percentage on the venue's steps (``CcxtVenue.conditional_problem``); otherwise 422
        naming the field, nothing stored or sent."""
        if body.stop_loss_price is not None or body.take_profit_price is not None:
            check_venue_bracket(body, account.venue, (await self.adapter(account)).supports_bracket)
        if body.type in CONDITIONAL_KINDS:
            adapter = await self.adapter(account)
            problem = await adapter.conditional_problem(body.symbol, body.type, body.trailing_percent)
            if problem is not None:
                raise field_invalid(*problem)

    async def supports_hedge(self, account: Row[Any]) -> bool:
        """The account's venue can be put in hedge position mode through ccxt."""
        return (await self.adapter(account)).supports_hedge

    async def cancel_oco_leftovers(self, account: Row[Any]) -> None:
        """The other exit of a venue OCO pair whose first exit filled or ended waits in
        ``pending_cancel`` (``Ledger.move``): its cancel is sent (again) at each pass until the
        venue confirms it (then it is canceled here) or reconcile sees it end otherwise."""
        async with self._engine().connect() as conn:
            rows = await self.ledger.orders.oco_pending_cancels(conn, account.id)
        for row in rows:
            if await self.cancel(account, row):
                async with self._engine().begin() as conn:
                    await self.ledger.finish(conn, row, states.CANCELED, "oco_pair_done")

    def lost(self, account_id: uuid.UUID, why: BaseException) -> None:
        """No definite answer from the venue: reconcile before the next order."""
        if account_id in self.ready:
            log.warning("venue: account %s out of service until reconciled: %s", account_id, why)
        self.ready.discard(account_id)

    async def send(self, row: Row[Any], account: Row[Any]) -> Row[Any]:
        """Send an approved ``pending_new`` order (no transaction open); the order as it is then."""
        adapter = await self.adapter(account)
        try:
            placed = await adapter.place(place_order(row))
        except DEFINITE_REFUSALS as refused:
            async with self._engine().begin() as conn:
                return await self.ledger.finish(conn, row, states.REJECTED, f"venue_{refused.code}")
        except VenueError as unsure:  # outcome unknown, duplicate client id, venue unreachable
            self.lost(account.id, unsure)
            return row
        async with self._engine().begin() as conn:
            current = await self.ledger.orders.get(conn, str(row.id), None, for_update=True)
            assert current is not None
            if current.status != states.PENDING_NEW:  # reconciliation was faster
                return current
            if placed.status == states.REJECTED:
                return await self.ledger.finish(conn, current, states.REJECTED, "venue_rejected")
            fields = {"venue_order_id": placed.venue_order_id, "accepted_ns": time.time_ns()}
            return await self.ledger.move(conn, current, (states.NEW,), fields)

    async def cancel(self, account: Row[Any], row: Row[Any]) -> bool:
        """Cancel at the venue; True when the venue confirms it at once."""
        adapter = await self.adapter(account)
        try:
            conditional = row.type in CONDITIONAL_KINDS  # maybe an algo order (``venues.algo_orders``)
            answer = await adapter.cancel(
                row.symbol, client_order_id=row.client_order_id, conditional=conditional
            )
        except OrderNotFound:
            return False  # filled or gone meanwhile: reconciliation tells which
        return answer.status == states.CANCELED

    async def close(self) -> None:
        for _, adapter in self._adapters.values():
            await adapter.close()
        self._adapters.clear()


class RoutedExecution:
    """``Execution`` for both kinds of account: the paper exchange, or the account's venue."""

    def __init__(self, paper: Any, venue: VenueOrders, ledger: Ledger) -> None:
        self.paper = paper
        self.venue = venue
        self.ledger = ledger

    async def place(self, conn: AsyncConnection, order: Row[Any]) -> None:
        await self.paper.place(conn, order)  # exchange orders were sent before they became new

    async def cancel(self, conn: AsyncConnection, order: Row[Any]) -> bool:
        account = await self.ledger.accounts.get(conn, str(order.account_id), None)
        if account is not None and account.kind == "exchange":
            return await self.venue.cancel(account, order)
        return bool(await self.paper.cancel(conn, order))
