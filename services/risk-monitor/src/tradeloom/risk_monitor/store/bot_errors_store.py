"""``bot_errors``: each bot's error episodes (one alert each)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.db import check_schema_name


class BotErrorsStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def open_episode(self, conn: AsyncConnection, bot_id: str, user_id: str) -> int | None:
        """The number of the error episode this opens; ``None`` when one is open already (the same
        error again, or a redelivery). Takes the bot's row lock, so two deliveries do not both open one."""
        result = await conn.execute(
            text(
                f'INSERT INTO "{self.s}".bot_errors AS e (bot_id, user_id, episode, open) '
                "VALUES (:bot, :user, 1, true) ON CONFLICT (bot_id) DO UPDATE SET "
                "episode = e.episode + 1, open = true, updated_at = now() WHERE NOT e.open "
                "RETURNING episode"
            ),
            {"bot": bot_id, "user": user_id},
        )
        return result.scalar_one_or_none()

    async def close_episode(self, conn: AsyncConnection, bot_id: str) -> None:
        """The bot runs again: its next error is a new episode."""
        await conn.execute(
            text(
                f'UPDATE "{self.s}".bot_errors SET open = false, updated_at = now() '
                "WHERE bot_id = :bot AND open"
            ),
            {"bot": bot_id},
        )
