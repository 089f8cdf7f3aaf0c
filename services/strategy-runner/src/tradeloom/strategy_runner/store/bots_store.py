"""The ``bots`` and ``bot_leases`` tables; owner-facing queries are scoped by ``user_id``.

A bot id that is not a UUID cannot exist: lookups answer ``None`` (the caller says not_found).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.db import check_schema_name
from tradeloom.shared.ids import parse_uuid

TERMINAL = ("filled", "canceled", "rejected", "expired")
# position and open orders are per symbol ({sym}: the bot's first, or the one a runner row is of)
POSITION = (
    "COALESCE((SELECT sum(CASE o.side WHEN 'buy' THEN o.filled_quantity ELSE -o.filled_quantity END) "
    'FROM "{s}".bot_orders o WHERE o.bot_id = b.id AND o.symbol = {sym}), 0) AS position'
)
OPEN_ORDERS = (
    '(SELECT count(*) FROM "{s}".bot_orders o WHERE o.bot_id = b.id AND o.symbol = {sym} '
    "AND o.exit_kind IS NULL AND o.status NOT IN ('filled', 'canceled', 'rejected', 'expired')) "
    "AS open_orders"
)  # a resting exit of the bracket is not an open order: the bot decides on while it rests
SYMBOLS = 'ARRAY(SELECT y.symbol FROM "{s}".bot_symbols y WHERE y.bot_id = b.id ORDER BY y.ord) AS symbols'
COLUMNS = (
    "b.id, b.user_id, b.name, b.strategy_id, b.strategy_version, b.template, b.params, b.account_id, "
    "b.venue, b.symbol, b.timeframe, b.sizing, b.max_position, b.status, b.status_reason, "
    "b.last_bar_ns, b.created_at, b.updated_at, b.graph, b.code, b.kind, b.grid, b.grid_lots, "
    "b.dca, b.dca_state, b.risk_limits, b.pending_config, 0 AS symbol_index"
)
# a runner's row of one of the bot's symbols (bot_symbols s): that symbol, its last bar, its index
MARKET_COLUMNS = (
    COLUMNS.replace("b.symbol,", "s.symbol,")
    .replace("b.last_bar_ns,", "s.last_bar_ns,")
    .replace("0 AS symbol_index", "s.ord AS symbol_index")
)


class BotsStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)
        per_symbol = f"{SYMBOLS}, {POSITION}, {OPEN_ORDERS}"
        self.columns = f"{COLUMNS}, {per_symbol.format(s=self.s, sym='b.symbol')}"
        self.market_columns = f"{MARKET_COLUMNS}, {per_symbol.format(s=self.s, sym='s.symbol')}"

    async def create(self, conn: AsyncConnection, bot_id: str, values: Mapping[str, Any]) -> Row[Any]:
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".bots (id, user_id, name, strategy_id, strategy_version, template, '
                "params, account_id, venue, symbol, timeframe, sizing, max_position, graph, code) "
                "VALUES (:id, :user_id, :name, :strategy_id, :strategy_version, :template, "
                "CAST(:params AS jsonb), :account_id, :venue, :symbol, :timeframe, CAST(:sizing AS jsonb), "
                ":max_position, CAST(:graph AS jsonb), :code)"
            ),
            {
                **values,
                "id": uuid.UUID(bot_id),
                "params": json.dumps(values["params"]),
                "sizing": json.dumps(values["sizing"]),
                "graph": None if values.get("graph") is None else json.dumps(values["graph"]),
                "code": values.get("code"),
            },
        )
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".bot_symbols (bot_id, symbol, ord) SELECT :id, symbol, ord - 1 '
                "FROM unnest(CAST(:symbols AS text[])) WITH ORDINALITY AS u(symbol, ord) WHERE ord > 1"
            ),
            {"id": uuid.UUID(bot_id), "symbols": values.get("symbols") or []},
        )  # the first symbol's row comes from the trigger on bots (migration 0014)
        row = await self.get(conn, bot_id, values["user_id"])
        assert row is not None
        return row

    async def set_risk_limits(
        self, conn: AsyncConnection, bot_id: uuid.UUID, limits: dict[str, Any] | None
    ) -> None:
        """The copy of the limits registered with risk-monitor (``bots/bot_risk_limits.py``);
        None: none (SQL NULL, as a bot created without limits)."""
        await conn.execute(
            text(f'UPDATE "{self.s}".bots SET risk_limits = CAST(:limits AS jsonb) WHERE id = :id'),
            {"id": bot_id, "limits": None if limits is None else json.dumps(limits)},
        )

    async def get(
        self, conn: AsyncConnection, bot_id: str, user_id: str | None, *, lock: bool = False,
        symbol: str | None = None,
    ) -> Row[Any] | None:  # fmt: skip
        """The bot (``user_id`` None: whoever owns it); ``lock`` takes its row lock; ``symbol``:
        the row of that symbol of the bot (its last bar, position, open orders), None if not one."""
        key = parse_uuid(bot_id)
        if key is None:
            return None
        if lock:  # the lock first (FOR UPDATE cannot go with the aggregates of the columns)
            found = await conn.execute(
                text(
                    f'SELECT 1 FROM "{self.s}".bots WHERE id = :id '
                    "AND (CAST(:user AS text) IS NULL OR user_id = :user) FOR UPDATE"
                ),
                {"id": key, "user": user_id},
            )
            if found.first() is None:
                return None
        if symbol is not None:
            result = await conn.execute(
                text(
                    f'SELECT {self.market_columns} FROM "{self.s}".bots b JOIN "{self.s}".bot_symbols s '
                    "ON s.bot_id = b.id AND s.symbol = :symbol WHERE b.id = :id "
                    "AND (CAST(:user AS text) IS NULL OR b.user_id = :user)"
                ),
                {"id": key, "user": user_id, "symbol": symbol},
            )
            return result.first()
        result = await conn.execute(
            text(
                f'SELECT {self.columns} FROM "{self.s}".bots b WHERE b.id = :id '
                "AND (CAST(:user AS text) IS NULL OR b.user_id = :user)"
            ),
            {"id": key, "user": user_id},
        )
        return result.first()

    async def get_many(self, conn: AsyncConnection, bot_ids: list[uuid.UUID], symbol: str) -> list[Row[Any]]:
        """Several bots' rows of ``symbol`` at once (no lock: each decision reads its bot again
        under its lock)."""
        result = await conn.execute(
            text(
                f'SELECT {self.market_columns} FROM "{self.s}".bots b JOIN "{self.s}".bot_symbols s '
                "ON s.bot_id = b.id AND s.symbol = :symbol WHERE b.id = ANY(:ids)"
            ),
            {"ids": bot_ids, "symbol": symbol},
        )
        return list(result)

    async def list_bots(
        self, conn: AsyncConnection, user_id: str, status: str | None, limit: int, after: uuid.UUID | None
    ) -> list[Row[Any]]:
        result = await conn.execute(
            text(
                f'SELECT {self.columns} FROM "{self.s}".bots b WHERE b.user_id = :user '
                "AND b.kind = 'strategy' AND (CAST(:status AS text) IS NULL OR b.status = :status) "
                "AND (CAST(:after AS uuid) IS NULL OR b.id < :after) ORDER BY b.id DESC LIMIT :n"
            ),
            {"user": user_id, "status": status, "after": after, "n": limit},
        )
        return list(result)

    async def set_status(
        self, conn: AsyncConnection, bot_id: uuid.UUID, status: str, reason: str, *, from_mark: bool
    ) -> None:
        """New status; ``from_mark``: the bot decides only on bars closing after now (start, resume)."""
        await conn.execute(
            text(
                f'UPDATE "{self.s}".bots b SET status = :status, status_reason = :reason, '
                "updated_at = now(), last_bar_ns = CASE WHEN :from_mark THEN GREATEST(b.last_bar_ns, "
                "(SELECT m.open_ns FROM "
                f'"{self.s}".bar_marks m WHERE m.venue = b.venue AND m.symbol = b.symbol '
                "AND m.timeframe = b.timeframe)) ELSE b.last_bar_ns END WHERE b.id = :id"
            ),
            {"id": bot_id, "status": status, "reason": reason, "from_mark": from_mark},
        )
        if from_mark:  # each of its symbols from its own market's newest bar
            await conn.execute(
                text(
                    f'UPDATE "{self.s}".bot_symbols s SET last_bar_ns = GREATEST(s.last_bar_ns, '
                    f'(SELECT m.open_ns FROM "{self.s}".bots b JOIN "{self.s}".bar_marks m '
                    "ON m.venue = b.venue AND m.symbol = s.symbol AND m.timeframe = b.timeframe "
                    "WHERE b.id = s.bot_id)) WHERE s.bot_id = :id"
                ),
                {"id": bot_id},
            )

    async def delete(self, conn: AsyncConnection, bot_id: uuid.UUID) -> None:
        await conn.execute(text(f'DELETE FROM "{self.s}".bots WHERE id = :id'), {"id": bot_id})

    async def halt(
        self, conn: AsyncConnection, user_id: str | None, reason: str, account_id: str | None = None
    ) -> list[Row[Any]]:
        """Running and paused bots of the user (``None``: everyone's), only those trading
        ``account_id`` if given → halted; the ones changed."""
        result = await conn.execute(
            text(
                f"UPDATE \"{self.s}\".bots b SET status = 'halted', status_reason = :reason, "
                "updated_at = now() FROM (SELECT id, status AS previous FROM "
                f"\"{self.s}\".bots WHERE status IN ('running', 'paused') "
                "AND (CAST(:user AS text) IS NULL OR user_id = :user) "
                "AND (CAST(:account AS text) IS NULL OR account_id = :account) FOR UPDATE) old "
                "WHERE b.id = old.id RETURNING b.id, b.user_id, old.previous"
            ),
            {"user": user_id, "reason": reason, "account": account_id},
        )
        return list(result)

    # ----------------------------------------------------------------------------------- leases
    async def take_leases(
        self, conn: AsyncConnection, owner: str, ttl_s: float, market: tuple[str, str, str] | None = None
    ) -> list[uuid.UUID]:
        """Take or renew the leases of running bots (all, or those trading one market: its venue,
        timeframe and one of their symbols) that are free, expired or already ours; the ids of
        the running bots whose lease we now hold."""
        venue, symbol, timeframe = market or (None, None, None)
        result = await conn.execute(
            text(
                f'INSERT INTO "{self.s}".bot_leases AS l (bot_id, owner, expires_at) '
                f'SELECT id, :owner, now() + make_interval(secs => :ttl) FROM "{self.s}".bots '
                "WHERE status = 'running' AND (CAST(:venue AS text) IS NULL OR "
                "(venue = :venue AND timeframe = :tf AND EXISTS (SELECT 1 FROM "
                f'"{self.s}".bot_symbols y WHERE y.bot_id = bots.id AND y.symbol = :symbol))) '
                "ON CONFLICT (bot_id) DO UPDATE SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at "
                "WHERE l.owner = EXCLUDED.owner OR l.expires_at < now() RETURNING bot_id"
            ),
            {"owner": owner, "ttl": ttl_s, "venue": venue, "symbol": symbol, "tf": timeframe},
        )
        return [row.bot_id for row in result]

    async def holds_lease(self, conn: AsyncConnection, bot_id: uuid.UUID, owner: str) -> bool:
        result = await conn.execute(
            text(
                f'SELECT 1 FROM "{self.s}".bot_leases WHERE bot_id = :id AND owner = :owner '
                "AND expires_at > now()"
            ),
            {"id": bot_id, "owner": owner},
        )
        return result.first() is not None

    async def release_leases(self, conn: AsyncConnection, owner: str) -> None:
        """On a clean stop: let another replica take our bots at once."""
        await conn.execute(text(f'DELETE FROM "{self.s}".bot_leases WHERE owner = :owner'), {"owner": owner})


def position_of(row: Row[Any]) -> Decimal:
    return Decimal(row.position)
