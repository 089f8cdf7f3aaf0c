"""kill -9 of order-router (a real subprocess) in the middle of a stream of paper option orders.

Option orders fill at once against market-data's quote (a stand-in: bid 118, ask 120.5) inside
the transaction that accepts them (``option_orders.fill_against_quote``). A client sends 24 orders
with client ids, retrying each until it is answered, while the router is killed and restarted.
Afterwards every order the client saw accepted exists once with the id it was told, every filled
order has exactly one fill (its full quantity, at the ask for a buy, the bid for a sell), the
others none, nothing is left pending, and no lock is left behind.

The balances are an independent fold of the fills (multiplier 1, taker fee 0.1 %), e.g. by hand:
buy 1 at the ask: premium 120.5 × 1 × 1 = 120.5, fee 0.1205: USDT −120.6205, option +1;
sell 0.5 at the bid: premium 118 × 0.5 × 1 = 59, fee 0.059: USDT +58.941, option −0.5.
USDT = 100,000 − Σ buys (premium + fee) + Σ sells (premium − fee); option = Σ bought − Σ sold.
A buy limit at 100 never crosses the ask: it is canceled with its lock back and no fill.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

from nats.aio.client import Client
from or_harness import Caller, Neighbours, eventually, router_process
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from test_crash_recovery import submit_until_answered
from test_option_orders import CALL, quotes

from tradeloom.order_router.settings import OrderRouterSettings
from tradeloom.shared.rpc import ServiceClient

__all__ = ["quotes"]  # a fixture, used by name

D = Decimal
START = D(100_000)
BID, ASK = D(118), D("120.5")
FEE_RATE = D("0.001")
ORDERS = 24


def option_order(account_id: str, n: int) -> dict[str, Any]:
    """buy 1, buy 1 (limit 121: crosses), sell 0.5 (limit 118 every other time), a buy limit 100
    (never crosses) every eighth: what is held never drops below what is sold, whatever was lost."""
    body: dict[str, Any] = {"account_id": account_id, "client_order_id": f"o{n}", "symbol": CALL,
                            "type": "market", "side": "buy", "quantity": "1"}  # fmt: skip
    if n % 8 == 7:
        body.update(type="limit", price="100")
    elif n % 3 == 1:
        body.update(type="limit", price="121")
    elif n % 3 == 2:
        body.update(side="sell", quantity="0.5", **({"type": "limit", "price": "118"} if n % 2 else {}))
    return body


async def test_option_fills_once_each_across_a_kill_9(
    or_settings: OrderRouterSettings,
    neighbours: Neighbours,
    nc: Client,
    db_engine: AsyncEngine,
    or_schema: str,
    tmp_path: Path,
    quotes: dict[str, Any],
) -> None:
    quotes["quote"].update(bid=str(BID), ask=str(ASK))
    router = router_process(or_settings, tmp_path, pending_new_timeout_s=2)
    await asyncio.to_thread(router.start)
    alice = Caller(ServiceClient(nc, neighbours.subjects), "alice")
    try:
        made = await alice(
            "accounts_create", {"name": "options", "balances": [{"asset": "USDT", "amount": "100000"}]}
        )
        account_id = str(made["account_id"])
        accepted: dict[str, dict[str, Any]] = {}
        at_kill: list[int] = []

        armed = asyncio.Event()

        async def client() -> None:
            for n in range(ORDERS):
                if n == 6:
                    armed.set()  # the kill comes during the orders that follow
                reply = await submit_until_answered(alice, option_order(account_id, n))
                if reply["status"] != "rejected":
                    accepted[f"o{n}"] = reply
                await asyncio.sleep(0.02)

        async def crash() -> None:
            await armed.wait()
            at_kill.append(len(accepted))
            router.kill()
            await asyncio.sleep(0.3)  # orders keep coming (and are retried) while it is down
            await asyncio.to_thread(router.start)

        await asyncio.gather(client(), crash())
        unsettled = (
            f'SELECT count(*) FROM "{or_schema}".orders '
            "WHERE status NOT IN ('filled', 'canceled', 'rejected')"
        )
        await eventually(lambda: _none(db_engine, unsettled), timeout_s=60)
        await _check_books(db_engine, or_schema, accepted)
        assert len(accepted) >= ORDERS // 2  # most of the stream went through
        assert 0 < at_kill[0] < ORDERS  # the kill came mid-stream
    finally:
        router.close()


async def _scalar(engine: AsyncEngine, sql: str) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(text(sql))).scalar_one()


async def _none(engine: AsyncEngine, sql: str) -> bool:
    return bool(await _scalar(engine, sql) == 0)


async def _check_books(engine: AsyncEngine, schema: str, accepted: dict[str, dict[str, Any]]) -> None:
    async with engine.connect() as conn:
        orders = (await conn.execute(text(f'SELECT * FROM "{schema}".orders'))).all()
        fills = (await conn.execute(text(f'SELECT * FROM "{schema}".fills'))).all()
        held = (await conn.execute(text(f'SELECT asset, free, locked FROM "{schema}".balances'))).all()
        fill_events = (
            await conn.execute(
                text(f"SELECT count(*) FROM \"{schema}\".outbox WHERE subject LIKE '%.evt.fill%'")
            )
        ).scalar_one()
    by_client = {o.client_order_id: o for o in orders}
    assert len(by_client) == len(orders)  # one order per client id
    for client_order_id, reply in accepted.items():  # every order seen accepted exists, same id
        assert str(by_client[client_order_id].id) == reply["order_id"]
    assert len({f.venue_fill_id for f in fills}) == len(fills) == fill_events
    per_order = {f.order_id: f for f in fills}
    assert len(per_order) == len(fills)  # one fill per order
    for order in orders:
        fill = per_order.get(order.id)
        assert (fill is not None) == (order.status == "filled"), order.client_order_id
        assert order.locked == 0, order.client_order_id  # nothing still held by an order
        if fill is not None:
            assert (fill.quantity, fill.price) == (order.quantity, ASK if order.side == "buy" else BID)
            assert order.filled_quantity == order.quantity
    assert any(o.status == "canceled" for o in orders)  # the limits at 100 gave their lock back
    usdt, option = START, D(0)
    for f in fills:
        premium = f.price * f.quantity * 1  # multiplier 1
        fee = premium * FEE_RATE
        usdt += -premium - fee if f.side == "buy" else premium - fee
        option += f.quantity if f.side == "buy" else -f.quantity
    got = {r.asset: (r.free, r.locked) for r in held}
    assert got["USDT"] == (usdt, 0)
    assert got.get(CALL, (D(0), D(0))) == (option, 0)
    assert option > 0
