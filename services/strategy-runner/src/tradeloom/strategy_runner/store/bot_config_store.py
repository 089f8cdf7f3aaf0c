"""A bot's configuration columns, its pending configuration and ``bot_config_changes``."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.db import check_schema_name


class BotConfigStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def apply(self, conn: AsyncConnection, bot_id: uuid.UUID, config: Mapping[str, Any]) -> None:
        """``config`` becomes the bot's own (what the runner reads); nothing pending any more.
        ``last_bar_ns`` stays: the next decided bar is newer than every bar the bot decided
        (another timeframe too), so an order key (bot, symbol, bar) is never reused."""
        await conn.execute(
            text(
                f'UPDATE "{self.s}".bots SET strategy_version = :strategy_version, template = :template, '
                "params = CAST(:params AS jsonb), graph = CAST(:graph AS jsonb), code = :code, "
                "timeframe = :timeframe, sizing = CAST(:sizing AS jsonb), max_position = :max_position, "
                "pending_config = NULL, updated_at = now() WHERE id = :id"
            ),
            {
                "id": bot_id,
                "strategy_version": config["strategy_version"],
                "template": config["template"],
                "params": json.dumps(config["params"]),
                "graph": None if config.get("graph") is None else json.dumps(config["graph"]),
                "code": config.get("code"),
                "timeframe": config["timeframe"],
                "sizing": json.dumps(config["sizing"]),
                "max_position": config["max_position"],
            },
        )

    async def set_pending(
        self, conn: AsyncConnection, bot_id: uuid.UUID, config: Mapping[str, Any] | None
    ) -> None:
        await conn.execute(
            text(
                f'UPDATE "{self.s}".bots SET pending_config = CAST(:config AS jsonb), updated_at = now() '
                "WHERE id = :id"
            ),
            {"id": bot_id, "config": None if config is None else json.dumps(config)},
        )

    async def rename(self, conn: AsyncConnection, bot_id: uuid.UUID, name: str) -> None:
        await conn.execute(
            text(f'UPDATE "{self.s}".bots SET name = :name, updated_at = now() WHERE id = :id'),
            {"id": bot_id, "name": name},
        )

    async def audit(
        self,
        conn: AsyncConnection,
        bot_id: uuid.UUID,
        user_id: str,
        changes: Mapping[str, Any],
        effective: str,
    ) -> None:
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".bot_config_changes (bot_id, user_id, changes, effective) '
                "VALUES (:id, :user, CAST(:changes AS jsonb), :effective)"
            ),
            {"id": bot_id, "user": user_id, "changes": json.dumps(changes), "effective": effective},
        )

    async def history(
        self, conn: AsyncConnection, bot_id: uuid.UUID, limit: int, before: int | None
    ) -> list[Any]:
        """The bot's changes, newest first, older than the change ``before`` when given."""
        result = await conn.execute(
            text(
                f'SELECT id, changes, effective, created_at FROM "{self.s}".bot_config_changes '
                "WHERE bot_id = :id AND (CAST(:before AS bigint) IS NULL OR id < :before) "
                "ORDER BY id DESC LIMIT :n"
            ),
            {"id": bot_id, "before": before, "n": limit},
        )
        return list(result)
