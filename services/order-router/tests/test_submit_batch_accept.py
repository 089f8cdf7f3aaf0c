"""A batch's acceptance (``orders_batch._accept_all``): the orders a paper account simply places
move to ``new`` together, an order that needs more (here: its account halted while the risk check
was open) is accepted on its own in the same transaction; every order is announced once per
status, in the state machine's order, and each lock is where its status says it is."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from or_harness import Caller, Neighbours
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from test_orders_flow import balances, open_account
from test_submit_batch import limit_buy

from tradeloom.shared.contracts.orders_batch import OrderSubmitBatchReply

D = Decimal


async def announced(db_engine: AsyncEngine, schema: str) -> dict[str, list[tuple[str | None, str]]]:
    """Each order's ``order_updated`` events in the outbox, (previous, status) in insertion order."""
    async with db_engine.connect() as conn:
        rows = await conn.execute(
            text(
                f"SELECT convert_from(payload, 'UTF8') FROM \"{schema}\".outbox "
                "WHERE subject LIKE '%order_updated%' ORDER BY seq"
            )
        )
        events: dict[str, list[tuple[str | None, str]]] = {}
        for (payload,) in rows:
            data: dict[str, Any] = json.loads(payload)["data"]
            order = data["order"]
            events.setdefault(order["client_order_id"], []).append((data["previous_status"], order["status"]))
        return events


async def test_plain_orders_move_together_and_a_halted_accounts_order_is_rejected_on_its_own(
    alice: Caller, neighbours: Neighbours, db_engine: AsyncEngine, or_schema: str
) -> None:
    plain, halted = await open_account(alice), await open_account(alice)

    async def halt() -> None:  # the halted account's emergency stop lands during the risk check
        async with db_engine.begin() as conn:
            await conn.execute(
                text(
                    f'INSERT INTO "{or_schema}".halts (scope, user_key, reason, event_id) '
                    "VALUES ('account', :key, 'drill', 'halt-1')"
                ),
                {"key": halted},
            )

    neighbours.before_risk_answer = halt
    body = {
        "orders": [
            limit_buy(plain, "p-1", "1"),
            limit_buy(halted, "h-1", "2"),
            limit_buy(plain, "p-2", "3"),
        ]
    }
    reply = OrderSubmitBatchReply.model_validate(await alice("orders_submit_batch", body))
    neighbours.before_risk_answer = None
    orders = [r.order for r in reply.results]
    assert [(o.client_order_id, o.status, o.reject_reason) for o in orders if o] == [
        ("p-1", "new", None),
        ("h-1", "rejected", "trading_halted"),
        ("p-2", "new", None),
    ]
    assert neighbours.risk_batches == [3]
    events = await announced(db_engine, or_schema)
    assert events == {
        "p-1": [(None, "pending_new"), ("pending_new", "new")],
        "h-1": [(None, "pending_new"), ("pending_new", "rejected")],
        "p-2": [(None, "pending_new"), ("pending_new", "new")],
    }
    free, locked = (await balances(alice, plain))["USDT"]
    assert locked > D(400) and free + locked == D(10_000)  # 1 + 3 at 100, with the fee's margin
    assert await balances(alice, halted) == {"USDT": (D(10_000), D(0))}  # the rejected lock came back
    got = await alice("orders_get", {"order_id": orders[2].order_id})  # type: ignore[union-attr]
    assert got["order"]["status"] == "new"

    again = OrderSubmitBatchReply.model_validate(await alice("orders_submit_batch", body))
    assert [r.order.order_id for r in again.results if r.order] == [o.order_id for o in orders if o]
    assert await announced(db_engine, or_schema) == events  # a retry announces nothing more
