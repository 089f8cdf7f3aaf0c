"""One candle's decisions of several bots in a few statements (``bots/candle_batch.py``).

The per-bot decision (``BotRunner._decide_locked``) is a transaction of ~9 round trips: lock,
row, lease, two last-bar updates, the order, the decision, the event. A market's bots on one
candle take them all in one transaction here: ``lock`` (every bot's row lock, in id order, with
whether this replica holds its lease), the rows (``BotsStore.get_many``, after the locks), then
``write``: every bot's last bar, every order and every decision in one statement. The rules are
the per-bot ones (status, lease and ``last_bar_ns`` checked under the lock; an order's
``(bot, symbol, bar)`` key and client id unique, an order that conflicts logs no decision).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.db import check_schema_name
from tradeloom.strategy_runner.store.bot_ledger_store import DECISION_COLUMNS
from tradeloom.strategy_runner.store.bots_store import TERMINAL


@dataclass(frozen=True)
class Planned:
    """One bot's decision on the candle: a hold (``side`` None) or an order."""

    bot_id: uuid.UUID
    signal: str
    action: str
    reason: str
    quantity: Decimal | None = None
    client_id: str | None = None
    side: str | None = None
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    trailing_percent: Decimal | None = None


class CandleDecisionsStore:
    def __init__(self, schema: str) -> None:
        self.s = s = check_schema_name(schema)
        self._lock = text(
            f'SELECT b.id, EXISTS (SELECT 1 FROM "{s}".bot_leases l WHERE l.bot_id = b.id '
            "AND l.owner = :owner AND l.expires_at > now()) AS leased "
            f'FROM "{s}".bots b WHERE b.id = ANY(:ids) ORDER BY b.id FOR UPDATE OF b'
        )
        self._write = text(
            f'WITH sym AS (UPDATE "{s}".bot_symbols SET last_bar_ns = :bar '
            "WHERE bot_id = ANY(:decided) AND symbol = :symbol RETURNING bot_id), "
            f'bot AS (UPDATE "{s}".bots SET last_bar_ns = GREATEST(last_bar_ns, :bar), updated_at = now() '
            "WHERE id = ANY(:decided) RETURNING id), "
            f'ins AS (INSERT INTO "{s}".bot_orders (bot_id, symbol, bar_ns, client_order_id, side, '
            "quantity, stop_loss_price, take_profit_price, trailing_percent) "
            "SELECT o.bot, :symbol, :bar, o.cid, o.side, o.qty, o.sl, o.tp, o.trail FROM unnest("
            "CAST(:o_bot AS uuid[]), CAST(:o_cid AS text[]), CAST(:o_side AS text[]), "
            "CAST(:o_qty AS numeric[]), CAST(:o_sl AS numeric[]), CAST(:o_tp AS numeric[]), "
            "CAST(:o_trail AS numeric[])) AS o(bot, cid, side, qty, sl, tp, trail) "
            "ON CONFLICT DO NOTHING RETURNING client_order_id) "
            f'INSERT INTO "{s}".bot_decisions (bot_id, bar_ns, symbol, signal, action, reason, '
            "quantity, client_order_id) SELECT d.bot, :bar, :symbol, d.signal, d.action, d.reason, "
            "d.qty, d.cid FROM unnest(CAST(:d_bot AS uuid[]), CAST(:d_signal AS text[]), "
            "CAST(:d_action AS text[]), CAST(:d_reason AS text[]), CAST(:d_qty AS numeric[]), "
            "CAST(:d_cid AS text[])) WITH ORDINALITY AS d(bot, signal, action, reason, qty, cid, n) "
            "WHERE d.cid IS NULL OR d.cid IN (SELECT client_order_id FROM ins) ORDER BY d.n "
            f"RETURNING {DECISION_COLUMNS}"
        )
        self._flag = text(
            f'UPDATE "{s}".bot_orders SET cancel_requested = true WHERE bot_id = ANY(:bots) '
            f"AND symbol = :symbol AND exit_kind IS NOT NULL AND status NOT IN {TERMINAL} "
            "RETURNING bot_id, client_order_id, order_id"
        )

    async def lock(self, conn: AsyncConnection, bot_ids: Sequence[uuid.UUID], owner: str) -> set[uuid.UUID]:
        """Every bot's row lock (in id order: two markets' batches sharing a bot of several symbols
        cannot deadlock each other); the ids whose lease ``owner`` holds."""
        result = await conn.execute(self._lock, {"ids": list(bot_ids), "owner": owner})
        return {row.id for row in result if row.leased}

    async def write(
        self, conn: AsyncConnection, symbol: str, bar_ns: int, plans: Sequence[Planned]
    ) -> list[Row[Any]]:
        """Every planned bot's ``symbol`` decided up to ``bar_ns``, its order recorded (``sending``)
        and its decision logged, in one statement; the decision rows written (an order whose key
        or client id exists already is not written, nor is its decision: that bar has its order)."""
        orders = [p for p in plans if p.side is not None]
        result = await conn.execute(
            self._write,
            {
                "bar": bar_ns, "symbol": symbol, "decided": [p.bot_id for p in plans],
                "o_bot": [p.bot_id for p in orders], "o_cid": [p.client_id for p in orders],
                "o_side": [p.side for p in orders], "o_qty": [p.quantity for p in orders],
                "o_sl": [p.stop_loss for p in orders], "o_tp": [p.take_profit for p in orders],
                "o_trail": [p.trailing_percent for p in orders],
                "d_bot": [p.bot_id for p in plans], "d_signal": [p.signal for p in plans],
                "d_action": [p.action for p in plans], "d_reason": [p.reason for p in plans],
                "d_qty": [p.quantity for p in plans], "d_cid": [p.client_id for p in plans],
            },
        )  # fmt: skip
        return list(result)

    async def flag_open_exits(
        self, conn: AsyncConnection, bot_ids: Sequence[uuid.UUID], symbol: str
    ) -> dict[uuid.UUID, list[tuple[str, str]]]:
        """The selling bots' exits on ``symbol`` not done, flagged (``BotExitsStore.flag_open_exits``
        for several bots): per bot, those order-router holds (client id, order id)."""
        result = await conn.execute(self._flag, {"bots": list(bot_ids), "symbol": symbol})
        held: dict[uuid.UUID, list[tuple[str, str]]] = {}
        for row in result:
            if row.order_id is not None:
                held.setdefault(row.bot_id, []).append((row.client_order_id, row.order_id))
        return held
