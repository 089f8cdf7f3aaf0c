"""The ``user_indicators`` and ``user_indicator_versions`` tables; every query is scoped by ``user_id``
(the shared lookups, deletion and version numbering are ``VersionedStore``'s)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.strategy_runner.store.versioned_store import VersionedStore, VersionedTables

COLUMNS = "id, user_id, name, kind, description, latest_version, created_at, updated_at"
VERSION_COLUMNS = "v.indicator_id, v.version, v.code, v.graph, v.params, v.note, v.created_at, p.kind"
TABLES = VersionedTables(
    "user_indicators", "user_indicator_versions", "indicator_id", COLUMNS, VERSION_COLUMNS
)


@dataclass(frozen=True)
class Content:
    """One version's content: ``code`` (kind code, with ``params``) or ``graph`` (kind graph)."""

    kind: str
    code: str | None
    graph: Mapping[str, object] | None
    params: Mapping[str, object]


class UserIndicatorsStore(VersionedStore):
    def __init__(self, schema: str) -> None:
        super().__init__(schema, TABLES)

    async def create(  # noqa: PLR0917 - one row's columns
        self,
        conn: AsyncConnection,
        indicator_id: str,
        user_id: str,
        name: str,
        description: str,
        content: Content,
    ) -> Row[Any] | None:
        """The new indicator with its version 1; ``None`` when the user already has that name."""
        row = (
            await conn.execute(
                text(
                    f'INSERT INTO "{self.s}".user_indicators (id, user_id, name, kind, description) '
                    "VALUES (:id, :user, :name, :kind, :description) "
                    f"ON CONFLICT (user_id, name) DO NOTHING RETURNING {COLUMNS}"
                ),
                {
                    "id": uuid.UUID(indicator_id),
                    "user": user_id,
                    "name": name,
                    "kind": content.kind,
                    "description": description,
                },
            )
        ).first()
        if row is not None:
            await self._insert_version(conn, row.id, 1, content, "")
        return row

    async def page(
        self, conn: AsyncConnection, user_id: str, *, limit: int, before: uuid.UUID | None
    ) -> list[Row[Any]]:
        """Up to ``limit`` indicators, newest first (UUIDv7 order), older than the cursor ``before``."""
        result = await conn.execute(
            text(
                f'SELECT {COLUMNS} FROM "{self.s}".user_indicators WHERE user_id = :user '
                "AND (CAST(:before AS uuid) IS NULL OR id < :before) ORDER BY id DESC LIMIT :limit"
            ),
            {"user": user_id, "before": before, "limit": limit},
        )
        return list(result.all())

    async def add_version(  # noqa: PLR0917
        self,
        conn: AsyncConnection,
        indicator_id: str,
        user_id: str,
        content: Content,
        note: str,
        max_versions: int,
    ) -> Row[Any] | None:
        """The next version (numbered by ``bump_version``); ``None`` when not the user's or at
        ``max_versions``."""
        bumped = await self.bump_version(conn, indicator_id, user_id, max_versions)
        if bumped is None:
            return None
        key, number = bumped
        await self._insert_version(conn, key, number, content, note)
        return await self.version(conn, indicator_id, user_id, number)

    async def _insert_version(
        self,
        conn: AsyncConnection,
        key: uuid.UUID,
        version: int,
        content: Content,
        note: str,
    ) -> None:
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".user_indicator_versions '
                "(indicator_id, version, code, graph, params, note) "
                "VALUES (:id, :version, :code, CAST(:graph AS jsonb), CAST(:params AS jsonb), :note)"
            ),
            {
                "id": key, "version": version, "code": content.code, "note": note,
                "graph": None if content.graph is None else json.dumps(dict(content.graph)),
                "params": json.dumps(dict(content.params)),
            },
        )  # fmt: skip
