"""A strategy bot's exits in its sub-ledger (``bot_orders`` rows with ``exit_kind``).

order-router opens a filled bracket entry's stop-loss (or trailing stop) and take-profit itself,
with the client ids ``<entry>-sl`` (``-ts``) and ``<entry>-tp``; the first order update of each
records it here under the key ``entry bar + 1`` (stop-loss), ``+ 3`` (trailing stop) or ``+ 2``
(take-profit) (bar opens are whole seconds apart, so no
bar's order has these keys), so its fills count in the bot's position and PnL like any order.
A lone exit (``domain/exit_plan.py``) is recorded by the bot itself when its entry fills, keyed
``entry bar + 1``, ``+ 2`` or ``+ 3`` (trailing stop), and sent by the resend loop.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.db import check_schema_name
from tradeloom.strategy_runner.domain.exit_plan import LoneExit, exit_client_id

EXIT_SUFFIXES = {
    "-sl": ("sl", 1, "stop_market"),
    "-tp": ("tp", 2, "take_profit_market"),
    "-ts": ("ts", 3, "trailing_stop"),
}
TERMINAL = "('filled', 'canceled', 'rejected', 'expired')"


def exit_of(client_id: str) -> tuple[str, str, int, str] | None:
    """(entry client id, ``sl``/``tp``/``ts``, key offset, order type) of a bracket exit's client id."""
    shape = EXIT_SUFFIXES.get(client_id[-3:])
    return None if shape is None else (client_id[:-3], *shape)


class BotExitsStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def record_exit(
        self, conn: AsyncConnection, client_id: str, status: str, order_id: str, quantity: Decimal
    ) -> None:
        """The exit's row, once, beside its entry's (nothing if the entry is not a bot's order);
        flagged for the cancel loop when the bot was stopped before its entry filled."""
        shape = exit_of(client_id)
        if shape is None:
            return
        entry, kind, offset, order_type = shape
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".bot_orders (bot_id, symbol, bar_ns, client_order_id, side, '
                "quantity, status, order_id, order_type, exit_kind, cancel_requested) "
                "SELECT e.bot_id, e.symbol, e.bar_ns + :offset, :cid, 'sell', :qty, :status, :oid, :type, "
                f":kind, b.status = 'stopped' FROM \"{self.s}\".bot_orders e "
                f'JOIN "{self.s}".bots b ON b.id = e.bot_id '
                "WHERE e.client_order_id = :entry AND e.exit_kind IS NULL "
                "ON CONFLICT DO NOTHING"
            ),
            {
                "offset": offset, "cid": client_id, "qty": quantity, "status": status, "oid": order_id,
                "type": order_type, "kind": kind, "entry": entry,
            },
        )  # fmt: skip

    async def filled_exit_to_log(self, conn: AsyncConnection, client_id: str) -> Row[Any] | None:
        """A filled exit whose fill the decision log does not show yet. The exit's row is locked
        first and the log read after (a fresh snapshot), so two updates of it log it once."""
        result = await conn.execute(
            text(
                "SELECT o.bot_id, o.bar_ns, o.exit_kind, o.filled_quantity, o.average_price, o.order_id, "
                f'o.symbol, b.user_id FROM "{self.s}".bot_orders o JOIN "{self.s}".bots b ON b.id = o.bot_id '
                "WHERE o.client_order_id = :cid AND o.exit_kind IS NOT NULL AND o.status = 'filled' "
                "FOR UPDATE OF o"
            ),
            {"cid": client_id},
        )
        row = result.first()
        if row is None:
            return None
        logged = await conn.execute(
            text(f'SELECT 1 FROM "{self.s}".bot_decisions WHERE client_order_id = :cid'), {"cid": client_id}
        )
        return None if logged.first() is not None else row

    async def flag_open_exits(
        self, conn: AsyncConnection, bot_id: Any, symbol: str | None = None
    ) -> list[Row[Any]]:
        """The bot's exits not done (only ``symbol``'s if given), flagged: the ones order-router
        holds are returned (client id, order id) for the cancel loop; a lone exit not sent yet is
        withdrawn by the resend loop."""
        result = await conn.execute(
            text(
                f'UPDATE "{self.s}".bot_orders SET cancel_requested = true WHERE bot_id = :bot '
                f"AND exit_kind IS NOT NULL AND status NOT IN {TERMINAL} "
                "AND (CAST(:symbol AS text) IS NULL OR symbol = :symbol) "
                "RETURNING client_order_id, order_id"
            ),
            {"bot": bot_id, "symbol": symbol},
        )
        return [row for row in result if row.order_id is not None]

    async def withdraw_unsent_exits(self, conn: AsyncConnection, owner: str) -> None:
        """Flagged lone exits never sent: ``canceled`` without a request, for bots whose lease
        ``owner`` holds (its resend loop, the only sender of exits, is here, not sending) or stopped
        bots no replica holds."""
        await conn.execute(
            text(
                f"UPDATE \"{self.s}\".bot_orders o SET status = 'canceled', cancel_requested = false "
                "WHERE o.exit_kind IS NOT NULL AND o.cancel_requested AND o.order_id IS NULL "
                "AND o.status = 'sending' AND EXISTS (SELECT 1 FROM "
                f'"{self.s}".bots b LEFT JOIN "{self.s}".bot_leases l ON l.bot_id = b.id '
                "AND l.expires_at > now() WHERE b.id = o.bot_id AND (l.owner = :owner OR "
                "(b.status = 'stopped' AND l.bot_id IS NULL)))"
            ),
            {"owner": owner},
        )

    async def filled_entry(self, conn: AsyncConnection, client_id: str) -> Row[Any] | None:
        """A strategy bot's entry (a buy of a bar) and its bot's graph, unless the bot is stopped."""
        result = await conn.execute(
            text(
                "SELECT o.bot_id, o.symbol, o.bar_ns, o.client_order_id, o.filled_quantity, "
                "o.stop_loss_price, o.take_profit_price, b.graph FROM "
                f'"{self.s}".bot_orders o JOIN "{self.s}".bots b ON b.id = o.bot_id '
                "WHERE o.client_order_id = :cid AND o.exit_kind IS NULL AND o.side = 'buy' "
                "AND o.bar_ns >= 0 AND b.kind = 'strategy' AND b.graph IS NOT NULL "
                "AND b.status <> 'stopped'"
            ),
            {"cid": client_id},
        )
        return result.first()

    async def add_lone_exit(
        self, conn: AsyncConnection, entry: Row[Any], exit: LoneExit, quantity: Decimal
    ) -> None:
        """The exit's row (``sending``: the resend loop sends it), once per entry."""
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".bot_orders (bot_id, symbol, bar_ns, client_order_id, side, '
                "quantity, order_type, price, trailing_percent, exit_kind) VALUES (:bot, :symbol, "
                ":key, :cid, 'sell', :qty, :type, :price, :trail, :kind) ON CONFLICT DO NOTHING"
            ),
            {
                "bot": entry.bot_id, "symbol": entry.symbol, "key": entry.bar_ns + exit.offset,
                "cid": exit_client_id(entry.client_order_id, exit.kind), "qty": quantity,
                "type": exit.order_type, "price": exit.stop_price, "trail": exit.trailing_percent,
                "kind": exit.kind,
            },
        )  # fmt: skip
