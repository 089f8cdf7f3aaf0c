"""The bots' consumers of other services' events: their orders' updates and risk halts.

Order updates keep each bot's sub-ledger: the status, filled quantity, average fill price and
fees of every order whose ``client_order_id`` marks it as a bot's (``bot-<bot>-<bar>``); its
position is the sum of its filled buys minus sells; a grid or DCA bot's filled order moves its lot or
cycle (``bots.grid_fills``, ``bots.dca_fills``); a strategy bot's bracket exits (``<entry>-sl``,
``<entry>-tp``, opened by order-router) join its sub-ledger on their first update; a filled entry
of a bot with a lone exit (trailing stop, lone stop-loss or take-profit) records that exit for the
resend loop to place; a filled exit is logged once as the bot's exit. A halt (``risk.evt.halt``)
stops the user's (or, global, everyone's) running and paused bots with status ``halted``; a
resume does not restart them: starting a bot again is the owner's decision.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.bot_orders import bot_of_client_order_id
from tradeloom.shared.contracts.orders import OrderUpdated
from tradeloom.shared.contracts.risk import RiskAccountHalt, RiskHalt
from tradeloom.shared.envelope import Envelope
from tradeloom.shared.errors import PermanentError
from tradeloom.shared.outbox import Outbox
from tradeloom.strategy_runner.bots.dca_fills import DcaFills
from tradeloom.strategy_runner.bots.events import decision_made, status_changed
from tradeloom.strategy_runner.bots.grid_fills import GridFills
from tradeloom.strategy_runner.domain.bot_exits import exit_settings
from tradeloom.strategy_runner.domain.exit_plan import EXIT_SIGNALS, lone_exit
from tradeloom.strategy_runner.store.bot_exits_store import BotExitsStore
from tradeloom.strategy_runner.store.bot_ledger_store import BotLedgerStore
from tradeloom.strategy_runner.store.bot_views_store import BotViewsStore
from tradeloom.strategy_runner.store.bots_store import BotsStore

ENTRY_DONE = frozenset({"filled", "canceled", "expired"})


def _bot_client_id(envelope: Envelope) -> str | None:
    """The client id of a bot's order an ``order_updated`` envelope names (read without
    validating: ``on_order`` validates and refuses a bad one)."""
    if envelope.type != OrderUpdated.event_type():
        return None
    order = envelope.data.get("order")
    cid = order.get("client_order_id") if isinstance(order, dict) else None
    return cid if isinstance(cid, str) and bot_of_client_order_id(cid) is not None else None


class BotLedgerEvents:
    def __init__(self, schema: str, outbox: Callable[[], Outbox]) -> None:
        self.bots = BotsStore(schema)
        self.ledger = BotLedgerStore(schema)
        self.views = BotViewsStore(schema)
        self.grid_fills = GridFills(schema)
        self.dca_fills = DcaFills(schema)
        self.exits = BotExitsStore(schema)
        self._outbox = outbox

    async def on_orders(self, conn: AsyncConnection, envelopes: list[Envelope]) -> None:
        """A fetched batch of updates in one transaction (``BatchConsumer``): the bots' order and
        decision rows they name locked first, in client id order (``BotLedgerStore.lock_rows``, as
        a batch's answers lock them), then each update in stream order (``on_order``)."""
        await self.ledger.lock_rows(conn, [cid for cid in map(_bot_client_id, envelopes) if cid])
        for envelope in envelopes:
            await self.on_order(conn, envelope)

    async def on_order(self, conn: AsyncConnection, envelope: Envelope) -> None:
        try:
            event = envelope.unwrap(OrderUpdated)
        except ValueError as error:
            raise PermanentError(str(error)) from error
        order = event.order
        if bot_of_client_order_id(order.client_order_id) is None:
            return  # not a bot's order
        await self.exits.record_exit(  # a bracket's exit: first seen here (order-router opened it)
            conn, order.client_order_id, order.status, order.order_id, order.quantity
        )
        await self.views.record_fills(  # before order_answered raises filled_quantity
            conn, order.client_order_id, order.filled_quantity, order.average_price, order.fees
        )
        await self.ledger.order_answered(
            conn, order.client_order_id, order.status, order.order_id, order.filled_quantity
        )
        if order.status != "rejected":  # its submit timed out: the decision learns its order here
            seen = await self.ledger.decision_order_seen(conn, order.client_order_id, order.order_id)
            if seen is not None:
                await decision_made(conn, self._outbox(), event.user_id, seen)
        if order.status == "filled":  # a grid lot / DCA cycle moves, its follow-up orders are recorded
            await self.grid_fills.on_filled(conn, order.client_order_id)
            await self.dca_fills.on_filled(conn, order.client_order_id, order.average_price)
            await self._exit_filled(conn, order.client_order_id)
        if order.status in ENTRY_DONE and order.filled_quantity > 0:
            await self._entry_done(conn, order.client_order_id, order.filled_quantity)

    async def _entry_done(self, conn: AsyncConnection, client_id: str, filled: Decimal) -> None:
        """A strategy bot's entry is done with something filled: its lone exit (a trailing stop,
        or a stop-loss or take-profit without the other), recorded once for the resend loop."""
        entry = await self.exits.filled_entry(conn, client_id)
        if entry is None:
            return
        exit = lone_exit(exit_settings(entry.graph), entry.stop_loss_price, entry.take_profit_price)
        if exit is not None:
            await self.exits.add_lone_exit(conn, entry, exit, filled)

    async def _exit_filled(self, conn: AsyncConnection, client_id: str) -> None:
        """An exit filled: the bot's exit, in its decision log once."""
        row = await self.exits.filled_exit_to_log(conn, client_id)
        if row is None:
            return
        name = EXIT_SIGNALS[row.exit_kind]
        logged = await self.ledger.add_decision(
            conn, row.bot_id, row.bar_ns, signal=name, action="sell",
            reason=f"{name.replace('_', '-')} filled {row.filled_quantity} at {row.average_price}",
            quantity=Decimal(row.filled_quantity), client_id=client_id, order_id=row.order_id,
            symbol=row.symbol,
        )  # fmt: skip
        await decision_made(conn, self._outbox(), row.user_id, logged)

    async def on_risk(self, conn: AsyncConnection, envelope: Envelope) -> None:
        """A halt of a user or everyone, or one account's emergency stop, halts the bots it covers.
        Resumes and other risk events do not restart bots: starting one is its owner's action."""
        try:
            if envelope.type == RiskHalt.event_type():
                halt = envelope.unwrap(RiskHalt)
                user_id, account_id = halt.user_id, None
                reason = f"risk halt ({halt.scope}): {halt.reason}".strip()
            elif envelope.type == RiskAccountHalt.event_type():
                stop = envelope.unwrap(RiskAccountHalt)
                user_id, account_id = stop.user_id, stop.account_id
                reason = f"risk halt (account {stop.account_id}): {stop.reason}".strip()
            else:
                return
        except ValueError as error:
            raise PermanentError(str(error)) from error
        for row in await self.bots.halt(conn, user_id, reason.rstrip(":"), account_id):
            await status_changed(
                conn,
                self._outbox(),
                str(row.id),
                user_id=row.user_id,
                status="halted",
                previous=row.previous,
                reason=reason,
            )
