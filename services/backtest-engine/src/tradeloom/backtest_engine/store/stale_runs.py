"""SQL of the sweeper: runs whose worker was lost, failed in place (see ``sweeper.py``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.db import check_schema_name

WORKER_LOST = "worker_lost"


class StaleRunsStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def fail_running(
        self, conn: AsyncConnection, stale_after_s: float, message: str, limit: int = 100
    ) -> list[Row[Any]]:
        """Fail ``running`` runs with no heartbeat (nor start or progress) for ``stale_after_s``.

        The comparison uses the database clock on both sides (workers stamp ``now()``), so replicas'
        clocks do not matter. A row a worker has locked to store its results is skipped: that
        worker is alive and about to finish it."""
        rows = await conn.execute(
            text(
                f"UPDATE \"{self.s}\".runs SET status = 'failed', finished_at = now(), "
                "error_code = :code, error = :error WHERE backtest_id IN ("
                f"SELECT backtest_id FROM \"{self.s}\".runs WHERE status = 'running' "
                "AND coalesce(heartbeat_at, started_at, created_at) "
                "< now() - make_interval(secs => :stale) "
                "ORDER BY backtest_id LIMIT :limit FOR NO KEY UPDATE SKIP LOCKED) "
                "AND status = 'running' RETURNING backtest_id, user_id, finished_at, error"
            ),
            {"code": WORKER_LOST, "error": message, "stale": stale_after_s, "limit": limit},
        )
        return list(rows.all())

    async def fail_queued(
        self, conn: AsyncConnection, stale_after_s: float, message: str, limit: int = 100
    ) -> list[Row[Any]]:
        """Fail ``queued`` runs older than ``stale_after_s`` whose command has been published.

        Only called when the work queue holds no undelivered and no unacknowledged command, so
        such a run's command was consumed without ever starting it (e.g. dead-lettered)."""
        rows = await conn.execute(
            text(
                f"UPDATE \"{self.s}\".runs SET status = 'failed', finished_at = now(), "
                "error_code = :code, error = :error WHERE backtest_id IN ("
                f"SELECT r.backtest_id FROM \"{self.s}\".runs r WHERE r.status = 'queued' "
                "AND r.created_at < now() - make_interval(secs => :stale) "
                f'AND NOT EXISTS (SELECT 1 FROM "{self.s}".outbox o '
                "WHERE o.event_id = r.backtest_id AND o.published_at IS NULL) "
                "ORDER BY r.backtest_id LIMIT :limit FOR NO KEY UPDATE SKIP LOCKED) "
                "AND status = 'queued' RETURNING backtest_id, user_id, finished_at, error"
            ),
            {"code": WORKER_LOST, "error": message, "stale": stale_after_s, "limit": limit},
        )
        return list(rows.all())
