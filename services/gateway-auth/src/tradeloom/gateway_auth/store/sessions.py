"""Refresh-token families (one per login session) and their rotating tokens, stored hashed."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

import uuid6
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


class RefreshOutcome(enum.Enum):
    ROTATED = "rotated"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    REVOKED = "revoked"  # the family was already revoked (logout, reuse, disable)
    REUSED = "reused"  # a rotated token came back: the family is revoked now


@dataclass(frozen=True)
class RefreshResult:
    outcome: RefreshOutcome
    user_id: str | None = None
    family_id: str | None = None


@dataclass(frozen=True)
class SessionRow:
    id: str
    created_at: datetime
    last_used_at: datetime
    ip: str | None
    user_agent: str | None
    revoked_at: datetime | None


class SessionStore:
    def __init__(self, engine: AsyncEngine, schema: str) -> None:
        self.engine = engine
        self.s = schema

    async def start(
        self, conn: AsyncConnection, user_id: str, token_hash: bytes, *, ttl_s: int, ip: str, user_agent: str
    ) -> str:
        family_id = str(uuid6.uuid7())
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".refresh_families (id, user_id, ip, user_agent) '
                "VALUES (:id, :user_id, :ip, :ua)"
            ),
            {"id": family_id, "user_id": user_id, "ip": ip, "ua": user_agent[:300]},
        )
        await self._add_token(conn, family_id, token_hash, ttl_s)
        return family_id

    async def _add_token(self, conn: AsyncConnection, family_id: str, token_hash: bytes, ttl_s: int) -> None:
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".refresh_tokens (token_hash, family_id, expires_at) '
                "VALUES (:hash, :family, now() + make_interval(secs => :ttl))"
            ),
            {"hash": token_hash, "family": family_id, "ttl": ttl_s},
        )

    async def rotate(
        self, conn: AsyncConnection, old_hash: bytes, new_hash: bytes, ttl_s: int
    ) -> RefreshResult:
        """Swap ``old`` for ``new`` atomically; a second use of ``old`` revokes its whole family."""
        result = await conn.execute(
            text(
                "SELECT t.family_id::text, f.user_id::text, t.rotated_at IS NOT NULL, "
                "f.revoked_at IS NOT NULL, t.expires_at <= now(), u.status "
                f'FROM "{self.s}".refresh_tokens t '
                f'JOIN "{self.s}".refresh_families f ON f.id = t.family_id '
                f'JOIN "{self.s}".users u ON u.id = f.user_id '
                "WHERE t.token_hash = :hash FOR UPDATE OF t, f"
            ),
            {"hash": old_hash},
        )
        row = result.one_or_none()
        if row is None:
            return RefreshResult(RefreshOutcome.UNKNOWN)
        family_id, user_id, rotated, revoked, expired, status = row
        if revoked or status != "active":
            return RefreshResult(RefreshOutcome.REVOKED, user_id, family_id)
        if rotated:
            await self.revoke(conn, family_id, "refresh token reused")
            return RefreshResult(RefreshOutcome.REUSED, user_id, family_id)
        if expired:
            return RefreshResult(RefreshOutcome.EXPIRED, user_id, family_id)
        await conn.execute(
            text(f'UPDATE "{self.s}".refresh_tokens SET rotated_at = now() WHERE token_hash = :hash'),
            {"hash": old_hash},
        )
        await conn.execute(
            text(f'UPDATE "{self.s}".refresh_families SET last_used_at = now() WHERE id = :id'),
            {"id": family_id},
        )
        await self._add_token(conn, family_id, new_hash, ttl_s)
        return RefreshResult(RefreshOutcome.ROTATED, user_id, family_id)

    async def revoke(
        self, conn: AsyncConnection, family_id: str, reason: str, user_id: str | None = None
    ) -> bool:
        """Revoke one family (only ``user_id``'s when given); False when there was nothing to revoke."""
        result = await conn.execute(
            text(
                f'UPDATE "{self.s}".refresh_families SET revoked_at = now(), revoked_reason = :reason '
                "WHERE id = CAST(:id AS uuid) AND revoked_at IS NULL "
                "AND (CAST(:user_id AS uuid) IS NULL OR user_id = CAST(:user_id AS uuid))"
            ),
            {"id": family_id, "reason": reason, "user_id": user_id},
        )
        return bool(getattr(result, "rowcount", 0))

    async def revoke_all(self, conn: AsyncConnection, user_id: str, reason: str) -> int:
        result = await conn.execute(
            text(
                f'UPDATE "{self.s}".refresh_families SET revoked_at = now(), revoked_reason = :reason '
                "WHERE user_id = :user_id AND revoked_at IS NULL"
            ),
            {"user_id": user_id, "reason": reason},
        )
        return int(getattr(result, "rowcount", 0))

    async def page(self, user_id: str, after: str | None, limit: int) -> list[SessionRow]:
        """The user's active sessions, newest first."""
        async with self.engine.connect() as conn:
            result = await conn.execute(
                text(
                    "SELECT id::text, created_at, last_used_at, ip, user_agent, revoked_at "
                    f'FROM "{self.s}".refresh_families WHERE user_id = :user_id AND revoked_at IS NULL '
                    "AND (CAST(:after AS uuid) IS NULL OR id < CAST(:after AS uuid)) "
                    "ORDER BY id DESC LIMIT :limit"
                ),
                {"user_id": user_id, "after": after, "limit": limit},
            )
            return [SessionRow(*row) for row in result]

    async def active_ids(self, conn: AsyncConnection, user_id: str) -> list[str]:
        result = await conn.execute(
            text(
                f'SELECT id::text FROM "{self.s}".refresh_families '
                "WHERE user_id = :user_id AND revoked_at IS NULL"
            ),
            {"user_id": user_id},
        )
        return [str(row[0]) for row in result]

    async def logged_in_from(self, user_id: str, ip: str, within_days: int) -> bool:
        """Whether a session of ``user_id`` was started or refreshed from ``ip`` in ``within_days``."""
        async with self.engine.connect() as conn:
            result = await conn.execute(
                text(
                    f'SELECT EXISTS (SELECT 1 FROM "{self.s}".refresh_families WHERE user_id = :user_id '
                    "AND ip = :ip AND last_used_at > now() - make_interval(days => :days))"
                ),
                {"user_id": user_id, "ip": ip, "days": within_days},
            )
            return bool(result.scalar_one())
