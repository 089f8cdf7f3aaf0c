"""Fills pushed by the venue (ccxt pro's ``watch_my_trades``), applied as they arrive.

One task per exchange account whose venue pushes fills. It starts only once a reconcile pass of
the account succeeded (``VenueSync.sync``). Each pushed fill goes through the same path as a
polled one (``venues.reconcile`` with fills only, then ``VenueSync.apply``), so a fill is applied
once whichever path saw it first (``(venue, venue_fill_id)`` is unique). A fill of an order we do
not know by its venue id yet (its answer still on the way) wakes a reconcile pass.

A lost socket takes the account out of service and wakes a reconcile pass at once, as on
start-up: fills pushed while the socket was down are found by that pass. The socket is trusted
again (re-subscribed) only after that pass, with a growing pause between failures. Polling goes
on at ``VENUE_POLL_INTERVAL_S`` meanwhile: it finds a fill made between a pass and the
re-subscription.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Row

from tradeloom.order_router.venue_orders import VenueOrders
from tradeloom.order_router.venues import VenueAdapter, VenueFill

log = logging.getLogger(__name__)

FIRST_PAUSE_S = 0.5
MAX_PAUSE_S = 60.0

ApplyFills = Callable[[Row[Any], Sequence[VenueFill]], Awaitable[None]]


class VenueFillStreams:
    def __init__(
        self,
        venue_orders: VenueOrders,
        apply_fills: ApplyFills,
        wake_reconcile: Callable[[], None],
    ) -> None:
        self.venue_orders = venue_orders
        self._apply_fills = apply_fills
        self._wake = wake_reconcile
        self._tasks: dict[tuple[uuid.UUID, str], asyncio.Task[None]] = {}
        self._reconciled: dict[uuid.UUID, asyncio.Event] = {}

    async def reconciled(self, account: Row[Any], adapter: VenueAdapter) -> None:
        """A reconcile pass of ``account`` succeeded: (re)start its streams (one per market type
        whose fills the venue pushes: spot, linear futures)."""
        if not adapter.supports_fill_stream:
            return
        self._reconciled.setdefault(account.id, asyncio.Event()).set()
        for kind in await adapter.fill_stream_kinds():
            task = self._tasks.get((account.id, kind))
            if task is None or task.done():
                self._tasks[(account.id, kind)] = asyncio.create_task(
                    self._run(account, kind), name=f"venue-fills-{account.id}-{kind}"
                )

    async def retain(self, account_ids: Iterable[uuid.UUID]) -> None:
        """Stop the streams of accounts no longer active (archived, connection deleted)."""
        keep = set(account_ids)
        await self._stop([key for key in self._tasks if key[0] not in keep])

    async def close(self) -> None:
        await self._stop(list(self._tasks))

    async def _stop(self, keys: list[tuple[uuid.UUID, str]]) -> None:
        tasks = [self._tasks.pop(key) for key in keys]
        for account_id, _ in keys:
            self._reconciled.pop(account_id, None)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, account: Row[Any], kind: str) -> None:
        pause = FIRST_PAUSE_S
        reconciled = self._reconciled[account.id]
        while True:
            await reconciled.wait()
            try:
                adapter = await self.venue_orders.adapter(account)
                while True:
                    fills = await adapter.watch_fills(kind)
                    pause = FIRST_PAUSE_S  # the socket works: a later loss starts from a short pause
                    await self._apply_fills(account, fills)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the socket lost (or a fill not applied): reconcile first
                log.warning("venue %s fill stream of account %s lost: %r", kind, account.id, error)
                reconciled.clear()
                self.venue_orders.lost(account.id, error)
                self._wake()
            await asyncio.sleep(pause)
            pause = min(pause * 2, MAX_PAUSE_S)
