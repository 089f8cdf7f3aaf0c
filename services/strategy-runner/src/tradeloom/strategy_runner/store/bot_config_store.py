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
        if config.get("symbols"):  # a change stored before symbols could change has none
            await self.set_symbols(conn, bot_id, config["symbols"])

    async def set_symbols(self, conn: AsyncConnection, bot_id: uuid.UUID, symbols: list[str]) -> None:
        """The bot's symbols become ``symbols`` (``bots.symbol`` its first), when they differ.

        A symbol's ``ord`` is its place (0: the first) and names its orders' client ids
        (``bot-<hex>-<bar>`` or ``…-m<ord>``), so a symbol keeping its place keeps its last bar,
        while one new to its place (added, moved, or a removed one's place) starts after the
        newest bar the bot decided on any symbol: its bars are newer than every bar of every
        client id the bot ever used, so no client id or (bot, symbol, bar) key is reused.
        """
        old = {
            row.symbol: (row.ord, row.last_bar_ns)
            for row in await conn.execute(
                text(f'SELECT symbol, ord, last_bar_ns FROM "{self.s}".bot_symbols WHERE bot_id = :id'),
                {"id": bot_id},
            )
        }
        if sorted(old, key=lambda symbol: old[symbol][0]) == symbols:
            return
        floor = max((bar for _, bar in old.values() if bar is not None), default=None)
        rows = []
        for place, symbol in enumerate(symbols):
            was_place, last = old.get(symbol, (None, None))
            if was_place != place and floor is not None:
                last = floor if last is None else max(last, floor)
            rows.append({"id": bot_id, "symbol": symbol, "ord": place, "last": last})
        await conn.execute(text(f'DELETE FROM "{self.s}".bot_symbols WHERE bot_id = :id'), {"id": bot_id})
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".bot_symbols (bot_id, symbol, ord, last_bar_ns) '
                "VALUES (:id, :symbol, :ord, :last)"
            ),
            rows,
        )
        await conn.execute(
            text(f'UPDATE "{self.s}".bots SET symbol = :symbol WHERE id = :id'),
            {"id": bot_id, "symbol": symbols[0]},
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
