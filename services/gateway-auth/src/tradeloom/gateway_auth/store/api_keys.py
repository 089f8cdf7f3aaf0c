"""API keys: hashed secret, public key id, scopes, optional expiry, revocation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import uuid6
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

COLUMNS = "id::text, key_id, name, scopes, created_at, expires_at, revoked_at, last_used_at"


@dataclass(frozen=True)
class ApiKeyRow:
    id: str
    key_id: str
    name: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True)
class ApiKeyAuth:
    """What authenticating with a key needs: its owner, hash, scopes and whether it still works."""

    id: str
    user_id: str
    secret_hash: bytes
    scopes: list[str]
    usable: bool  # not revoked, not expired
    user_status: str
    role: str


class ApiKeyStore:
    def __init__(self, engine: AsyncEngine, schema: str) -> None:
        self.engine = engine
        self.s = schema

    async def create(
        self,
        conn: AsyncConnection,
        user_id: str,
        *,
        key_id: str,
        name: str,
        secret_hash: bytes,
        scopes: list[str],
        expires_at: datetime | None,
    ) -> ApiKeyRow:
        result = await conn.execute(
            text(
                f'INSERT INTO "{self.s}".api_keys '
                "(id, user_id, key_id, name, secret_hash, scopes, expires_at) "
                f"VALUES (:id, :user_id, :key_id, :name, :hash, :scopes, :expires_at) RETURNING {COLUMNS}"
            ),
            {
                "id": str(uuid6.uuid7()),
                "user_id": user_id,
                "key_id": key_id,
                "name": name,
                "hash": secret_hash,
                "scopes": scopes,
                "expires_at": expires_at,
            },
        )
        return ApiKeyRow(*result.one())

    async def for_auth(self, key_id: str) -> ApiKeyAuth | None:
        async with self.engine.connect() as conn:
            result = await conn.execute(
                text(
                    "SELECT k.id::text, k.user_id::text, k.secret_hash, k.scopes, "
                    "k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now()), "
                    f'u.status, u.role FROM "{self.s}".api_keys k JOIN "{self.s}".users u '
                    "ON u.id = k.user_id WHERE k.key_id = :key_id"
                ),
                {"key_id": key_id},
            )
            row = result.one_or_none()
        return None if row is None else ApiKeyAuth(row[0], row[1], bytes(row[2]), list(row[3]), *row[4:])

    async def get(self, user_id: str, key_uuid: str) -> ApiKeyRow | None:
        async with self.engine.connect() as conn:
            result = await conn.execute(
                text(
                    f'SELECT {COLUMNS} FROM "{self.s}".api_keys '
                    "WHERE id = CAST(:id AS uuid) AND user_id = :user_id"
                ),
                {"id": key_uuid, "user_id": user_id},
            )
            row = result.one_or_none()
        return None if row is None else ApiKeyRow(*row)

    async def revoke(self, conn: AsyncConnection, user_id: str, key_uuid: str) -> ApiKeyRow | None:
        """Revoke the caller's own key (idempotent); None when it is not theirs or does not exist."""
        result = await conn.execute(
            text(
                f'UPDATE "{self.s}".api_keys SET revoked_at = coalesce(revoked_at, now()) '
                f"WHERE id = CAST(:id AS uuid) AND user_id = :user_id RETURNING {COLUMNS}"
            ),
            {"id": key_uuid, "user_id": user_id},
        )
        row = result.one_or_none()
        return None if row is None else ApiKeyRow(*row)

    async def update(
        self,
        conn: AsyncConnection,
        user_id: str,
        key_uuid: str,
        *,
        name: str | None,
        scopes: list[str] | None,
        expires_at: datetime | None,
        set_expiry: bool,
    ) -> ApiKeyRow | None:
        """Change the caller's own live key in place (its secret stays); ``None`` values keep the
        current name/scopes, ``set_expiry`` replaces the expiry (``None``: never). None when the key
        is not theirs, unknown or revoked."""
        result = await conn.execute(
            text(
                f'UPDATE "{self.s}".api_keys SET name = coalesce(:name, name), '
                "scopes = coalesce(CAST(:scopes AS text[]), scopes), "
                "expires_at = CASE WHEN :set_expiry THEN CAST(:expires_at AS timestamptz) "
                "ELSE expires_at END "
                "WHERE id = CAST(:id AS uuid) AND user_id = :user_id AND revoked_at IS NULL "
                f"RETURNING {COLUMNS}"
            ),
            {
                "id": key_uuid,
                "user_id": user_id,
                "name": name,
                "scopes": scopes,
                "expires_at": expires_at,
                "set_expiry": set_expiry,
            },
        )
        row = result.one_or_none()
        return None if row is None else ApiKeyRow(*row)

    async def page(self, user_id: str, after: str | None, limit: int) -> list[ApiKeyRow]:
        async with self.engine.connect() as conn:
            result = await conn.execute(
                text(
                    f'SELECT {COLUMNS} FROM "{self.s}".api_keys WHERE user_id = :user_id '
                    "AND (CAST(:after AS uuid) IS NULL OR id < CAST(:after AS uuid)) "
                    "ORDER BY id DESC LIMIT :limit"
                ),
                {"user_id": user_id, "after": after, "limit": limit},
            )
            return [ApiKeyRow(*row) for row in result]

    async def touch(self, key_uuid: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                text(f'UPDATE "{self.s}".api_keys SET last_used_at = now() WHERE id = CAST(:id AS uuid)'),
                {"id": key_uuid},
            )
