"""``orders_submit_batch``: one result per order (a bad order never fails the others), one risk
request for the batch, exactly-once per order on a retry — also after a kill -9 mid-batch."""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal
from pathlib import Path
from typing import Any

from or_harness import Caller, Neighbours, eventually, router_process
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from test_orders_flow import balances, open_account

from tradeloom.order_router.settings import OrderRouterSettings
from tradeloom.shared.contracts.orders_batch import OrderSubmitBatchReply
from tradeloom.shared.errors import ServiceError
from tradeloom.shared.rpc import ServiceClient

D = Decimal


def limit_buy(account_id: str, client_id: str, quantity: str, symbol: str = "BTC/USDT") -> dict[str, Any]:
    return {"account_id": account_id, "client_order_id": client_id, "symbol": symbol, "side": "buy",
            "type": "limit", "quantity": quantity, "price": "100"}  # fmt: skip


def batch_of(account_id: str) -> dict[str, Any]:
    return {
        "orders": [
            limit_buy(account_id, "b-1", "1"),
            limit_buy(account_id, "b-2", "1000"),  # 100,000 USDT: more than is free
            limit_buy(account_id, "b-3", "1", symbol="NOPE/USDT"),  # not listed
            limit_buy(account_id, "b-4", "2"),
        ]
    }


async def stored(engine: AsyncEngine, schema: str) -> list[tuple[str, str, Decimal]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(f'SELECT client_order_id, status, locked FROM "{schema}".orders ORDER BY client_order_id')
        )
        return [(r.client_order_id, r.status, D(r.locked)) for r in rows]


async def test_each_order_gets_its_own_result_and_a_retry_stores_nothing_twice(
    alice: Caller, neighbours: Neighbours, db_engine: AsyncEngine, or_schema: str
) -> None:
    account_id = await open_account(alice)
    reply = OrderSubmitBatchReply.model_validate(await alice("orders_submit_batch", batch_of(account_id)))
    first, short, unlisted, fourth = reply.results
    assert first.order is not None and first.order.status == "new" and first.order.client_order_id == "b-1"
    assert fourth.order is not None and fourth.order.status == "new"
    assert short.error is not None and short.error.code == "validation_error"
    assert "quantity" in short.error.message  # the field is named
    assert unlisted.error is not None and unlisted.error.code == "validation_error"
    assert neighbours.risk_batches == [2]  # the two stored orders, in one request
    locks = {cid: locked for cid, _, locked in await stored(db_engine, or_schema)}
    assert set(locks) == {"b-1", "b-4"}
    free, locked = (await balances(alice, account_id))["USDT"]
    assert locked == locks["b-1"] + locks["b-4"] and free + locked == D(10_000)

    again = OrderSubmitBatchReply.model_validate(await alice("orders_submit_batch", batch_of(account_id)))
    assert again.results[0].order is not None and again.results[3].order is not None
    assert again.results[0].order.order_id == first.order.order_id
    assert again.results[3].order.order_id == fourth.order.order_id
    assert again.results[1].error is not None and again.results[2].error is not None
    assert neighbours.risk_batches == [2]  # answered as stored: no second check
    assert [cid for cid, _, _ in await stored(db_engine, or_schema)] == ["b-1", "b-4"]
    assert await balances(alice, account_id) == {"USDT": (free, locked)}


async def test_a_risk_monitor_without_check_batch_checks_each_order_and_fails_closed_per_order(
    alice: Caller, neighbours: Neighbours
) -> None:
    account_id = await open_account(alice)
    await neighbours.drop_risk_batch()
    neighbours.risk_mode = "reject"
    body = {"orders": [limit_buy(account_id, "r-1", "1"), limit_buy(account_id, "r-2", "1")]}
    reply = OrderSubmitBatchReply.model_validate(await alice("orders_submit_batch", body))
    assert [(r.order.status, r.order.reject_reason) for r in reply.results if r.order] == [
        ("rejected", "risk_rejected: limit")
    ] * 2
    assert len(neighbours.risk_seen) == 2 and neighbours.risk_batches == []  # single checks
    assert await balances(alice, account_id) == {"USDT": (D(10_000), D(0))}  # the locks came back


async def test_an_error_from_check_batch_rejects_every_order_of_it(
    alice: Caller, neighbours: Neighbours
) -> None:
    account_id = await open_account(alice)
    neighbours.risk_mode = "error"
    body = {"orders": [limit_buy(account_id, "e-1", "1"), limit_buy(account_id, "e-2", "1")]}
    reply = OrderSubmitBatchReply.model_validate(await alice("orders_submit_batch", body))
    assert [(r.order.status, r.order.reject_reason) for r in reply.results if r.order] == [
        ("rejected", "risk_check_unavailable")
    ] * 2


async def test_kill_9_mid_batch_then_the_retried_batch_stores_each_order_once(
    nats_server: Any,
    or_settings: OrderRouterSettings,
    neighbours: Neighbours,
    nc: Any,
    db_engine: AsyncEngine,
    or_schema: str,
    tmp_path: Path,
) -> None:
    """The router dies while the batch's risk check is open (its orders stored pending_new);
    started again, the same batch retried answers each order once, its funds locked once."""
    router = router_process(or_settings, tmp_path)
    await asyncio.to_thread(router.start)
    alice = Caller(ServiceClient(nc, neighbours.subjects), "alice")
    in_check, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        in_check.set()
        await release.wait()

    try:
        await eventually(lambda: _answers(alice), timeout_s=60)
        account_id = await open_account(alice)
        body = {"orders": [limit_buy(account_id, f"k-{n}", "1") for n in range(5)]}
        neighbours.before_risk_answer = hold
        first = asyncio.create_task(alice("orders_submit_batch", body))
        await asyncio.wait_for(in_check.wait(), timeout=60)
        assert [s for _, s, _ in await stored(db_engine, or_schema)] == ["pending_new"] * 5
        router.kill()
        neighbours.before_risk_answer = None
        release.set()
        with contextlib.suppress(ServiceError):  # no answer from the dead router
            await first
        await asyncio.to_thread(router.start)
        reply = await _until_answered(alice, body)
        orders = [r.order for r in reply.results]
        assert all(o is not None and o.status == "new" for o in orders)
        rows = await stored(db_engine, or_schema)
        assert [cid for cid, _, _ in rows] == [f"k-{n}" for n in range(5)]  # each once
        assert len({o.order_id for o in orders if o}) == 5
        free, locked = (await balances(alice, account_id))["USDT"]
        assert locked == sum(lock for _, _, lock in rows) and free + locked == D(10_000)  # locked once
    finally:
        router.close()


async def _until_answered(alice: Caller, body: dict[str, Any]) -> OrderSubmitBatchReply:
    while True:
        try:
            return OrderSubmitBatchReply.model_validate(await alice("orders_submit_batch", body))
        except ServiceError as error:
            if error.code not in ("unavailable", "timeout"):
                raise
            await asyncio.sleep(0.2)


async def _answers(alice: Caller) -> bool:
    try:
        await alice.client.call_raw("order-router", "ping", {}, timeout_s=1)
    except ServiceError:
        return False
    return True
