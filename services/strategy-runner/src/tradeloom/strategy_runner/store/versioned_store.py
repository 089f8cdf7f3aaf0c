"""What a user's versioned objects (strategies, user indicators) share in Postgres: a parent table
(``id``, ``user_id``, ``latest_version``, …) and a versions table keyed by (``<key_column>``, ``version``).

Every query is scoped by ``user_id``. Ids are UUIDv7 strings; one that is not a UUID cannot exist, so
lookups answer ``None`` (the caller says not_found) instead of letting Postgres fail on the cast.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.db import check_schema_name
from tradeloom.shared.ids import parse_uuid


@dataclass(frozen=True)
class VersionedTables:
    """The names one kind of versioned object uses. ``version_columns`` select from the versions
    table as ``v`` joined to the parent as ``p``."""

    table: str
    versions_table: str
    key_column: str
    columns: str
    version_columns: str


class VersionedStore:
    def __init__(self, schema: str, tables: VersionedTables) -> None:
        self.s = check_schema_name(schema)
        self.t = tables

    async def get(self, conn: AsyncConnection, object_id: str, user_id: str) -> Row[Any] | None:
        key = parse_uuid(object_id)
        if key is None:
            return None
        result = await conn.execute(
            text(
                f'SELECT {self.t.columns} FROM "{self.s}".{self.t.table} WHERE id = :id AND user_id = :user'
            ),
            {"id": key, "user": user_id},
        )
        return result.first()

    async def delete(self, conn: AsyncConnection, object_id: str, user_id: str) -> bool:
        """Delete the object (its versions go with it: ON DELETE CASCADE); False when not the user's."""
        key = parse_uuid(object_id)
        if key is None:
            return False
        result = await conn.execute(
            text(f'DELETE FROM "{self.s}".{self.t.table} WHERE id = :id AND user_id = :user RETURNING 1'),
            {"id": key, "user": user_id},
        )
        return result.first() is not None

    async def bump_version(
        self, conn: AsyncConnection, object_id: str, user_id: str, max_versions: int
    ) -> tuple[uuid.UUID, int] | None:
        """The object's key and its next version number, by an atomic bump of ``latest_version``.

        The ``UPDATE`` row-locks the object until the caller's transaction ends, so two adds at once
        get N+1 and N+2, never the same number. ``None`` when the object is not the user's or already
        has ``max_versions`` versions (the caller tells which).
        """
        key = parse_uuid(object_id)
        if key is None:
            return None
        bumped = (
            await conn.execute(
                text(
                    f'UPDATE "{self.s}".{self.t.table} '
                    "SET latest_version = latest_version + 1, updated_at = now() "
                    "WHERE id = :id AND user_id = :user AND latest_version < :max RETURNING latest_version"
                ),
                {"id": key, "user": user_id, "max": max_versions},
            )
        ).first()
        return None if bumped is None else (key, int(bumped.latest_version))

    async def version(
        self, conn: AsyncConnection, object_id: str, user_id: str, version: int | None
    ) -> Row[Any] | None:
        """One version of the user's object (``None``: the latest), with the parent's columns."""
        key = parse_uuid(object_id)
        if key is None:
            return None
        result = await conn.execute(
            text(
                f"{self._versions_query()} "
                "AND v.version = coalesce(CAST(:version AS integer), p.latest_version)"
            ),
            {"id": key, "user": user_id, "version": version},
        )
        return result.first()

    async def versions(self, conn: AsyncConnection, object_id: str, user_id: str) -> list[Row[Any]]:
        """Every version of the user's object, oldest first (empty when it is not theirs)."""
        key = parse_uuid(object_id)
        if key is None:
            return []
        result = await conn.execute(
            text(f"{self._versions_query()} ORDER BY v.version"), {"id": key, "user": user_id}
        )
        return list(result.all())

    def _versions_query(self) -> str:
        return (
            f'SELECT {self.t.version_columns} FROM "{self.s}".{self.t.versions_table} v '
            f'JOIN "{self.s}".{self.t.table} p ON p.id = v.{self.t.key_column} '
            "WHERE p.id = :id AND p.user_id = :user"
        )
