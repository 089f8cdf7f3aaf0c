"""kill -9 of order-router (a real subprocess), or a NATS or Postgres restart, in the middle of a
stream of orders (in bursts of three, so submissions overlap) and trades.

Afterwards: every order the client saw accepted exists once, every fill once, filled
quantities agree with the fills, and every balance equals an independent recomputation from the
starting balances and the fills (and every lock equals what open orders still hold).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from or_harness import Caller, Neighbours, eventually, router_process
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.order_router.settings import OrderRouterSettings
from tradeloom.shared.errors import ServiceError
from tradeloom.shared.rpc import ServiceClient

D = Decimal
START = {"USDT": D(100_000), "BTC": D(10)}


async def submit_until_answered(alice: Caller, body: dict[str, Any]) -> dict[str, Any]:
    """A client that retries with the same client_order_id until it gets an answer (503/504 while
    the router, NATS or Postgres restarts)."""
    while True:
        try:
            return await alice("orders_submit", body)
        except ServiceError as error:
            if error.code not in ("unavailable", "timeout"):
                raise
            await asyncio.sleep(0.2)


@pytest.mark.parametrize("fault", ["kill_9", "nats_restart", "postgres_restart"])
async def test_a_fault_mid_stream_loses_and_duplicates_nothing(
    fault: str,
    nats_server: Any,
    pg_server: Any,
    or_settings: OrderRouterSettings,
    neighbours: Neighbours,
    nc: Any,
    db_engine: AsyncEngine,
    or_schema: str,
    tmp_path: Path,
) -> None:
    router = router_process(or_settings, tmp_path, pending_new_timeout_s=2)
    await asyncio.to_thread(router.start)
    alice = Caller(ServiceClient(nc, neighbours.subjects), "alice")
    try:
        await eventually(lambda: _answers(alice), timeout_s=60)
        balances = [{"asset": asset, "amount": str(amount)} for asset, amount in START.items()]
        account_id = str(
            (await alice("accounts_create", {"name": "crash", "balances": balances}))["account_id"]
        )
        await neighbours.trade("100", "0.001")
        await eventually(lambda: _has_price(db_engine, or_schema), timeout_s=60)

        accepted: dict[str, dict[str, Any]] = {}

        async def one(n: int) -> None:
            side = "buy" if n % 2 == 0 else "sell"
            body: dict[str, Any] = {"account_id": account_id, "client_order_id": f"c{n}",
                                    "symbol": "BTC/USDT", "side": side, "type": "market",
                                    "quantity": "0.06"}  # fmt: skip
            if n % 3 == 0:
                body.update(type="limit", price="101" if side == "buy" else "99")
            reply = await submit_until_answered(alice, body)
            if reply["status"] != "rejected":
                accepted[body["client_order_id"]] = reply

        async def client() -> None:
            for first in range(0, 30, 3):  # bursts of three: submissions in flight side by side
                await asyncio.gather(*(one(n) for n in range(first, first + 3)))
                await asyncio.sleep(0.02)

        async def market() -> None:
            for n in range(60):
                await neighbours.trade("100" if n % 2 else "100.5", "0.025")
                await asyncio.sleep(0.03)

        async def crash() -> None:
            await eventually(lambda: _has_orders(db_engine, or_schema, 8), timeout_s=120)
            if fault == "kill_9":
                router.kill()
                await asyncio.sleep(0.5)  # orders and trades keep coming while it is down
                await asyncio.to_thread(router.start)  # (in a thread: they keep coming meanwhile)
            elif fault == "nats_restart":
                await asyncio.to_thread(nats_server.restart)
            else:
                await asyncio.to_thread(pg_server.restart)

        await asyncio.gather(client(), market(), crash())
        await neighbours.trade("100.25", "50")  # the last trade: fills every open market order
        await eventually(lambda: _settled(db_engine, or_schema), timeout_s=120)
        await _check_books(db_engine, or_schema, account_id, accepted)
        dead = await nc.jetstream().stream_info(neighbours.subjects.stream("DEAD_LETTERS"))
        assert dead.state.messages == 0  # nothing was given up on
    finally:
        router.close()


async def _answers(alice: Caller) -> bool:
    try:
        await alice.client.call_raw("order-router", "ping", {}, timeout_s=1)
    except ServiceError:
        return False
    return True


async def _scalar(engine: AsyncEngine, sql: str) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(text(sql))).scalar_one()


async def _has_price(engine: AsyncEngine, schema: str) -> bool:
    return bool(await _scalar(engine, f'SELECT count(*) FROM "{schema}".last_prices') > 0)


async def _has_orders(engine: AsyncEngine, schema: str, n: int) -> bool:
    return bool(await _scalar(engine, f'SELECT count(*) FROM "{schema}".orders') >= n)


async def _settled(engine: AsyncEngine, schema: str) -> bool:
    """The closing trade was applied and no market order or submission is still in flight."""
    seen = await _scalar(engine, f'SELECT count(*) FROM "{schema}".last_prices WHERE price = 100.25')
    busy = await _scalar(
        engine,
        f"SELECT count(*) FROM \"{schema}\".orders WHERE status = 'pending_new' "
        "OR (type = 'market' AND status IN ('new', 'partially_filled'))",
    )
    return bool(seen == 1 and busy == 0)


async def _check_books(engine: AsyncEngine, schema: str, account_id: str, accepted: dict[str, Any]) -> None:
    async with engine.connect() as conn:
        orders = {
            r.client_order_id: r for r in (await conn.execute(text(f'SELECT * FROM "{schema}".orders'))).all()
        }
        fills = (await conn.execute(text(f'SELECT * FROM "{schema}".fills'))).all()
        held = (await conn.execute(text(f'SELECT asset, free, locked FROM "{schema}".balances'))).all()
        per_client = (
            await conn.execute(text(f'SELECT client_order_id, count(*) FROM "{schema}".orders GROUP BY 1'))
        ).all()
    assert all(count == 1 for _, count in per_client)
    for client_order_id, reply in accepted.items():  # every order seen accepted exists, once, same id
        assert str(orders[client_order_id].id) == reply["order_id"]
    assert len(fills) > 0
    assert len({(f.venue, f.venue_fill_id) for f in fills}) == len(fills)
    assert len({(f.order_id, f.trade_id) for f in fills}) == len(fills)  # one fill per order and trade
    filled: dict[Any, Decimal] = defaultdict(Decimal)
    expected = dict(START)
    for f in fills:
        filled[f.order_id] += f.quantity
        notional = f.price * f.quantity
        sign = 1 if f.side == "buy" else -1
        expected["BTC"] += sign * f.quantity
        expected["USDT"] += -notional - f.fee if f.side == "buy" else notional - f.fee
    for order in orders.values():
        assert order.filled_quantity == filled.get(order.id, D(0)), order.client_order_id
    locks: dict[str, Decimal] = defaultdict(Decimal)
    for order in orders.values():
        locks[order.lock_asset] += order.locked
    assert {r.asset: r.free + r.locked for r in held} == expected
    assert {r.asset: r.locked for r in held} == {asset: locks.get(asset, D(0)) for asset in expected}
    del account_id
