"""The halt view's flatten results: order-router's ``orders.evt.flatten_completed`` kept per
account (once per flatten, whatever the redeliveries), and the ``flattens_list`` operation that
shows each flatten's close orders and what it left open (dust under a lot or the minimum
notional, no price, no funds), each with its reason.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.risk_monitor.owners import Owners
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.orders import FlattenCompleted
from tradeloom.shared.contracts.risk_monitor import FlattenResult, FlattenResultList, FlattensRequest
from tradeloom.shared.db import check_schema_name
from tradeloom.shared.envelope import Envelope
from tradeloom.shared.errors import require_user

Handler = Callable[[AsyncConnection, Envelope], Awaitable[None]]


class FlattenResults:
    def __init__(self, engine: Callable[[], AsyncEngine], schema: str, owners: Owners) -> None:
        self._engine = engine
        self.s = check_schema_name(schema)
        self.owners = owners

    def around(self, handler: Handler) -> Handler:
        """The orders consumer's handler, with ``flatten_completed`` events kept here first."""

        async def on_event(conn: AsyncConnection, envelope: Envelope) -> None:
            if envelope.type == FlattenCompleted.event_type():
                await self.record(conn, envelope.unwrap(FlattenCompleted), envelope)
                return
            await handler(conn, envelope)

        return on_event

    async def record(self, conn: AsyncConnection, event: FlattenCompleted, envelope: Envelope) -> None:
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".flatten_results (flatten_id, account_id, user_id, reason, '
                "outcome, orders, left_open, completed_at) VALUES (:id, :account, :user, :reason, "
                ":outcome, CAST(:orders AS jsonb), CAST(:left AS jsonb), :at) ON CONFLICT DO NOTHING"
            ),
            {
                "id": event.flatten_id,
                "account": event.account_id,
                "user": event.user_id,
                "reason": event.reason,
                "outcome": event.outcome,
                "orders": json.dumps([o.model_dump(mode="json") for o in event.orders]),
                "left": json.dumps([item.model_dump(mode="json") for item in event.left]),
                "at": envelope.time,
            },
        )

    async def list(self, caller: CallerContext, body: FlattensRequest) -> FlattenResultList:
        user = require_user(caller)
        await self.owners.require(caller, user, body.account_id)
        async with self._engine().connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT flatten_id, account_id, reason, outcome, orders, left_open, completed_at "
                        f'FROM "{self.s}".flatten_results WHERE account_id = :account AND user_id = :user '
                        "ORDER BY completed_at DESC, flatten_id LIMIT :limit"
                    ),
                    {"account": body.account_id, "user": user, "limit": body.limit},
                )
            ).all()
        return FlattenResultList(
            items=[
                FlattenResult.model_validate(
                    {
                        "flatten_id": r.flatten_id,
                        "account_id": r.account_id,
                        "reason": r.reason,
                        "outcome": r.outcome,
                        "orders": r.orders,
                        "left": r.left_open,
                        "completed_at": r.completed_at,
                    }
                )
                for r in rows
            ]
        )
