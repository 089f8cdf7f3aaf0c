"""What the kind-specific bot operations (grid, DCA) share: the row lookup by kind, the status
transitions under the bot's row lock with their status event, the stop (unsent orders withdrawn,
resting ones cancelled at order-router), the refusal of a config the market rejects, and the
registration of a contract module's operations.

A kind's own API subclasses ``KindBotsApi`` and supplies ``kind``, ``info`` (the reply built from
the row), ``create`` and ``start``.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.bot_risk import BotRiskLimits
from tradeloom.shared.contracts.bots import BotRef
from tradeloom.shared.contracts.orders import OrderInfo, OrderRef
from tradeloom.shared.errors import Conflict, ValidationFailed, require_user
from tradeloom.shared.outbox import Outbox
from tradeloom.shared.rpc import Operation, RemoteError, ServiceClient
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.strategy_runner.bots.api_bots import TRANSITIONS, no_bot
from tradeloom.strategy_runner.bots.bot_risk_limits import BotRiskLimitsClient
from tradeloom.strategy_runner.bots.events import status_changed
from tradeloom.strategy_runner.bots.grid_market import GridMarketSource
from tradeloom.strategy_runner.domain.grid_bot import Problem
from tradeloom.strategy_runner.store.bots_store import BotsStore
from tradeloom.strategy_runner.store.grid_bots_store import GridBotsStore


def refuse_problems(problems: Sequence[Problem]) -> None:
    """A 422 naming every field the market refuses, or nothing."""
    if problems:
        raise ValidationFailed(
            "; ".join(f"{p.field}: {p.message}" for p in problems),
            details={"fields": [{"field": p.field, "message": p.message, "rule": p.rule} for p in problems]},
        )


class KindBotsApi:
    """The operations every kind-specific bot has; ``kind`` is the ``bots.kind`` it serves."""

    kind: str

    def __init__(
        self, engine: Callable[[], AsyncEngine], client: Callable[[], ServiceClient],
        outbox: Callable[[], Outbox], schema: str, timeout_s: float, *, risk_limits: BotRiskLimitsClient,
    ) -> None:  # fmt: skip
        self._engine = engine
        self._client = client
        self._outbox = outbox
        self.risk_limits = risk_limits
        self.bots = BotsStore(schema)
        self.orders = GridBotsStore(schema)  # has_orders, withdraw_unsent, add_order: any bot's
        self.market = GridMarketSource(client, timeout_s)

    def info(self, row: Row[Any]) -> BaseModel:
        raise NotImplementedError

    async def get(self, caller: CallerContext, body: BotRef) -> BaseModel:
        user_id = require_user(caller)
        async with self._engine().connect() as conn:
            row = await self._row(conn, body.bot_id, user_id)
        return self.info(row)

    async def stop(self, caller: CallerContext, body: BotRef) -> BaseModel:
        """Stopped, its unsent orders withdrawn and its resting ones cancelled (repeatable)."""
        user_id = require_user(caller)
        async with self._engine().begin() as conn:
            row = await self._row(conn, body.bot_id, user_id, lock=True)
            self._allowed(row, "stop")
            open_ids = await self.orders.withdraw_unsent(conn, row.id)
            row = await self._set_status(conn, row, user_id, "stopped", "stop")
        for order_id in open_ids:
            try:
                await self._client().call(
                    "order-router", "orders_cancel", OrderRef(order_id=order_id), OrderInfo, caller=caller
                )
            except RemoteError as error:
                if error.code not in ("not_found", "conflict"):  # gone or already done: nothing rests
                    raise
        async with self._engine().connect() as conn:
            row = await self._row(conn, body.bot_id, user_id)
        return self.info(row)

    async def _create(
        self, caller: CallerContext, bot_id: str, account_id: str, limits: BotRiskLimits | None,
        insert: Callable[[AsyncConnection], Awaitable[None]],
    ) -> Row[Any]:  # fmt: skip
        """The new bot's row: ``limits`` registered with risk-monitor first, then ``insert`` with
        their copy in one transaction (``bots/bot_risk_limits.py``: a failure leaves neither)."""
        user_id = require_user(caller)
        async with self.risk_limits.registered(caller, bot_id, account_id, limits) as conn:
            await insert(conn)
            if limits is not None:
                await self.bots.set_risk_limits(conn, uuid.UUID(bot_id), limits.model_dump(mode="json"))
            row = await self._created_row(conn, bot_id, user_id)
        return row

    async def _created_row(self, conn: AsyncConnection, bot_id: str, user_id: str) -> Row[Any]:
        """The new bot's row, after its status event (in the create's transaction)."""
        await status_changed(
            conn, self._outbox(), bot_id, user_id=user_id, status="stopped", previous=None, reason="created"
        )
        return await self._row(conn, bot_id, user_id)

    async def _row(self, conn: AsyncConnection, bot_id: str, user_id: str, *, lock: bool = False) -> Row[Any]:
        row = await self.bots.get(conn, bot_id, user_id, lock=lock)
        if row is None or row.kind != self.kind:
            raise no_bot(bot_id)
        return row

    @staticmethod
    def _allowed(row: Row[Any], op: str) -> None:
        if row.status not in TRANSITIONS[op][0]:
            raise Conflict(f"cannot {op} a {row.status} bot", details={"status": row.status})

    async def _set_status(
        self, conn: AsyncConnection, row: Row[Any], user_id: str, status: str, op: str
    ) -> Row[Any]:
        if row.status != status:
            await self.bots.set_status(conn, row.id, status, "", from_mark=False)
            await status_changed(
                conn, self._outbox(), str(row.id), user_id=user_id, status=status, previous=row.status,
                reason=op,
            )  # fmt: skip
        return await self._row(conn, str(row.id), user_id)


def register_kind(
    runtime: ServiceRuntime,
    requests: Sequence[Any],
    handlers: dict[str, Callable[[CallerContext, Any], Awaitable[BaseModel]]],
) -> None:
    """Every operation of a kind's contract module (``REQUESTS``), each to its handler."""
    for contract in requests:
        runtime.add_operation(
            Operation(
                contract.op, contract.request, contract.reply, handlers[contract.op], contract.description
            )
        )
