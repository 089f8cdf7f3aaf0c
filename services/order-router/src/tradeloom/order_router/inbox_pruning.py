"""Deletes inbox rows older than the retention (``INBOX_RETENTION_S``), in bounded chunks.

The inbox keeps the id of every message a durable consumer applied, so a redelivery is acked
without effect. A message is redelivered only until it is acked (at most ``max_deliver`` times,
minutes apart), so a row older than the retention (days) can never be needed again; without this
job the table grows by one row per trade message for ever.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.shared.aio import wait_for_stop
from tradeloom.shared.db import check_schema_name

log = logging.getLogger(__name__)


class InboxPruner:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        schema: str,
        *,
        retention_s: float,
        interval_s: float,
        chunk: int = 5_000,
    ) -> None:
        self._engine = engine
        self.s = check_schema_name(schema)
        self.retention = timedelta(seconds=retention_s)
        self.interval_s = interval_s
        self.chunk = chunk

    async def prune(self, now: datetime | None = None) -> int:
        """Delete every row received before ``now`` − retention; how many went. One short
        transaction per chunk, so consumers inserting meanwhile never wait long."""
        cutoff = (now or datetime.now(UTC)) - self.retention
        deleted = 0
        while True:
            async with self._engine().begin() as conn:
                result = await conn.execute(
                    text(
                        f'DELETE FROM "{self.s}".inbox WHERE ctid = ANY(ARRAY('
                        f'SELECT ctid FROM "{self.s}".inbox WHERE received_at < :cutoff LIMIT :chunk))'
                    ),
                    {"cutoff": cutoff, "chunk": self.chunk},
                )
            deleted += result.rowcount
            if result.rowcount < self.chunk:
                return deleted

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                if deleted := await self.prune():
                    log.info("inbox pruned: %d rows older than %s", deleted, self.retention)
            except Exception as error:  # the database may be restarting: try again next round
                log.warning("inbox pruning failed: %r", error)
            await wait_for_stop(stop, self.interval_s)
