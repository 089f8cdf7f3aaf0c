"""Reconciliation and fill polling of exchange accounts (``venues.reconcile`` applied to our books).

Every ``interval_s``, for each active exchange account: ask the venue about our orders that are
not final (by client id) and for the fills since the last one we hold, then apply the actions,
each in its own transaction with its outbox events. Fills are applied once (``(venue,
venue_fill_id)`` is unique). An account takes new orders only after a pass succeeded; a failed
pass (the venue unreachable) takes it out of service again. At start-up no account is ready.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.order_router.domain import states
from tradeloom.order_router.domain.funds import settle_fill
from tradeloom.order_router.domain.matching import Fill
from tradeloom.order_router.domain.perps import lock_share
from tradeloom.order_router.exits import is_bracket_entry
from tradeloom.order_router.ledger import FillSource, Ledger
from tradeloom.order_router.venue_flatten import VenueFlatten
from tradeloom.order_router.venue_orders import VenueOrders
from tradeloom.order_router.venue_stream import VenueFillStreams
from tradeloom.order_router.venue_wallets import VenueWallets
from tradeloom.order_router.venues import (
    Action,
    ApplyFill,
    LocalOrder,
    MarkAccepted,
    MarkVanished,
    UpdateStatus,
    VenueFill,
    VenueView,
    gather_venue_view,
    reconcile,
)

log = logging.getLogger(__name__)
FIRST_PASS_MARGIN_MS = 60_000  # fills asked for from this long before the oldest order we hold


def quote_fee(row: Row[Any], fill: VenueFill) -> Decimal:
    """The fee in the order's quote asset (our ledger's unit): a fee in base is valued at the
    fill price; a fee in a third asset (a venue token) is not ours to book."""
    if fill.fee_asset in (None, row.quote_asset):
        return fill.fee
    if fill.fee_asset == row.base_asset:
        return fill.fee * fill.price
    return Decimal(0)


class VenueSync:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        ledger: Ledger,
        venue_orders: VenueOrders,
        *,
        interval_s: float,
        pending_grace_s: float,
        flattens: VenueFlatten,
        fill_streams: bool = True,
        wallets: VenueWallets | None = None,
    ) -> None:
        self._engine = engine
        self.ledger = ledger
        self.venue_orders = venue_orders
        self.interval_s = interval_s
        self.pending_grace_s = pending_grace_s
        self.flattens = flattens
        self.wallets = wallets  # the venue's separate wallets, mirrored (``venue_wallets.py``)
        self.wake = asyncio.Event()  # a lost fill stream, or an order for an unready account: a pass now
        venue_orders.want_reconcile = self.wake.set
        self.streams = (
            VenueFillStreams(venue_orders, self.apply_pushed_fills, self.wake.set) if fill_streams else None
        )

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                self.wake.clear()
                await self.pass_once()
                await self._pause(stop)
        finally:
            if self.streams is not None:
                await self.streams.close()
            await self.venue_orders.close()

    async def _pause(self, stop: asyncio.Event) -> None:
        """``interval_s``, or less when stopped or woken."""
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.wake.wait())]
        try:
            await asyncio.wait(waits, timeout=self.interval_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()

    async def pass_once(self) -> None:
        try:
            async with self._engine().connect() as conn:
                accounts = await self.ledger.accounts.exchange_accounts(conn)
        except Exception as error:  # the database may be restarting: try again next round
            log.warning("venue sync: accounts not readable: %r", error)
            return
        if self.streams is not None:
            await self.streams.retain(account.id for account in accounts)
        for account in accounts:
            try:
                await self.sync(account)
            except Exception as error:  # the venue unreachable, or a bug: log, retry next round
                log.warning("venue sync of account %s failed: %r", account.id, error)
                self.venue_orders.lost(account.id, error)

    async def sync(self, account: Row[Any]) -> None:
        adapter = await self.venue_orders.adapter(account)
        async with self._engine().connect() as conn:
            rows = await self.ledger.orders.unfinished(conn, account.id)
            known = await self.ledger.orders.venue_fill_ids(conn, account.id)
        now = datetime.now(UTC)
        # a pending_new order this young may still be on its way: leave it to its sender
        ours = [
            LocalOrder(r.client_order_id, r.symbol, r.status, r.venue_order_id, Decimal(r.filled_quantity))
            for r in rows
            if r.status != states.PENDING_NEW or (now - r.created_at).total_seconds() > self.pending_grace_s
        ]
        if ours:
            since = account.venue_fills_since_ms
            if since is None:
                oldest = min(r.created_at for r in rows)
                since = int(oldest.timestamp() * 1000) - FIRST_PASS_MARGIN_MS
            view = await gather_venue_view(adapter, ours, since)
            for action in reconcile(ours, view, known):
                await self.apply(account, action)
            newest = max((fill.timestamp_ms for fill in view.fills), default=since)
            if newest != account.venue_fills_since_ms:
                async with self._engine().begin() as conn:
                    await self.ledger.accounts.update(conn, account.id, venue_fills_since_ms=newest)
        await self.venue_orders.cancel_oco_leftovers(account)
        await self._cancel_if_halted(account)
        await self.flattens.run(account)
        self.venue_orders.ready.add(account.id)
        if self.wallets is not None:
            await self.wallets.refresh(account, adapter)
        if self.streams is not None:
            await self.streams.reconciled(account, adapter)

    async def apply_pushed_fills(self, account: Row[Any], fills: Sequence[VenueFill]) -> None:
        """Fills the venue pushed: each one we do not hold, through the same actions as polled
        ones. A fill of an order not known by its venue id yet asks for a reconcile pass."""
        async with self._engine().connect() as conn:
            rows = await self.ledger.orders.unfinished(conn, account.id)
            known = await self.ledger.orders.venue_fill_ids(conn, account.id)
        ours = [
            LocalOrder(r.client_order_id, r.symbol, r.status, r.venue_order_id, Decimal(r.filled_quantity))
            for r in rows
        ]
        for action in reconcile(ours, VenueView(orders={}, fills=fills), known):
            await self.apply(account, action)
        placed = {r.venue_order_id for r in rows if r.venue_order_id is not None}
        if any(f.venue_order_id not in placed and f.venue_fill_id not in known for f in fills):
            self.wake.set()

    async def _cancel_if_halted(self, account: Row[Any]) -> None:
        """The kill switch: a halted user's or account's open venue orders are cancelled at the venue."""
        async with self._engine().begin() as conn:
            if await self.ledger.orders.halt_reason(conn, account.user_id, account.id) is None:
                return
            for row in await self.ledger.orders.open_orders(conn, account_id=account.id):
                if row.status == states.PENDING_CANCEL:
                    continue
                if await self.venue_orders.cancel(account, row):
                    await self.ledger.finish(conn, row, states.CANCELED, "trading_halted")
                else:
                    await self.ledger.move(conn, row, (states.PENDING_CANCEL,), {})

    async def apply(self, account: Row[Any], action: Action) -> None:
        for row in await self._apply(account, action):
            if await self._still_wanted(row):
                await self.venue_orders.send(row, account)
        await self.venue_orders.cancel_oco_leftovers(account)

    async def _still_wanted(self, row: Row[Any]) -> bool:
        """An unsent exit whose other exit ended meanwhile (refused by the venue, cancelled) is not
        sent: rejected here (``oco_pair_done``; it never reached the venue)."""
        if row.oco_group is None:
            return True
        async with self._engine().begin() as conn:
            current = await self.ledger.orders.get(conn, str(row.id), None, for_update=True)
            if current is None or current.status != states.PENDING_NEW:
                return False
            if not await self.ledger.orders.pair_ended(conn, current):
                return True
            await self.ledger.finish(conn, current, states.REJECTED, "oco_pair_done", cascade=False)
            return False

    async def _apply(self, account: Row[Any], action: Action) -> list[Row[Any]]:
        """Apply ``action`` in one transaction; what to send after it: a flatten's close order or a
        bracket's exit the venue never received (neither may be given up), or the exits a bracket
        entry's last fill opened."""
        async with self._engine().begin() as conn:
            row = await self.ledger.orders.by_client_id(conn, account.id, action.client_order_id)
            if row is None or row.status in states.TERMINAL:
                if isinstance(action, ApplyFill):
                    log.warning("venue fill %s of a finished order skipped", action.fill.venue_fill_id)
                return []
            if isinstance(action, MarkAccepted):
                fields = {"venue_order_id": action.venue_order.venue_order_id}
                if row.status == states.PENDING_NEW:
                    await self.ledger.move(conn, row, (states.NEW,), fields)
                else:
                    await self.ledger.orders.update(conn, row.id, fields)
            elif isinstance(action, ApplyFill):
                await self._apply_fill(conn, account, row, action.fill)
            elif isinstance(action, UpdateStatus):
                await self._update_status(conn, row, action.status)
            elif isinstance(action, MarkVanished):
                if action.never_reached and (row.flatten_id is not None or row.parent_id is not None):
                    return [row]
                if action.never_reached:
                    await self.ledger.finish(conn, row, states.REJECTED, "venue_never_received")
                else:
                    await self.ledger.finish(conn, row, states.CANCELED, "venue_lost_order")
            return list(await self.ledger.orders.pending_legs(conn, row.id)) if is_bracket_entry(row) else []

    async def _apply_fill(self, conn: Any, account: Row[Any], row: Row[Any], fill: VenueFill) -> None:
        if row.oco_group is not None and row.status != states.PENDING_CANCEL:  # an exit's first fill
            row = await self.ledger.take_oco_lock(conn, row)
        fee = quote_fee(row, fill)
        locked = Decimal(row.locked)
        if row.contract_size is not None:  # a perpetual: its share of the margin lock (perp_ledger)
            spend = lock_share(locked, fill.quantity, Decimal(row.quantity) - Decimal(row.filled_quantity))
        else:
            spend = settle_fill(row.side, fill.price, fill.quantity, fee).lock_spent
        if spend > locked:  # the venue's price beat our lock (a market order): take the rest from free
            extra = spend - locked
            if not await self.ledger.accounts.lock(conn, account.id, row.lock_asset, extra):
                await self.ledger.accounts.apply(
                    conn, account.id, row.lock_asset, free=Decimal(0), locked=extra
                )
            locked += extra
        liquidity = "maker" if fill.is_maker else "taker"
        source = FillSource(
            venue_fill_id=fill.venue_fill_id,
            trade_id=fill.venue_fill_id,
            at=datetime.fromtimestamp(fill.timestamp_ms / 1000, UTC),
        )
        if not await self.ledger.record_fill(
            conn, row, Fill(fill.price, fill.quantity, fee, liquidity), source
        ):
            return
        filled = Decimal(row.filled_quantity) + fill.quantity
        fields = {
            "filled_quantity": filled,
            "filled_notional": Decimal(row.filled_notional) + fill.price * fill.quantity,
            "fees": Decimal(row.fees) + fee,
            "locked": locked - spend,
        }
        status = states.FILLED if filled >= Decimal(row.quantity) else states.PARTIALLY_FILLED
        await self.ledger.move(conn, row, (status,), fields)

    async def _update_status(self, conn: Any, row: Row[Any], status: str) -> None:
        """Final states the venue reached without a fill of ours to show it; fill states come
        with their fills."""
        if status not in (states.CANCELED, states.EXPIRED, states.REJECTED):
            return
        if row.status == states.PENDING_NEW and status == states.REJECTED:
            await self.ledger.finish(conn, row, states.REJECTED, "venue_rejected")
            return
        if row.status == states.PENDING_NEW:
            row = await self.ledger.move(conn, row, (states.NEW,), {})
        final = states.CANCELED if status == states.REJECTED else status
        await self.ledger.finish(conn, row, final, f"venue_{status}")
