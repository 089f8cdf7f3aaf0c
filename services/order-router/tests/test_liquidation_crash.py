"""kill -9 of order-router (a real subprocess) as a trade crosses the liquidation price of paper
perp positions: afterwards each position is liquidated exactly once (one ``perp_liquidations`` row,
one ``orders.evt.perp_liquidated`` outbox row) and every balance is exact.

Five accounts each buy 10 @ 100 at 10× isolated (margin 100, fee 1: free 9,899, locked 100); the
trade at 90 is published and the router killed at once, so the batch is being applied (or not yet
taken) when it dies: its transaction, inbox claims included, rolls back and JetStream redelivers it
to the restarted router. Each: liquidated at 90.452261306532663317, free 9,899, locked 0.

It takes ~25 s (two router starts): over CI's budget for one test, so it runs only when
``TL_LONG_TESTS=1`` is set (``TL_LONG_TESTS=1 .venv/bin/pytest <this file>``), like a bench.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client
from or_harness import Caller, Neighbours, eventually, router_process
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from test_orders_flow import balances, open_account, wait_status
from test_perp_orders import PERP, leverage_10, perp_priced

from tradeloom.order_router.settings import OrderRouterSettings
from tradeloom.shared.rpc import ServiceClient

__all__ = ["leverage_10"]  # a fixture, used by name
ACCOUNTS = 5


async def _count(db_engine: AsyncEngine, sql: str, **params: Any) -> int:
    async with db_engine.connect() as conn:
        return int((await conn.execute(text(sql), params)).scalar_one())


@pytest.mark.usefixtures("leverage_10")
async def test_liquidated_once_each_across_a_kill_9(
    or_settings: OrderRouterSettings,
    neighbours: Neighbours,
    nc: Client,
    db_engine: AsyncEngine,
    or_schema: str,
    tmp_path: Path,
) -> None:
    router = router_process(or_settings, tmp_path)
    await asyncio.to_thread(router.start)
    alice = Caller(ServiceClient(nc, neighbours.subjects), "alice")
    rows = f'SELECT count(*) FROM "{or_schema}".perp_liquidations'
    try:
        accounts = [await open_account(alice) for _ in range(ACCOUNTS)]
        await perp_priced(neighbours, db_engine, or_schema, "100")
        orders = [
            await alice(
                "orders_submit",
                {"account_id": account, "symbol": PERP, "type": "market", "side": "buy", "quantity": "10"},
            )
            for account in accounts
        ]
        await neighbours.trade("100", "100", symbol=PERP)
        for order in orders:
            await wait_status(alice, order["order_id"], "filled")

        await neighbours.trade("90", "1", symbol=PERP)
        router.kill()
        await asyncio.to_thread(router.start)

        async def all_liquidated() -> bool:
            return await _count(db_engine, rows) >= ACCOUNTS

        await eventually(all_liquidated, timeout_s=120)
        keys = f'SELECT count(DISTINCT (account_id, symbol, opened_ns)) FROM "{or_schema}".perp_liquidations'
        assert await _count(db_engine, keys) == ACCOUNTS == await _count(db_engine, rows)
        events = f'SELECT count(*) FROM "{or_schema}".outbox WHERE subject LIKE :s'
        assert await _count(db_engine, events, s="%perp_liquidated%") == ACCOUNTS
        for account in accounts:
            assert (await balances(alice, account))["USDT"] == (Decimal(9899), Decimal(0))
    finally:
        router.close()
