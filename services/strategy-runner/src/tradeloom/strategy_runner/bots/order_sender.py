"""Bots' orders to order-router and its answers recorded (``bot_orders``, the decision settled).

``send``: one order (``orders_submit``). ``send_batch``: the orders a market's candle made, one
``orders_submit_batch`` request per owner (the caller is the bot's owner; order-router stores,
risk-checks and accepts them together: issue 13), the answers recorded as ``send`` records each,
in one transaction for the batch.
A batch order-router could not take as a whole (not answering, an older version without the op)
is sent again order by order. Every order keeps its client id, so a resend — by the batch's
fallback or by the runner's loop — gets the original order, never a second one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.shared.bot_orders import bot_of_client_order_id
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.bots import BotDecisionMade
from tradeloom.shared.contracts.orders import OrderInfo
from tradeloom.shared.contracts.orders_batch import MAX_BATCH, OrderSubmitBatch, OrderSubmitBatchReply
from tradeloom.shared.envelope import Event
from tradeloom.shared.errors import Timeout, Unavailable
from tradeloom.shared.outbox import Outbox
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.strategy_runner.bots.events import decision_made, decision_of, status_changed
from tradeloom.strategy_runner.bots.exit_orders import ExitOrders
from tradeloom.strategy_runner.bots.order_to_send import OrderToSend
from tradeloom.strategy_runner.bots.refusals import send_again_later, unusable_account
from tradeloom.strategy_runner.store.bot_ledger_store import BotLedgerStore
from tradeloom.strategy_runner.store.bots_store import BotsStore

log = logging.getLogger(__name__)


def answer_of(order: OrderToSend, info: OrderInfo) -> tuple[str, str]:
    """The decision's action and reason once order-router answered with the order."""
    if info.status == "rejected":
        return "refused", "order rejected: " + (info.reject_reason or "")
    return order.side, "order sent"


