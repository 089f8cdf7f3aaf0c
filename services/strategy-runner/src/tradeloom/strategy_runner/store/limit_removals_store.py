"""The ``bot_limit_removals`` table: bot ids whose limits at risk-monitor must go unless the bot
exists (``bots/limit_removals.py`` says when rows are written and removed)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.db import check_schema_name


class LimitRemovalsStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def add(
        self, conn: AsyncConnection, bot_id: str, user_id: str, account_id: str, reason: str
    ) -> None:
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".bot_limit_removals (bot_id, user_id, account_id, reason) '
                "VALUES (:bot_id, :user_id, :account_id, :reason) ON CONFLICT (bot_id) DO NOTHING"
            ),
            {"bot_id": uuid.UUID(bot_id), "user_id": user_id, "account_id": account_id, "reason": reason},
        )

    async def hold(self, conn: AsyncConnection, bot_id: str) -> bool:
        """The row locked for the transaction (the sweep skips it); False when it is gone."""
        result = await conn.execute(
            text(f'SELECT 1 FROM "{self.s}".bot_limit_removals WHERE bot_id = :bot_id FOR UPDATE'),
            {"bot_id": uuid.UUID(bot_id)},
        )
        return result.first() is not None

    async def drop(self, conn: AsyncConnection, bot_id: str) -> None:
        await conn.execute(
            text(f'DELETE FROM "{self.s}".bot_limit_removals WHERE bot_id = :bot_id'),
            {"bot_id": uuid.UUID(bot_id)},
        )

    async def due(self, conn: AsyncConnection, limit: int) -> list[Row[Any]]:
        """Rows no one holds, oldest first, locked for the transaction; ``bot_has_limits`` is
        whether the bot's row is there with limits of its own (they are then the bot's: only the
        row goes); a bot whose limits an update removed (``reason`` ``update``) has none."""
        result = await conn.execute(
            text(
                "SELECT r.bot_id, r.user_id, r.account_id, r.reason, "
                f'EXISTS (SELECT 1 FROM "{self.s}".bots b WHERE b.id = r.bot_id '
                "AND b.risk_limits IS NOT NULL) AS bot_has_limits "
                f'FROM "{self.s}".bot_limit_removals r ORDER BY r.created_at LIMIT :limit '
                "FOR UPDATE OF r SKIP LOCKED"
            ),
            {"limit": limit},
        )
        return list(result)

    async def count(self, conn: AsyncConnection) -> int:
        result = await conn.execute(text(f'SELECT count(*) FROM "{self.s}".bot_limit_removals'))
        return int(result.scalar_one())
