"""Hedge position mode on a paper account through the service: a long and a short on one perpetual
side by side, each with its own margin, funded each on its own (once per side and funding time),
liquidated each on its own, and a flatten that closes what is left by a reduce-only order naming
its side.

Worked by hand (10× isolated, fees 0.1 %, contract size 1): long 1 and short 2 at 100 (margins 10
and 20, fees 0.1 and 0.2) → USDT 9,969.7 free, 30 locked. One funding time at mark 100, rate
0.01 %: the long pays 0.01, the short receives 0.02 → free 9,969.71. A trade at 90 crosses the
long's liquidation price (≈ 90.5), not the short's (≈ 109.5): the long loses its margin 10 (locked
20). The flatten buys the 2 short back at 90: PnL +20, fee 0.18, margin 20 back → USDT
9,969.71 + 20 + 20 − 0.18 = 10,009.53 free, nothing locked.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from or_harness import Caller, Neighbours
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from test_flatten import _closes, _completed, publish_flatten
from test_orders_flow import balances, open_account, wait_status
from test_perp_orders import PERP, funding_times, perp_priced

from tradeloom.order_router.flatten import close_client_id
from tradeloom.order_router.perp_funding import PerpFunding
from tradeloom.shared.outbox import Outbox
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.testing.polling import eventually

D = Decimal
__all__ = ["funding_times"]  # a fixture, used by name


@pytest.fixture
async def hedge_10(nc: Client, neighbours: Neighbours) -> AsyncIterator[None]:
    """risk-monitor's ``perp_settings_list`` stand-in: the perpetual 10× isolated in hedge mode."""

    async def answer(msg: Msg) -> None:
        account_id = json.loads(msg.data)["account_id"]
        item = {"account_id": account_id, "symbol": PERP, "leverage": "10", "margin_mode": "isolated",
                "position_mode": "hedge", "maintenance_margin_rate": "0.005", "updated_at": None}  # fmt: skip
        await msg.respond(json.dumps({"data": {"items": [item]}}).encode())

    sub = await nc.subscribe(neighbours.subjects.request("risk-monitor", "perp_settings_list"), cb=answer)
    try:
        yield
    finally:
        await sub.unsubscribe()


async def sides(engine: AsyncEngine, schema: str, account_id: str) -> dict[str, tuple[D, D, D, D]]:
    """Each side's (contracts, entry, margin, funding)."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT position_side, quantity, entry_price, margin, funding "
                f'FROM "{schema}".perp_positions WHERE account_id = :a'
            ),
            {"a": account_id},
        )
        return {r.position_side: (D(r.quantity), D(r.entry_price), D(r.margin), D(r.funding)) for r in rows}


@pytest.mark.usefixtures("hedge_10")
async def test_long_and_short_funded_and_liquidated_per_side_then_flattened(
    alice: Caller,
    neighbours: Neighbours,
    db_engine: AsyncEngine,
    or_schema: str,
    nc: Client,
    funding_times: list[int],
) -> None:
    account_id = await open_account(alice)
    await perp_priced(neighbours, db_engine, or_schema, "100")
    base = {"account_id": account_id, "symbol": PERP, "type": "market"}
    long = await alice("orders_submit", base | {"side": "buy", "quantity": "1", "position_side": "long"})
    short = await alice("orders_submit", base | {"side": "sell", "quantity": "2", "position_side": "short"})
    await neighbours.trade("100", "50", symbol=PERP)
    await wait_status(alice, long["order_id"], "filled")
    await wait_status(alice, short["order_id"], "filled")
    assert await sides(db_engine, or_schema, account_id) == {
        "long": (D(1), D(100), D(10), D(0)),
        "short": (D(-2), D(100), D(20), D(0)),
    }
    assert (await balances(alice, account_id))["USDT"] == (D("9969.7"), D(30))

    funding_times.append(time.time_ns())
    outbox = Outbox(or_schema, neighbours.subjects, "tradeloom/order-router")
    client = ServiceClient(nc, neighbours.subjects)
    funding = PerpFunding(lambda: db_engine, or_schema, lambda: client, outbox, interval_s=60, timeout_s=5)
    assert await funding.sweep() == 2  # one payment per side
    assert await funding.sweep() == 0
    held = await sides(db_engine, or_schema, account_id)
    assert (held["long"][3], held["short"][3]) == (D("-0.01"), D("0.02"))
    assert (await balances(alice, account_id))["USDT"] == (D("9969.71"), D(30))

    await neighbours.trade("90", "0.001", symbol=PERP)

    async def long_liquidated() -> bool:
        return (await sides(db_engine, or_schema, account_id))["long"][0] == 0

    await eventually(long_liquidated)
    assert (await sides(db_engine, or_schema, account_id))["short"][:3] == (D(-2), D(100), D(20))
    async with db_engine.connect() as conn:
        liquidated = (
            await conn.execute(
                text(f'SELECT position_side, quantity FROM "{or_schema}".perp_liquidations'),
            )
        ).all()
    assert [(r.position_side, D(r.quantity)) for r in liquidated] == [("long", D(1))]
    assert (await balances(alice, account_id))["USDT"] == (D("9969.71"), D(20))

    flatten = await publish_flatten(neighbours, "alice", account_id)
    closes = await eventually(lambda: _closes(db_engine, or_schema, flatten.id, 1))
    assert [(c.client_order_id, c.side, c.position_side, c.reduce_only, c.quantity) for c in closes] == [
        (close_client_id(flatten.id, PERP, "short"), "buy", "short", True, D(2)),
    ]
    await neighbours.trade("90", "10", symbol=PERP)
    done = await eventually(lambda: _completed(nc, neighbours.subjects, account_id))
    assert done.outcome == "closed" and [o.status for o in done.orders] == ["filled"]
    assert (await sides(db_engine, or_schema, account_id))["short"][0] == 0
    assert (await balances(alice, account_id))["USDT"] == (D("10009.53"), D(0))
