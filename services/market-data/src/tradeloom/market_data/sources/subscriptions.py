"""Runs the ingestion the API asked for: every ``interval_s`` (or at once when woken by a local
request) it reads the ``subscriptions`` table, starts a source per wanted symbol and stops the
ones no longer wanted, and writes what it did back as each row's ``status``.

A row is started when it wants to run and its status is ``pending`` (new or restarted through the
API) or ``running`` (so a restarted service resumes what was running); a source that ends on its
own is ``failed`` and stays so until started again through the API. A status is written only if
the row still wants what the supervisor acted on (``set_status``): an API call racing a sync is
acted on at the next one, never overwritten. A row stopped and started again before a sync saw
it (its source never stopped) goes from ``pending`` back to ``running``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.market_data.store.subscriptions_store import list_subscriptions, set_status

log = logging.getLogger(__name__)

Key = tuple[str, str]  # venue, symbol
# (venue, symbol, books, stop) → runs the source until ``stop`` is set
Ingest = Callable[[str, str, bool, asyncio.Event], Coroutine[Any, Any, None]]


@dataclass
class _Running:
    books: bool
    stop: asyncio.Event
    task: asyncio.Task[None]


class SubscriptionSupervisor:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        schema: str,
        ingest: Ingest,
        *,
        interval_s: float,
        wake: asyncio.Event,
    ) -> None:
        self._engine = engine
        self.schema = schema
        self.ingest = ingest
        self.interval_s = interval_s
        self.wake = wake
        self.running: dict[Key, _Running] = {}

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                try:
                    await self.sync()
                except Exception:  # the database away: try again next round
                    log.exception("subscriptions: sync failed")
                self.wake.clear()
                waits = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.wake.wait())}
                await asyncio.wait(waits, timeout=self.interval_s, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waits:
                    waiter.cancel()
        finally:
            for key in list(self.running):
                await self._stop(key)

    async def sync(self) -> None:
        """One reconciliation of the running sources with the table."""
        async with self._engine().connect() as connection:
            rows = await list_subscriptions(connection, self.schema)
        statuses = {(r.venue, r.symbol): r.status for r in rows}
        wanted = {
            (r.venue, r.symbol): r.books
            for r in rows
            if r.desired == "running" and r.status in ("pending", "running")
        }
        stopped = {(r.venue, r.symbol) for r in rows if r.desired == "stopped" and r.status != "stopped"}
        for key, entry in list(self.running.items()):
            if entry.task.done():
                del self.running[key]
                error = _failure(entry.task)
                log.error("subscription %s %s ended: %s", *key, error)
                await self._status(key, "failed", error, books=entry.books)
                wanted.pop(key, None)
            elif key not in wanted or wanted[key] != entry.books:
                await self._stop(key)
            elif statuses[key] == "pending":  # stopped and started again between two syncs
                await self._status(key, "running", None, books=entry.books)
        for key in stopped:
            await self._status(key, "stopped", None)
        for key, books in wanted.items():
            if key not in self.running:
                stop = asyncio.Event()
                task = asyncio.create_task(self.ingest(key[0], key[1], books, stop))
                self.running[key] = _Running(books, stop, task)
                log.info("subscription %s %s started (books %s)", key[0], key[1], books)
                await self._status(key, "running", None, books=books)

    async def _stop(self, key: Key) -> None:
        entry = self.running.pop(key)
        entry.stop.set()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(entry.task, timeout=30)
        log.info("subscription %s %s stopped", *key)

    async def _status(self, key: Key, status: str, error: str | None, *, books: bool | None = None) -> None:
        async with self._engine().begin() as connection:
            await set_status(connection, self.schema, key[0], key[1], status=status, error=error, books=books)


def _failure(task: asyncio.Task[None]) -> str:
    if task.cancelled():
        return "cancelled"
    error = task.exception()
    return "the source ended" if error is None else f"{type(error).__name__}: {error}"[:500]
