"""Users, their credentials and preferences."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import uuid6
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


class EmailTaken(Exception):
    """Another user registered this email."""


@dataclass(frozen=True)
class UserRow:
    id: str
    email: str
    display_name: str
    role: str
    status: str
    created_at: datetime
    updated_at: datetime
    tokens_valid_after: datetime | None


@dataclass(frozen=True)
class AuthState:
    """What each authenticated request re-checks (briefly cached): status, role, revocations."""

    status: str
    role: str
    tokens_valid_after: datetime | None
    session_revoked: bool


USER_COLUMNS = "id::text, email, display_name, role, status, created_at, updated_at, tokens_valid_after"


def _user(row: Any) -> UserRow:
    return UserRow(*row)


class UserStore:
    def __init__(self, engine: AsyncEngine, schema: str) -> None:
        self.engine = engine
        self.s = schema

    async def create(
        self, conn: AsyncConnection, email: str, password_hash: str, display_name: str, role: str = "user"
    ) -> UserRow:
        user_id = str(uuid6.uuid7())
        try:
            async with conn.begin_nested():
                result = await conn.execute(
                    text(
                        f'INSERT INTO "{self.s}".users (id, email, display_name, role) '
                        f"VALUES (:id, :email, :name, :role) RETURNING {USER_COLUMNS}"
                    ),
                    {"id": user_id, "email": email, "name": display_name, "role": role},
                )
        except IntegrityError as error:
            raise EmailTaken(email) from error
        user = _user(result.one())
        await conn.execute(
            text(f'INSERT INTO "{self.s}".credentials (user_id, password_hash) VALUES (:id, :hash)'),
            {"id": user_id, "hash": password_hash},
        )
        return user

    async def by_email(self, email: str) -> tuple[UserRow, str] | None:
        """The user and their password hash."""
        async with self.engine.connect() as conn:
            result = await conn.execute(
                text(
                    f"SELECT {', '.join('u.' + c for c in USER_COLUMNS.split(', '))}, c.password_hash "
                    f'FROM "{self.s}".users u JOIN "{self.s}".credentials c ON c.user_id = u.id '
                    "WHERE u.email = :email"
                ),
                {"email": email},
            )
            row = result.one_or_none()
        return None if row is None else (_user(row[:-1]), str(row[-1]))

    async def get(self, user_id: str) -> UserRow | None:
        async with self.engine.connect() as conn:
            result = await conn.execute(
                text(f'SELECT {USER_COLUMNS} FROM "{self.s}".users WHERE id = :id'), {"id": user_id}
            )
            row = result.one_or_none()
        return None if row is None else _user(row)

    async def password_hash(self, user_id: str) -> str | None:
        async with self.engine.connect() as conn:
            result = await conn.execute(
                text(f'SELECT password_hash FROM "{self.s}".credentials WHERE user_id = :id'), {"id": user_id}
            )
            value = result.scalar_one_or_none()
        return None if value is None else str(value)

    async def set_password_hash(self, conn: AsyncConnection, user_id: str, password_hash: str) -> None:
        await conn.execute(
            text(
                f'UPDATE "{self.s}".credentials SET password_hash = :hash, updated_at = now() '
                "WHERE user_id = :id"
            ),
            {"id": user_id, "hash": password_hash},
        )

    async def auth_state(self, user_id: str, session_id: str | None) -> AuthState | None:
        async with self.engine.connect() as conn:
            result = await conn.execute(
                text(
                    "SELECT u.status, u.role, u.tokens_valid_after, "
                    "(f.id IS NULL OR f.revoked_at IS NOT NULL) AS revoked "
                    f'FROM "{self.s}".users u LEFT JOIN "{self.s}".refresh_families f '
                    "ON f.id = CAST(:sid AS uuid) AND f.user_id = u.id WHERE u.id = :id"
                ),
                {"id": user_id, "sid": session_id},
            )
            row = result.one_or_none()
        if row is None:
            return None
        return AuthState(str(row[0]), str(row[1]), row[2], bool(row[3]) if session_id else False)

    async def update_profile(self, conn: AsyncConnection, user_id: str, display_name: str) -> UserRow | None:
        result = await conn.execute(
            text(
                f'UPDATE "{self.s}".users SET display_name = :name, updated_at = now() '
                f"WHERE id = :id RETURNING {USER_COLUMNS}"
            ),
            {"id": user_id, "name": display_name},
        )
        row = result.one_or_none()
        return None if row is None else _user(row)

    async def set_status(self, conn: AsyncConnection, user_id: str, status: str) -> UserRow | None:
        result = await conn.execute(
            text(
                f'UPDATE "{self.s}".users SET status = :status, updated_at = now(), '
                "disabled_at = CASE WHEN :status = 'disabled' THEN now() END, "
                "tokens_valid_after = CASE WHEN :status = 'disabled' THEN now() ELSE tokens_valid_after END "
                f"WHERE id = :id RETURNING {USER_COLUMNS}"
            ),
            {"id": user_id, "status": status},
        )
        row = result.one_or_none()
        return None if row is None else _user(row)

    async def invalidate_tokens(self, conn: AsyncConnection, user_id: str) -> None:
        """Every access token issued before now stops working (log out everywhere)."""
        await conn.execute(
            text(f'UPDATE "{self.s}".users SET tokens_valid_after = now() WHERE id = :id'), {"id": user_id}
        )

    async def page(self, after: str | None, limit: int) -> list[UserRow]:
        """Users newest first (ids are UUIDv7, so id order is creation order)."""
        async with self.engine.connect() as conn:
            result = await conn.execute(
                text(
                    f'SELECT {USER_COLUMNS} FROM "{self.s}".users '
                    "WHERE (CAST(:after AS uuid) IS NULL OR id < CAST(:after AS uuid)) "
                    "ORDER BY id DESC LIMIT :limit"
                ),
                {"after": after, "limit": limit},
            )
            return [_user(row) for row in result]

    async def preferences(self, user_id: str, conn: AsyncConnection | None = None) -> dict[str, Any]:
        """The stored overrides; inside ``conn`` (a transaction) the row stays locked until it ends."""
        query = text(
            f'SELECT data FROM "{self.s}".preferences WHERE user_id = :id' + (" FOR UPDATE" if conn else "")
        )
        if conn is None:
            async with self.engine.connect() as own:
                value = (await own.execute(query, {"id": user_id})).scalar_one_or_none()
        else:
            value = (await conn.execute(query, {"id": user_id})).scalar_one_or_none()
        return dict(value) if isinstance(value, dict) else {}

    async def save_preferences(self, conn: AsyncConnection, user_id: str, data: dict[str, Any]) -> None:
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".preferences (user_id, data) VALUES (:id, CAST(:data AS jsonb)) '
                "ON CONFLICT (user_id) DO UPDATE SET data = EXCLUDED.data, updated_at = now()"
            ),
            {"id": user_id, "data": json.dumps(data)},
        )


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