class OrderSender:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        client: Callable[[], ServiceClient],
        outbox: Callable[[], Outbox],
        *,
        bots: BotsStore,
        ledger: BotLedgerStore,
        exits: ExitOrders,
        timeout_s: float,
    ) -> None:
        self._engine = engine
        self._client = client
        self._outbox = outbox
        self.bots = bots
        self.ledger = ledger
        self.exits = exits
        self.timeout_s = timeout_s

    async def send(self, order: OrderToSend) -> None:
        """Submit as the bot's owner; a retry of the same client id gets the original order.
        A sell whose bracket exits rest cancels them first (not done: the loops finish it)."""
        if order.cancel_first and not await self.exits.cancel(order.user_id, order.cancel_first):
            return
        try:
            info = await self._client().call(
                "order-router", "orders_submit", order.submit(), OrderInfo,
                caller=CallerContext(user_id=order.user_id), timeout_s=self.timeout_s,
            )  # fmt: skip
        except RemoteError as error:
            await self._refused(order, error)
            return
        except Unavailable as error:  # still 'sending': the loop resends it
            log.warning("order %s not sent yet: %s", order.client_id, error)
            return
        await self._answered(order, info)

    async def send_batch(self, orders: Sequence[OrderToSend]) -> None:
        """Each owner's orders in batches (an order with exits to cancel first goes on its own)."""
        alone = [order for order in orders if order.cancel_first]
        owners: dict[str, list[OrderToSend]] = {}
        for order in orders:
            if not order.cancel_first:
                owners.setdefault(order.user_id, []).append(order)
        batches = [
            group[i : i + MAX_BATCH] for group in owners.values() for i in range(0, len(group), MAX_BATCH)
        ]
        await asyncio.gather(
            *(self._batch(batch) for batch in batches), *(self.send(order) for order in alone)
        )

    async def _batch(self, orders: list[OrderToSend]) -> None:
        if len(orders) == 1:
            await self.send(orders[0])
            return
        try:
            reply = await self._client().call(
                "order-router", "orders_submit_batch", OrderSubmitBatch(orders=[o.submit() for o in orders]),
                OrderSubmitBatchReply, caller=CallerContext(user_id=orders[0].user_id),
                timeout_s=self.timeout_s,
            )  # fmt: skip
            if len(reply.results) != len(orders):
                raise RemoteError("internal", f"{len(reply.results)} results for {len(orders)} orders")
        except Timeout as error:  # maybe taken: still 'sending', the loop resends each (same client id)
            log.warning("batch of %d orders not answered yet: %s", len(orders), error)
            return
        except (RemoteError, Unavailable) as error:  # the same orders one by one (same client ids)
            log.warning("batch of %d orders not taken (%s): one by one", len(orders), error)
            await asyncio.gather(*(self.send(order) for order in orders))
            return
        answered = [(o, r.order) for o, r in zip(orders, reply.results, strict=True) if r.order is not None]
        await self._answered_many(answered)
        for order, result in zip(orders, reply.results, strict=True):
            if result.order is None and result.error is not None:
                body = result.error
                await self._refused(order, RemoteError(body.code, body.message, dict(body.details)))

    async def _refused(self, order: OrderToSend, error: RemoteError) -> None:
        if send_again_later(error):  # still 'sending': the loop resends it
            log.warning("order %s not sent yet: %s", order.client_id, error)
            return
        await self._settle(
            order, "rejected", order_id=None, action="refused", reason=f"{error.code}: {error}",
            stop_reason=unusable_account(error),
        )  # fmt: skip

    async def _answered(self, order: OrderToSend, info: OrderInfo) -> None:
        action, reason = answer_of(order, info)
        await self._settle(
            order, info.status, order_id=info.order_id, action=action, reason=reason,
            filled=info.filled_quantity,
        )  # fmt: skip

    async def _answered_many(self, answered: Sequence[tuple[OrderToSend, OrderInfo]]) -> None:
        """A batch's answers recorded as ``_answered`` records each, in one transaction of two
        statements (orders and decisions) and one insert of their events."""
        if not answered:
            return
        owner = {order.client_id: order.user_id for order, _ in answered}
        rows = [
            (order.client_id, info.status, info.order_id, info.filled_quantity, *answer_of(order, info))
            for order, info in answered
        ]
        async with self._engine().begin() as conn:
            logged = await self.ledger.answers_recorded(conn, rows)
            events: list[tuple[Event, Sequence[str], dict[str, Any]]] = [
                (BotDecisionMade(bot_id=str(d.bot_id), user_id=owner[d.client_order_id],
                                 decision=decision_of(d)), (str(d.bot_id),), {})
                for d in logged
            ]  # fmt: skip
            await self._outbox().add_many(conn, events)

    async def _settle(
        self, order: OrderToSend, status: str, *, order_id: str | None, action: str, reason: str,
        filled: Decimal = Decimal(0), stop_reason: str | None = None,
    ) -> None:  # fmt: skip
        """Record order-router's answer; ``stop_reason``: the bot cannot trade any more (status error)."""
        async with self._engine().begin() as conn:
            await self.ledger.order_answered(conn, order.client_id, status, order_id, filled)
            logged = await self.ledger.settle_decision(conn, order.client_id, action, reason, order_id)
            if logged is not None:
                await decision_made(conn, self._outbox(), order.user_id, logged)
            bot_id = bot_of_client_order_id(order.client_id)
            if stop_reason is not None and bot_id is not None:
                await self.stop_in_error(conn, bot_id, stop_reason)

    async def stop_in_error(self, conn: AsyncConnection, bot_id: str, reason: str) -> None:
        row = await self.bots.get(conn, bot_id, None, lock=True)
        if row is not None and row.status in ("running", "paused"):
            await self.bots.set_status(conn, row.id, "error", reason, from_mark=False)
            await status_changed(
                conn, self._outbox(), bot_id, user_id=row.user_id, status="error", previous=row.status,
                reason=reason, account_id=row.account_id, bot_name=row.name,
            )  # fmt: skip
