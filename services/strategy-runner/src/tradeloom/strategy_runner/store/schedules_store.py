"""The ``schedules`` and ``schedule_runs`` tables; owner-facing queries are scoped by ``user_id``."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.db import check_schema_name
from tradeloom.shared.ids import parse_uuid

COLUMNS = (
    "id, user_id, name, cron, interval_s, timezone, action, missed, enabled, anchor, next_run_at, "
    "created_at, updated_at"
)
RUN_COLUMNS = "scheduled_for, outcome, detail, backtest_id, import_id, report, started_at, finished_at"


class SchedulesStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def create(self, conn: AsyncConnection, schedule_id: str, values: dict[str, Any]) -> Row[Any]:
        result = await conn.execute(
            text(
                f'INSERT INTO "{self.s}".schedules (id, user_id, name, cron, interval_s, timezone, action, '
                "missed, enabled, anchor, next_run_at) VALUES (:id, :user_id, :name, :cron, :interval_s, "
                ":timezone, CAST(:action AS jsonb), :missed, :enabled, :anchor, :next_run_at) "
                f"RETURNING {COLUMNS}"
            ),
            {**values, "id": uuid.UUID(schedule_id), "action": json.dumps(values["action"])},
        )
        return result.one()

    async def get(
        self, conn: AsyncConnection, schedule_id: str, user_id: str, *, lock: bool = False
    ) -> Row[Any] | None:
        key = parse_uuid(schedule_id)
        if key is None:
            return None
        result = await conn.execute(
            text(
                f'SELECT {COLUMNS} FROM "{self.s}".schedules WHERE id = :id AND user_id = :user'
                + (" FOR UPDATE" if lock else "")
            ),
            {"id": key, "user": user_id},
        )
        return result.first()

    async def list_schedules(
        self, conn: AsyncConnection, user_id: str, limit: int, after: uuid.UUID | None
    ) -> list[Row[Any]]:
        result = await conn.execute(
            text(
                f'SELECT {COLUMNS} FROM "{self.s}".schedules WHERE user_id = :user '
                "AND (CAST(:after AS uuid) IS NULL OR id < :after) ORDER BY id DESC LIMIT :n"
            ),
            {"user": user_id, "after": after, "n": limit},
        )
        return list(result)

    async def set_enabled(
        self,
        conn: AsyncConnection,
        key: uuid.UUID,
        enabled: bool,
        anchor: datetime,
        next_run_at: datetime | None,
    ) -> Row[Any]:
        result = await conn.execute(
            text(
                f'UPDATE "{self.s}".schedules SET enabled = :enabled, anchor = :anchor, '
                f"next_run_at = :next, updated_at = now() WHERE id = :id RETURNING {COLUMNS}"
            ),
            {"id": key, "enabled": enabled, "anchor": anchor, "next": next_run_at},
        )
        return result.one()

    async def delete(self, conn: AsyncConnection, key: uuid.UUID) -> None:
        await conn.execute(text(f'DELETE FROM "{self.s}".schedules WHERE id = :id'), {"id": key})

    # ------------------------------------------------------------------------------ the scheduler
    async def lock_due(self, conn: AsyncConnection, limit: int) -> list[Row[Any]]:
        """Enabled schedules whose next firing has come, row-locked; ones another replica holds
        are skipped (it is handling them)."""
        result = await conn.execute(
            text(
                f'SELECT {COLUMNS} FROM "{self.s}".schedules WHERE enabled AND next_run_at <= now() '
                "ORDER BY next_run_at LIMIT :n FOR UPDATE SKIP LOCKED"
            ),
            {"n": limit},
        )
        return list(result)

    async def advance(self, conn: AsyncConnection, key: uuid.UUID, next_run_at: datetime) -> None:
        await conn.execute(
            text(f'UPDATE "{self.s}".schedules SET next_run_at = :next WHERE id = :id'),
            {"id": key, "next": next_run_at},
        )

    async def claim_run(
        self, conn: AsyncConnection, key: uuid.UUID, scheduled_for: datetime, *, owner: str, outcome: str,
        detail: str = "",
    ) -> bool:  # fmt: skip
        """Claim one firing: False when a run for it exists already (another replica has it)."""
        result = await conn.execute(
            text(
                f'INSERT INTO "{self.s}".schedule_runs (schedule_id, scheduled_for, claimed_by, outcome, '
                "detail, finished_at) VALUES (:id, :at, :owner, :outcome, :detail, CASE WHEN :outcome = "
                "'running' THEN NULL ELSE now() END) ON CONFLICT DO NOTHING RETURNING schedule_id"
            ),
            {"id": key, "at": scheduled_for, "owner": owner, "outcome": outcome, "detail": detail},
        )
        return result.first() is not None

    async def take_stale_runs(
        self, conn: AsyncConnection, owner: str, *, stale_s: float, max_attempts: int, limit: int
    ) -> list[Row[Any]]:
        """Runs left ``running`` longer than ``stale_s`` (their replica died between claim and
        outcome), taken over by ``owner`` for another attempt; those out of attempts are failed.

        The ``UPDATE`` re-checks ``started_at`` on the row it locks, so of two replicas only one
        takes a run (the other sees it restarted)."""
        params = {"owner": owner, "stale": stale_s, "max": max_attempts, "n": limit}
        await conn.execute(
            text(
                f"UPDATE \"{self.s}\".schedule_runs SET outcome = 'failed', finished_at = now(), "
                "detail = 'the replica ' || claimed_by || ' died while running it, ' || attempts || "
                "' attempt(s)' WHERE outcome = 'running' "
                "AND started_at < now() - make_interval(secs => :stale) AND attempts >= :max"
            ),
            params,
        )
        result = await conn.execute(
            text(
                f'UPDATE "{self.s}".schedule_runs r SET claimed_by = :owner, started_at = now(), '
                "attempts = r.attempts + 1, detail = 'retried: the replica ' || r.claimed_by || ' died' "
                f'FROM "{self.s}".schedules s WHERE s.id = r.schedule_id '
                "AND (r.schedule_id, r.scheduled_for) IN (SELECT schedule_id, scheduled_for "
                f"FROM \"{self.s}\".schedule_runs WHERE outcome = 'running' "
                "AND started_at < now() - make_interval(secs => :stale) AND attempts < :max LIMIT :n "
                "FOR UPDATE SKIP LOCKED) "
                "RETURNING s.id, s.user_id, s.action, r.scheduled_for"
            ),
            params,
        )
        return list(result)

    async def finish_run(
        self, conn: AsyncConnection, key: uuid.UUID, scheduled_for: datetime, *, outcome: str, detail: str,
        backtest_id: str | None, import_id: str | None = None, report: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        await conn.execute(
            text(
                f'UPDATE "{self.s}".schedule_runs SET outcome = :outcome, detail = :detail, '
                "backtest_id = :bt, import_id = :imp, report = CAST(:report AS jsonb), finished_at = now() "
                "WHERE schedule_id = :id AND scheduled_for = :at"
            ),
            {
                "id": key, "at": scheduled_for, "outcome": outcome, "detail": detail, "bt": backtest_id,
                "imp": import_id, "report": None if report is None else json.dumps(report),
            },
        )  # fmt: skip

    async def runs(
        self, conn: AsyncConnection, key: uuid.UUID, limit: int, before: datetime | None
    ) -> list[Row[Any]]:
        result = await conn.execute(
            text(
                f'SELECT {RUN_COLUMNS} FROM "{self.s}".schedule_runs WHERE schedule_id = :id '
                "AND (CAST(:before AS timestamptz) IS NULL OR scheduled_for < :before) "
                "ORDER BY scheduled_for DESC LIMIT :n"
            ),
            {"id": key, "before": before, "n": limit},
        )
        return list(result)

    async def user_runs(
        self, conn: AsyncConnection, user_id: str, limit: int, *, active_only: bool
    ) -> list[Row[Any]]:
        """The newest runs of all the user's schedules (for the jobs view)."""
        result = await conn.execute(
            text(
                "SELECT r.schedule_id, s.name, s.action, r.scheduled_for, r.outcome, r.detail, "
                "r.backtest_id, r.started_at, r.finished_at "
                f'FROM "{self.s}".schedule_runs r JOIN "{self.s}".schedules s ON s.id = r.schedule_id '
                "WHERE s.user_id = :user AND (NOT :active OR r.outcome = 'running') "
                "ORDER BY r.started_at DESC LIMIT :n"
            ),
            {"user": user_id, "active": active_only, "n": limit},
        )
        return list(result)
