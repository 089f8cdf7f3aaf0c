"""A bot's orders (its sub-ledger), decision log and the newest closed bar per market."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.db import check_schema_name

DECISION_COLUMNS = (
    "id, bot_id, bar_ns, symbol, signal, action, reason, quantity, client_order_id, order_id, created_at"
)


class BotLedgerStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def add_order(
        self, conn: AsyncConnection, *, bot_id: uuid.UUID, symbol: str, bar_ns: int, client_id: str,
        side: str, quantity: Decimal, stop_loss: Decimal | None = None, take_profit: Decimal | None = None,
        trailing_percent: Decimal | None = None,
    ) -> bool:  # fmt: skip
        """Record an order about to be sent (with its bracket's levels, if any); False when this
        (bot, symbol, bar) already has one."""
        result = await conn.execute(
            text(
                f'INSERT INTO "{self.s}".bot_orders '
                "(bot_id, symbol, bar_ns, client_order_id, side, quantity, stop_loss_price, "
                "take_profit_price, trailing_percent) "
                "VALUES (:bot, :symbol, :bar, :cid, :side, :qty, :sl, :tp, :trail) "
                "ON CONFLICT DO NOTHING RETURNING bar_ns"
            ),
            {
                "bot": bot_id, "symbol": symbol, "bar": bar_ns, "cid": client_id, "side": side,
                "qty": quantity, "sl": stop_loss, "tp": take_profit, "trail": trailing_percent,
            },
        )  # fmt: skip
        return result.first() is not None

    async def order_answered(
        self, conn: AsyncConnection, client_id: str, status: str, order_id: str | None, filled: Decimal
    ) -> None:
        """order-router's answer (or an order event): status, order id, filled quantity. A terminal
        status is never overwritten and the filled quantity never shrinks (events may come late)."""
        await conn.execute(
            text(
                f'UPDATE "{self.s}".bot_orders SET order_id = COALESCE(order_id, :oid), '
                "filled_quantity = GREATEST(filled_quantity, :filled), status = CASE WHEN status IN "
                "('filled', 'canceled', 'rejected', 'expired') THEN status ELSE :status END "
                "WHERE client_order_id = :cid"
            ),
            {"cid": client_id, "status": status, "oid": order_id, "filled": filled},
        )

    async def unsent_orders(self, conn: AsyncConnection, owner: str, older_than_s: float) -> list[Row[Any]]:
        """Orders recorded but never answered (a crash or a timeout), of bots we hold the lease of.
        A grid or DCA bot's orders (negative ``bar_ns``) and a bot's lone exits at once: only this
        loop sends them (a
        bar's market order is sent after its decision commits, so the loop waits ``age`` for it),
        after the bot's pending cancels (a moved take-profit needs the old one's quantity freed)."""
        result = await conn.execute(
            text(
                "SELECT o.bot_id, o.bar_ns, o.client_order_id, o.side, o.quantity, o.symbol, o.price, "
                "o.stop_loss_price, o.take_profit_price, o.order_type, o.trailing_percent "
                f'FROM "{self.s}".bot_orders o JOIN "{self.s}".bot_leases l ON l.bot_id = o.bot_id '
                "WHERE o.status = 'sending' AND l.owner = :owner AND l.expires_at > now() "
                "AND (o.bar_ns < 0 OR o.exit_kind IS NOT NULL "
                "OR o.created_at < now() - make_interval(secs => :age)) "
                f'AND NOT EXISTS (SELECT 1 FROM "{self.s}".bot_orders c WHERE c.bot_id = o.bot_id '
                "AND c.cancel_requested AND c.order_id IS NOT NULL "
                "AND c.status NOT IN ('filled', 'canceled', 'rejected', 'expired')) "
                "ORDER BY o.created_at LIMIT 50"
            ),
            {"owner": owner, "age": older_than_s},
        )
        return list(result)

    async def add_decision(
        self, conn: AsyncConnection, bot_id: uuid.UUID, bar_ns: int, *, signal: str, action: str,
        reason: str, quantity: Decimal | None = None, client_id: str | None = None,
        order_id: str | None = None, symbol: str | None = None,
    ) -> Row[Any]:  # fmt: skip
        result = await conn.execute(
            text(
                f'INSERT INTO "{self.s}".bot_decisions (bot_id, bar_ns, symbol, signal, action, reason, '
                "quantity, client_order_id, order_id) VALUES (:bot, :bar, :symbol, :signal, :action, "
                f":reason, :qty, :cid, :oid) RETURNING {DECISION_COLUMNS}"
            ),
            {
                "bot": bot_id,
                "symbol": symbol,
                "bar": bar_ns,
                "signal": signal,
                "action": action,
                "reason": reason,
                "qty": quantity,
                "cid": client_id,
                "oid": order_id,
            },
        )
        return result.one()

    async def settle_decision(
        self, conn: AsyncConnection, client_id: str, action: str, reason: str, order_id: str | None
    ) -> Row[Any] | None:
        """The answer to a decision's order: its id, or ``refused`` with order-router's reason; None
        when the row says so already (the orders consumer recorded the order first: no second
        event)."""
        result = await conn.execute(
            text(
                f'UPDATE "{self.s}".bot_decisions SET action = :action, reason = :reason, order_id = :oid '
                "WHERE client_order_id = :cid AND (action, reason, order_id) IS DISTINCT FROM "
                f"(:action, :reason, CAST(:oid AS text)) RETURNING {DECISION_COLUMNS}"
            ),
            {"cid": client_id, "action": action, "reason": reason, "oid": order_id},
        )
        return result.first()

    async def lock_rows(self, conn: AsyncConnection, client_ids: Sequence[str]) -> None:
        """Lock the bot orders, then the decisions, of ``client_ids``, each in client id order.
        Every transaction that updates those of several orders (a batch's answers, a batch of the
        orders consumer) takes them so first, so none waits on another in a cycle (a single
        statement updating both tables locks rows in no fixed order: such a cycle cost a second,
        Postgres' ``deadlock_timeout``, now and then)."""
        ids = sorted(set(client_ids))
        if not ids:
            return
        for table, order in (("bot_orders", "client_order_id"), ("bot_decisions", "client_order_id, id")):
            await conn.execute(
                text(
                    f'SELECT 1 FROM "{self.s}".{table} WHERE client_order_id = ANY(CAST(:cids AS text[])) '
                    f"ORDER BY {order} FOR UPDATE"
                ),
                {"cids": ids},
            )

    async def answers_recorded(
        self, conn: AsyncConnection, answers: Sequence[tuple[str, str, str | None, Decimal, str, str]]
    ) -> list[Row[Any]]:
        """``order_answered`` and ``settle_decision`` of several orders in one statement: each
        (client id, status, order id, filled, action, reason); the decision rows changed (one the
        orders consumer already settled alike is not: its event went out then)."""
        if not answers:
            return []
        cids, statuses, oids, filled, actions, reasons = (list(c) for c in zip(*answers, strict=True))
        await self.lock_rows(conn, cids)
        params = {"cids": cids, "statuses": statuses, "oids": oids, "filled": filled, "actions": actions}
        result = await conn.execute(
            text(
                "WITH a AS (SELECT * FROM unnest(CAST(:cids AS text[]), CAST(:statuses AS text[]), "
                "CAST(:oids AS text[]), CAST(:filled AS numeric[]), CAST(:actions AS text[]), "
                "CAST(:reasons AS text[])) AS a(cid, status, oid, filled, action, reason)), "
                f'o AS (UPDATE "{self.s}".bot_orders b SET order_id = COALESCE(b.order_id, a.oid), '
                "filled_quantity = GREATEST(b.filled_quantity, a.filled), status = CASE WHEN b.status IN "
                "('filled', 'canceled', 'rejected', 'expired') THEN b.status ELSE a.status END "
                "FROM a WHERE b.client_order_id = a.cid RETURNING 1) "
                f'UPDATE "{self.s}".bot_decisions d SET action = a.action, reason = a.reason, '
                "order_id = a.oid FROM a WHERE d.client_order_id = a.cid AND (d.action, d.reason, "
                "d.order_id) IS DISTINCT FROM (a.action, a.reason, a.oid) "
                f"RETURNING {', '.join('d.' + c for c in DECISION_COLUMNS.split(', '))}"
            ),
            params | {"reasons": reasons},
        )
        return list(result)

    async def decision_order_seen(
        self, conn: AsyncConnection, client_id: str, order_id: str
    ) -> Row[Any] | None:
        """A decision whose submit got no answer (a timeout) but whose order order-router then
        reported: its order id, once (the resend loop only resends orders still 'sending')."""
        result = await conn.execute(
            text(
                f'UPDATE "{self.s}".bot_decisions SET order_id = :oid, reason = :reason '
                "WHERE client_order_id = :cid AND order_id IS NULL AND action IN ('buy', 'sell') "
                f"RETURNING {DECISION_COLUMNS}"
            ),
            {"cid": client_id, "oid": order_id, "reason": "order sent"},
        )
        return result.first()

    async def decisions(
        self, conn: AsyncConnection, bot_id: uuid.UUID, limit: int, before: int | None
    ) -> list[Row[Any]]:
        result = await conn.execute(
            text(
                f'SELECT {DECISION_COLUMNS} FROM "{self.s}".bot_decisions WHERE bot_id = :bot '
                "AND (CAST(:before AS bigint) IS NULL OR id < :before) ORDER BY id DESC LIMIT :n"
            ),
            {"bot": bot_id, "before": before, "n": limit},
        )
        return list(result)

    async def set_last_bar(self, conn: AsyncConnection, bot_id: uuid.UUID, symbol: str, bar_ns: int) -> None:
        """The bar decided on ``symbol``; the bot's ``last_bar_ns`` is the newest of its symbols'."""
        await conn.execute(
            text(
                f'UPDATE "{self.s}".bot_symbols SET last_bar_ns = :bar '
                "WHERE bot_id = :id AND symbol = :symbol"
            ),
            {"id": bot_id, "bar": bar_ns, "symbol": symbol},
        )
        await conn.execute(
            text(
                f'UPDATE "{self.s}".bots SET last_bar_ns = GREATEST(last_bar_ns, :bar), updated_at = now() '
                "WHERE id = :id"
            ),
            {"id": bot_id, "bar": bar_ns},
        )

    # ------------------------------------------------------------------------------ bar marks
    async def mark_bar(
        self, conn: AsyncConnection, venue: str, symbol: str, timeframe: str, open_ns: int
    ) -> None:
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".bar_marks AS m (venue, symbol, timeframe, open_ns) '
                "VALUES (:venue, :symbol, :tf, :ns) ON CONFLICT (venue, symbol, timeframe) "
                "DO UPDATE SET open_ns = GREATEST(m.open_ns, EXCLUDED.open_ns)"
            ),
            {"venue": venue, "symbol": symbol, "tf": timeframe, "ns": open_ns},
        )

    async def behind(self, conn: AsyncConnection, owner: str) -> list[Row[Any]]:
        """Running bots we hold the lease of whose last decided bar on one of their symbols is
        older than that market's newest closed bar: (bot id, that bar, the market)."""
        result = await conn.execute(
            text(
                f'SELECT b.id, m.open_ns, b.venue, s.symbol, b.timeframe FROM "{self.s}".bots b '
                f'JOIN "{self.s}".bot_leases l ON l.bot_id = b.id '
                f'JOIN "{self.s}".bot_symbols s ON s.bot_id = b.id '
                f'JOIN "{self.s}".bar_marks m ON m.venue = b.venue AND m.symbol = s.symbol '
                "AND m.timeframe = b.timeframe WHERE b.status = 'running' AND l.owner = :owner "
                "AND l.expires_at > now() AND (s.last_bar_ns IS NULL OR s.last_bar_ns < m.open_ns)"
            ),
            {"owner": owner},
        )
        return list(result)
