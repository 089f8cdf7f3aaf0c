"""The cancel loop: bot orders a fill made obsolete (a DCA cycle's moved take-profit, its unfilled
safeties after the take-profit) are cancelled at order-router as the bot's owner, by the replica
holding the bot's lease. A cancel that fails for a transient reason is tried again next tick; an
order already gone or done (``not_found``, ``conflict``) needs nothing more. Its ``canceled``
status comes back with order-router's ``order_updated``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.shared.aio import wait_for_stop
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.orders import OrderInfo, OrderRef
from tradeloom.shared.errors import Unavailable
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.strategy_runner.store.dca_bots_store import DcaBotsStore

log = logging.getLogger(__name__)


class OrderCancels:
    def __init__(
        self, engine: Callable[[], AsyncEngine], client: Callable[[], ServiceClient], *, schema: str,
        owner: str, tick_s: float, timeout_s: float,
    ) -> None:  # fmt: skip
        self._engine = engine
        self._client = client
        self.store = DcaBotsStore(schema)
        self.owner = owner
        self.tick_s = tick_s
        self.timeout_s = timeout_s

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.tick()
            except (OSError, Unavailable) as error:  # the database or NATS away: try again
                log.warning("bot order cancels failed: %s", error)
            if await wait_for_stop(stop, self.tick_s):
                break

    async def tick(self) -> None:
        async with self._engine().begin() as conn:
            due = await self.store.cancels_due(conn, self.owner)
        for row in due:
            try:
                await self._client().call(
                    "order-router", "orders_cancel", OrderRef(order_id=row.order_id), OrderInfo,
                    caller=CallerContext(user_id=row.user_id), timeout_s=self.timeout_s,
                )  # fmt: skip
            except RemoteError as error:
                if error.code not in ("not_found", "conflict"):
                    log.warning("cancel of %s not done yet: %s", row.client_order_id, error)
                    continue
            async with self._engine().begin() as conn:
                await self.store.cancel_done(conn, row.client_order_id)
