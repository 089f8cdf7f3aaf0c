"""Group commit: rows recorded while a write is in flight go together in the next write.

A caller still waits until its own row is durable (nothing is acknowledged before it is written,
so nothing changes for the caller but the cost), but under load N callers share one transaction
instead of paying N: the writer starts the next write as soon as the previous one finishes, with
everything that queued meanwhile (at most ``max_batch`` rows). With one caller at a time it is a
plain write: no timer, no added delay.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

Row = TypeVar("Row")


class GroupCommit(Generic[Row]):
    def __init__(self, write: Callable[[list[Row]], Awaitable[None]], *, max_batch: int = 500) -> None:
        self._write = write
        self._max_batch = max_batch
        self._queued: list[tuple[Row, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, row: Row) -> None:
        """Return once ``row`` is written (raise what its write raised)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._queued.append((row, done))
        if self._writer is None or self._writer.done() or self._writer.get_loop() is not loop:
            self._writer = asyncio.create_task(self._drain(), name="group-commit")
            self._writer.add_done_callback(self._writer_done)
        await asyncio.shield(done)  # a cancelled caller's row is still written with its batch

    def _writer_done(self, writer: asyncio.Task[None]) -> None:
        """A writer cancelled (shutdown), even before it ran: the rows still queued are not written."""
        if writer.cancelled() and writer is self._writer:
            queued, self._queued = self._queued, []
            for _, done in queued:
                done.cancel()

    async def _drain(self) -> None:
        while self._queued:
            batch, self._queued = self._queued[: self._max_batch], self._queued[self._max_batch :]
            try:
                await self._write([row for row, _ in batch])
            except Exception as error:  # every caller of the batch hears why its row was not written
                for _, done in batch:
                    if not done.done():
                        done.set_exception(error)
            except BaseException:  # the writer cancelled (shutdown): no caller waits forever
                for _, done in batch:
                    done.cancel()
                raise
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)
