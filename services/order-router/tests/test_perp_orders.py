"""Paper perpetuals through the service: a short opened without borrowing (margin = notional /
leverage locked in USDT), reduce-only trimmed to the position, PnL settled into USDT on close.

Worked by hand (leverage 10 from risk-monitor's ``perp_settings_list``, fees 0.1 %, contract size 1):
sell 10 @ 100 → notional 1,000, fee 1, margin 100 locked; one funding time at mark 100, rate
0.01 % → the short receives 10 × 100 × 0.0001 = 0.1, once although it is seen three times; buy 10 @ 90
(reduce-only 15 trimmed to 10) → fee 0.9, PnL +10 × (100 − 90) = 100, margin back.
USDT: 10,000 − 1 + 0.1 − 0.9 + 100 = 10,098.2.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from or_harness import Caller, Neighbours, eventually, fields
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from test_orders_flow import balances, open_account, wait_status

from tradeloom.order_router.perp_funding import PerpFunding
from tradeloom.order_router.store.perp_fundings_store import PerpFundingsStore
from tradeloom.shared.contracts.market_data_funding import FundingRate
from tradeloom.shared.outbox import Outbox
from tradeloom.shared.rpc import ServiceClient

PERP = "BTC/USDT:USDT"


@pytest.fixture
async def leverage_10(nc: Client, neighbours: Neighbours) -> AsyncIterator[None]:
    """risk-monitor's ``perp_settings_list`` stand-in: 10× isolated on the perpetual."""

    async def answer(msg: Msg) -> None:
        account_id = json.loads(msg.data)["account_id"]
        item = {"account_id": account_id, "symbol": PERP, "leverage": "10", "margin_mode": "isolated",
                "maintenance_margin_rate": "0.005", "updated_at": None}  # fmt: skip
        await msg.respond(json.dumps({"data": {"items": [item]}}).encode())

    sub = await nc.subscribe(neighbours.subjects.request("risk-monitor", "perp_settings_list"), cb=answer)
    try:
        yield
    finally:
        await sub.unsubscribe()


async def perp_priced(neighbours: Neighbours, db_engine: AsyncEngine, schema: str, price: str) -> None:
    await neighbours.trade(price, "0.001", symbol=PERP)

    async def seen() -> bool:
        async with db_engine.connect() as conn:
            value = (
                await conn.execute(
                    text(f'SELECT price FROM "{schema}".last_prices WHERE symbol = :s'), {"s": PERP}
                )
            ).scalar_one_or_none()
        return value is not None and Decimal(value) == Decimal(price)

    await eventually(seen)


async def open_row(db_engine: AsyncEngine, schema: str, account_id: str) -> Any:
    async with db_engine.connect() as conn:
        rows = await PerpFundingsStore(schema).open_positions(conn)
    return next(r for r in rows if str(r.account_id) == account_id)


async def position(db_engine: AsyncEngine, schema: str, account_id: str) -> tuple[Decimal, ...] | None:
    async with db_engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT quantity, entry_price, margin, realised_pnl, funding "
                    f'FROM "{schema}".perp_positions '
                    "WHERE account_id = :a"
                ),
                {"a": account_id},
            )
        ).first()
    return None if row is None else tuple(Decimal(v) for v in row)


@pytest.fixture
async def funding_times(nc: Client, neighbours: Neighbours) -> AsyncIterator[list[int]]:
    """market-data's ``funding_rates`` stand-in: the funding times the test adds, rate 0.01 %, mark 100."""
    times: list[int] = []

    async def answer(msg: Msg) -> None:
        asked = json.loads(msg.data)
        since = asked.get("from_ns") or 0
        items = [
            {"funding_time_ns": at, "rate": "0.0001", "mark_price": "100"} for at in times if at >= since
        ]
        data = {"venue": "sim", "symbol": asked["symbol"], "funding_interval_s": 28_800, "items": items}
        await msg.respond(json.dumps({"data": data}).encode())

    sub = await nc.subscribe(neighbours.subjects.request("market-data", "funding_rates"), cb=answer)
    try:
        yield times
    finally:
        await sub.unsubscribe()


@pytest.mark.usefixtures("leverage_10")
async def test_short_perp_funded_once_then_reduce_only_close_settles_pnl(
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
    nothing = await alice.error(
        "orders_submit", {**base, "side": "buy", "quantity": "1", "reduce_only": True}
    )
    assert fields(nothing) == [("reduce_only", "no_position")]

    short = await alice("orders_submit", {**base, "side": "sell", "quantity": "10"})
    free, locked = (await balances(alice, account_id))["USDT"]
    assert locked > 0 and free + locked == Decimal(10_000)  # margin locked in USDT, no BTC borrowed
    await neighbours.trade("100", "50", symbol=PERP)
    await wait_status(alice, short["order_id"], "filled")
    assert await position(db_engine, or_schema, account_id) == (
        Decimal(-10),
        Decimal(100),
        Decimal(100),
        0,
        0,
    )
    assert (await balances(alice, account_id))["USDT"] == (Decimal("9899"), Decimal(100))

    funding_times.append(time.time_ns())  # a funding time after the position opened
    outbox = Outbox(or_schema, neighbours.subjects, "tradeloom/order-router")
    client = ServiceClient(nc, neighbours.subjects)
    funding = PerpFunding(lambda: db_engine, or_schema, lambda: client, outbox, interval_s=60, timeout_s=5)
    assert await funding.sweep() == 1
    assert await funding.sweep() == 0  # the funding time was settled: not asked for again
    owner = await open_row(db_engine, or_schema, account_id)
    rate = FundingRate(funding_time_ns=funding_times[0], rate=Decimal("0.0001"), mark_price=Decimal(100))
    async with db_engine.begin() as conn:  # the same answer delivered again: the key refuses it
        assert not await funding.pay(conn, owner, rate)
    assert (await balances(alice, account_id))["USDT"] == (Decimal("9899.1"), Decimal(100))
    async with db_engine.connect() as conn:  # one orders.evt.funding_paid, in the payment's transaction
        subjects = (
            await conn.execute(
                text(f'SELECT subject FROM "{or_schema}".outbox WHERE subject LIKE :s'),
                {"s": "%funding_paid%"},
            )
        ).scalars()
        assert [s.rsplit(".", 1)[-1] for s in subjects] == [account_id]

    close = await alice("orders_submit", {**base, "side": "buy", "quantity": "15", "reduce_only": True})
    assert close["quantity"] == "10"  # trimmed to the short
    await neighbours.trade("90", "50", symbol=PERP)
    await wait_status(alice, close["order_id"], "filled")
    assert await position(db_engine, or_schema, account_id) == (0, 0, 0, Decimal(100), Decimal("0.1"))
    assert (await balances(alice, account_id))["USDT"] == (Decimal("10098.2"), Decimal(0))
