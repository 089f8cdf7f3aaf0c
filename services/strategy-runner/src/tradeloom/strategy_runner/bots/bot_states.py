"""``tl_bots{state}`` on ``/metrics``: how many bots are in each state, counted in the table every
``interval_s`` (each replica reports the same totals: aggregate with ``max``, not ``sum``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import get_args

from prometheus_client import CollectorRegistry, Gauge
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.shared.aio import wait_for_stop
from tradeloom.shared.contracts.bots import BOT_STATUS
from tradeloom.shared.db import check_schema_name

log = logging.getLogger(__name__)


class BotStates:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        schema: str,
        registry: CollectorRegistry | None,
        interval_s: float,
    ) -> None:
        self._engine = engine
        self.s = check_schema_name(schema)
        self.interval_s = interval_s
        self.bots = Gauge("tl_bots", "Bots by state (every replica counts all)", ["state"], registry=registry)

    async def refresh(self) -> dict[str, int]:
        async with self._engine().connect() as conn:
            rows = await conn.execute(text(f'SELECT status, count(*) FROM "{self.s}".bots GROUP BY status'))
            counts = {str(status): int(n) for status, n in rows}
        for state in get_args(BOT_STATUS):
            self.bots.labels(state).set(counts.get(state, 0))
        return counts

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.refresh()
            except Exception as error:  # the database may be restarting: count again next round
                log.warning("counting bots by state failed: %r", error)
            await wait_for_stop(stop, self.interval_s)
