"""The submit path's folded statements (``store/submit_reads.py``): the halt is still read under
the order's lock after the risk check, and an order whose funds lock does not fit is never stored."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from or_harness import Caller, Neighbours
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from test_orders_flow import balances, open_account
from test_orders_guards import order_count

from tradeloom.order_router.domain import states
from tradeloom.order_router.store.submit_reads import SubmitReads

D = Decimal


@pytest.mark.parametrize("scope", ["global", "user", "account"])
async def test_a_halt_stored_during_the_risk_check_rejects_the_stored_order(
    alice: Caller, neighbours: Neighbours, db_engine: AsyncEngine, or_schema: str, scope: str
) -> None:
    account_id = await open_account(alice)
    key = {"global": "*", "user": "alice", "account": account_id}[scope]

    async def halt() -> None:  # as the halt consumer stores it, between the submit's transactions
        async with db_engine.begin() as conn:
            await conn.execute(
                text(
                    f'INSERT INTO "{or_schema}".halts (scope, user_key, reason, event_id) '
                    "VALUES (:scope, :key, 'drill', :event)"
                ),
                {"scope": scope, "key": key, "event": f"halt-{scope}"},
            )

    neighbours.before_risk_answer = halt
    body = {"account_id": account_id, "symbol": "BTC/USDT", "side": "buy", "type": "limit", "quantity": "1",
            "price": "100", "client_order_id": "during-check"}  # fmt: skip
    order = await alice("orders_submit", body)
    assert (order["status"], order["reject_reason"]) == ("rejected", "trading_halted")
    assert await balances(alice, account_id) == {"USDT": (D(10_000), D(0))}  # the lock came back
    neighbours.before_risk_answer = None
    refused = await alice.error("orders_submit", {**body, "client_order_id": "after-halt"})
    assert refused.code == "conflict" and refused.details["reason"] == "trading_halted"
    retried = await alice("orders_submit", body)  # a retry answers the stored order, halt or not
    assert (retried["order_id"], retried["status"]) == (order["order_id"], "rejected")


async def test_an_order_whose_lock_does_not_fit_is_not_stored(
    alice: Caller, db_engine: AsyncEngine, or_schema: str
) -> None:
    account_id = uuid.UUID(await open_account(alice))
    reads = SubmitReads(or_schema)
    values = {
        "id": uuid.uuid4(), "account_id": account_id, "user_id": "alice", "client_order_id": "c-1",
        "venue": "sim", "symbol": "BTC/USDT", "base_asset": "BTC", "quote_asset": "USDT",
        "lot_size": D("0.001"), "side": "buy", "type": "limit", "status": states.PENDING_NEW,
        "quantity": D(1), "price": D(100), "time_in_force": "gtc", "accepted_ns": 1,
        "lock_asset": "USDT", "locked": D(10_001),
    }  # fmt: skip
    with pytest.raises(RuntimeError):
        async with db_engine.begin() as conn:
            row, taken = await reads.insert_locked(conn, values)
            assert row is not None and not taken
            raise RuntimeError("insufficient funds")  # as the submit raises its 422
    assert await order_count(db_engine, or_schema) == 0
    async with db_engine.begin() as conn:
        row, taken = await reads.insert_locked(conn, {**values, "locked": D(10_000)})
        assert row is not None and taken and row.locked == D(10_000)
        again, taken_again = await reads.insert_locked(conn, {**values, "id": uuid.uuid4()})
        assert again is None and not taken_again  # the client id exists: nothing written, nothing locked
    assert await balances(alice, str(account_id)) == {"USDT": (D(0), D(10_000))}
