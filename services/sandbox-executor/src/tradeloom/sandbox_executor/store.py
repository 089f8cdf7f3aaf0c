"""SQL of the sandbox_executor schema: executions, quota usage, audit. Callers own transactions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.db import check_schema_name

COLUMNS = (
    "execution_id, kind, status, outcome, success, code_sha256, time_limit_s, memory_mb, wall_s, cpu_s,"
    " peak_memory_mb, created_at, finished_at"
)


@dataclass(frozen=True)
class Usage:
    """What a user has in use right now (read under the quota row's lock)."""

    running: int
    started_last_minute: int
    cpu_seconds_today: float


@dataclass(frozen=True)
class Finish:
    """The recorded end of an execution (also the audit row's figures)."""

    outcome: str
    success: bool
    error_code: str | None
    wall_s: float
    cpu_s: float
    peak_memory_mb: float
    reply: dict[str, Any] | None


class ExecutionStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def lock_usage(self, conn: AsyncConnection, user_id: str) -> Usage:
        """Lock the user's quota row for today (serialising admissions) and read current use."""
        s = self.s
        await conn.execute(
            text(
                f'INSERT INTO "{s}".quota_usage (user_id, day) VALUES (:u, current_date)'
                " ON CONFLICT DO NOTHING"
            ),
            {"u": user_id},
        )
        cpu = (
            await conn.execute(
                text(
                    f'SELECT cpu_seconds FROM "{s}".quota_usage'
                    " WHERE user_id = :u AND day = current_date FOR UPDATE"
                ),
                {"u": user_id},
            )
        ).scalar_one()
        counts = (
            await conn.execute(
                text(
                    f"SELECT count(*) FILTER (WHERE status = 'running' AND deadline_at > now()),"
                    f" count(*) FILTER (WHERE created_at > now() - interval '1 minute')"
                    f" FROM \"{s}\".executions WHERE user_id = :u AND created_at > now() - interval '1 day'"
                ),
                {"u": user_id},
            )
        ).one()
        return Usage(running=int(counts[0]), started_last_minute=int(counts[1]), cpu_seconds_today=float(cpu))

    async def insert(
        self,
        conn: AsyncConnection,
        *,
        execution_id: str,
        user_id: str,
        kind: str,
        status: str,
        code_sha256: str,
        code_chars: int,
        time_limit_s: float,
        memory_mb: int,
    ) -> None:
        started = "now()" if status == "running" else "NULL"
        deadline = (
            "now() + make_interval(secs => CAST(:t AS double precision) + 60)"
            if status == "running"
            else "NULL"
        )
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".executions (execution_id, user_id, kind, status, code_sha256,'
                " code_chars,"
                " time_limit_s, memory_mb, started_at, deadline_at)"
                " VALUES (:id, :u, :k, :st, :h, :c, CAST(:t AS double precision), :m,"
                f" {started}, {deadline})"
            ),
            {
                "id": execution_id,
                "u": user_id,
                "k": kind,
                "st": status,
                "h": code_sha256,
                "c": code_chars,
                "t": time_limit_s,
                "m": memory_mb,
            },
        )

    async def mark_running(self, conn: AsyncConnection, execution_id: str) -> datetime | None:
        row = (
            await conn.execute(
                text(
                    f"UPDATE \"{self.s}\".executions SET status = 'running', started_at = now(),"
                    " deadline_at = now() + make_interval(secs => time_limit_s + 60)"
                    " WHERE execution_id = :id AND status <> 'finished' RETURNING started_at"
                ),
                {"id": execution_id},
            )
        ).first()
        return None if row is None else row[0]

    async def finish(self, conn: AsyncConnection, execution_id: str, user_id: str, done: Finish) -> datetime:
        s = self.s
        finished_at = (
            await conn.execute(
                text(
                    f"UPDATE \"{s}\".executions SET status = 'finished', outcome = :o, success = :ok,"
                    " error_code = :e,"
                    " wall_s = :w, cpu_s = :c, peak_memory_mb = :p,"
                    " reply = CAST(:r AS jsonb), finished_at = now()"
                    " WHERE execution_id = :id RETURNING finished_at"
                ),
                {
                    "id": execution_id,
                    "o": done.outcome,
                    "ok": done.success,
                    "e": done.error_code,
                    "w": done.wall_s,
                    "c": done.cpu_s,
                    "p": done.peak_memory_mb,
                    "r": None if done.reply is None else json.dumps(done.reply),
                },
            )
        ).scalar_one()
        await conn.execute(
            text(
                f'INSERT INTO "{s}".quota_usage (user_id, day, cpu_seconds, executions)'
                " VALUES (:u, current_date, :c, 1)"
                " ON CONFLICT (user_id, day) DO UPDATE SET cpu_seconds = quota_usage.cpu_seconds + :c,"
                " executions = quota_usage.executions + 1"
            ),
            {"u": user_id, "c": done.cpu_s},
        )
        return finished_at  # type: ignore[no-any-return]

    async def audit(
        self,
        conn: AsyncConnection,
        *,
        user_id: str,
        code_sha256: str,
        outcome: str,
        execution_id: str | None = None,
        time_limit_s: float | None = None,
        memory_mb: int | None = None,
        error_code: str | None = None,
        done: Finish | None = None,
        detail: str | None = None,
    ) -> None:
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".audit (user_id, execution_id, code_sha256, time_limit_s, memory_mb,'
                " outcome,"
                " error_code, wall_s, cpu_s, peak_memory_mb, detail)"
                " VALUES (:u, :id, :h, :t, :m, :o, :e, :w, :c, :p, :d)"
            ),
            {
                "u": user_id,
                "id": execution_id,
                "h": code_sha256,
                "t": time_limit_s,
                "m": memory_mb,
                "o": outcome,
                "e": error_code,
                "w": done.wall_s if done else None,
                "c": done.cpu_s if done else None,
                "p": done.peak_memory_mb if done else None,
                "d": (detail or "")[:500] or None,
            },
        )

    async def history(
        self, conn: AsyncConnection, user_id: str, limit: int, before: datetime | None
    ) -> list[dict[str, Any]]:
        where = "user_id = :u" + (" AND created_at < :b" if before else "")
        rows = await conn.execute(
            text(
                f'SELECT {COLUMNS} FROM "{self.s}".executions WHERE {where} ORDER BY created_at DESC LIMIT :n'
            ),
            {"u": user_id, "b": before, "n": limit},
        )
        return [dict(row._mapping) for row in rows]

    async def get(self, conn: AsyncConnection, user_id: str, execution_id: str) -> dict[str, Any] | None:
        row = (
            await conn.execute(
                text(
                    f'SELECT {COLUMNS}, reply, error_code FROM "{self.s}".executions'
                    " WHERE execution_id = :id AND user_id = :u"
                ),
                {"id": execution_id, "u": user_id},
            )
        ).first()
        return None if row is None else dict(row._mapping)
