"""The ``strategies`` and ``strategy_versions`` tables; every query is scoped by ``user_id``
(the shared lookups, deletion and version numbering are ``VersionedStore``'s)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.strategy_runner.store.versioned_store import VersionedStore, VersionedTables

STRATEGY_COLUMNS = "id, user_id, name, kind, template, description, latest_version, created_at, updated_at"
VERSION_COLUMNS = (
    "v.strategy_id, v.version, v.params, v.graph, v.code, v.note, v.created_at, p.template, p.kind"
)
TABLES = VersionedTables("strategies", "strategy_versions", "strategy_id", STRATEGY_COLUMNS, VERSION_COLUMNS)


class StrategiesStore(VersionedStore):
    def __init__(self, schema: str) -> None:
        super().__init__(schema, TABLES)

    async def create(
        self,
        conn: AsyncConnection,
        *,
        strategy_id: str,
        user_id: str,
        name: str,
        template: str,
        description: str,
        params: Mapping[str, object],
        kind: str = "template",
        graph: Mapping[str, object] | None = None,
        code: str | None = None,
    ) -> Row[Any] | None:
        """The new strategy with its version 1; ``None`` when the user already has one of that name.

        ``ON CONFLICT DO NOTHING`` makes the name check and the insert one atomic step.
        """
        row = (
            await conn.execute(
                text(
                    f'INSERT INTO "{self.s}".strategies (id, user_id, name, kind, template, description) '
                    "VALUES (:id, :user, :name, :kind, :template, :description) "
                    f"ON CONFLICT (user_id, name) DO NOTHING RETURNING {STRATEGY_COLUMNS}"
                ),
                {
                    "id": uuid.UUID(strategy_id),
                    "user": user_id,
                    "name": name,
                    "kind": kind,
                    "template": template,
                    "description": description,
                },
            )
        ).first()
        if row is not None:
            await self._insert_version(conn, row.id, 1, params, "", graph, code)
        return row

    async def page(
        self,
        conn: AsyncConnection,
        user_id: str,
        *,
        limit: int,
        before: uuid.UUID | None,
        kind: str | None = None,
        template: str | None = None,
        name: str | None = None,
    ) -> list[Row[Any]]:
        """Up to ``limit`` strategies, newest first (UUIDv7 order), older than the cursor ``before``,
        of ``kind`` and ``template`` when given, whose name contains ``name`` (any case) when given."""
        pattern = None if name is None else "%" + re.sub(r"([\\%_])", r"\\\1", name) + "%"
        result = await conn.execute(
            text(
                f'SELECT {STRATEGY_COLUMNS} FROM "{self.s}".strategies WHERE user_id = :user '
                "AND (CAST(:before AS uuid) IS NULL OR id < :before) "
                "AND (CAST(:kind AS text) IS NULL OR kind = :kind) "
                "AND (CAST(:template AS text) IS NULL OR template = :template) "
                "AND (CAST(:pattern AS text) IS NULL OR name ILIKE :pattern) ORDER BY id DESC LIMIT :limit"
            ),
            {
                "user": user_id,
                "before": before,
                "limit": limit,
                "kind": kind,
                "template": template,
                "pattern": pattern,
            },
        )
        return list(result.all())

    async def add_version(
        self,
        conn: AsyncConnection,
        strategy_id: str,
        user_id: str,
        *,
        params: Mapping[str, object],
        note: str,
        max_versions: int,
        graph: Mapping[str, object] | None = None,
        code: str | None = None,
    ) -> Row[Any] | None:
        """The next version (numbered by ``bump_version``); ``None`` when the strategy is not the
        user's or already has ``max_versions`` versions."""
        bumped = await self.bump_version(conn, strategy_id, user_id, max_versions)
        if bumped is None:
            return None
        key, number = bumped
        await self._insert_version(conn, key, number, params, note, graph, code)
        return await self.version(conn, strategy_id, user_id, number)

    async def _insert_version(  # noqa: PLR0917
        self,
        conn: AsyncConnection,
        key: uuid.UUID,
        version: int,
        params: Mapping[str, object],
        note: str,
        graph: Mapping[str, object] | None,
        code: str | None = None,
    ) -> None:
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".strategy_versions (strategy_id, version, params, note, graph, code) '
                "VALUES (:id, :version, CAST(:params AS jsonb), :note, CAST(:graph AS jsonb), :code)"
            ),
            {
                "id": key,
                "version": version,
                "params": json.dumps(dict(params)),
                "note": note,
                "graph": None if graph is None else json.dumps(dict(graph)),
                "code": code,
            },
        )
