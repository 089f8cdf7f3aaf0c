"""Periodic deletion of abandoned dataset uploads (begun, never committed nor aborted).

Every ``interval_s`` the task deletes uploads idle for more than ``ttl_s`` (see
``datasets_store.prune_uploads``), counts them in ``tl_md_dataset_uploads_pruned_total`` and logs
how many went. Several replicas may prune at once: the DELETE is idempotent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.market_data.store.datasets_store import prune_uploads
from tradeloom.shared.aio import wait_for_stop

log = logging.getLogger(__name__)


class UploadPruner:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        schema: str,
        *,
        ttl_s: float,
        interval_s: float,
        registry: CollectorRegistry,
    ) -> None:
        self._engine = engine  # the runtime's engine exists only once it has started
        self.schema = schema
        self.ttl_s = ttl_s
        self.interval_s = interval_s
        self.pruned = Counter(
            "tl_md_dataset_uploads_pruned",
            "Abandoned dataset uploads deleted after DATASET_UPLOAD_TTL_S without activity",
            registry=registry,
        )

    async def prune_once(self) -> int:
        async with self._engine().begin() as connection:
            count = await prune_uploads(connection, self.schema, self.ttl_s)
        self.pruned.inc(count)
        if count:
            log.info("pruned %d abandoned dataset uploads (idle over %ss)", count, self.ttl_s)
        return count

    async def run(self, stop: asyncio.Event) -> None:
        """Prune now and then every ``interval_s`` until ``stop``; a failed round is logged and retried."""
        while not stop.is_set():
            try:
                await self.prune_once()
            except Exception:
                log.exception("pruning abandoned dataset uploads failed; retrying in %ss", self.interval_s)
            if await wait_for_stop(stop, self.interval_s):
                return
