"""Liquidation of a paper perp position through the service (real NATS + Postgres), exactly once.

Worked by hand (10× from the risk-monitor stand-in, fees 0.1 %, contract size 1, default brackets):
buy 10 @ 100 → fee 1, margin 100 (free 9,899, locked 100). A resting buy 1 @ 50 locks
50 / 10 + 0.05 = 5.05. Liquidation price, bracket 1 (0.5 %): (1,000 − 100) / (10 × 0.995) =
90.452261306532663317 (18 places). A trade at 92 does nothing; one at 90 crosses: the resting order
is cancelled (5.05 back to free), the long closes at 90.452261306532663317, PnL 10 × (90.45… − 100)
= −95.47738693467336683, fee = the equity left 4.52261306532663317: the 100 of margin is lost,
free stays 9,899, locked 0.

Cross (10× cross, the whole USDT balance behind it): buy 900 @ 100 → fee 90, margin 9,000 (free 910,
locked 9,000), wallet 9,910. Cross liquidation, bracket 2 (1 %, 250): (90,000 − 9,910 − 250) /
(900 × 0.99) = 89.607182940516273850; a trade at 89.5 crosses it: closed there, PnL
900 × (89.607… − 100) = −9,353.535353535353535, fee the equity left 556.464646464646465:
the wallet ends at exactly 0.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from or_harness import Caller, Neighbours, eventually
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from test_orders_flow import balances, open_account, wait_status
from test_perp_orders import PERP, leverage_10, perp_priced, position  # noqa: F401

from tradeloom.order_router.ledger import Ledger
from tradeloom.order_router.perp_liquidation import PerpLiquidator
from tradeloom.shared.outbox import Outbox

D = Decimal
PRICE = D("90.452261306532663317")


async def liquidations(db_engine: AsyncEngine, schema: str) -> list[tuple[Decimal, Decimal, Decimal]]:
    async with db_engine.connect() as conn:
        rows = await conn.execute(text(f'SELECT price, realised_pnl, fee FROM "{schema}".perp_liquidations'))
        return [(D(r.price), D(r.realised_pnl), D(r.fee)) for r in rows]


@pytest.mark.usefixtures("leverage_10")
async def test_a_crossed_liquidation_price_closes_the_position_once(
    alice: Caller, neighbours: Neighbours, db_engine: AsyncEngine, or_schema: str
) -> None:
    account_id = await open_account(alice)
    await perp_priced(neighbours, db_engine, or_schema, "100")
    base = {"account_id": account_id, "symbol": PERP}
    long = await alice("orders_submit", {**base, "type": "market", "side": "buy", "quantity": "10"})
    await neighbours.trade("100", "50", symbol=PERP)
    await wait_status(alice, long["order_id"], "filled")
    resting = await alice(
        "orders_submit", {**base, "type": "limit", "side": "buy", "quantity": "1", "price": "50"}
    )
    assert (await balances(alice, account_id))["USDT"] == (D("9893.95"), D("105.05"))

    await perp_priced(neighbours, db_engine, or_schema, "92")  # above the liquidation price
    assert await liquidations(db_engine, or_schema) == []
    await neighbours.trade("90", "1", symbol=PERP)
    await wait_status(alice, resting["order_id"], "canceled")

    async def closed() -> bool:
        return await position(db_engine, or_schema, account_id) == (0, 0, 0, D("-95.47738693467336683"), 0)

    await eventually(closed)
    assert await liquidations(db_engine, or_schema) == [
        (PRICE, D("-95.47738693467336683"), D("4.52261306532663317"))
    ]
    assert (await balances(alice, account_id))["USDT"] == (D(9899), D(0))

    # the same prices again (a redelivered batch) and a later crossing trade: nothing more
    outbox = Outbox(or_schema, neighbours.subjects, "tradeloom/order-router")
    liquidator = PerpLiquidator(Ledger(or_schema, outbox), or_schema)
    async with db_engine.begin() as conn:
        assert await liquidator.on_prices(conn, {("sim", PERP): (D(90), D(90), 0)}) == 0
    await perp_priced(neighbours, db_engine, or_schema, "89")
    assert len(await liquidations(db_engine, or_schema)) == 1
    assert (await balances(alice, account_id))["USDT"] == (D(9899), D(0))
    async with db_engine.connect() as conn:  # one orders.evt.perp_liquidated, in its transaction
        subjects = (
            await conn.execute(
                text(f'SELECT subject FROM "{or_schema}".outbox WHERE subject LIKE :s'),
                {"s": "%perp_liquidated%"},
            )
        ).scalars()
        assert [s.rsplit(".", 1)[-1] for s in subjects] == [account_id]


@pytest.fixture
async def cross_10(nc: Client, neighbours: Neighbours) -> AsyncIterator[None]:
    """risk-monitor's ``perp_settings_list`` stand-in: 10× cross on the perpetual."""

    async def answer(msg: Msg) -> None:
        account_id = json.loads(msg.data)["account_id"]
        item = {"account_id": account_id, "symbol": PERP, "leverage": "10", "margin_mode": "cross",
                "maintenance_margin_rate": "0.005", "updated_at": None}  # fmt: skip
        await msg.respond(json.dumps({"data": {"items": [item]}}).encode())

    sub = await nc.subscribe(neighbours.subjects.request("risk-monitor", "perp_settings_list"), cb=answer)
    try:
        yield
    finally:
        await sub.unsubscribe()


@pytest.mark.usefixtures("cross_10")
async def test_a_cross_account_below_its_maintenance_margin_is_liquidated_to_zero(
    alice: Caller, neighbours: Neighbours, db_engine: AsyncEngine, or_schema: str
) -> None:
    account_id = await open_account(alice)
    await perp_priced(neighbours, db_engine, or_schema, "100")
    base = {"account_id": account_id, "symbol": PERP}
    long = await alice("orders_submit", {**base, "type": "market", "side": "buy", "quantity": "900"})
    await neighbours.trade("100", "1000", symbol=PERP)
    await wait_status(alice, long["order_id"], "filled")
    assert (await balances(alice, account_id))["USDT"] == (D(910), D(9000))
    await perp_priced(neighbours, db_engine, or_schema, "92")  # pool equity 2,710 > maintenance 578
    assert await liquidations(db_engine, or_schema) == []
    await neighbours.trade("89.5", "1", symbol=PERP)

    async def closed() -> bool:
        return bool(await liquidations(db_engine, or_schema))

    await eventually(closed)
    price = D("89.607182940516273850")
    assert await liquidations(db_engine, or_schema) == [
        (price, D("-9353.535353535353535"), D("556.464646464646465"))
    ]
    assert (await balances(alice, account_id))["USDT"] == (D(0), D(0))
    assert await position(db_engine, or_schema, account_id) == (0, 0, 0, D("-9353.535353535353535"), 0)
