"""Liquidation of a paper perp position through the service (real NATS + Postgres), exactly once.

Worked by hand (10× from the risk-monitor stand-in, fees 0.1 %, contract size 1, default brackets):
buy 10 @ 100 → fee 1, margin 100 (free 9,899, locked 100). A resting buy 1 @ 50 locks
50 / 10 + 0.05 = 5.05. Liquidation price, bracket 1 (0.5 %): (1,000 − 100) / (10 × 0.995) =
90.452261306532663317 (18 places). A trade at 92 does nothing; one at 90 crosses: the resting order
is cancelled (5.05 back to free), the long closes at 90.452261306532663317, PnL 10 × (90.45… − 100)
= −95.47738693467336683, fee = the equity left 4.52261306532663317: the 100 of margin is lost,
free stays 9,899, locked 0.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
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
