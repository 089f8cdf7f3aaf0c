"""The audit log: append-only rows of who did what, when, from where, with which outcome."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.shared.group_commit import GroupCommit


@dataclass(frozen=True)
class AuditEntry:
    action: str
    outcome: str
    user_id: str | None = None  # whose account the entry is about (who may read it)
    actor_id: str | None = None  # who did it (an admin acting on a user, or the user)
    ip: str | None = None
    request_id: str | None = None
    details: dict[str, Any] | None = None


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    user_id: str | None
    actor_id: str | None
    action: str
    outcome: str
    ip: str | None
    request_id: str | None
    details: dict[str, Any]


class AuditStore:
    def __init__(self, engine: AsyncEngine, schema: str) -> None:
        self.engine = engine
        self.s = schema
        self._group: GroupCommit[AuditEntry] = GroupCommit(self._write)

    async def add(self, conn: AsyncConnection, entry: AuditEntry) -> None:
        """Write ``entry`` in the caller's transaction (with the change it records)."""
        await self._insert(conn, [entry])

    async def _insert(self, conn: AsyncConnection, entries: list[AuditEntry]) -> None:
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".audit_log '
                "(user_id, actor_id, action, outcome, ip, request_id, details) "
                "VALUES (CAST(:user_id AS uuid), CAST(:actor_id AS uuid), :action, :outcome, :ip, :rid, "
                "CAST(:details AS jsonb))"
            ),
            [
                {
                    "user_id": entry.user_id,
                    "actor_id": entry.actor_id,
                    "action": entry.action,
                    "outcome": entry.outcome,
                    "ip": entry.ip,
                    "rid": entry.request_id,
                    "details": json.dumps(entry.details or {}, default=str),
                }
                for entry in entries
            ],
        )

    async def _write(self, entries: list[AuditEntry]) -> None:
        async with self.engine.begin() as conn:
            await self._insert(conn, entries)

    async def record(self, entry: AuditEntry) -> None:
        """Write one entry in a transaction of its own (for outcomes that must persist on failure
        too, and for every proxied state change): returns once it is written. Entries recorded
        while a write is in flight share the next one (``GroupCommit``): one transaction for many
        requests under load, none of them answered before its entry is stored."""
        await self._group.record(entry)

    async def page(self, user_id: str | None, after: int | None, limit: int) -> list[AuditRow]:
        """Newest first; ``user_id=None`` reads everyone's entries (admins)."""
        async with self.engine.connect() as conn:
            result = await conn.execute(
                text(
                    "SELECT id, at, user_id::text, actor_id::text, action, outcome, ip, request_id, details "
                    f'FROM "{self.s}".audit_log WHERE (CAST(:user_id AS uuid) IS NULL '
                    "OR user_id = CAST(:user_id AS uuid)) "
                    "AND (CAST(:after AS bigint) IS NULL OR id < CAST(:after AS bigint)) "
                    "ORDER BY id DESC LIMIT :limit"
                ),
                {"user_id": user_id, "after": after, "limit": limit},
            )
            return [AuditRow(*row) for row in result]
