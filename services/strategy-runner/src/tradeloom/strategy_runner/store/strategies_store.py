"""The ``strategies`` and ``strategy_versions`` tables; every query is scoped by ``user_id``.

Ids are UUIDv7 strings. One that is not a UUID cannot exist, so lookups answer ``None`` (the caller
says not_found) instead of letting Postgres fail on the cast.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.db import check_schema_name
from tradeloom.shared.ids import parse_uuid

STRATEGY_COLUMNS = "id, user_id, name, kind, template, description, latest_version, created_at, updated_at"
VERSION_COLUMNS = (
    "v.strategy_id, v.version, v.params, v.graph, v.code, v.note, v.created_at, s.template, s.kind"
)


class StrategiesStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

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

    async def get(self, conn: AsyncConnection, strategy_id: str, user_id: str) -> Row[Any] | None:
        key = parse_uuid(strategy_id)
        if key is None:
            return None
        result = await conn.execute(
            text(f'SELECT {STRATEGY_COLUMNS} FROM "{self.s}".strategies WHERE id = :id AND user_id = :user'),
            {"id": key, "user": user_id},
        )
        return result.first()

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

    async def delete(self, conn: AsyncConnection, strategy_id: str, user_id: str) -> bool:
        """Delete the strategy (its versions go with it: ON DELETE CASCADE); False when not the user's."""
        key = parse_uuid(strategy_id)
        if key is None:
            return False
        result = await conn.execute(
            text(f'DELETE FROM "{self.s}".strategies WHERE id = :id AND user_id = :user RETURNING 1'),
            {"id": key, "user": user_id},
        )
        return result.first() is not None

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
        """The next version, numbered by an atomic bump of ``latest_version``.

        The ``UPDATE`` row-locks the strategy until the caller's transaction ends, so two adds at
        once get N+1 and N+2, never the same number. ``None`` when the strategy is not the user's
        or already has ``max_versions`` versions (the caller tells which).
        """
        key = parse_uuid(strategy_id)
        if key is None:
            return None
        bumped = (
            await conn.execute(
                text(
                    f'UPDATE "{self.s}".strategies '
                    "SET latest_version = latest_version + 1, updated_at = now() "
                    "WHERE id = :id AND user_id = :user AND latest_version < :max RETURNING latest_version"
                ),
                {"id": key, "user": user_id, "max": max_versions},
            )
        ).first()
        if bumped is None:
            return None
        await self._insert_version(conn, key, bumped.latest_version, params, note, graph, code)
        return await self.version(conn, strategy_id, user_id, bumped.latest_version)

    async def version(
        self, conn: AsyncConnection, strategy_id: str, user_id: str, version: int | None
    ) -> Row[Any] | None:
        """One version of the user's strategy (``None``: the latest), with the strategy's template."""
        key = parse_uuid(strategy_id)
        if key is None:
            return None
        result = await conn.execute(
            text(
                f'SELECT {VERSION_COLUMNS} FROM "{self.s}".strategy_versions v '
                f'JOIN "{self.s}".strategies s ON s.id = v.strategy_id '
                "WHERE s.id = :id AND s.user_id = :user "
                "AND v.version = coalesce(CAST(:version AS integer), s.latest_version)"
            ),
            {"id": key, "user": user_id, "version": version},
        )
        return result.first()

    async def versions(self, conn: AsyncConnection, strategy_id: str, user_id: str) -> list[Row[Any]]:
        """Every version of the user's strategy, oldest first (empty when it is not theirs)."""
        key = parse_uuid(strategy_id)
        if key is None:
            return []
        result = await conn.execute(
            text(
                f'SELECT {VERSION_COLUMNS} FROM "{self.s}".strategy_versions v '
                f'JOIN "{self.s}".strategies s ON s.id = v.strategy_id '
                "WHERE s.id = :id AND s.user_id = :user ORDER BY v.version"
            ),
            {"id": key, "user": user_id},
        )
        return list(result.all())

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
