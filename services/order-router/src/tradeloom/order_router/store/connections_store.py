"""The ``exchange_connections`` table: sealed credentials, never anything in the clear but the
key's last four characters."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.order_router.credentials import SealedCredentials, StoredCredentials
from tradeloom.order_router.venues import Permissions
from tradeloom.shared.db import check_schema_name
from tradeloom.shared.ids import parse_uuid

CONNECTION_COLUMNS = (
    "id, user_id, venue, label, sandbox, sealed, key_version, api_key_last4, permissions, "
    "created_at, updated_at"
)


def permissions_json(permissions: Permissions) -> str:
    return json.dumps(
        {"read": permissions.read, "trade": permissions.trade, "withdraw": permissions.withdraw}
    )


class ConnectionsStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def create(
        self,
        conn: AsyncConnection,
        *,
        connection_id: uuid.UUID,
        user_id: str,
        venue: str,
        label: str,
        sandbox: bool,
        sealed: SealedCredentials,
        api_key_last4: str,
        permissions: Permissions,
    ) -> Row[Any]:
        result = await conn.execute(
            text(
                f'INSERT INTO "{self.s}".exchange_connections (id, user_id, venue, label, sandbox, sealed, '
                "key_version, api_key_last4, permissions) VALUES (:id, :user, :venue, :label, :sandbox, "
                ":sealed, :version, :last4, CAST(:permissions AS jsonb)) "
                f"RETURNING {CONNECTION_COLUMNS}"
            ),
            {
                "id": connection_id,
                "user": user_id,
                "venue": venue,
                "label": label,
                "sandbox": sandbox,
                "sealed": sealed.to_token(),
                "version": sealed.key_version,
                "last4": api_key_last4,
                "permissions": permissions_json(permissions),
            },
        )
        return result.one()

    async def get(
        self, conn: AsyncConnection, connection_id: str, user_id: str | None, *, for_update: bool = False
    ) -> Row[Any] | None:
        """The connection if it is ``user_id``'s (any user when ``None``: internal callers)."""
        key = parse_uuid(connection_id)
        if key is None:
            return None
        lock = " FOR UPDATE" if for_update else ""
        result = await conn.execute(
            text(
                f'SELECT {CONNECTION_COLUMNS} FROM "{self.s}".exchange_connections WHERE id = :id '
                f"AND (CAST(:user AS text) IS NULL OR user_id = :user){lock}"
            ),
            {"id": key, "user": user_id},
        )
        return result.first()

    async def page(
        self, conn: AsyncConnection, user_id: str, *, limit: int, before: uuid.UUID | None
    ) -> list[Row[Any]]:
        result = await conn.execute(
            text(
                f'SELECT {CONNECTION_COLUMNS} FROM "{self.s}".exchange_connections WHERE user_id = :user '
                "AND (CAST(:before AS uuid) IS NULL OR id < :before) ORDER BY id DESC LIMIT :limit"
            ),
            {"user": user_id, "before": before, "limit": limit},
        )
        return list(result.all())

    async def update(
        self,
        conn: AsyncConnection,
        connection_id: uuid.UUID,
        *,
        label: str,
        sandbox: bool,
        sealed: SealedCredentials | None = None,
        api_key_last4: str | None = None,
        permissions: Permissions | None = None,
    ) -> Row[Any]:
        """Label and sandbox always; the key (sealed, last four, permissions) when given."""
        sets = ["label = :label", "sandbox = :sandbox", "updated_at = now()"]
        params: dict[str, Any] = {"id": connection_id, "label": label, "sandbox": sandbox}
        if sealed is not None and permissions is not None:
            sets += [
                "sealed = :sealed",
                "key_version = :version",
                "api_key_last4 = :last4",
                "permissions = CAST(:permissions AS jsonb)",
            ]
            params |= {
                "sealed": sealed.to_token(),
                "version": sealed.key_version,
                "last4": api_key_last4,
                "permissions": permissions_json(permissions),
            }
        result = await conn.execute(
            text(
                f'UPDATE "{self.s}".exchange_connections SET {", ".join(sets)} WHERE id = :id '
                f"RETURNING {CONNECTION_COLUMNS}"
            ),
            params,
        )
        return result.one()

    async def delete(self, conn: AsyncConnection, connection_id: uuid.UUID) -> None:
        await conn.execute(
            text(f'DELETE FROM "{self.s}".exchange_connections WHERE id = :id'), {"id": connection_id}
        )

    async def in_use(self, conn: AsyncConnection, connection_id: uuid.UUID) -> bool:
        """True while an account that is not archived trades through the connection."""
        result = await conn.execute(
            text(
                f"SELECT 1 FROM \"{self.s}\".accounts WHERE connection_id = :id AND status = 'active' LIMIT 1"
            ),
            {"id": connection_id},
        )
        return result.first() is not None


class SqlCredentialStore:
    """``credentials.CredentialStore`` over the table: what key rotation reads and re-seals."""

    def __init__(self, engine: Callable[[], AsyncEngine], schema: str) -> None:
        self._engine = engine
        self.s = check_schema_name(schema)

    async def sealed_with_other_versions(self, current_version: int, limit: int) -> list[StoredCredentials]:
        async with self._engine().connect() as conn:
            result = await conn.execute(
                text(
                    f'SELECT id, user_id, sealed FROM "{self.s}".exchange_connections '
                    "WHERE key_version <> :version ORDER BY id LIMIT :limit"
                ),
                {"version": current_version, "limit": limit},
            )
            rows = result.all()
        return [
            StoredCredentials(str(row.user_id), str(row.id), SealedCredentials.from_token(row.sealed))
            for row in rows
        ]

    async def replace_sealed(
        self, connection_id: str, expected: SealedCredentials, new: SealedCredentials
    ) -> bool:
        async with self._engine().begin() as conn:
            result = await conn.execute(
                text(
                    f'UPDATE "{self.s}".exchange_connections SET sealed = :new, key_version = :version '
                    "WHERE id = :id AND sealed = :expected RETURNING 1"
                ),
                {
                    "id": uuid.UUID(connection_id),
                    "new": new.to_token(),
                    "version": new.key_version,
                    "expected": expected.to_token(),
                },
            )
            return result.first() is not None
