"""The stale-run sweeper: fails runs whose worker was lost, so that no run stays "running" forever.

A worker that dies mid-run is normally replaced by JetStream's redelivery. On the command's last
allowed delivery there is no redelivery, and the run would stay ``running`` for ever. Workers
stamp ``runs.heartbeat_at`` every ``HEARTBEAT_INTERVAL_S`` while they run a run (and at start and
on every progress update); this task, every ``SWEEP_INTERVAL_S`` on every replica, fails
``running`` runs whose stamp is older than the staleness bound with ``worker_lost``, publishing
the same ``failed`` event a normal failure publishes (WebSocket/SSE watchers see the end).

The bound is ``STALE_RUN_AFTER_S`` but never less than the run consumer's longest redelivery wait
plus two heartbeats: a run whose worker died on an earlier delivery is restarted (and stamped)
by its redelivery before it can look stale, and a healthy worker, however long its run, stamps
it far more often than the bound. A replica sweeps only after it has been up for one bound, so
that after an outage the redeliveries get their chance first.

Final is final: the first final status wins. A run swept as ``worker_lost`` is never restarted (a
later delivery finds it final and is acknowledged without effect), and a worker that was only
cut off and comes back finds it final when it locks the run to store results: it stores nothing
and announces nothing. Conversely a worker storing its results holds the run's row, and the
sweep skips locked rows.

A ``queued`` run has no worker to stamp it; it is failed only when it is older than the bound,
its command has left the outbox, and the work queue holds no undelivered or unacknowledged
command: then its command was consumed without starting it (e.g. dead-lettered).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from nats.js import JetStreamContext
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.backtest_engine.settings import BacktestEngineSettings
from tradeloom.backtest_engine.store.stale_runs import WORKER_LOST, StaleRunsStore
from tradeloom.shared.aio import wait_for_stop
from tradeloom.shared.contracts.backtest import BacktestFailed
from tradeloom.shared.outbox import Outbox
from tradeloom.shared.streams import ConsumerSpec
from tradeloom.shared.subjects import Subjects

log = logging.getLogger(__name__)


def staleness_bound(settings: BacktestEngineSettings, spec: ConsumerSpec) -> float:
    """``STALE_RUN_AFTER_S``, raised if needed above the longest redelivery wait plus two beats."""
    longest_wait = max(spec.backoff_s) if spec.backoff_s else 30.0
    return max(settings.stale_run_after_s, longest_wait + 2 * settings.heartbeat_interval_s)


class RunSweeper:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        js: Callable[[], JetStreamContext],
        *,
        subjects: Subjects,
        outbox: Outbox,
        settings: BacktestEngineSettings,
        spec: ConsumerSpec,
    ) -> None:
        self._engine = engine
        self._js = js
        self.subjects = subjects
        self.outbox = outbox
        self.spec = spec
        self.interval_s = settings.sweep_interval_s
        self.bound_s = staleness_bound(settings, spec)
        self.store = StaleRunsStore(settings.db_schema)

    async def sweep_stale_runs(self, stop: asyncio.Event) -> None:
        """The runtime task: wait one bound after start, then sweep every interval until ``stop``."""
        log.info("stale-run sweeper: runs without a heartbeat for %.0f s fail as worker_lost", self.bound_s)
        if await wait_for_stop(stop, self.bound_s):
            return
        while True:
            try:
                await self.sweep_once()
            except Exception as error:  # the next sweep tries again
                log.warning("stale-run sweep failed: %r", error)
            if await wait_for_stop(stop, self.interval_s):
                return

    async def sweep_once(self) -> list[str]:
        """Fail what is stale now; returns the ids failed."""
        started = time.monotonic()
        message = (
            f"the worker running it stopped (no heartbeat for {self.bound_s:.0f} s) and no retry took it over"
        )
        async with self._engine().begin() as conn:
            swept = await self.store.fail_running(conn, self.bound_s, message)
            await self._announce(conn, swept)
        if await self._queue_idle():
            queued_message = "its run command was consumed without starting it"
            async with self._engine().begin() as conn:
                lost = await self.store.fail_queued(conn, self.bound_s, queued_message)
                await self._announce(conn, lost)
            swept += lost
        if swept:
            log.warning(
                "failed %d run(s) as %s in %.3f s: %s",
                len(swept),
                WORKER_LOST,
                time.monotonic() - started,
                ", ".join(r.backtest_id for r in swept),
            )
        return [r.backtest_id for r in swept]

    async def _announce(self, conn: Any, rows: list[Row[Any]]) -> None:
        for row in rows:
            event = BacktestFailed(
                backtest_id=row.backtest_id,
                user_id=row.user_id,
                error_code=WORKER_LOST,
                error=row.error,
                finished_at=row.finished_at,
            )
            await self.outbox.add(conn, event, row.backtest_id)

    async def _queue_idle(self) -> bool:
        """Whether the run consumer has nothing undelivered and nothing awaiting an ack."""
        try:
            info = await self._js().consumer_info(self.subjects.stream(self.spec.stream), self.spec.durable)
        except Exception as error:  # no answer: assume busy, sweep queued runs another time
            log.debug("consumer info unavailable: %r", error)
            return False
        return (info.num_pending or 0) == 0 and (info.num_ack_pending or 0) == 0
